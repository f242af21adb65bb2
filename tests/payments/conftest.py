"""Payments fixtures: actors of two organisations and two providers, orders, frozen clocks,
and notifications signed like the sandbox gateway signs them; the helpers the tests share
(audit events, a logged-in client, a page's text, a refusal's code, the command line)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from certhall.accounts.models import Organization, Provider, Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import CerthallError, Conflict
from certhall.payments import notify, sandbox, services, signing
from certhall.payments.gateways import ONLINE
from certhall.payments.models import Order, SandboxRefund, SandboxTrade
from tests.support.refused import marked

SHANGHAI = ZoneInfo("Asia/Shanghai")
#: A Friday in 2026 (working-day computations stay inside the known calendar).
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=SHANGHAI)


def events(action: str, result: str = "ok") -> list[AuditEvent]:
    """The audit events of ``action`` with ``result``, in the chain's order."""
    return list(AuditEvent.objects.filter(action=action, result=result).order_by("seq"))


def login(user: User, *, csrf: bool = False) -> Client:
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


def page(response: Any) -> str:
    """A page answered 200, its white space made one blank."""
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


def refused_row(
    response: Any,
    row: str,
    words: str,
    field: str = "",
    typed: str = "",
    status: int = 400,
    *,
    about: str | None = None,
) -> str:
    """Finance's page shown again for a refused row form: the refusal's status, its words beside
    the forms of the row marked ``row`` (its ``data-...`` attribute) and beside no other row,
    ``field``'s input with the text ``typed`` (the redirect lost it behind a notice), and the
    field the refusal is about (``about``, else ``field``) marked in that row alone."""
    assert response.status_code == status, response.status_code
    text = re.sub(r"\s+", " ", response.content.decode())
    start = text.index(row)
    shown = text[start : text.index("</tr>", start)]
    box = 'class="flash flash-error row-refusal" role="alert" id="form-error"'
    assert box in shown and words in shown
    assert text.count("row-refusal") == 1 and text.count('id="form-error"') == 1
    if field:
        value = re.escape(html.escape(typed))
        assert re.search(f'name="{field}"[^>]*value="{value}"', shown), shown
    about = field if about is None else about
    assert marked(text) == ([about] if about else []) and marked(shown) == marked(text)
    return text


def refused(call: Callable[[], object], code: str, kind: type[CerthallError] = Conflict) -> str:
    """``call`` refused with ``code``; its words."""
    with pytest.raises(kind) as error:
        call()
    assert error.value.code == code, error.value.code
    return error.value.message


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def applicant(make_user: Callable[..., User]) -> User:
    return make_user(Role.APPLICANT)


@pytest.fixture
def clerk(make_user: Callable[..., User]) -> User:
    return make_user(Role.CLERK)


@pytest.fixture
def other_organization(db: None) -> Organization:
    return Organization.objects.create(name="深圳市另一家科技有限公司", uscc="91440300MA5FXXXX1K")


@pytest.fixture
def other_applicant(make_user: Callable[..., User], other_organization: Organization) -> User:
    return make_user(Role.APPLICANT, organization=other_organization)


@pytest.fixture
def other_clerk(make_user: Callable[..., User], other_provider: Provider) -> User:
    return make_user(Role.CLERK, provider=other_provider)


@pytest.fixture
def make_order(applicant: User, organization: Organization) -> Callable[..., Order]:
    counter = iter(range(1, 10_000))

    def make(amount: object = "300.00", **fields: object) -> Order:
        args: dict[str, object] = {
            "purpose": "tests.payments",  # not the hall's: its receivers stay out
            "object_id": f"SQ20261120-{next(counter):06d}",
            "organization": organization,
            "amount": Decimal(amount) if isinstance(amount, str) else amount,
            "description": "机构证书（ODC证书）新办 1年",
        }
        args.update(fields)
        actor = args.pop("actor", applicant)
        return services.create_order(actor, **args)  # type: ignore[arg-type]

    return make


@pytest.fixture
def order(make_order: Callable[..., Order]) -> Order:
    return make_order()


@pytest.fixture(scope="session")
def stranger_key() -> rsa.RSAPrivateKey:
    """An RSA key that is not the gateway's."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def notification_params(order: Order, **overrides: str) -> dict[str, str]:
    """The fields of an Alipay-style TRADE_SUCCESS notification for ``order`` (unsigned)."""
    params = {
        "notify_time": "2026-11-20 10:31:00",
        "notify_type": "trade_status_sync",
        "notify_id": "notify-0001",
        "app_id": ONLINE["alipay"].app_id,
        "charset": "utf-8",
        "version": "1.0",
        "trade_no": "2026112022001000000000000001",
        "out_trade_no": order.reference,
        "total_amount": str(order.amount),
        "trade_status": "TRADE_SUCCESS",
        "gmt_payment": "2026-11-20 10:30:59",
        "subject": order.description,
        "buyer_id": "sandbox-buyer-1",
    }
    params.update(overrides)
    return params


def signed_body(
    params: dict[str, str], key: rsa.RSAPrivateKey | None = None, gateway: str = "alipay"
) -> bytes:
    """``params`` signed with the gateway's key (the sandbox's) or ``key``, form-encoded."""
    return urlencode(signing.signed(params, key or sandbox.provision(gateway))).encode()


@pytest.fixture
def paid_online(
    clock: Any, applicant: User, make_order: Callable[..., Order]
) -> Callable[..., Order]:
    """An order paid at the sandbox's cashier, its signed notification handled."""

    def make(gateway: str = "alipay", amount: str = "300.00") -> Order:
        order = make_order(amount)
        trade = sandbox.pay(applicant, order.reference, gateway)
        body = urlencode(sandbox.notification(trade)).encode("utf-8")
        assert notify.handle(gateway, body, source="127.0.0.1").result == "paid"
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def refunded_online(paid_online: Callable[..., Order], clerk: User) -> Callable[..., Order]:
    def make(gateway: str = "alipay") -> Order:
        order = services.refund(clerk, paid_online(gateway), "客户撤回申请")
        order.refresh_from_db()
        return order

    return make


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., int]:
    """``certhall`` with the payments commands registered (as ``certhall.cli.main`` does)."""
    from certhall.cli import main as cli_main
    from certhall.payments import cli as payments_cli

    build = cli_main.build_parser

    def build_with_payments(argv: Any = None) -> Any:
        parser = build(argv)
        commands = next(a for a in parser._actions if a.dest == "command")
        if "payments" not in commands.choices:  # type: ignore[operator]
            payments_cli.register(commands)
        return parser

    monkeypatch.setattr(cli_main, "build_parser", build_with_payments)
    monkeypatch.setattr(cli_main, "_django", lambda: None)
    return lambda *argv: cli_main.main(list(argv))


@pytest.fixture
def unnotified(
    clock: Any, applicant: User, make_order: Callable[..., Order]
) -> Callable[..., tuple[Order, SandboxTrade]]:
    """The customer paid at the sandbox's cashier; the notification never reached us."""

    def make(gateway: str = "alipay", amount: str = "300.00") -> tuple[Order, SandboxTrade]:
        order = make_order(amount)
        return order, sandbox.pay(applicant, order.reference, gateway)

    return make


def back_office_refund(trade: SandboxTrade, amount: str = "300.00") -> SandboxRefund:
    """Finance refunded in the gateway's merchant back office: the platform was not asked."""
    return SandboxRefund.objects.create(
        gateway=trade.gateway,
        trade=trade,
        out_request_no="HT20261120000001",  # the back office's own number
        refund_id="2026112023001999000000000001",
        refund_amount=amount,
        refunded_at=NOW,
    )


@pytest.fixture
def refunded_in_back_office(
    paid_online: Callable[..., Order],
) -> Callable[[], tuple[Order, SandboxRefund]]:
    """An order paid online (notified), then refunded in the gateway's back office."""

    def make() -> tuple[Order, SandboxRefund]:
        order = paid_online()
        return order, back_office_refund(SandboxTrade.objects.get(out_trade_no=order.reference))

    return make
