"""certhall payments reconcile --statement FILE.csv [--json]

Bank transfer reconciliation from the command line (format: ``certhall.payments.reconcile``,
docs/payments.md). Runs as the command-line system actor (CA administrator); every recorded
payment and the run itself are audited.

Exit codes: 0 when every line was matched or had been recorded before; 1 when some line needs
a person (unmatched, duplicate, unreadable, refused); 2 for an unreadable or malformed file.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from certhall.cli.output import read_input


def register(commands: Any) -> None:
    parser = commands.add_parser("payments", help="payments: bank statement reconciliation")
    sub = parser.add_subparsers(dest="payments_command", required=True, parser_class=type(parser))
    p = sub.add_parser(
        "reconcile", help="match a bank statement (CSV: date,amount,payer,note) to pending orders"
    )
    p.add_argument("--statement", required=True, help="the bank statement, CSV")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=reconcile)


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
        print(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    else:
        for r in report.results:
            print(
                f"line {r.line:>4}  {r.outcome:<16} {r.reference or '-':<18} "
                f"{r.amount or '-':>12}  {r.payer or '-'}  {LABELS[r.outcome]}：{r.reason}"
            )
        counts = ", ".join(f"{k} {v}" for k, v in report.counts().items())
        print(f"statement sha256 {report.statement_sha256}: {counts}")
    return 1 if report.needs_attention else 0
