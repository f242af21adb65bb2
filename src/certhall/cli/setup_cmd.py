"""certhall setup [--demo]: migrate, initialise the CA, create demo accounts (printed once)."""

from __future__ import annotations

import argparse
import secrets
from typing import Any

from cryptography.hazmat.primitives import serialization


def register(commands: Any) -> None:
    p = commands.add_parser("setup")
    p.add_argument("--demo", action="store_true", help="also create demo accounts")
    p.add_argument("--key-type", choices=["ec", "rsa2048", "rsa3072"], default="ec")
    p.set_defaults(handler=setup, needs_home=False)

    p = commands.add_parser("manage", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(handler=manage, needs_home=False)


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
    if not config.get().audit_checkpoints.exists():
        from certhall.audit import checkpoints

        checkpoints.write()  # the chain's first anchor outside the database
    portal_cmd.setup(demo=args.demo)
    if args.demo:
        _demo_accounts()
        _demo_ukey_stock()
        _demo_refunds()
        _demo_enterprise_ukey()
        _demo_near_expiry()
        print("SMS (verification codes, Ukey PINs) go to the outbox in this demo: certhall outbox")
        print("lost a demo password? certhall accounts set-password demo-applicant")
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


def _demo_refunds() -> None:
    """The refund programme open today, its records, and a second refund officer (amounts above
    the threshold need two)."""
    from certhall.refunds import demo

    for line in demo.seed():
        print(line)
    _demo_user("demo-refund-officer-2", "refund_officer")


def _demo_enterprise_ukey() -> None:
    """The demo enterprise's own Ukey, as on its computer: a SoftHSM token (a store of its own,
    not the CA's stock) with an organisation certificate our demo CA issued for the demo
    organisation, for certificate login through the helper (the refund programme, 我的证书)."""
    import secrets as random

    from cryptography import x509

    from certhall import config
    from certhall.accounts.services import system_actor
    from certhall.ca.services import IssueRequest, chain_pem, issue
    from certhall.pki.issuance import Subscriber
    from certhall.tokens import (
        DEFAULT_MODULE,
        build_csr,
        format_token,
        generate_keypair,
        user_login,
        write_certificate,
        write_softhsm_conf,
    )
    from certhall.tokens.pin import random_user_pin
    from certhall.ukeys.store import is_softhsm

    module = config.get().pkcs11_module
    base = config.get().home / "demo-enterprise-ukey"
    if base.exists() or not is_softhsm(module) or module != DEFAULT_MODULE:
        return
    conf = write_softhsm_conf(base / "tokens", conf_path=base / "softhsm2.conf")
    pin = random_user_pin()
    format_token(module, "demo-enterprise", random.token_urlsafe(12), pin, conf=conf)
    with user_login(module, "demo-enterprise", pin, conf=conf) as session:
        generate_keypair(session, "key-1", "ec")
        csr = build_csr(session, "key-1").public_bytes(serialization.Encoding.PEM)
    name, uscc, _ = DEMO_ORG
    request = IssueRequest(csr, "org", 1, Subscriber(org_name=name, uscc=uscc))
    row = issue(system_actor(), request)
    cert = x509.load_der_x509_certificate(bytes(row.der))
    chain = x509.load_pem_x509_certificates(chain_pem())
    with user_login(module, "demo-enterprise", pin, conf=conf) as session:
        write_certificate(session, "key-1", cert, chain)
    print(f"demo enterprise Ukey (certificate {row.serial} of {name}), PIN {pin}; its helper:")
    print(f"  certhall agent --hall-origin {config.get().base_url} --conf {conf}")


def _demo_user(username: str, role: str) -> None:
    from certhall.accounts.models import Role, User

    if User.objects.filter(username=username).exists():
        return
    password = secrets.token_urlsafe(12)
    user = User(username=username, role=role)
    user.set_password(password)
    user.save()
    print(f"  {username:<22} {Role(role).label:<10} {password}")


DEMO_ORG = ("深圳市演示医疗科技有限公司", "91350100M000100Y43", "张三")
#: The demo organisation's handler (经办人): the PIN of the demo certificate goes to this phone.
DEMO_HANDLER = ("李四", "440301199001011234", "13800138000")
#: The legal representative's resident ID (a valid check digit; a made-up person).
DEMO_LEGAL_REP_ID = "11010519491231002X"
#: The demo certificate expires this many days after setup: inside the online renewal window.
DEMO_EXPIRES_IN_DAYS = 20


def _demo_near_expiry() -> None:
    """A 机构个人证书 of the demo organisation on the last Ukey in stock, ending in
    ``DEMO_EXPIRES_IN_DAYS`` days, so that online renewal (续期) can be tried at once: log in as
    demo-applicant, 网上营业厅 → 证书续期 with its serial; the helper reaches the Ukey with
    ``certhall agent --conf CERTHALL_HOME/ukeys/softhsm2.conf``; its first PIN is in the outbox."""
    from datetime import timedelta

    from certhall import clock
    from certhall.accounts.models import Handler, Organization
    from certhall.accounts.services import system_actor
    from certhall.ca.models import Certificate
    from certhall.pki.issuance import Subscriber
    from certhall.ukeys.lifecycle import Status
    from certhall.ukeys.models import Ukey
    from certhall.ukeys.services import issue_onto_token

    name, uscc, legal_rep = DEMO_ORG
    org = Organization.objects.get(uscc=uscc)
    handler_name, handler_id, phone = DEMO_HANDLER
    Handler.objects.get_or_create(
        organization=org,
        id_number=handler_id,
        defaults={"name": handler_name, "id_kind": Handler.IdKind.RESIDENT_ID, "phone": phone},
    )
    if Certificate.objects.filter(organization=org).exists():
        return
    token = Ukey.objects.filter(status=Status.IN_STOCK).order_by("-pk").first()
    if token is None:
        return
    ends = clock.now() + timedelta(days=DEMO_EXPIRES_IN_DAYS)
    cert = issue_onto_token(
        system_actor(),
        token,
        "personal",
        None,
        Subscriber(org_name=name, uscc=uscc, person_name=legal_rep, id_number=DEMO_LEGAL_REP_ID),
        phone=phone,
        organization=org,
        not_after=ends,
    )
    print(
        f"demo certificate {cert.serial} ({legal_rep}, 机构个人证书) on Ukey {token.serial} "
        f"expires {ends.astimezone(clock.SHANGHAI):%Y-%m-%d} (Asia/Shanghai): try "
        "网上营业厅 → 证书续期 as demo-applicant (its first PIN is in the outbox)"
    )


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
