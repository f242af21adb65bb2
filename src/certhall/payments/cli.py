"""certhall payments reconcile --statement FILE.csv [--json]
certhall payments reconcile-gateway --gateway alipay|wechat [--day YYYY-MM-DD] [--json]

Bank transfer reconciliation from the command line (format: ``certhall.payments.reconcile``,
docs/payments.md). Runs as the command-line system actor (CA administrator); every recorded
payment and the run itself are audited.

Exit codes: 0 when every line was matched or had been recorded before; 1 when some line needs
a person (unmatched, duplicate, unreadable, refused); 2 for an unreadable or malformed file.

``reconcile-gateway`` reconciles an online gateway's daily bill of one day (yesterday by
default; ``certhall.payments.gateway_bills``): 0 when nothing is left open for finance, 1 when
the day has open discrepancies; a refusal (unknown gateway, a day in the future, no bill
client, a bill line that cannot be read) is one line on stderr with its error's exit code.
"""

from __future__ import annotations

import argparse
from typing import Any

from certhall.cli.output import print_json, read_input


def register(commands: Any) -> None:
    parser = commands.add_parser("payments")
    sub = parser.add_subparsers(dest="payments_command", required=True, parser_class=type(parser))
    p = sub.add_parser(
        "reconcile", help="match a bank statement (CSV: date,amount,payer,note) to pending orders"
    )
    p.add_argument("--statement", required=True, help="the bank statement, CSV")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=reconcile)
    g = sub.add_parser(
        "reconcile-gateway", help="reconcile an online gateway's daily bill (对账单) of one day"
    )
    g.add_argument("--gateway", required=True, help="alipay or wechat")
    g.add_argument("--day", help="the bill's day, YYYY-MM-DD (Shanghai); default yesterday")
    g.add_argument("--json", action="store_true")
    g.set_defaults(handler=reconcile_gateway)


LABELS = {
    "matched": "已入账",
    "already_recorded": "此前已入账",
    "duplicate": "重复",
    "unmatched": "未匹配",
    "invalid": "无法识别",
    "error": "入账失败",
}


def reconcile(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.payments.reconcile import reconcile as run

    data = read_input(args.statement)
    report = run(system_actor(), data, source=args.statement)
    if args.json:
        print_json(report.as_json())
    else:
        for r in report.results:
            print(
                f"line {r.line:>4}  {r.outcome:<16} {r.reference or '-':<18} "
                f"{r.amount or '-':>12}  {r.payer or '-'}  {LABELS[r.outcome]}：{r.reason}"
            )
        counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
        print(f"statement sha256 {report.statement_sha256}: {counts}")
    return 1 if report.needs_attention else 0


def reconcile_gateway(args: argparse.Namespace) -> int:
    from datetime import date, timedelta

    from certhall import clock
    from certhall.accounts.services import system_actor
    from certhall.errors import InvalidInput
    from certhall.payments.gateway_bills import reconcile_day

    day = clock.today() - timedelta(days=1)
    if args.day is not None:
        try:
            day = date.fromisoformat(args.day.strip())
        except ValueError:
            raise InvalidInput(code="statement_date", value=args.day[:32]) from None
    report = reconcile_day(system_actor(), args.gateway, day)
    if args.json:
        print_json(report.as_json())
    else:
        for row in report.discrepancies:
            print(
                f"{row.kind:<20} {row.reference:<32} {row.merchant_reference or '-':<24} "
                f"bill {row.bill_amount or '-':>10}  recorded {row.recorded_amount or '-':>10}  "
                f"{row.get_kind_display()} {row.detail}".rstrip()
            )
        counts = ", ".join(f"{k} {v}" for k, v in report.counted().items())
        print(f"{report.gateway} bill of {report.day}: {counts}")
    return 1 if report.discrepancies else 0
