"""Account tests: a frozen clock, the SMS codes read from the outbox, a registered account."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from certhall.accounts import codes
from certhall.accounts.models import User
from certhall.accounts.registration import Registration, register
from certhall.notify.models import SmsMessage

CHINA = ZoneInfo("Asia/Shanghai")
#: A Friday morning in 2026 (the tests never touch the working-day calendar, but stay in 2026).
START = datetime(2026, 11, 20, 10, 0, tzinfo=CHINA)
PHONE = "13800138000"
OTHER_PHONE = "13900139000"
PASSWORD = "Shenzhen-CA-2026"
CLIENT = "203.0.113.7"


def valid_uscc(body: str) -> str:
    from certhall.pki.identity import uscc_check_character

    return body + uscc_check_character(body)


USCC = valid_uscc("91440300MA5G8B3L4")  # well-formed codes nobody else uses in the tests
OTHER_USCC = valid_uscc("91440300MA5FTE7T2")


class Clock:
    """A frozen clock that tests move forward by hand."""

    def __init__(self, traveller: time_machine.Coordinates) -> None:
        self._traveller = traveller

    def now(self) -> datetime:
        return datetime.now(CHINA)

    def advance(self, seconds: float) -> None:
        self._traveller.shift(timedelta(seconds=seconds))


@pytest.fixture
def clock() -> Iterator[Clock]:
    with time_machine.travel(START, tick=False) as traveller:
        yield Clock(traveller)


def last_code(phone: str = PHONE) -> str:
    """The code in the newest text message to ``phone`` (where the plain code lives)."""
    message = SmsMessage.objects.filter(phone=phone).order_by("-pk").first()
    assert message is not None, f"no text message to {phone}"
    found = re.search(r"\d{6}", message.text)
    assert found is not None
    return found.group(0)


@pytest.fixture
def send_code() -> Callable[..., str]:
    def send(phone: str = PHONE, purpose: str = "register", client: str = CLIENT) -> str:
        codes.request_code(phone, purpose, client=client)
        return last_code(phone)

    return send


def registration(**changes: str) -> Registration:
    fields = {
        "organization_name": "深圳市测试医疗器械有限公司",
        "uscc": USCC,
        "legal_representative": "李四",
        "phone": PHONE,
        "code": "000000",
        "password": PASSWORD,
        "password_again": PASSWORD,
        "email": "",
    }
    fields.update(changes)
    return Registration(**fields)


@pytest.fixture
def registered(db: None, clock: Clock, send_code: Callable[..., str]) -> User:
    """An enterprise account registered through the service, its phone ``PHONE``."""
    code = send_code()
    user = register(registration(code=code, email="li.si@example.com"), client=CLIENT)
    clock.advance(61)  # past the per-phone resend limit
    return user
