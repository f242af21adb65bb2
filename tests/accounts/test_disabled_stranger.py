"""A disabled account, as a stranger who does not know its password or hold its phone sees it
(12-07, h5's attack on the disabled accounts' words): through the pages and the JSON API, every
answer a stranger can get (a login code asked for, a wrong code, a wrong password) is the one
an unknown phone gets; and the login codes a disabled account's phone now
receives are limited per phone as any account's are."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.notify.models import SmsMessage
from tests.accounts.conftest import CLIENT, OTHER_PHONE, PASSWORD, PHONE, Clock
from tests.accounts.test_api import Api
from tests.accounts.test_pages import post

pytestmark = pytest.mark.django_db


def _masked(said: str) -> str:
    """The two phones, whole or masked, as one: the answers compared are the rest."""
    for phone in (PHONE, OTHER_PHONE):
        said = said.replace(phone, "P").replace(f"{phone[:3]}****{phone[-4:]}", "P")
    return said


def _page_answer(response) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """The status and the page without its CSRF token (a new one on every page)."""
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())
    return response.status_code, _masked(page)


def _api_answer(answer: tuple[int, object]) -> tuple[int, str]:
    status, body = answer
    return status, _masked(str(body))


@pytest.fixture
def disabled(registered: User) -> User:
    User.objects.filter(pk=registered.pk).update(is_active=False)
    registered.refresh_from_db()
    return registered


def test_pages_tell_a_stranger_nothing_of_a_disabled_account(clock: Clock, disabled: User) -> None:
    assert OTHER_PHONE.startswith("139")
    answers: dict[str, list[tuple[int, str]]] = {"code": [], "wrong_code": [], "password": []}
    for phone in (PHONE, OTHER_PHONE):  # disabled, unknown
        browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=CLIENT)
        sent = post(
            browser, "/accounts/login/", {"tab": "sms", "phone": phone, "action": "send_code"}
        )
        answers["code"].append(_page_answer(sent))
        wrong = post(browser, "/accounts/login/", {"tab": "sms", "phone": phone, "code": "000000"})
        answers["wrong_code"].append(_page_answer(wrong))
        guessed = post(browser, "/accounts/login/", {"username": phone, "password": PASSWORD + "x"})
        answers["password"].append(_page_answer(guessed))
    for what, (of_disabled, of_unknown) in answers.items():
        assert of_disabled == of_unknown, what
    assert answers["code"][0][0] == 200 and answers["wrong_code"][0][0] == 403


def test_the_api_tells_a_stranger_nothing_of_a_disabled_account(
    clock: Clock, disabled: User
) -> None:
    answers = []
    for phone in (PHONE, OTHER_PHONE):  # disabled, unknown
        api = Api()
        api.csrf()
        answers.append(
            [
                _api_answer(api.post("/sms-code", {"phone": phone, "purpose": "login"})),
                _api_answer(api.post("/login/sms", {"phone": phone, "code": "000000"})),
                _api_answer(
                    api.post("/login/password", {"username": phone, "password": PASSWORD + "x"})
                ),
            ]
        )
    assert answers[0] == answers[1]
    assert [status for status, _ in answers[0]] == [200, 403, 403]


def test_a_disabled_accounts_phone_gets_login_codes_within_the_per_phone_limits(
    clock: Clock, disabled: User
) -> None:
    """Five codes an hour (its registration's counted), one a minute, whatever the client
    address or the digits' width: a stranger cannot flood it."""
    statuses = []
    for i in range(7):
        browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=f"203.0.113.{i + 1}")
        sent = post(
            browser, "/accounts/login/", {"tab": "sms", "phone": PHONE, "action": "send_code"}
        )
        statuses.append(sent.status_code)
        again = post(  # at once, in full-width digits: the same phone to the limit
            browser,
            "/accounts/login/",
            {"tab": "sms", "phone": "１３８ ００１３ ８０００", "action": "send_code"},
        )
        statuses.append(again.status_code)
        clock.advance(61)
    assert SmsMessage.objects.filter(phone=PHONE, kind="register_code").count() == 1
    assert SmsMessage.objects.filter(phone=PHONE, kind="login_code").count() == 4
    assert statuses == [200, 429] * 4 + [429, 429] * 3
