"""certhall certlogin trust-import | trust-list | crl-refresh | trust-disable | trust-enable

The trust list of certificate login: CA certificates of other providers and their CRLs.
Registered by ``certhall.cli.agent_cmd``.
"""

from __future__ import annotations

import argparse
from typing import Any

from certhall.cli.output import print_json, read_input


def register(commands: Any) -> None:
    parser = commands.add_parser("certlogin")
    sub = parser.add_subparsers(dest="certlogin_command", required=True, parser_class=type(parser))

    p = sub.add_parser("trust-import", help="trust a CA certificate of another provider")
    p.add_argument("--cert", required=True, help="the CA certificate (PEM or DER)")
    p.add_argument("--name", default="", help="how to name it (default: its common name)")
    p.add_argument("--crl-url", default="", help="where its CRL is published (fetched now)")
    p.add_argument("--crl", help="a CRL file instead of fetching it")
    p.set_defaults(handler=trust_import)

    p = sub.add_parser("trust-list", help="list the imported CAs and the state of their CRLs")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=trust_list)

    p = sub.add_parser("crl-refresh", help="fetch fresh CRLs (all CAs, or one)")
    p.add_argument("--fingerprint", help="only this CA (SHA-256 prefix)")
    p.add_argument("--crl", help="a CRL file instead of fetching (with --fingerprint)")
    p.set_defaults(handler=crl_refresh)

    for name, enabled in (("trust-disable", False), ("trust-enable", True)):
        p = sub.add_parser(name, help=f"{'enable' if enabled else 'disable'} an imported CA")
        p.add_argument("fingerprint", help="SHA-256 fingerprint (prefix of 8+ hex digits)")
        p.set_defaults(handler=trust_enable, enabled=enabled)


def _actor() -> Any:
    from certhall.accounts.services import system_actor

    return system_actor()


def trust_import(args: argparse.Namespace) -> int:
    from certhall.certlogin.trust import import_trusted_ca

    root = import_trusted_ca(
        _actor(),
        read_input(args.cert),
        name=args.name,
        crl_url=args.crl_url,
        crl=read_input(args.crl) if args.crl else None,
    )
    print(f"trusted {root.fingerprint_sha256}  {root.name}")
    if root.crl_next_update is not None:
        print(f"CRL: {root.crl_entries} entries, next update {root.crl_next_update:%Y-%m-%d %H:%M}")
    else:
        print("no CRL yet: logins with its certificates are refused until one is imported")
    return 0


def trust_list(args: argparse.Namespace) -> int:
    from certhall.certlogin.trust import list_trusted

    rows = list_trusted(_actor())
    if args.json:
        print_json(
            [
                {
                    "fingerprint": r.fingerprint_sha256,
                    "name": r.name,
                    "subject": r.subject,
                    "self_signed": r.self_signed,
                    "enabled": r.enabled,
                    "not_after": r.not_after.isoformat(),
                    "crl_url": r.crl_url or None,
                    "crl_number": r.crl_number,
                    "crl_next_update": r.crl_next_update.isoformat() if r.crl_next_update else None,
                    "crl_entries": r.crl_entries,
                }
                for r in rows
            ]
        )
        return 0
    for r in rows:
        crl = f"CRL until {r.crl_next_update:%Y-%m-%d %H:%M}" if r.crl_next_update else "no CRL"
        state = "enabled " if r.enabled else "disabled"
        print(f"{r.fingerprint_sha256[:16]}  {state}  {crl:<26} {r.name}")
    return 0


def crl_refresh(args: argparse.Namespace) -> int:
    from certhall.certlogin.trust import get_trusted, refresh_all, refresh_crl
    from certhall.errors import InvalidInput

    actor = _actor()
    if args.fingerprint:
        root = refresh_crl(
            actor,
            get_trusted(args.fingerprint),
            read_input(args.crl) if args.crl else None,
        )
        print(f"{root.name}: CRL #{root.crl_number}, next update {root.crl_next_update}")
        return 0
    if args.crl:
        raise InvalidInput(code="crl_needs_fingerprint")
    failed = 0
    for outcome in refresh_all(actor):
        if outcome.error:
            failed += 1
            print(f"{outcome.root.name}: FAILED: {outcome.error}")
        else:
            print(f"{outcome.root.name}: next update {outcome.root.crl_next_update}")
    return 1 if failed else 0


def trust_enable(args: argparse.Namespace) -> int:
    from certhall.certlogin.trust import get_trusted, set_enabled

    root = set_enabled(_actor(), get_trusted(args.fingerprint), args.enabled)
    print(f"{root.name}: {'enabled' if root.enabled else 'disabled'}")
    return 0
