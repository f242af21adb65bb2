"""certhall agent (the certificate helper) and certhall certlogin (trust list administration)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from certhall.messages import text


class _ChineseHelp(argparse.HelpFormatter):
    """The helper's ``--help`` is read by the customers who run it: Chinese from the catalogue,
    its usage line's prefix too (the rest of the command line stays English)."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, text("cli_label.usage"))


def register(commands: Any) -> None:
    from certhall.agent import DEFAULT_PORT
    from certhall.tokens.softhsm import DEFAULT_MODULE

    p = commands.add_parser(
        "agent", description=text("agent_help"), formatter_class=_ChineseHelp, add_help=False
    )
    # its own group, titled in Chinese: argparse's "options" section is left empty, not shown
    options = p.add_argument_group(text("cli_label.options"))
    options.add_argument("-h", "--help", action="help", help=text("agent_help.help"))
    hall = "http://127.0.0.1:8000"
    options.add_argument(
        "--hall-origin", default=hall, help=text("agent_help.hall_origin", default=hall)
    )
    options.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=text("agent_help.port", default=DEFAULT_PORT)
    )
    options.add_argument("--module", default=DEFAULT_MODULE, help=text("agent_help.module"))
    options.add_argument("--conf", help=text("agent_help.conf"))
    options.add_argument("--verbose", action="store_true", help=text("agent_help.verbose"))
    p.set_defaults(handler=agent, needs_django=False)

    from certhall.certlogin import cli as certlogin_cli

    certlogin_cli.register(commands)


def agent(args: argparse.Namespace) -> int:
    from certhall.agent.server import AgentConfig, serve

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s agent %(message)s",
    )
    config = AgentConfig(
        hall_origin=args.hall_origin,
        port=args.port,
        module=args.module,
        conf=Path(args.conf) if args.conf else None,
    )
    try:
        serve(config)
    except OSError as error:
        from certhall.errors import ConfigurationError

        raise ConfigurationError(code="cli_listen", port=args.port, error=error.strerror) from None
    return 0
