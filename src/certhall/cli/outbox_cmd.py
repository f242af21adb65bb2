"""certhall outbox [--json] [--phone P] [--kind K] [--limit N]

The SMS outbox: with no SMS carrier reachable, every text message certhall sends (a Ukey's new
PIN, for one) is kept here. CA administrators only; each read is audited.
"""

from __future__ import annotations

import argparse
from typing import Any

from certhall.cli.output import print_json


def register(commands: Any) -> None:
    p = commands.add_parser("outbox")
    p.add_argument("--json", action="store_true")
    p.add_argument("--phone", help="only messages to this mobile number")
    p.add_argument("--kind", help="only messages of this kind (ukey.pin, ukey.unlock_pin ...)")
    p.add_argument("--limit", type=int, default=200)
    p.set_defaults(handler=outbox)


def outbox(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.notify.services import list_outbox

    messages = list_outbox(system_actor(), phone=args.phone, kind=args.kind, limit=args.limit)
    if args.json:
        rows = [
            {
                "id": m.pk,
                "phone": m.phone,
                "kind": m.kind,
                "text": m.text,
                "status": m.status,
                "created_at": m.created_at.isoformat(),
                "sent_at": m.sent_at.isoformat() if m.sent_at else None,
            }
            for m in messages
        ]
        print_json(rows)
        return 0
    for m in messages:
        print(f"{m.created_at:%Y-%m-%d %H:%M:%S} {m.phone} {m.kind:<16} {m.status:<7} {m.text}")
    return 0
