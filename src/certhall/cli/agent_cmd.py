"""certhall agent (the certificate helper) and certhall certlogin (trust list administration)."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any


def register(commands: Any) -> None:
    from certhall.agent import DEFAULT_PORT
    from certhall.tokens.softhsm import DEFAULT_MODULE

    p = commands.add_parser("agent")
    p.add_argument(
        "--hall-origin",
        default="http://127.0.0.1:8000",
        help="the only web origin whose pages may use the helper (default %(default)s)",
    )
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help="default %(default)s")
    p.add_argument("--module", default=DEFAULT_MODULE, help="PKCS#11 module of the Ukeys")
    p.add_argument("--conf", help="SoftHSM2 configuration file (SOFTHSM2_CONF) of the token store")
    p.add_argument("--verbose", action="store_true", help="log every request")
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
