"""The account's email address, set on 我的账户 or through the API: checked, audited with the
addresses masked, emptied to stop mail; the form keeps what was typed beside a refusal."""

from __future__ import annotations

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from tests.accounts.conftest import PASSWORD, PHONE, Clock
from tests.accounts.test_api import Api
from tests.accounts.test_pages import text, token

pytestmark = pytest.mark.django_db


def post(client: Client, data: dict[str, str], *, csrf: bool = True):  # type: ignore[no-untyped-def]
    if csrf:  # the form's token, from the profile page where the form is
        data = {**data, "csrfmiddlewaretoken": token(client, "/accounts/profile/")}
    return client.post("/accounts/email/", data)


def test_on_the_profile_page(clock: Clock, registered: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.post(
        "/accounts/login/",
        {"username": PHONE, "password": PASSWORD, "csrfmiddlewaretoken": token(client)},
    )
    assert 'id="email-form"' in text(client.get("/accounts/profile/"))

    assert post(client, {"email": "finance@"}, csrf=False).status_code == 403  # CSRF
    bad = post(client, {"email": "finance@"})
    assert bad.status_code == 400
    assert "电子邮箱格式不正确" in text(bad) and 'value="finance@"' in text(bad)
    assert User.objects.get(pk=registered.pk).email == registered.email == "li.si@example.com"

    done = post(client, {"email": " finance@example.cn "})
    assert done.status_code == 302 and done["Location"] == "/accounts/profile/"
    page = text(client.get("/accounts/profile/"))
    assert "电子邮箱已保存" in page and 'value="finance@example.cn"' in page
    assert User.objects.get(pk=registered.pk).email == "finance@example.cn"

    assert post(client, {"email": ""}).status_code == 302
    assert "电子邮箱已删除" in text(client.get("/accounts/profile/"))
    assert User.objects.get(pk=registered.pk).email == ""
    events = AuditEvent.objects.filter(action="accounts.email.set").order_by("seq")
    assert [(e.result, e.before, e.after) for e in events] == [
        ("refused", None, {"error": "email_invalid", "message": "电子邮箱格式不正确。"}),
        ("ok", {"email": "l***@example.com"}, {"email": "f***@example.cn"}),
        ("ok", {"email": "f***@example.cn"}, {"email": ""}),
    ]


def test_through_the_api(clock: Clock, registered: User) -> None:
    api = Api()
    api.csrf()
    assert api.post("/email", {"email": "a@example.cn"})[0] == 401
    api.post("/login/password", {"username": PHONE, "password": PASSWORD})
    api.csrf()
    status, refused = api.post("/email", {"email": "x" * 300 + "@example.cn"})
    assert (status, refused["error"]) == (400, "field_too_long")  # the one bound's code
    status, me = api.post("/email", {"email": "finance@example.cn"})
    assert status == 200 and me["email"] == "finance@example.cn"
