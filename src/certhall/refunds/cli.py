"""certhall refund programmes|import|eligibility|batch|batch-file|settle (docs/refunds.md).

Thin: parse, call one service of ``certhall.refunds``, print. Runs as the command line's system
actor; every import, batch and settlement is audited by the service.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from certhall.cli.output import atomic_output, print_json, read_input


def register(commands: Any) -> None:
    parser = commands.add_parser("refund")
    sub = parser.add_subparsers(dest="refund_command", required=True, parser_class=type(parser))

    p = sub.add_parser("programmes", help="list the programmes")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=programmes)

    p = sub.add_parser("import", help="import fee or usage records from CSV")
    p.add_argument("--programme", required=True)
    p.add_argument("--kind", required=True, choices=["fees", "usage"])
    p.add_argument("--ca", help="the CA of every row, for files without a ca column")
    p.add_argument("--json", action="store_true")
    p.add_argument("file")
    p.set_defaults(handler=import_file)

    p = sub.add_parser("eligibility", help="an enterprise's amount and its explanation")
    p.add_argument("--programme", required=True)
    p.add_argument("--uscc", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=eligibility)

    p = sub.add_parser(
        "batch",
        help="put approved applications into a batch, for a refund officer to release",
    )
    p.add_argument("--programme", required=True)
    p.set_defaults(handler=batch)

    p = sub.add_parser("batch-file", help="write a released batch's bank transfer file")
    p.add_argument("--batch", required=True, help="the batch number, PB...")
    p.add_argument("--out", required=True)
    p.set_defaults(handler=batch_file)

    p = sub.add_parser("settle", help="mark a batch's transfers paid or failed from the bank")
    p.add_argument("--programme", required=True)
    p.add_argument("--bank-return", required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=settle)


def programmes(args: argparse.Namespace) -> int:
    from certhall.refunds.models import Programme
    from certhall.refunds.records import programme_summary

    rows = [programme_summary(p) for p in Programme.objects.order_by("apply_from", "slug")]
    if args.json:
        print_json(
            [{**r, "cas": [{"slug": c["slug"], "name": c["name"]} for c in r["cas"]]} for r in rows]
        )
        return 0
    for r in rows:
        print(f"{r['slug']}  {r['name']}")
        print(f"  申请时间 {r['apply_from']} 至 {r['apply_to']}")
        print(f"  业务期间 {r['business_from']} 至 {r['business_to']}")
        print("  参与机构 " + "、".join(f"{c['name']}（{c['slug']}）" for c in r["cas"]))
    return 0


def import_file(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.refunds.imports import import_records

    data = read_input(args.file)
    report = import_records(
        system_actor(), args.programme, args.kind, data, ca=args.ca, source=args.file
    )
    if args.json:
        print_json(report.as_json())
    else:
        for refusal in report.refused:
            print(f"refused line {refusal.line}: {refusal.reason}: {refusal.message}")
        print(
            f"imported {report.imported}, unchanged {report.unchanged}, "
            f"refused {len(report.refused)}"
        )
    return 1 if report.refused else 0


def eligibility(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.refunds.services import eligibility_for

    result = eligibility_for(system_actor(), args.programme, args.uscc)
    if args.json:
        print_json(result.as_json())
        return 0
    print(f"{result.uscc} {result.enterprise_name}: 可返还 {result.amount} 元")
    for line in result.lines:
        mark = "计入" if line.counted else f"不计入（{line.reason}：{line.reason_text}）"
        print(
            f"  {line.ca:<6} {line.serial:<20} {line.business_label:<4} {line.paid_on} "
            f"{line.amount:>10}  {mark}"
        )
    return 0


def batch(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.refunds.payout import create_batch, pending

    # Made, not released: a refund officer releases it in the console (复核放行), and only then
    # does `batch-file` write its transfer file. The system actor is no second officer.
    made = create_batch(system_actor(), args.programme)
    print(
        f"batch {made.number}: {made.count} transfers, total {made.total} yuan; "
        "waiting for a refund officer's release (console: 拨付批次, 复核放行)"
    )
    left = pending(args.programme).count
    if left:  # past the bank's limit for one file (CERTHALL_REFUND_BATCH_MAX_LINES)
        print(f"{left} approved applications wait for the next batch")
    return 0


def batch_file(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.refunds.payout import batch_file as stored

    # The file as it was made with the batch (its SHA-256 line included), once released;
    # audited as a download, a refused one too.
    with atomic_output(args.out) as out:
        made = stored(system_actor(), args.batch)
        out.write(made.content.encode("utf-8"))
    print(f"batch {made.number}: {made.count} transfers, total {made.total} yuan -> {args.out}")
    return 0


def settle(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.refunds.payout import settle as run

    report = run(system_actor(), args.programme, read_input(args.bank_return))
    if args.json:
        print_json(report.as_json())
    else:
        for refusal in report.refused:
            print(f"refused line {refusal.line}: {refusal.message}", file=sys.stdout)
        print(
            f"paid {report.paid}, failed {report.failed}, unchanged {report.unchanged}, "
            f"refused {len(report.refused)}"
        )
    return 1 if report.refused else 0
