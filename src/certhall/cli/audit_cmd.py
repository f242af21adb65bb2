"""certhall audit verify"""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    audit = commands.add_parser("audit", help="the hash-chained audit log")
    sub = audit.add_subparsers(dest="audit_command", required=True, parser_class=type(audit))
    p = sub.add_parser("verify", help="check the whole chain; exit 1 at the first bad row")
    p.set_defaults(handler=verify)


def verify(args: argparse.Namespace) -> int:
    import sys

    from certhall.audit.services import verify as verify_chain

    result = verify_chain()
    if result.ok:
        print(f"audit log intact: {result.checked} events")
        return 0
    print(
        f"certhall: error: audit log broken at row {result.seq}: {result.problem}", file=sys.stderr
    )
    return 1
