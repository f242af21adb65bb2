"""The audit chain's verification (``certhall.audit.services.verify``) over N events.

``python -m bench audit`` (part of ``make bench``) or ``python -m bench.audit [--events
20000,100000] [--db sqlite|postgresql]``: a fresh instance per database and chain length, a
worker process each. The chain is written through the product's own batch writer
(``audit.deferred``: hashed with the audit key as every event since the chain was keyed), in
batches of 5,000, with the object ids, actors and JSON of ordinary events.

Timed (best of ``--rounds`` after a warm-up): the whole ``verify()`` (checkpoints, the head, a
walk of every row in ``seq`` order through the ORM, each row's canonical JSON and HMAC).
**Baseline**, measured in the same worker over the same rows: raw ``hmac``/SHA-256 of the exact
bytes ``verify()`` hashes for each event (built beforehand, not timed), i.e. the cryptography
the walk cannot avoid. A second line gives a bare ``SELECT`` of every row (the read it cannot
avoid either). The ratio is verify's time over the raw HMAC's.

This is what one press of 校验审计链 costs a web worker (docs/security.md, "Reading the audit
log"); the check that fails the benchmark: ``verify()`` says the chain is intact with every
event checked.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sys
import time
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

BATCH = 5_000
DEFAULT_EVENTS = (20_000, 100_000)


def populate(n: int) -> None:
    from django.db import transaction

    from certhall.accounts.models import Role, User
    from certhall.audit import services as audit

    clerk = User.objects.create(username="bench-officer", role=Role.REFUND_OFFICER)
    written = 0
    while written < n:
        with transaction.atomic(), audit.deferred():
            for i in range(written, min(n, written + BATCH)):
                audit.record(
                    clerk,
                    f"hall.bench_{i % 7}",
                    object_type="application",
                    object_id=f"A{i:09d}",
                    before={"status": "submitted", "fee": "300.00"},
                    after={"status": "approved", "fee": "300.00", "note": f"第{i}号"},
                )
        written = min(n, written + BATCH)
        if written % 20_000 == 0:
            log(f"audit: {written:,} events written")


def _inputs() -> list[bytes]:
    """The exact bytes ``verify()`` hashes for each event, in order."""
    import json

    from certhall.audit.models import AuditEvent

    found = []
    for e in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        body = json.dumps(
            [e.seq, e.at.isoformat(timespec="microseconds"), e.actor, e.actor_id, e.action,
             e.object_type, e.object_id, e.before, e.after, e.result],
            ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        )  # fmt: skip
        found.append(e.prev_hash.encode() + body.encode())
    return found


def _best(fn: Any, rounds: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def worker(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=20_000)
    ap.add_argument("--db", default="sqlite")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    django_setup(migrate=True)
    from django.db import connection

    from certhall.audit import checkpoints
    from certhall.audit import services as audit

    t0 = time.perf_counter()
    populate(args.events)
    load_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    result = audit.verify()
    key = checkpoints.audit_key()
    data = _inputs()

    def raw() -> None:
        for item in data:
            hmac.new(key, item, hashlib.sha256).hexdigest()

    def select() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM audit_auditevent ORDER BY seq")
            while cursor.fetchmany(2000):
                pass

    verify_s = _best(audit.verify, args.rounds)
    raw_s = _best(raw, args.rounds)
    select_s = _best(select, args.rounds)
    problems = [] if result.ok and result.checked == args.events else [f"verify: {result}"]
    emit({
        "benchmark": "audit", "db": args.db, "events": args.events, "load_s": load_s,
        "verify_s": verify_s, "raw_hmac_s": raw_s, "select_s": select_s, "problems": problems,
    })  # fmt: skip
    return 0


def summary(r: dict[str, Any]) -> list[str]:
    n = r["events"]
    return [
        f"audit[{r['db']}]: verify() over {n:,} events: {r['verify_s']:.2f} s "
        f"({r['verify_s'] / n * 1e6:.1f} µs an event) = {r['verify_s'] / r['raw_hmac_s']:.1f}x "
        f"raw hmac/sha256 of the same bytes ({r['raw_hmac_s']:.3f} s)",
        f"  bare SELECT of every row {r['select_s']:.3f} s; chain written in {r['load_s']:.0f} s "
        "(audit.deferred)",
    ]


def add_arguments(ap: argparse.ArgumentParser) -> None:
    g = ap.add_argument_group("audit")
    g.add_argument(
        "--audit-events",
        default=",".join(str(n) for n in DEFAULT_EVENTS),
        help="chain lengths, comma-separated (default 20000,100000)",
    )


def quick(args: argparse.Namespace) -> None:
    args.audit_events = "5000"


def orchestrate(lengths: list[int], dbs: list[str]) -> tuple[list[str], list[Any]]:
    lines: list[str] = []
    records: list[dict[str, Any]] = []
    for db in dbs:
        if db == "postgresql" and (reason := postgres_available()):
            lines.append(f"audit[postgresql]: FAILED, PostgreSQL not reachable ({reason})")
            continue
        for n in lengths:
            with instance(db, f"audit-{db}-{n}") as inst:
                run = _run_worker("audit", ["--worker", "--events", str(n), "--db", db], inst.env())
            if run.returncode or not run.results:
                lines.append(f"audit[{db}]: FAILED (worker exit code {run.returncode})")
                continue
            r = run.results[-1]
            records.append(r)
            lines += summary(r)
            lines += [f"audit[{db}]: FAILED check: {p}" for p in r["problems"]]
    return lines, records


def lengths(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    ap = argparse.ArgumentParser(prog="python -m bench.audit")
    ap.add_argument("--events", default=",".join(str(n) for n in DEFAULT_EVENTS))
    ap.add_argument("--db", action="append", choices=["sqlite", "postgresql"])
    args = ap.parse_args(argv)
    lines, _ = orchestrate(lengths(args.events), args.db or ["sqlite"])
    print("\n".join(lines))
    if any("FAILED" in line for line in lines):
        raise BenchFailure("audit benchmark failed (see above)")
    return 0


if __name__ == "__main__":
    handle_signals()
    sys.exit(main(sys.argv[1:]))
