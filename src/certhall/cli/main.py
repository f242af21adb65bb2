"""The ``certhall`` command. Thin: parse, call one service, print. Every ``CerthallError``
becomes one line on stderr and its exit code (the only place that translation happens)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from certhall.errors import CerthallError

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other certhall error (argparse would print the usage too).
        self.exit(2, f"{self.prog}: error: {message}\n")


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhall.settings")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    from certhall.cli import (
        agent_cmd,
        audit_cmd,
        ca_cmd,
        calendar_cmd,
        outbox_cmd,
        rules_cmd,
        serve_cmd,
        setup_cmd,
        token_cmd,
        ukeys_cmd,
    )
    from certhall.payments import cli as payments_cmd
    from certhall.portal import cli as portal_cmd
    from certhall.refunds import cli as refund_cmd

    parser = _Parser(prog="certhall", description="certhall certificate service platform")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    ca_cmd.register(commands)
    audit_cmd.register(commands)
    serve_cmd.register(commands)
    setup_cmd.register(commands)
    rules_cmd.register(commands)
    calendar_cmd.register(commands)
    token_cmd.register(commands)
    ukeys_cmd.register(commands)
    outbox_cmd.register(commands)
    agent_cmd.register(commands)
    payments_cmd.register(commands)
    refund_cmd.register(commands)
    portal_cmd.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from certhall.config import private_process

    private_process()
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        if getattr(args, "needs_django", True):
            _django()
        return handler(args)
    except CerthallError as error:
        print(f"certhall: error: {error.message}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
