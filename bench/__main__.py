"""``python -m bench [issuance|ocsp|crl|hall|search|refunds|audit|startup|uploads ...]``: run the
benchmarks, print one line each.

Without arguments all nine run (``make bench``, ~20-25 minutes on 2 cores). Each measurement
runs in a child process on a fresh instance; see the module docstrings and docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench import audit, crl, hall, issuance, ocsp, refunds, search, startup, uploads
from bench.common import (
    handle_signals,
    instance,
    log,
    postgres_available,
    run_worker,
)

BENCHMARKS = (
    "issuance",
    "ocsp",
    "crl",
    "hall",
    "search",
    "refunds",
    "audit",
    "startup",
    "uploads",
)


def run_issuance(args: argparse.Namespace) -> tuple[list[str], list[dict[str, Any]]]:
    lines: list[str] = []
    records: list[dict[str, Any]] = []
    for db in args.db:
        if db == "postgresql":
            reason = postgres_available()
            if reason:
                lines.append(f"issuance[postgresql]: FAILED, PostgreSQL not reachable ({reason})")
                continue
        with instance(db, f"issuance-{db}") as inst:
            worker_args = ["--db", db, "--rounds", str(args.rounds), "--batch", str(args.batch)]
            if args.profile:
                worker_args.append("--profile")
            run = run_worker("issuance", worker_args, inst.env())
        if run.returncode or not run.results:
            lines.append(f"issuance[{db}]: FAILED (worker exit code {run.returncode})")
            continue
        result = run.results[-1]
        records.append(result)
        lines.append(issuance.summary_line(result))
        lines += issuance.details(result)
    return lines, records


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument(
        "which",
        nargs="*",
        metavar="BENCHMARK",
        help="issuance, ocsp, crl, hall, search, refunds, audit, startup, uploads (default: all)",
    )
    ap.add_argument(
        "--db",
        action="append",
        choices=["sqlite", "postgresql"],
        help="issuance and search databases (default: both)",
    )
    ap.add_argument("--rounds", type=int, default=7, help="issuance rounds (default 7)")
    ap.add_argument("--batch", type=int, default=200, help="certificates per issuance round")
    ap.add_argument("--profile", action="store_true", help="also print cProfile output")
    ap.add_argument("--quick", action="store_true", help="short runs, to check the harness")
    ap.add_argument("--json", type=Path, help="also write all results to this file")
    ocsp.add_arguments(ap)
    crl.add_arguments(ap)
    hall.add_arguments(ap)
    search.add_arguments(ap)
    refunds.add_arguments(ap)
    audit.add_arguments(ap)
    startup.add_arguments(ap)
    uploads.add_arguments(ap)
    args = ap.parse_args(argv)
    unknown = [w for w in args.which if w not in BENCHMARKS]
    if unknown:
        ap.error(f"unknown benchmark {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})")
    which = args.which or list(BENCHMARKS)
    args.db = args.db or ["sqlite", "postgresql"]
    if args.quick:
        args.rounds, args.batch = 3, 100
        ocsp.quick(args)
        crl.quick(args)
        hall.quick(args)
        search.quick(args)
        refunds.quick(args)
        audit.quick(args)
        startup.quick(args)
        uploads.quick(args)
    handle_signals()

    start = time.monotonic()
    load_before = os.getloadavg()
    lines: list[str] = []
    records: list[dict[str, Any]] = []
    try:
        for name in which:
            log(f"=== {name} ===")
            if name == "issuance":
                got, recs = run_issuance(args)
            elif name == "ocsp":
                got, recs = ocsp.orchestrate(args)
            elif name == "crl":
                got, recs = crl.orchestrate(args)
            elif name == "search":
                got, recs = search.orchestrate(args.search_docs, args.db, args.search_rounds)
            elif name == "refunds":
                got, recs = refunds.orchestrate(args)
            elif name == "audit":
                got, recs = audit.orchestrate(audit.lengths(args.audit_events), ["sqlite"])
            elif name == "startup":
                got, recs = startup.orchestrate(args)
            elif name == "uploads":
                got, recs = uploads.orchestrate(args)
            else:
                got, recs = hall.orchestrate(args)
            lines += got
            records += recs
            sys.stderr.flush()
            print("\n".join(got), flush=True)
    except KeyboardInterrupt:
        print("interrupted; servers stopped, temporary instances removed", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - start
    print()
    load_after = os.getloadavg()
    print(
        f"=== certhall benchmarks ({elapsed / 60:.1f} min, {os.cpu_count()} CPUs, load average "
        f"{load_before[0]:.1f} before, {load_after[0]:.1f} after; medians of repeated runs) ==="
    )
    for line in lines:
        if not line.startswith("  "):
            print(line)
    if args.json:
        args.json.write_text(json.dumps(records, indent=2, default=str))
    failed = [line for line in lines if "FAILED" in line]
    if failed:
        print(f"\n{len(failed)} measurement(s) FAILED (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
