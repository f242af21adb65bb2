"""certhall ukeys recover: undo issuance onto Ukeys that a crash interrupted and finish putting
Ukeys in stock (docs/security.md)."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    ukeys = commands.add_parser("ukeys")
    sub = ukeys.add_subparsers(dest="ukeys_command", required=True, parser_class=type(ukeys))
    p = sub.add_parser(
        "recover",
        help="undo issuance onto Ukeys and finish putting Ukeys in stock, interrupted by a crash",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=recover)


def recover(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.cli.output import print_json
    from certhall.hall import issuance
    from certhall.ukeys import writes
    from certhall.ukeys.models import TokenWrite

    actor = system_actor()
    closed = writes.recover(actor)
    applications = issuance.recover(actor)
    stock = [w for w in closed if w.kind == TokenWrite.Kind.FORMAT]
    rows = [
        {
            "ukey": w.ukey.serial if w.ukey else None,
            "application": w.application,
            "revoked": w.certificate.serial if w.certificate else None,
        }
        for w in closed
        if w.kind != TokenWrite.Kind.FORMAT
    ]
    stocked = [
        {"label": w.key_label, "ukey": w.ukey.serial if w.ukey else None, "state": w.state}
        for w in stock
    ]
    if args.json:
        print_json({"undone": rows, "applications": applications, "stock": stocked})
        return 0
    for row in rows:
        revoked = f", certificate {row['revoked']} revoked" if row["revoked"] else ""
        print(f"undone: issuance onto Ukey {row['ukey']} ({row['application'] or '-'}){revoked}")
    for number in applications:
        print(f"application {number} is approved again and can be issued")
    for entry in stocked:
        if entry["ukey"]:
            print(f"in stock: Ukey {entry['ukey']} ({entry['label']})")
        else:
            print(f"abandoned: putting Ukey {entry['label']} in stock (no token of ours)")
    if not rows and not applications and not stocked:
        print("nothing to recover")
    return 0
