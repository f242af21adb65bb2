"""The refund programme at scale, on PostgreSQL: eligibility of every enterprise, and imports.

``python -m bench refunds`` (part of ``make bench``): one fresh PostgreSQL instance, a worker.

* **Data** (not timed): the announced programme (``sz-2021``, four participating CAs) with
  ``--refund-enterprises`` enterprises (default 1,000,000), ``--refund-fees`` fee records
  (5,000,000) and ``--refund-usage`` usage records (10,000,000), generated in the database by
  ``INSERT ... SELECT`` over ``generate_series`` (deterministic), so that every exclusion reason
  occurs: a fifth CA that does not take part, all six businesses, payments from 2016-06 to 2022,
  a zero amount in every fiftieth, a tenth of the certificates never used, uses from 2016 to 2022.
* **Eligibility** (median of 3): ``refunds.eligibility.amounts_by_enterprise`` read whole, one
  row per enterprise with its eligible sum: the per-record reasons (``annotated``) decided in the
  same statement. **Baseline**, same data, same run: the bare join and sum the issue names (fees
  of certificates with any use, summed per enterprise). Target: at most 15 s.
* **Import** (median of 3, each into an emptied table): ``--refund-import-rows`` fee rows
  (1,000,000) as a CSV file through ``refunds.imports.import_records`` (every row checked, COPY),
  against ``COPY`` of the same file into an unindexed temporary table (the database's own limit).
  The rows of a run are deleted and the table vacuumed before the next (not timed).
  Target: at least 50,000 rows/s.

* **Payout** (``--refund-payout``, default 2,000 approved applications of a second programme):
  ``payout.create_batch`` of all of them, its release by a second officer (one row, whatever
  the batch's size), then ``payout.settle`` of the bank's return file
  paying every line, each timed per line; the **baseline**, same run: as many
  ``audit.record`` calls in one transaction (the audit event every line writes). Meanwhile a
  thread on its own connection records an audit event every 50 ms and times each: the longest
  wait is what the rest of the platform waited for the chain's head (``audit.deferred``).
  Checked: every line paid, the audit chain verifies, that wait under 1 s.

Checks that fail the benchmark: every reason occurs; the sum of the per-enterprise amounts
equals the sum of the counted records; the import reports every row imported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (
    BenchFailure,
    django_setup,
    emit,
    handle_signals,
    instance,
    log,
    median,
    postgres_available,
)
from bench.common import run_worker as _run_worker

TARGET_ELIGIBILITY_S = 15.0
TARGET_IMPORT_ROWS_S = 50_000
WINDOW = ("2017-12-31", "2020-12-31")


def populate(enterprises: int, fees: int, usage: int) -> None:
    """The data set, made by the database itself (``INSERT ... SELECT``)."""
    from django.db import connection

    from certhall.accounts.models import Provider
    from certhall.refunds.models import Programme, ProgrammeCA

    programme = Programme.objects.get(slug="sz-2021")
    outsider, _ = Provider.objects.get_or_create(slug="bench-other", defaults={"name": "其他CA"})
    cas = list(
        ProgrammeCA.objects.filter(programme=programme).values_list("provider_id", flat=True)
    )
    providers = "ARRAY[" + ",".join(str(p) for p in [*cas, outsider.pk]) + "]"
    with connection.cursor() as cursor:
        # certificate g: CA g % 5 (the fifth does not take part), serial hex(g)
        cursor.execute(
            f"""
            INSERT INTO refunds_feerecord (programme_id, provider_id, serial, uscc,
                enterprise_name, business, paid_on, amount, source, source_ref)
            SELECT %s, ({providers})[1 + g %% 5], to_hex(g),
                '9144030' || lpad((g %% %s)::text, 11, '0'),
                '深圳市演示医疗器械有限公司' || (g %% %s),
                (ARRAY['new','renew','change','replace','new','renew','unlock','revoke'])
                    [1 + (g / 5) %% 8],
                date '2016-06-01' + ((g * 37) %% 2400),
                CASE WHEN g %% 50 = 0 THEN 0 ELSE 150 * (1 + g %% 3) END,
                'import', ''
            FROM generate_series(1, %s) AS g
            """,  # noqa: S608
            [programme.pk, enterprises, enterprises, fees],
        )
        # uses of nine certificates in ten (those with g % 10 = 7 never), dates 2016-2022
        cursor.execute(
            f"""
            INSERT INTO refunds_usagerecord (programme_id, provider_id, serial, platform,
                used_on, source_ref)
            SELECT %s, ({providers})[1 + c %% 5], to_hex(c),
                (ARRAY['深圳市医疗保障局网上服务平台','广东省政务服务网','深圳市公共资源交易平台'])
                    [1 + g %% 3],
                date '2016-01-01' + ((g * 53) %% 2500), ''
            FROM (SELECT g, 1 + (g::bigint * 7919 %% %s) AS c FROM generate_series(1, %s) g) s
            WHERE c %% 10 <> 7
            ON CONFLICT DO NOTHING
            """,  # noqa: S608
            [programme.pk, fees, usage],
        )
        cursor.execute("ANALYZE refunds_feerecord")
        cursor.execute("ANALYZE refunds_usagerecord")


BASELINE_SQL = """
    SELECT f.uscc, sum(f.amount) FROM refunds_feerecord f
    WHERE f.programme_id = %s AND EXISTS (
        SELECT 1 FROM refunds_usagerecord u
        WHERE u.programme_id = f.programme_id AND u.provider_id = f.provider_id
          AND u.serial = f.serial)
    GROUP BY f.uscc
"""


def _timed(fn: Any) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return time.perf_counter() - t0, result


def _csv(path: Path, rows: int) -> None:
    from certhall.pki.identity import uscc_check_character

    with path.open("w", encoding="utf-8") as out:
        out.write("ca,serial,uscc,enterprise_name,business,paid_on,amount_yuan\n")
        codes = []
        for e in range(max(1, rows // 5)):
            body = f"9144030{e:010d}"
            codes.append(body + uscc_check_character(body))
        for i in range(rows):
            e = i % len(codes)
            out.write(
                f"szca,{(1 << 40) + i:x},{codes[e]},深圳市导入测试企业{e},"
                f"{('new', 'renew', 'change', 'replace')[i % 4]},"
                f"20{18 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d},{150 * (1 + i % 3)}\n"
            )


def _copy(raw: Any, data: bytes) -> None:
    with raw.copy("COPY copy_limit FROM STDIN WITH (FORMAT csv, HEADER)") as writer:
        writer.write(data)


def worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--enterprises", type=int, default=1_000_000)
    ap.add_argument("--fees", type=int, default=5_000_000)
    ap.add_argument("--usage", type=int, default=10_000_000)
    ap.add_argument("--import-rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--payout", type=int, default=2_000)
    args = ap.parse_args(argv)
    django_setup(migrate=True)
    from django.db import connection
    from django.db.models import Count, Sum

    from certhall.accounts.services import system_actor
    from certhall.refunds import eligibility, imports
    from certhall.refunds.models import FeeRecord, Programme

    programme = Programme.objects.get(slug="sz-2021")
    seconds, _ = _timed(lambda: populate(args.enterprises, args.fees, args.usage))
    usage_n = programme.usages.count()
    log(f"refunds: {args.fees:,} fees, {usage_n:,} usage records made in {seconds:.0f} s")

    def baseline() -> list[Any]:
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_SQL, [programme.pk])
            return cursor.fetchall()

    base_s, plat_s = [], []
    rows: list[Any] = []
    for run in range(args.repeat):
        s, _ = _timed(baseline)
        base_s.append(s)
        s, rows = _timed(lambda: list(eligibility.amounts_by_enterprise(programme)))
        plat_s.append(s)
        log(f"refunds: eligibility run {run + 1}: baseline {base_s[-1]:.1f} s, certhall {s:.1f} s")
    annotated = eligibility.annotated(programme)
    reasons = dict(
        annotated.values_list("reason").annotate(n=Count("pk")).values_list("reason", "n")
    )
    total = sum(r["eligible_amount"] for r in rows)
    counted = annotated.filter(reason=eligibility.COUNTED).aggregate(s=Sum("amount"))["s"]

    # imports: a CSV through the product, against COPY into an unindexed table
    path = Path("refund-import.csv").resolve()
    _csv(path, args.import_rows)
    data = path.read_bytes()
    actor = system_actor("bench")
    import_s, copy_s = [], []
    imported = 0
    for _ in range(args.repeat):
        FeeRecord.objects.filter(programme=programme, source_ref__contains=":").delete()
        with connection.cursor() as cursor:  # each run into the same table, not a bloated one
            cursor.execute("VACUUM ANALYZE refunds_feerecord")
        s, report = _timed(lambda: imports.import_records(actor, "sz-2021", "fees", data))
        import_s.append(s)
        imported = report.imported
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS copy_limit (ca text, serial text, uscc text, "
                "enterprise_name text, business text, paid_on date, amount_yuan numeric)"
            )
            cursor.execute("TRUNCATE copy_limit")
            s, _ = _timed(lambda: _copy(cursor.cursor, data))
            copy_s.append(s)
        log(f"refunds: import {args.import_rows:,} rows in {import_s[-1]:.1f} s (COPY {s:.1f} s)")
    path.unlink()
    paid = _payout(args.payout)
    problems = [
        f"reason {r!r} never occurs"
        for r in eligibility.REASONS
        if r != "already_refunded" and not reasons.get(r)
    ]
    if counted != total:
        problems.append(f"per-enterprise sums {total} differ from the counted records {counted}")
    if imported != args.import_rows:
        problems.append(f"the import stored {imported:,} of {args.import_rows:,} rows")
    emit({
        "benchmark": "refunds", "enterprises": args.enterprises, "fees": args.fees,
        "usage": usage_n, "populate_s": seconds, "eligibility_s": median(plat_s),
        "eligibility_runs": plat_s, "baseline_s": median(base_s), "baseline_runs": base_s,
        "enterprise_rows": len(rows), "eligible_total": str(total), "reasons": reasons,
        "import_rows": args.import_rows, "import_s": median(import_s),
        "copy_s": median(copy_s), "problems": problems + paid.pop("problems"), **paid,
    })  # fmt: skip
    return 0


def _payout(n: int) -> dict[str, Any]:
    """Batch and settle ``n`` approved applications while a neighbour records audit events."""
    import threading
    from datetime import date
    from decimal import Decimal

    from django.db import connection, transaction

    from certhall import clock
    from certhall.accounts.models import Role, User
    from certhall.audit import services as audit
    from certhall.refunds import payout
    from certhall.refunds.models import Programme, RefundApplication

    officer = User.objects.create(username="bench-officer", role=Role.REFUND_OFFICER)
    checker = User.objects.create(username="bench-officer-2", role=Role.REFUND_OFFICER)
    programme = Programme.objects.create(
        slug="sz-payout", name="拨付", apply_from=date(2021, 1, 1), apply_to=date(2027, 1, 1),
        business_from=date(2018, 1, 1), business_to=date(2020, 12, 31), businesses=["new"],
    )  # fmt: skip
    now = clock.now()
    name = "深圳市拨付测试企业{}"
    RefundApplication.objects.bulk_create(
        RefundApplication(
            number=f"FH20261207-{i:06d}", programme=programme, uscc=f"91{i:016d}",
            enterprise_name=name.format(i), account_name=name.format(i), channel="online",
            state="approved", amount=Decimal("300.00"), payee_kind="enterprise",
            account_number="6222020200001234", bank_name="中国工商银行深圳分行",
            phone="13800000000", entered_by=officer, created_at=now, updated_at=now,
        )
        for i in range(n)
    )  # fmt: skip
    waits: list[float] = []
    stop = threading.Event()

    def neighbour() -> None:
        try:
            while not stop.wait(0.05):
                started = time.perf_counter()
                with transaction.atomic():
                    audit.record(officer, "bench.neighbour")
                waits.append(time.perf_counter() - started)
        finally:
            connection.close()

    thread = threading.Thread(target=neighbour)
    thread.start()
    try:
        batch_s, batch = _timed(lambda: payout.create_batch(officer, "sz-payout"))
        release_s, batch = _timed(lambda: payout.release(checker, batch.number))
        lines = ["batch,line,application,amount_yuan,result,bank_reference,message"] + [
            f"{batch.number},{item.line},{item.application.number},{item.amount},paid,BR{item.line},"
            for item in batch.items.select_related("application").order_by("line")
        ]
        data = ("\n".join(lines) + "\n").encode()
        settle_s, report = _timed(lambda: payout.settle(officer, "sz-payout", data))
    finally:
        stop.set()
        thread.join()

    def events() -> None:
        with transaction.atomic():
            for i in range(n):
                audit.record(officer, "bench.baseline", object_id=i, after={"line": i})

    audit_s, _ = _timed(events)
    problems = []
    if report.paid != n:
        problems.append(f"payout: {report.paid:,} of {n:,} lines paid")
    if not audit.verify().ok:
        problems.append("payout: the audit chain does not verify")
    if max(waits, default=0) > 1.0:
        problems.append(f"payout: an audited operation beside it waited {max(waits):.1f} s")
    log(
        f"refunds: payout of {n:,}: batch {batch_s:.1f} s, release {release_s:.2f} s, "
        f"settle {settle_s:.1f} s"
    )
    return {
        "payout_n": n, "batch_s": batch_s, "release_s": release_s, "settle_s": settle_s,
        "audit_s": audit_s,
        "neighbour_max_ms": max(waits, default=0) * 1000, "neighbour_events": len(waits),
        "problems": problems,
    }  # fmt: skip


def summary(r: dict[str, Any]) -> list[str]:
    elig, imp = r["eligibility_s"], r["import_rows"] / r["import_s"]
    e_ok = "met" if elig <= TARGET_ELIGIBILITY_S else "MISSED"
    i_ok = "met" if imp >= TARGET_IMPORT_ROWS_S else "MISSED"
    return [
        f"refunds[eligibility]: {r['enterprise_rows']:,} enterprises from {r['fees']:,} fees and "
        f"{r['usage']:,} uses in {elig:.1f} s, bare join and sum {r['baseline_s']:.1f} s, ratio "
        f"{r['baseline_s'] / elig:.2f} (target <= {TARGET_ELIGIBILITY_S:.0f} s: {e_ok})",
        f"refunds[import]: {r['import_rows']:,} fee rows checked and stored at {imp:,.0f} rows/s, "
        f"COPY into an unindexed table {r['import_rows'] / r['copy_s']:,.0f} rows/s, ratio "
        f"{r['copy_s'] / r['import_s']:.2f} (target >= {TARGET_IMPORT_ROWS_S:,} rows/s: {i_ok})",
        f"refunds[payout]: {r['payout_n']:,} applications batched at "
        f"{r['batch_s'] / r['payout_n'] * 1000:.2f} ms and settled at "
        f"{r['settle_s'] / r['payout_n'] * 1000:.2f} ms a line; one audit event "
        f"{r['audit_s'] / r['payout_n'] * 1000:.2f} ms (ratios {r['audit_s'] / r['batch_s']:.2f}, "
        f"{r['audit_s'] / r['settle_s']:.2f}); an audited operation beside them waited at most "
        f"{r['neighbour_max_ms']:.0f} ms ({r['neighbour_events']} of them)",
        f"  runs: eligibility {', '.join(f'{s:.1f}' for s in r['eligibility_runs'])} s; "
        f"baseline {', '.join(f'{s:.1f}' for s in r['baseline_runs'])} s; data made in "
        f"{r['populate_s']:.0f} s; reasons {r['reasons']}",
    ]


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("refunds")
    g.add_argument("--refund-enterprises", type=int, default=1_000_000)
    g.add_argument("--refund-fees", type=int, default=5_000_000)
    g.add_argument("--refund-usage", type=int, default=10_000_000)
    g.add_argument("--refund-import-rows", type=int, default=1_000_000)
    g.add_argument("--refund-payout", type=int, default=2_000)


def quick(args: argparse.Namespace) -> None:
    args.refund_enterprises, args.refund_fees = 10_000, 50_000
    args.refund_usage, args.refund_import_rows = 100_000, 20_000
    args.refund_payout = 300


def orchestrate(args: argparse.Namespace) -> tuple[list[str], list[Any]]:
    if reason := postgres_available():
        return [f"refunds: FAILED, PostgreSQL not reachable ({reason})"], []
    argv = [
        "--worker", "--enterprises", str(args.refund_enterprises), "--fees", str(args.refund_fees),
        "--usage", str(args.refund_usage), "--import-rows", str(args.refund_import_rows),
        "--payout", str(args.refund_payout),
    ]  # fmt: skip
    with instance("postgresql", "refunds") as inst:
        run = _run_worker("refunds", argv, inst.env())
    if run.returncode or not run.results:
        return [f"refunds: FAILED (worker exit code {run.returncode})"], []
    r = run.results[-1]
    lines = summary(r)
    lines += [f"refunds: FAILED check: {p}" for p in r["problems"]]
    return lines, [r]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    handle_signals()
    ap = argparse.ArgumentParser(prog="python -m bench.refunds")
    add_arguments(ap)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    if args.quick:
        quick(args)
    lines, _ = orchestrate(args)
    print("\n".join(lines))
    return 1 if any("FAILED" in line for line in lines) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchFailure as failure:
        print(f"refunds: FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
