"""A NUL character anywhere a view would read text is the zh-CN 400, on SQLite and PostgreSQL
(``web/nul.py``). Before, eight endpoints answered 500 on PostgreSQL (it cannot store U+0000),
the unauthenticated password login among them, and SQLite stored the NUL.

Run on PostgreSQL with ``-m database`` like every database test."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certhall.accounts.models import Role, User
from tests.web.test_errors import api_refusal, page_refusal

pytestmark = pytest.mark.django_db

NUL = "\x00"

# (role or None for anonymous, method, path, body: form dict, JSON dict or None)
ENDPOINTS: list[tuple[str | None, str, str, dict[str, object] | None, str]] = [
    (None, "post", "/accounts/login/", {"username": f"demo{NUL}", "password": "x"}, "form"),
    (
        None,
        "post",
        "/api/accounts/login/password",
        {"username": f"a{NUL}", "password": "x"},
        "json",
    ),
    (None, "post", "/api/accounts/sms-code", {"phone": f"138{NUL}", "purpose": "login"}, "json"),
    (None, "post", "/accounts/register/", {"org_name": f"深圳{NUL}公司", "uscc": "1"}, "form"),
    (None, "get", f"/status/?serial=ab{NUL}", None, ""),
    (None, "get", f"/api/status/ab{NUL}cd", None, ""),
    (None, "get", f"/search/?q=证书{NUL}", None, ""),
    (None, "get", f"/notices/?q={NUL}", None, ""),
    (None, "post", "/refunds/progress/", {"code": f"12{NUL}"}, "form"),
    (None, "post", "/payments/notify/sandbox", {"reference": f"X{NUL}"}, "json"),
    ("applicant", "get", f"/hall/applications/A{NUL}1/", None, ""),
    ("applicant", "get", f"/hall/applications/?state={NUL}", None, ""),
    ("applicant", "get", f"/api/hall/applications/A{NUL}1", None, ""),
    ("applicant", "post", "/accounts/handlers/", {"name": f"李{NUL}四", "phone": "1"}, "form"),
    ("reviewer", "get", f"/console/review/?q={NUL}", None, ""),
    ("clerk", "get", f"/console/applications/{NUL}/", None, ""),
    ("refund_officer", "get", f"/refunds/console/applications/?q={NUL}", None, ""),
]


def _send(client: Client, method: str, path: str, body: dict[str, object] | None, kind: str):  # type: ignore[no-untyped-def]
    if body is None:
        return getattr(client, method)(path)
    if kind == "json":
        return getattr(client, method)(
            path, json.dumps(body, ensure_ascii=False), content_type="application/json"
        )
    return getattr(client, method)(path, body)


@pytest.mark.parametrize(
    ("role", "method", "path", "body", "kind"),
    ENDPOINTS,
    ids=[f"{m} {p.split('?')[0]} {r or 'anonymous'}" for r, m, p, _, _ in ENDPOINTS],
)
def test_nul_is_a_400(
    client: Client,
    make_user: Callable[..., User],
    role: str | None,
    method: str,
    path: str,
    body: dict[str, object] | None,
    kind: str,
) -> None:
    if role is not None:
        client.force_login(make_user(Role(role)))
    response = _send(client, method, path, body, kind)
    if path.startswith("/api/"):
        api_refusal(response, 400, "nul_character")
    else:
        page_refusal(response, 400, "空字符")


def test_nul_in_a_json_key_and_an_escaped_one(client: Client) -> None:
    response = client.post(
        "/api/accounts/login/password",
        '{"username": "a", "password": "x", "x\\u0000": 1}',
        content_type="application/json",
    )
    api_refusal(response, 400, "nul_character")


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b"[" * 990 + b"]" * 990], ids=["unclosed", "just-parsed"]
)
def test_json_nested_deeper_than_anyone_writes_is_json_invalid(client: Client, body: bytes) -> None:
    """100,000 "[" were a RecursionError in this middleware's parser, and a document that parser
    just manages one in its walk over the strings: HTTP 500s. As text/plain the body reaches
    the API's parser alone; the certificate login has the same parser."""
    for content_type in ("application/json", "text/plain"):
        response = client.post("/api/accounts/login/password", body, content_type=content_type)
        api_refusal(response, 400, "json_invalid")
    verify = client.post(
        "/login/certificate/verify",
        body,
        content_type="application/json",
        headers={"Accept": "application/json"},
    )
    api_refusal(verify, 400, "json_invalid")


def test_nul_in_a_cookie(client: Client) -> None:
    client.cookies["sessionid"] = f"abc{NUL}"
    page_refusal(client.get("/hall/"), 400, "空字符")


def test_nul_bytes_in_file_contents_are_not_text(
    client: Client, make_user: Callable[..., User]
) -> None:
    """A PDF or a picture is full of NUL bytes: only names and fields are text."""
    client.force_login(make_user(Role.APPLICANT))
    upload = SimpleUploadedFile(
        "营业执照.pdf", b"%PDF-1.4\x00\x00\x01", content_type="application/pdf"
    )
    response = client.post("/hall/applications/A1/documents/", {"file": upload})
    assert response.status_code != 400 or "空字符" not in response.content.decode()


def test_ocsp_requests_are_binary(client: Client) -> None:
    response = client.post("/ocsp", b"\x30\x00", content_type="application/ocsp-request")
    assert response["Content-Type"] == "application/ocsp-response"
