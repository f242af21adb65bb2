"""certhall audit verify | checkpoint"""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(commands: Any) -> None:
    audit = commands.add_parser("audit")
    sub = audit.add_subparsers(dest="audit_command", required=True, parser_class=type(audit))
    p = sub.add_parser("verify", help="check the whole chain; exit 1 at the first bad row")
    p.set_defaults(handler=verify)
    p = sub.add_parser(
        "checkpoint",
        help="append a signed checkpoint of the chain to the anchor file and print it "
        "(keep a copy outside this machine, e.g. before a backup)",
    )
    p.set_defaults(handler=checkpoint)


def verify(args: argparse.Namespace) -> int:
    import sys

    from certhall.audit.services import verify as verify_chain

    result = verify_chain()
    if result.ok:
        anchored = (
            f", {result.anchors} checkpoints agree"
            if result.anchors
            else " (no checkpoint yet: certhall audit checkpoint)"
        )
        print(f"audit log intact: {result.checked} events{anchored}")
        return 0
    print(
        f"certhall: error: audit log broken at row {result.seq}: {result.problem}", file=sys.stderr
    )
    return 1


def checkpoint(args: argparse.Namespace) -> int:
    from certhall import config
    from certhall.audit import checkpoints

    mark = checkpoints.write()
    print(mark.line())
    print(f"appended to {config.get().audit_checkpoints}", file=sys.stderr)
    return 0
