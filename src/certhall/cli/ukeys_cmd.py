"""certhall ukeys recover: undo issuance onto Ukeys that a crash interrupted (docs/security.md)."""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(commands: Any) -> None:
    ukeys = commands.add_parser("ukeys", help="the Ukey inventory")
    sub = ukeys.add_subparsers(dest="ukeys_command", required=True, parser_class=type(ukeys))
    p = sub.add_parser("recover", help="undo issuance onto Ukeys interrupted by a crash")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=recover)


def recover(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.hall import issuance
    from certhall.ukeys import writes

    actor = system_actor()
    undone = writes.recover(actor)
    applications = issuance.recover(actor)
    rows = [
        {
            "ukey": w.ukey.serial,
            "application": w.application,
            "revoked": w.certificate.serial if w.certificate else None,
        }
        for w in undone
    ]
    if args.json:
        print(json.dumps({"undone": rows, "applications": applications}, ensure_ascii=False))
        return 0
    for row in rows:
        revoked = f", certificate {row['revoked']} revoked" if row["revoked"] else ""
        print(f"undone: issuance onto Ukey {row['ukey']} ({row['application'] or '-'}){revoked}")
    for number in applications:
        print(f"application {number} is approved again and can be issued")
    if not rows and not applications:
        print("nothing to recover")
    return 0
