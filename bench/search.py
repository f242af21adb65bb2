"""Portal search with N documents in the index (default 100,000): p50/p95 of ``search()``.

``python -m bench.search [--docs N] [--db sqlite|postgresql]`` runs the whole thing itself
(a fresh instance per database, a worker process each). The documents are synthetic notices
and FAQ entries built from the seeds' words (Traditional and Simplified mixed, dates over
four years); only the index tables (``SearchDoc``, ``SearchGram``) are filled, since search
reads nothing else. Each query of a mix (very common, common, rare, Latin, digits, no hit,
Traditional and Simplified) is timed in-process, 30 times after a warm-up: the whole
``certhall.portal.search.search`` call (SQL, ranking, highlighting of a page of 10).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from typing import Any

from bench.common import django_setup, emit, handle_signals, instance, log, postgres_available
from bench.common import run_worker as _run_worker

SEED = 11
WORDS = [
    "深圳",
    "廣州",
    "江門",
    "醫用耗材",
    "價格",
    "聯動",
    "公示表",
    "批次",
    "通知",
    "關于",
    "交易",
    "平臺",
    "系統",
    "維護",
    "數字證書",
    "費用",
    "返還",
    "申請",
    "續期",
    "變更",
    "解鎖",
    "介質補辦",
    "吊銷",
    "機構證書",
    "法人證書",
    "受理點",
    "服务时间",
    "网上营业厅",
    "证书助手",
    "Ukey",
    "CA",
    "32位",
    "规格型号",
    "代码",
    "企业",
    "信用",
    "评价",
    "带量采购",
    "中选",
    "产品",
    "挂网",
    "议价",
    "配送",
    "医院",
    "下单",
    "营业执照",
    "经办人",
    "身份证",
    "复印件",
    "公章",
    "周末",
    "法定节假日",
    "科技园",
    "龙岗",
    "邮寄",
    "短信",
    "密码",
]
QUERIES = (
    "深圳", "证书", "價格聯動", "费用返还", "醫用耗材", "Ukey", "CA", "32位", "20250714批次",
    "龙岗受理点", "火星移民签证", "網上營業廳",
)  # fmt: skip


def _text(rng: random.Random, words: int) -> str:
    return "".join(rng.choice(WORDS) + ("，" if rng.random() < 0.2 else "") for _ in range(words))


def populate(n: int) -> None:
    from django.db import connection, transaction

    from certhall.portal.models import SearchDoc, SearchGram
    from certhall.portal.textindex import grams

    rng = random.Random(SEED)
    start_day = date(2022, 1, 1)
    batch = 2000
    doc_table, gram_table = SearchDoc._meta.db_table, SearchGram._meta.db_table
    for first in range(0, n, batch):
        docs: list[tuple[Any, ...]] = []
        rows: list[tuple[Any, ...]] = []
        for i in range(first, min(n, first + batch)):
            kind = "notice" if i % 3 else "faq"
            title = _text(rng, rng.randint(4, 8))
            if i % 97 == 0:
                title += f"({20240101 + i % 1000}批次)"
            body = _text(rng, rng.randint(10, 30))
            day = start_day + timedelta(days=rng.randint(0, 4 * 365))
            docs.append((i + 1, kind, str(i), title, body, f"/{kind}/{i}/", day))
            title_grams = grams(title)
            for head, tail in sorted(title_grams | grams(body)):
                rows.append((i + 1, head, tail, (head, tail) in title_grams, day))
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {doc_table} (id, kind, key, title, body, url, date) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                docs,
            )
            cursor.executemany(
                f"INSERT INTO {gram_table} (doc_id, head, tail, in_title, date) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s)",
                rows,
            )
        if first % 20000 == 0:
            log(f"search: {first + len(docs):,} documents")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{doc_table}', 'id'), {n})")
            cursor.execute(f"ANALYZE {doc_table}")
            cursor.execute(f"ANALYZE {gram_table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args(argv)
    django_setup(migrate=True)
    from certhall.portal.models import SearchGram
    from certhall.portal.search import search

    t0 = time.perf_counter()
    populate(args.docs)
    load_s = time.perf_counter() - t0
    grams_n = SearchGram.objects.count()
    log(f"search: {args.docs:,} documents, {grams_n:,} grams in {load_s:.0f} s")
    per_query: dict[str, dict[str, Any]] = {}
    all_ms: list[float] = []
    for query in QUERIES:
        search(query)  # warm-up
        times = []
        for _ in range(args.rounds):
            t = time.perf_counter()
            result = search(query)
            times.append((time.perf_counter() - t) * 1000)
        times.sort()
        all_ms += times
        per_query[query] = {
            "total": result.total,
            "p50_ms": times[len(times) // 2],
            "p95_ms": times[int(len(times) * 0.95) - 1],
        }
        q = per_query[query]
        log(f"search[{args.db}] {query!r}: {result.total:,} hits, "
            f"p50 {q['p50_ms']:.1f} ms, p95 {q['p95_ms']:.1f} ms")  # fmt: skip
    all_ms.sort()
    emit({
        "benchmark": "search", "db": args.db, "docs": args.docs, "grams": grams_n,
        "load_s": load_s, "p50_ms": all_ms[len(all_ms) // 2],
        "p95_ms": all_ms[int(len(all_ms) * 0.95) - 1], "per_query": per_query,
    })  # fmt: skip
    return 0


def orchestrate(docs: int, dbs: list[str]) -> list[str]:
    lines = []
    for db in dbs:
        if db == "postgresql" and (reason := postgres_available()):
            lines.append(f"search[postgresql]: SKIPPED, PostgreSQL not reachable ({reason})")
            continue
        with instance(db, f"search-{db}") as inst:
            run = _run_worker("search", ["--worker", "--docs", str(docs), "--db", db], inst.env())
        if run.returncode or not run.results:
            lines.append(f"search[{db}]: FAILED (worker exit code {run.returncode})")
            continue
        r = run.results[-1]
        lines.append(
            f"search[{db}]: {r['docs']:,} documents ({r['grams']:,} grams): p50 "
            f"{r['p50_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms over {len(QUERIES)} queries"
        )
        for query, q in r["per_query"].items():
            lines.append(
                f"  {query}: {q['total']:,} hits, "
                f"p50 {q['p50_ms']:.1f} ms, p95 {q['p95_ms']:.1f} ms"
            )
    return lines


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m bench.search")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--db", action="append", choices=["sqlite", "postgresql"])
    args = ap.parse_args(argv)
    print("\n".join(orchestrate(args.docs, args.db or ["sqlite", "postgresql"])))
    return 0


if __name__ == "__main__":
    handle_signals()
    sys.exit(main(sys.argv[1:]))
