"""certhall setup [--demo]: migrate, initialise the CA, create demo accounts (printed once)."""

from __future__ import annotations

import argparse
import secrets
from typing import Any


def register(commands: Any) -> None:
    p = commands.add_parser("setup", help="migrate the database and initialise the CA")
    p.add_argument("--demo", action="store_true", help="also create demo accounts")
    p.add_argument("--key-type", choices=["ec", "rsa2048", "rsa3072"], default="ec")
    p.set_defaults(handler=setup)

    p = commands.add_parser("manage", help="run a Django management command", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(handler=manage)


def setup(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    from certhall import config
    from certhall.accounts.services import system_actor
    from certhall.ca import crls
    from certhall.ca.models import CertificateAuthority
    from certhall.ca.services import init_ca
    from certhall.portal import cli as portal_cmd

    repaired = config.repair_modes(config.get().home)
    if repaired:
        print(f"made {len(repaired)} files and directories of {config.get().home} private")
    call_command("migrate", interactive=False, verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if not CertificateAuthority.objects.exists():
        root, issuing = init_ca(system_actor(), args.key_type)
        print(f"initialised CA: {root.name} / {issuing.name}")
    for ca in CertificateAuthority.objects.all():
        crls.current_crl(ca)
    portal_cmd.setup(demo=args.demo)
    if args.demo:
        _demo_accounts()
        _demo_ukey_stock()
        print("SMS (verification codes, Ukey PINs) go to the outbox in this demo: certhall outbox")
    return 0


DEMO_STOCK = 5


def _demo_ukey_stock() -> None:
    """A few blank Ukeys (SoftHSM tokens) in stock, so issuers can issue onto them."""
    from certhall.accounts.services import system_actor
    from certhall.ukeys.models import Ukey
    from certhall.ukeys.services import prepare_stock

    if Ukey.objects.exists():
        return
    actor = system_actor()
    for n in range(1, DEMO_STOCK + 1):
        prepare_stock(actor, f"demo-ukey-{n:02d}")
    print(f"{DEMO_STOCK} blank Ukeys (SoftHSM tokens) are in stock for issuance")


DEMO_ORG = ("深圳市演示医疗科技有限公司", "91350100M000100Y43", "张三")


def _demo_accounts() -> None:
    from django.db import transaction

    from certhall.accounts.models import Organization, Role, User
    from certhall.accounts.services import home_provider
    from certhall.pki.identity import validate_uscc

    name, uscc, legal_rep = DEMO_ORG
    created: list[tuple[str, str, str]] = []
    with transaction.atomic():
        org, _ = Organization.objects.get_or_create(
            uscc=validate_uscc(uscc), defaults={"name": name, "legal_representative": legal_rep}
        )
        provider = home_provider()
        for role in Role:
            username = f"demo-{role.value.replace('_', '-')}"
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(12)
            user = User(
                username=username,
                role=role,
                organization=org if role == Role.APPLICANT else None,
                provider=provider if role not in (Role.APPLICANT, Role.REFUND_OFFICER) else None,
            )
            user.set_password(password)
            user.save()
            created.append((username, str(role.label), password))
    if created:
        print("demo accounts (passwords are shown this once):")
        for username, label, password in created:
            print(f"  {username:<22} {label:<10} {password}")


def manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["certhall manage", *args.rest])
    return 0
