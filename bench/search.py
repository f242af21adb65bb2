"""Portal search with N documents in the index (default 100,000): p50/p95 of ``search()``.

``python -m bench search`` (part of ``make bench``) or ``python -m bench.search [--docs N]
[--db sqlite|postgresql]``: a fresh instance per database (PostgreSQL from ``bench.common``:
``CERTHALL_BENCH_POSTGRES``, default the local server; unreachable is a failure, not a skip),
a worker process each. The documents are synthetic notices and FAQ entries built from the
seeds' words (Traditional and Simplified mixed, dates over four years), stored through the
product's whole-index rebuild ``certhall.portal.search.rebuild`` (timed: the index build). Only the
index tables are filled, since search reads nothing else.

Each query of a fixed mix (single characters in both scripts, common and rare words, Latin,
digits, several segments, no hit) is timed in-process, ``--rounds`` times after a warm-up:
the whole ``certhall.portal.search.search`` call (SQL, ranking, highlighting of a page of 10).
**Baseline**, measured in the same worker: ``SearchDoc.objects.get(pk=...)``, one row by
primary key through the ORM (the cheapest thing a page can ask the database). The ratio is
the search's p95 over the baseline's p50.

Checks that fail the benchmark: every query of a Traditional/Simplified pair has the same hits;
the no-hit query has none; the rare queries have at least one; and SQLite and PostgreSQL return
the same first page for every query.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from bench.common import (
    BenchFailure,
    django_setup,
    emit,
    handle_signals,
    instance,
    log,
    postgres_available,
)
from bench.common import run_worker as _run_worker

SEED = 11
TARGET_P95_MS = 50.0
WORDS = [
    "深圳", "廣州", "江門", "醫用耗材", "價格", "聯動", "公示表", "批次", "通知", "關于", "交易",
    "平臺", "系統", "維護", "數字證書", "費用", "返還", "申請", "續期", "變更", "解鎖", "介質補辦",
    "吊銷", "機構證書", "法人證書", "受理點", "服务时间", "网上营业厅", "证书助手", "Ukey", "CA",
    "32位", "规格型号", "代码", "企业", "信用", "评价", "带量采购", "中选", "产品", "挂网", "议价",
    "配送", "医院", "下单", "营业执照", "经办人", "身份证", "复印件", "公章", "周末", "法定节假日",
    "科技园", "龙岗", "邮寄", "短信", "密码",
]  # fmt: skip
#: (query, what it stands for). Pairs in both scripts must give the same hits.
QUERIES = (
    ("证", "one character, Simplified, in most documents"),
    ("證", "one character, Traditional"),
    ("深圳", "common word"),
    ("网上营业厅", "common word, 4 bigrams, Simplified"),
    ("網上營業廳", "common word, 4 bigrams, Traditional"),
    ("醫用耗材", "common word, Traditional"),
    ("深圳 证书", "two common segments"),
    ("价格联动", "rare pair of common words"),
    ("费用返还", "rare pair, Simplified query of Traditional text"),
    ("龙岗受理点", "rare pair"),
    ("20240392批次", "rare: digits and a word"),
    ("Ukey", "Latin"),
    ("CA", "Latin, two letters"),
    ("32位", "digits and a character"),
    ("火星移民签证", "no hit"),
    ("退费", "vocabulary: 费用返还 searched as well"),
    ("20240392批次 20240393批次", "words never together: pages with some"),
    ("续期要多久", "a question: 要 parts it, 多久 searched as 办理时效/工作日 (in no document)"),
)
PAIRS = (("证", "證"), ("网上营业厅", "網上營業廳"))
RARE = ("20240392批次", "龙岗受理点", "价格联动")
#: Found only through the vocabulary or as pages with some of the words (none has all).
FALLBACKS = ("退费", "20240392批次 20240393批次", "续期要多久")


def _text(rng: random.Random, words: int) -> str:
    return "".join(rng.choice(WORDS) + ("，" if rng.random() < 0.2 else "") for _ in range(words))


def documents(n: int) -> Iterator[Any]:
    """The same ``n`` synthetic documents in every run."""
    from certhall.portal.search import Document

    rng = random.Random(SEED)
    start_day = date(2022, 1, 1)
    for i in range(n):
        kind = "notice" if i % 3 else "faq"
        title = _text(rng, rng.randint(4, 8))
        if i % 97 == 0:
            title += f"({20240101 + i % 1000}批次)"
        body = _text(rng, rng.randint(10, 30))
        day = start_day + timedelta(days=rng.randint(0, 4 * 365))
        yield Document(kind, str(i), title, body, f"/{kind}/{i}/", day)


def populate(n: int) -> None:
    """The index of ``n`` documents, built by the product's whole-index rebuild."""
    from django.db import connection

    from certhall.portal.search import rebuild

    def logged() -> Iterator[Any]:
        for i, document in enumerate(documents(n), start=1):
            yield document
            if i % 20_000 == 0:
                log(f"search: {i:,} documents")

    rebuild(logged())
    with connection.cursor() as cursor:
        # What autovacuum/ANALYZE would have done on a live instance.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def _timed(fn: Any, rounds: int) -> list[float]:
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return sorted(times)


def _p(values: list[float], q: float) -> float:
    return values[max(0, round(len(values) * q) - 1)]


def worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args(argv)
    django_setup(migrate=True)
    from certhall.portal.models import SearchDoc, SearchPosting
    from certhall.portal.search import search

    t0 = time.perf_counter()
    populate(args.docs)
    load_s = time.perf_counter() - t0
    postings_n = SearchPosting.objects.count()
    log(f"search[{args.db}]: {args.docs:,} documents, {postings_n:,} postings in {load_s:.0f} s")
    rng = random.Random(SEED)
    baseline = _timed(lambda: SearchDoc.objects.get(pk=rng.randint(1, args.docs)), args.rounds * 10)
    per_query: dict[str, dict[str, Any]] = {}
    all_ms: list[float] = []
    for query, what in QUERIES:
        times = _timed(lambda q=query: search(q), args.rounds)
        result = search(query)
        all_ms += times
        per_query[query] = {
            "what": what, "total": result.total, "complete": result.complete,
            "p50_ms": _p(times, 0.5), "p95_ms": _p(times, 0.95),
            "page1": [hit.url for hit in result.hits],
        }  # fmt: skip
        q = per_query[query]
        log(f"search[{args.db}] {query!r}: {result.total:,}{'' if result.complete else '+'} "
            f"hits, p50 {q['p50_ms']:.1f} ms, p95 {q['p95_ms']:.1f} ms")  # fmt: skip
    all_ms.sort()
    emit({
        "benchmark": "search", "db": args.db, "docs": args.docs, "postings": postings_n,
        "load_s": load_s, "p50_ms": _p(all_ms, 0.5), "p95_ms": _p(all_ms, 0.95),
        "baseline_p50_ms": _p(baseline, 0.5), "per_query": per_query,
        "problems": problems(per_query),
    })  # fmt: skip
    return 0


def problems(per_query: dict[str, dict[str, Any]]) -> list[str]:
    """What is wrong with the answers of one database."""
    found = []
    for a, b in PAIRS:
        if per_query[a]["page1"] != per_query[b]["page1"] or (
            per_query[a]["total"] != per_query[b]["total"]
        ):
            found.append(f"{a!r} and {b!r} differ")
    if per_query["火星移民签证"]["total"]:
        found.append("the no-hit query has hits")
    found += [f"{q!r} has no hit" for q in (*RARE, *FALLBACKS) if not per_query[q]["total"]]
    return found


def summary(r: dict[str, Any]) -> list[str]:
    status = "met" if r["p95_ms"] < TARGET_P95_MS else "missed"
    lines = [
        f"search[{r['db']}]: {r['docs']:,} documents: p50 {r['p50_ms']:.1f} ms, "
        f"p95 {r['p95_ms']:.1f} ms over {len(r['per_query'])} queries = "
        f"{r['p95_ms'] / r['baseline_p50_ms']:.0f}x a primary-key get "
        f"({r['baseline_p50_ms']:.2f} ms) (target p95 < {TARGET_P95_MS:.0f} ms: {status})",
        f"  index: {r['postings']:,} postings built in {r['load_s']:.0f} s (search.rebuild)",
    ]
    for query, q in r["per_query"].items():
        more = "" if q["complete"] else "+"
        lines.append(
            f"  {query:<14} {q['total']:>6,}{more:<1} hits  p50 {q['p50_ms']:5.1f} ms  "
            f"p95 {q['p95_ms']:5.1f} ms  ({q['what']})"
        )
    return lines


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("search")
    g.add_argument("--search-docs", type=int, default=100_000, help="documents in the index")
    g.add_argument("--search-rounds", type=int, default=30, help="timed runs of each query")


def quick(args: argparse.Namespace) -> None:
    args.search_docs, args.search_rounds = 10_000, 5


def orchestrate(docs: int, dbs: list[str], rounds: int = 30) -> tuple[list[str], list[Any]]:
    lines: list[str] = []
    records: list[dict[str, Any]] = []
    for db in dbs:
        if db == "postgresql" and (reason := postgres_available()):
            lines.append(f"search[postgresql]: FAILED, PostgreSQL not reachable ({reason})")
            continue
        with instance(db, f"search-{db}") as inst:
            argv = ["--worker", "--docs", str(docs), "--db", db, "--rounds", str(rounds)]
            run = _run_worker("search", argv, inst.env())
        if run.returncode or not run.results:
            lines.append(f"search[{db}]: FAILED (worker exit code {run.returncode})")
            continue
        r = run.results[-1]
        records.append(r)
        lines += summary(r)
        lines += [f"search[{db}]: FAILED check: {p}" for p in r["problems"]]
    if len(records) == 2:
        a, b = (rec["per_query"] for rec in records)
        differ = [q for q in a if (a[q]["page1"], a[q]["total"]) != (b[q]["page1"], b[q]["total"])]
        if differ:
            lines.append(f"search: FAILED check: SQLite and PostgreSQL differ on {differ}")
        else:
            lines.append("  SQLite and PostgreSQL: same totals and first pages for every query")
    return lines, records


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m bench.search")
    ap.add_argument("--docs", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--db", action="append", choices=["sqlite", "postgresql"])
    args = ap.parse_args(argv)
    lines, _ = orchestrate(args.docs, args.db or ["sqlite", "postgresql"], args.rounds)
    print("\n".join(lines))
    if any("FAILED" in line for line in lines):
        raise BenchFailure("search benchmark failed (see above)")
    return 0


if __name__ == "__main__":
    handle_signals()
    sys.exit(main(sys.argv[1:]))
