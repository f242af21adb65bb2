"""The login page and its JSON endpoints (CSRF, session-bound challenge), and /my/."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from certhall import ratelimit
from certhall.accounts.models import Organization, User
from certhall.agent import protocol
from certhall.certlogin import conf, services
from certhall.pki.keys import sign
from tests.certlogin.support import der, issue_ours

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf(client: Client) -> str:
    page = client.get("/login/certificate/")
    assert page.status_code == 200
    return str(client.cookies["csrftoken"].value)


def post(client: Client, path: str, body: object, token: str) -> tuple[int, dict[str, object]]:
    response = client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Accept": "application/json", "X-CSRFToken": token},
    )
    return response.status_code, json.loads(response.content)


def log_in(client: Client, key, cert) -> tuple[int, dict[str, object]]:  # type: ignore[no-untyped-def]
    token = csrf(client)
    status, data = post(client, "/login/certificate/challenge", {}, token)
    assert status == 200
    challenge = str(data["challenge"])
    origin = conf.get().origin
    signature = sign(key, protocol.login_message(origin, challenge))
    return post(
        client,
        "/login/certificate/verify",
        {
            "certificate": protocol.b64encode(der(cert)),
            "chain": [],
            "signature": protocol.b64encode(signature),
            "signed_origin": origin,
        },
        token,
    )


def test_login_page(client: Client) -> None:
    page = client.get("/login/certificate/")
    text = page.content.decode()
    assert page.status_code == 200
    assert "数字证书登录" in text
    assert 'data-agent="http://127.0.0.1:17443"' in text
    assert "certlogin/login.js" in text
    assert "csrftoken" in page.cookies
    # the helper by its Chinese name, where to get it and where it runs; not the command's
    assert (
        'href="/downloads/">下载证书助手<span class="nowrap">（电脑端）</span></a>' in text
        and "手机上无法使用" in text
    )
    assert "certhall agent" not in text


def test_the_json_endpoints_refuse_in_json_whatever_the_client_accepts(client: Client) -> None:
    """Their one client (the login page's script) asks for JSON; a refusal to any other was the
    HTML error page. Now JSON with a code and Chinese words, the CSRF failure included."""
    no_token = client.post("/login/certificate/challenge", data="{}", content_type="text/plain")
    assert no_token.status_code == 403 and no_token["Content-Type"] == "application/json"
    assert json.loads(no_token.content)["error"] == "csrf_failed"
    token = csrf(client)
    bad = client.post(
        "/login/certificate/verify",
        data="[1]",
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    refusal = json.loads(bad.content)
    assert refusal["error"] == "json_invalid" and "JSON" in refusal["message"]


def test_posts_need_the_csrf_token(client: Client) -> None:
    csrf(client)
    response = client.post(
        "/login/certificate/challenge", data="{}", content_type="application/json"
    )
    assert response.status_code == 403


def test_login_and_landing_page(
    client: Client, admin: User, ca, organization: Organization
) -> None:  # type: ignore[no-untyped-def]
    key, cert, row = issue_ours(admin)
    status, data = log_in(client, key, cert)
    assert status == 200, data
    assert data == {"ok": True, "redirect": "/my/"}
    page = client.get("/my/")
    text = page.content.decode()
    assert page.status_code == 200
    assert organization.name in text
    assert organization.uscc in text
    assert row.serial in text
    assert "有效" in text
    assert "退出登录" in text
    # logout
    token = str(client.cookies["csrftoken"].value)
    assert client.post("/logout/", headers={"X-CSRFToken": token}).status_code == 302
    assert client.get("/my/").status_code == 302


def test_refusal_is_json_with_its_code(client: Client, admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    from certhall.ca.services import revoke

    key, cert, row = issue_ours(admin)
    revoke(admin, row.serial, "keyCompromise")
    status, data = log_in(client, key, cert)
    assert status == 403
    assert data["error"] == "certificate_revoked"
    assert data["message"] == "证书已吊销，无法登录。"
    assert client.get("/my/").status_code == 302


def test_the_challenge_is_the_sessions_own(client: Client, admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    """A signature over a challenge issued to another browser session is refused."""
    key, cert, _ = issue_ours(admin)
    other = Client(enforce_csrf_checks=True)
    other_token = csrf(other)
    _, data = post(other, "/login/certificate/challenge", {}, other_token)
    origin = conf.get().origin
    signature = sign(key, protocol.login_message(origin, str(data["challenge"])))
    token = csrf(client)
    post(client, "/login/certificate/challenge", {}, token)
    status, answer = post(
        client,
        "/login/certificate/verify",
        {
            "certificate": protocol.b64encode(der(cert)),
            "signature": protocol.b64encode(signature),
            "signed_origin": origin,
        },
        token,
    )
    assert status == 403
    assert answer["error"] == "bad_signature"
    # and a verify without any challenge in the session
    status, answer = post(
        client,
        "/login/certificate/verify",
        {"certificate": protocol.b64encode(der(cert)), "signature": "", "signed_origin": origin},
        token,
    )
    assert status == 403 and answer["error"] == "challenge_unknown"


def test_rate_limited_challenges_are_429(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "CHALLENGE_LIMIT", ratelimit.Limit("certlogin_challenge", 1, 60))
    token = csrf(client)
    assert post(client, "/login/certificate/challenge", {}, token)[0] == 200
    status, data = post(client, "/login/certificate/challenge", {}, token)
    assert status == 429
    assert data["error"] == "rate_limited"
    assert data["message"].startswith("操作过于频繁")


def test_landing_page_needs_a_login(client: Client) -> None:
    response = client.get("/my/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/certificate/")


def test_nav_links(client: Client, admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    assert 'href="/login/certificate/"' in client.get("/").content.decode()
    key, cert, _ = issue_ours(admin)
    log_in(client, key, cert)
    assert 'href="/my/"' in client.get("/").content.decode()
