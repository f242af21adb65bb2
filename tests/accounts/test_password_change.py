"""修改密码: an account changes its own password with the current one, or without it just after
a login by SMS code (the forgotten-password path); wrong current passwords are limited; the
change is audited without the password, the phone is told, the other sessions end and this one
stays."""

from __future__ import annotations

import pytest
from django.test import Client

from certhall.accounts import passwords
from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import Forbidden, InvalidInput, TooManyRequests
from certhall.notify.models import SmsMessage
from tests.accounts.conftest import PASSWORD, PHONE, Clock, last_code
from tests.accounts.test_pages import post, text

pytestmark = pytest.mark.django_db

NEW = "Xin-mima-2026"
PAGE = "/accounts/password/"


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def logged_in(password: str = PASSWORD) -> Client:
    client = Client(enforce_csrf_checks=True)
    done = post(client, "/accounts/login/", {"username": PHONE, "password": password})
    assert done.status_code == 302, text(done)
    return client


def change(client: Client, **form: str) -> object:
    return post(client, PAGE, {"password": NEW, "password_again": NEW, **form}, csrf=True)


def test_with_the_current_password(clock: Clock, registered: User) -> None:
    here, elsewhere = logged_in(), logged_in()
    page = here.get(PAGE)
    assert page.status_code == 200 and 'name="current"' in text(page)
    assert 'href="/accounts/password/"' in text(here.get("/accounts/profile/"))

    wrong = change(here, current="not-my-password")
    assert wrong.status_code == 400 and "原密码不正确" in text(wrong)  # type: ignore[attr-defined]
    weak = post(
        here, PAGE, {"current": PASSWORD, "password": "12345678", "password_again": "12345678"}
    )
    assert weak.status_code == 400 and "密码只包含数字" in text(weak)
    same = post(here, PAGE, {"current": PASSWORD, "password": PASSWORD, "password_again": PASSWORD})
    assert same.status_code == 400 and "新密码不能与原密码相同" in text(same)
    assert User.objects.get(pk=registered.pk).check_password(PASSWORD)  # nothing changed yet

    done = change(here, current=PASSWORD)
    assert done.status_code == 302 and done["Location"] == "/accounts/profile/"  # type: ignore[attr-defined]
    assert "密码已修改" in text(here.get("/accounts/profile/"))  # this session stays
    gone = elsewhere.get("/accounts/profile/")  # the other one ended
    assert gone.status_code == 302 and gone["Location"].startswith("/accounts/login/")
    assert User.objects.get(pk=registered.pk).check_password(NEW)
    assert logged_in(NEW).get("/accounts/profile/").status_code == 200

    told = SmsMessage.objects.filter(kind="password_changed").get()
    assert told.phone == PHONE and "如非本人操作" in told.text and PHONE in told.text
    events = AuditEvent.objects.filter(action="accounts.password.change").order_by("seq")
    assert [(e.result, (e.after or {}).get("error")) for e in events] == [
        ("refused", "password_current_wrong"),
        ("refused", "password_weak"),
        ("refused", "password_unchanged"),
        ("ok", None),
    ]
    assert all(PASSWORD not in str(e.after) and NEW not in str(e.after) for e in events)


def test_without_it_just_after_an_sms_code_login(clock: Clock, registered: User) -> None:
    client = Client(enforce_csrf_checks=True)
    post(client, "/accounts/login/", {"tab": "sms", "phone": PHONE, "action": "send_code"})
    entered = post(client, "/accounts/login/", {"tab": "sms", "phone": PHONE, "code": last_code()})
    assert entered.status_code == 302
    page = text(client.get(PAGE))
    assert "您刚通过短信验证码登录" in page and 'name="current"' not in page
    assert change(client).status_code == 302  # type: ignore[attr-defined]
    assert User.objects.get(pk=registered.pk).check_password(NEW)
    event = AuditEvent.objects.get(action="accounts.password.change", result="ok")
    assert event.after == {"via": "sms_code_login"}
    # one new password per SMS proof: the next change asks for the current one
    assert 'name="current"' in text(client.get(PAGE))
    assert change(client, password=NEW + "x", password_again=NEW + "x").status_code == 400  # type: ignore[attr-defined]


def test_the_sms_proof_lasts_fifteen_minutes(clock: Clock, registered: User) -> None:
    client = Client(enforce_csrf_checks=True)
    post(client, "/accounts/login/", {"tab": "sms", "phone": PHONE, "action": "send_code"})
    post(client, "/accounts/login/", {"tab": "sms", "phone": PHONE, "code": last_code()})
    clock.advance(15 * 60 + 1)
    assert 'name="current"' in text(client.get(PAGE))
    refused = change(client)
    assert refused.status_code == 400 and "请输入原密码" in text(refused)  # type: ignore[attr-defined]


def test_wrong_current_passwords_are_limited(clock: Clock, registered: User) -> None:
    for _ in range(5):
        with pytest.raises(InvalidInput):
            passwords.change_own(registered, NEW, NEW, current="guess")
    with pytest.raises(TooManyRequests):
        passwords.change_own(registered, NEW, NEW, current=PASSWORD)  # even the right one
    clock.advance(15 * 60 + 1)
    passwords.change_own(registered, NEW, NEW, current=PASSWORD)
    assert User.objects.get(pk=registered.pk).check_password(NEW)


def test_accounts_without_a_password_and_the_page_needs_a_login(
    clock: Clock, browser: Client, registered: User
) -> None:
    """An account certificate login made has no password: giving it one here would open a
    password login to an account that proved itself by certificate (the refund programme's)."""
    holder = User.objects.create(
        username="cert-holder", role=Role.APPLICANT, organization=registered.organization
    )
    holder.set_unusable_password()
    holder.save()
    with pytest.raises(Forbidden) as none:
        passwords.change_own(holder, NEW, NEW, current="")
    assert none.value.code == "password_none"
    client = Client()
    client.force_login(holder)
    assert "没有密码可以修改" in text(client.get(PAGE))
    anonymous = browser.get(PAGE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    assert post(browser, PAGE, {"password": NEW}, csrf=False).status_code == 403


def test_through_the_api(clock: Clock, registered: User) -> None:
    from tests.accounts.test_api import Api

    api = Api()
    api.csrf()
    body = {"password": NEW, "password_again": NEW}
    assert api.post("/password", body) == (
        401,
        {"error": "not_authenticated", "message": "请先登录。"},
    )
    assert api.post("/login/password", {"username": PHONE, "password": PASSWORD})[0] == 200
    api.csrf()  # the login rotated the token
    status, data = api.post("/password", {**body, "current": PASSWORD}, csrf=False)
    assert status == 403 and data["error"] == "csrf_failed"
    status, refused = api.post("/password", {**body, "current": "guess"})
    assert (status, refused["error"], refused["message"]) == (
        400,
        "password_current_wrong",
        "原密码不正确。",
    )
    assert api.post("/password", {**body, "current": PASSWORD}) == (200, {"ok": True})
    assert api.get("/me")[0] == 200  # the session stays
    assert User.objects.get(pk=registered.pk).check_password(NEW)

    # after a login by SMS code, once without the current password
    phone = Api()
    phone.csrf()
    phone.post("/sms-code", {"phone": PHONE, "purpose": "login"})
    assert phone.post("/login/sms", {"phone": PHONE, "code": last_code()})[0] == 200
    phone.csrf()
    again = {"password": NEW + "-2", "password_again": NEW + "-2"}
    assert phone.post("/password", again) == (200, {"ok": True})
    assert phone.post("/password", {"password": NEW, "password_again": NEW})[0] == 400
