"""certhall accounts set-password USERNAME

Sets an account's password: asked twice at a terminal (not echoed), or read as one line from
standard input (``echo 'New-pass-2026' | certhall accounts set-password demo-applicant``). The
same password rules as registration; audited, never printed or logged.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any


def register(commands: Any) -> None:
    p = commands.add_parser("accounts")
    sub = p.add_subparsers(dest="accounts_command", required=True, parser_class=type(p))
    s = sub.add_parser("set-password", help="set an account's password (prompt or stdin)")
    s.add_argument("username")
    s.set_defaults(handler=set_password)


def _read() -> tuple[str, str]:
    if sys.stdin.isatty():
        first = getpass.getpass("新密码: ")
        return first, getpass.getpass("再次输入新密码: ")
    line = sys.stdin.readline().rstrip("\r\n")
    return line, line


def set_password(args: argparse.Namespace) -> int:
    from certhall.accounts.passwords import set_password as set_it
    from certhall.accounts.services import system_actor
    from certhall.errors import InvalidInput

    password, again = _read()
    if not password:
        raise InvalidInput(code="password_missing")
    user = set_it(system_actor(), args.username, password, again)
    print(f"已设置 {user.username} 的密码。")
    return 0
