"""Refund fixtures: the announced programme (data migration), a programme open on a frozen day,
enterprises, records and actors."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client

from certhall import clock
from certhall.accounts import codes
from certhall.accounts.models import Organization, Provider, RateLimitEvent, Role, SmsCode, User
from certhall.certlogin.models import CertificateAccount
from certhall.notify.models import SmsMessage
from certhall.refunds.models import FeeRecord, PayoutBatch, Programme, UsageRecord
from certhall.rules import SHANGHAI

#: Inside the announced application window (2021-12-21 to 2022-01-20).
IN_WINDOW = datetime(2022, 1, 10, 10, 0, tzinfo=SHANGHAI)
AFTER_WINDOW = datetime(2022, 1, 21, 9, 0, tzinfo=SHANGHAI)
USCC = "91350100M000100Y43"
NAME = "深圳市演示医疗科技有限公司"
OTHER_USCC = "91440300MA5DEM0K1W"
OTHER_NAME = "深圳市另一家科技有限公司"
GONE_USCC = "91440300MA5GNE2RPM"
GONE_NAME = "深圳市已注销演示贸易有限公司"
PHONE = "13800138000"
ACCOUNT = "6222020200001234567"
LEGAL_REP_ID = "11010519491231002X"
#: The counter page's offline form for the deregistered enterprise, its legal representative
#: present, every document received and signed (the pages' tests post it; the code is theirs).
COUNTER_ITEMS = ["licence", "change_proof", "person_id", "bank_card"]
COUNTER_FORM = {
    "step": "enter", "programme": "sz-2021", "uscc": GONE_USCC, "enterprise_name": GONE_NAME,
    "special_case": "deregistered", "person_name": "李四", "id_kind": "resident_id",
    "id_number": LEGAL_REP_ID, "account_name": "李四", "account_number": ACCOUNT,
    "bank_name": "建行", "phone": PHONE, "received": COUNTER_ITEMS, "signed": COUNTER_ITEMS,
}  # fmt: skip


def sent_code(phone: str, kind: str) -> str:
    """The code in the newest text message of ``kind`` to ``phone`` (where the plain code
    lives: the person reads it from their phone)."""
    sms = SmsMessage.objects.filter(phone=phone, kind=kind).order_by("-pk").first()
    assert sms is not None, f"no {kind} message to {phone}"
    return re.findall(r"验证码为(\d{6})", sms.text)[0]


def other_code(code: str) -> str:
    """A six-digit code that is not ``code`` (a wrong one, typed)."""
    return f"{(int(code) + 1) % 10**6:06d}"


def counter_code(phone: str = PHONE) -> str:
    """The code that proves ``phone`` at a counter, read from the outbox: the one sent last
    while it is unused and in time, else a new one sent through ``accounts.codes``, not counted
    by its sending limits (a test enters several applications for one phone in a frozen minute
    and asks it a progress code; the limits are tests/accounts/test_codes.py's)."""
    now = clock.now()
    waiting = SmsCode.objects.filter(
        phone=phone, purpose=SmsCode.Purpose.REFUND_COUNTER, state="active", expires_at__gt=now
    )
    if not waiting.exists():
        codes.request_code(phone, SmsCode.Purpose.REFUND_COUNTER, client=None, now=now)
        RateLimitEvent.objects.filter(scope__startswith="code_").delete()
    return sent_code(phone, "refund_counter_code")


@pytest.fixture
def frozen() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(IN_WINDOW, tick=False) as traveller:
        yield traveller


def announced() -> Programme:
    """The announced programme of the data migration; made again when a transactional test's
    flush removed it (flushes empty every table, data migrations' rows too)."""
    programme = Programme.objects.filter(slug="sz-2021").first()
    if programme is None:
        from django.apps import apps

        migration = importlib.import_module("certhall.refunds.migrations.0002_announced_programme")
        migration.forwards(apps, None)
        programme = Programme.objects.get(slug="sz-2021")
    return programme


@pytest.fixture
def programme(db: None) -> Programme:
    return announced()


@pytest.fixture
def providers(programme: Programme) -> dict[str, Provider]:
    return {p.slug: p for p in Provider.objects.all()}


@pytest.fixture
def outsider(db: None) -> Provider:
    """A CA that does not take part in the programme."""
    return Provider.objects.create(slug="elsewhere", name="外地数字证书机构")


@pytest.fixture
def fee(programme: Programme, providers: dict[str, Provider]) -> Callable[..., FeeRecord]:
    def make(
        serial: str,
        paid_on: date,
        amount: str = "300.00",
        *,
        business: str = "new",
        ca: str = "szca",
        uscc: str = USCC,
        name: str = NAME,
        provider: Provider | None = None,
    ) -> FeeRecord:
        return FeeRecord.objects.create(
            programme=programme,
            provider=provider or providers[ca],
            serial=serial,
            uscc=uscc,
            enterprise_name=name,
            business=business,
            paid_on=paid_on,
            amount=Decimal(amount),
        )

    return make


@pytest.fixture
def use(programme: Programme, providers: dict[str, Provider]) -> Callable[..., UsageRecord]:
    def make(
        serial: str, used_on: date, *, ca: str = "szca", provider: Provider | None = None
    ) -> UsageRecord:
        return UsageRecord.objects.create(
            programme=programme,
            provider=provider or providers[ca],
            serial=serial,
            platform="深圳市电子政务平台",
            used_on=used_on,
        )

    return make


@pytest.fixture
def paid_and_used(fee: Callable[..., Any], use: Callable[..., Any]) -> None:
    """The pages' records: a1 and g1 (the deregistered enterprise) paid in 2019, a2 in 2021,
    all three used."""
    paid = date(2019, 6, 1)
    fee("a1", paid, "300.00")
    fee("a2", date(2021, 1, 1), "400.00")
    fee("g1", paid, "300.00", uscc=GONE_USCC, name=GONE_NAME)
    for serial in ("a1", "a2", "g1"):
        use(serial, paid)


def client_for(user: User | None) -> Client:
    """A test client logged in as `user`, or anonymous."""
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def enterprise(db: None) -> Organization:
    return Organization.objects.create(name=NAME, uscc=USCC)


@pytest.fixture
def other_enterprise(db: None) -> Organization:
    return Organization.objects.create(name=OTHER_NAME, uscc=OTHER_USCC)


def certificate_holder(name: str, organization: Organization) -> User:
    """An applicant as certificate login makes one (the programme's online channel)."""
    applicant = User.objects.create(username=name, role=Role.APPLICANT, organization=organization)
    CertificateAccount.objects.create(
        user=applicant, organization=organization, holder_key=organization.uscc
    )
    return applicant


@pytest.fixture
def actors(db: None, enterprise: Organization, providers: dict[str, Provider]) -> dict[str, User]:
    """One of each: the enterprise, another enterprise, two refund officers, a clerk of the
    home CA and one of another participating CA, and a reviewer (a role without refunds)."""
    other = Organization.objects.create(name=OTHER_NAME, uscc=OTHER_USCC)

    def user(name: str, role: Role, **fields: object) -> User:
        return User.objects.create(username=name, role=role, **fields)

    return {
        "applicant": certificate_holder("app", enterprise),
        "other_applicant": certificate_holder("app2", other),
        # registered with a password: names the enterprise's USCC, proves nothing of it
        "password_applicant": user("app-password", Role.APPLICANT, organization=enterprise),
        "officer": user("officer1", Role.REFUND_OFFICER),
        "officer2": user("officer2", Role.REFUND_OFFICER),
        "clerk": user("clerk-szca", Role.CLERK, provider=providers["szca"]),
        "clerk_netca": user("clerk-netca", Role.CLERK, provider=providers["netca"]),
        "reviewer": user("reviewer", Role.REVIEWER, provider=providers["szca"]),
    }


@pytest.fixture
def open_programme(programme: Programme) -> Programme:
    """The announced programme, with a lower second-review threshold for the tests."""
    programme.second_review_above = Decimal("500.00")
    programme.save(update_fields=["second_review_above"])
    return programme


@pytest.fixture
def two_approved(
    actors: dict[str, User],
    open_programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> list[str]:
    """Two approved online applications (300.00 each: one officer), not batched; their
    numbers."""
    from certhall.refunds import review, services
    from certhall.refunds.services import BankAccount

    paid_on = date(2019, 6, 1)
    fee("a1", paid_on, "300.00")
    fee("b1", paid_on, "300.00", uscc=OTHER_USCC, name=OTHER_NAME)
    use("a1", paid_on)
    use("b1", paid_on)
    numbers = []
    for who, name in (("applicant", NAME), ("other_applicant", OTHER_NAME)):
        account = BankAccount(name, ACCOUNT, "工行")
        application = services.apply_online(actors[who], open_programme.slug, account, phone=PHONE)
        review.approve(actors["officer"], application.number)
        numbers.append(application.number)
    return numbers


@pytest.fixture
def two_in_a_batch(
    actors: dict[str, User], open_programme: Programme, two_approved: list[str]
) -> PayoutBatch:
    """The two approved applications in one payout batch, made by officer1 and released by
    officer2."""
    return released_batch(actors["officer"], actors["officer2"], open_programme.slug)


def released_batch(maker: User, checker: User, slug: str) -> PayoutBatch:
    """A payout batch made by one refund officer and released by another (maker-checker)."""
    from certhall.refunds import payout

    return payout.release(checker, payout.create_batch(maker, slug).number)
