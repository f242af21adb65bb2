"""The error boundary: every refusal, of a service or of the web itself, answers the same way.

The JSON API always answers ``{"error": code, "message": Chinese text}``, pages answer with the
zh-CN error page; both carry the right status, and 429 carries ``Retry-After``.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

import pytest
from django.test import Client

from certhall.accounts.models import Role, User

pytestmark = pytest.mark.django_db

CHINESE = re.compile(r"[\u4e00-\u9fff]")


def api_refusal(
    response: object, status: int, code: str, *, operation: tuple[str, str] | None = None
) -> dict[str, object]:
    """The refusal's shape; with ``operation`` (method, path as in the OpenAPI document), that
    the document names this status for it, with the Refusal body (schemathesis found 117
    undocumented ones: only the success was)."""
    assert response.status_code == status, response.content  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("application/json")  # type: ignore[index]
    body = json.loads(response.content)  # type: ignore[attr-defined]
    assert set(body) >= {"error", "message"} and "detail" not in body
    assert body["error"] == code
    assert CHINESE.search(body["message"]), body
    if operation is not None:
        method, path = operation
        answers = _document()["paths"][path][method.lower()]["responses"]
        assert str(status) in answers, (operation, status, sorted(answers))
        schema = answers[str(status)]["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Refusal"}
        refusal = _document()["components"]["schemas"]["Refusal"]
        assert set(refusal["required"]) <= set(body) <= set(refusal["properties"])
    return body


@functools.cache
def _document() -> dict[str, Any]:
    """The API's OpenAPI document, made once (0.3-0.5 s each: read here for every operation)."""
    from certhall.api import api

    return dict(api.get_openapi_schema(path_prefix="/api"))


def page_refusal(response: object, status: int, words: str) -> str:
    assert response.status_code == status  # type: ignore[attr-defined]
    assert response["Content-Type"].startswith("text/html")  # type: ignore[index]
    text = response.content.decode()  # type: ignore[attr-defined]
    assert words in text and "无法完成操作" in text
    for english in ("Not Found", "Forbidden", "CSRF verification failed", "Method Not Allowed"):
        assert english not in text
    return text


def test_api_unknown_path_is_json_404(client: Client) -> None:
    api_refusal(client.get("/api/no-such-thing"), 404, "not_found")


def test_api_wrong_method_is_json_405(client: Client) -> None:
    api_refusal(client.delete("/api/accounts/csrf"), 405, "method_not_allowed")


def test_api_malformed_body_is_json_422_naming_the_fields(client: Client) -> None:
    token = client.get("/api/accounts/csrf").json()["csrf_token"]
    response = client.post(
        "/api/accounts/sms-code",
        json.dumps({"phone": 13800138000}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    body = api_refusal(response, 422, "invalid_input", operation=("POST", "/api/accounts/sms-code"))
    assert "purpose" in body["fields"]  # type: ignore[operator]


def test_api_refusal_of_a_service_names_its_field(client: Client) -> None:
    """A service's refusal of a field (``accounts.validation``: ``phone``) says which, as the
    page marks it: the JSON had only ``error`` and ``message`` (a client could not tell which
    input to point at)."""
    token = client.get("/api/accounts/csrf").json()["csrf_token"]
    response = client.post(
        "/api/accounts/sms-code",
        json.dumps({"phone": "1380013800", "purpose": "register"}),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    path = "/api/accounts/sms-code"
    body = api_refusal(response, 400, "phone_invalid", operation=("POST", path))
    assert body["fields"] == ["phone"]
    # a refusal about no field carries none
    assert "fields" not in api_refusal(client.get("/api/no-such-thing"), 404, "not_found")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "请求不是有效的JSON"),
        (b"\xff\xfe", "请求不是有效的JSON"),
        (b"[1, 2]", "请求必须是JSON对象"),
        (b'"x"', "请求必须是JSON对象"),
        (b"null", "请求必须是JSON对象"),
    ],
)
def test_api_body_that_is_not_a_json_object_is_json_invalid(
    client: Client, make_user: object, body: bytes, message: str
) -> None:
    """Every router's bodies go through one parser (certhall.api): invalid JSON was 400
    ``error`` (操作未能完成，请稍后再试), and an array or a string a body of defaults (a draft
    was created)."""
    from certhall.hall.models import Application

    client.force_login(make_user(Role.APPLICANT))  # type: ignore[operator]
    for path in ("/api/hall/applications", "/api/refunds/progress/code", "/api/accounts/register"):
        response = client.post(path, body, content_type="application/json")
        refused = api_refusal(response, 400, "json_invalid", operation=("POST", path))
        assert message in str(refused["message"]), path
    assert not Application.objects.exists()


def test_api_csrf_failure_is_json_with_the_way_out() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        "/api/accounts/sms-code",
        json.dumps({"phone": "13800138000", "purpose": "login"}),
        content_type="application/json",
    )
    body = api_refusal(response, 403, "csrf_failed")
    assert "/api/accounts/csrf" in str(body["message"])


UNSAFE = ("post", "put", "patch", "delete")


def test_every_api_router_answers_a_missing_csrf_token_with_csrf_failed(
    make_user: object,
) -> None:
    """One session authentication for every router (``accounts.api.session``): ninja's own
    ``SessionAuth`` answered the hall's and the refunds' calls ``forbidden`` (您没有权限...)."""
    from certhall.api import api

    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.APPLICANT))  # type: ignore[operator]
    schema = api.get_openapi_schema(path_prefix="/api")
    session, refused = [{"_Session": []}], set()
    for path, operations in schema["paths"].items():
        router = path.split("/")[2]
        for method, operation in operations.items():
            assert operation.get("security") in (None, session), (method, path, router)
            if method not in UNSAFE or operation.get("security") is None:
                continue
            url = re.sub(r"\{\w+\}", "1", path)
            response = client.generic(method.upper(), url, "{}", content_type="application/json")
            api_refusal(response, 403, "csrf_failed", operation=(method, path))
            refused.add(router)
    # the payments router has reads only; its session is the same (asserted above)
    assert refused == {"accounts", "hall", "refunds"}
    assert any(path.startswith("/api/payments/") for path in schema["paths"])
    # a public call checks the token too, with the same answer
    public = Client(enforce_csrf_checks=True).post(
        "/api/refunds/progress/code",
        json.dumps({"number": "TK20260101-000001", "uscc": "91350100M000100Y43"}),
        content_type="application/json",
    )
    api_refusal(public, 403, "csrf_failed")


def test_api_not_logged_in_is_json_401(client: Client) -> None:
    api_refusal(
        client.get("/api/accounts/me"),
        401,
        "not_authenticated",
        operation=("GET", "/api/accounts/me"),
    )


def test_api_rate_limit_sets_retry_after(client: Client) -> None:
    token = client.get("/api/accounts/csrf").json()["csrf_token"]

    def ask() -> object:
        return client.post(
            "/api/accounts/sms-code",
            json.dumps({"phone": "13800138000", "purpose": "register"}),
            content_type="application/json",
            headers={"X-CSRFToken": token},
        )

    assert ask().status_code == 200  # type: ignore[attr-defined]
    refused = ask()
    api_refusal(refused, 429, "rate_limited", operation=("POST", "/api/accounts/sms-code"))
    assert 1 <= int(refused["Retry-After"]) <= 60  # type: ignore[index]
    answer = _document()["paths"]["/api/accounts/sms-code"]["post"]["responses"]["429"]
    assert answer["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_api_missing_object_and_conflict_are_documented(client: Client, make_user: object) -> None:
    client.force_login(make_user(Role.APPLICANT))  # type: ignore[operator]
    path = "/api/hall/applications/{number}"
    missing = client.get("/api/hall/applications/SQ20260101-000001")
    api_refusal(missing, 404, "application_not_found", operation=("GET", path))
    created = client.post("/api/hall/applications", "{}", content_type="application/json")
    number = created.json()["number"]
    client.post(f"{path.format(number=number)}/cancel", "{}", content_type="application/json")
    again = client.post(
        f"{path.format(number=number)}/cancel", "{}", content_type="application/json"
    )
    api_refusal(again, 409, "application_state", operation=("POST", f"{path}/cancel"))


def test_page_not_found_is_the_chinese_page(client: Client) -> None:
    page_refusal(client.get("/no-such-page/"), 404, "页面不存在")


def test_page_csrf_failure_is_the_chinese_page() -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"phone": "13800138000", "password": "x"})
    page_refusal(response, 403, "页面已过期")


def test_page_wrong_method_is_the_chinese_page_with_allow(client: Client) -> None:
    response = client.get("/accounts/logout/")
    page_refusal(response, 405, "不支持该请求方式")
    assert "POST" in response["Allow"]


@pytest.mark.parametrize(
    "path",
    ["/", "/status/", "/notices/", "/faq/", "/usage/", "/downloads/", "/search/?q=证书",
     "/guide/", "/refunds/", "/notices/feed.atom"],
)  # fmt: skip
def test_public_pages_answer_head_like_get(client: Client, path: str) -> None:
    """Link checkers, monitors and caches ask HEAD (RFC 9110 9.1): not 405."""
    got, head = client.get(path), client.head(path)
    assert (got.status_code, head.status_code) == (200, 200)
    assert head.content == b"" and head["Content-Type"] == got["Content-Type"]


def test_page_forbidden_by_role_is_the_chinese_page(client: Client, make_user: object) -> None:
    clerk: User = make_user(Role.CLERK)  # type: ignore[operator]
    client.force_login(clerk)
    page_refusal(client.get("/hall/"), 403, "工作人员请使用受理台")


def test_json_accepting_page_client_gets_json(client: Client) -> None:
    response = client.get("/no-such-page/", headers={"Accept": "application/json"})
    api_refusal(response, 404, "not_found")


def test_whole_numbers_are_written_in_the_digits_0_to_9() -> None:
    """``str.isdigit`` is true of "²", which ``int`` refuses; ``int`` reads "+1" and "١"."""
    from certhall.web.errors import whole_number

    assert [whole_number(t) for t in ("0", "12", "007")] == [0, 12, 7]
    for text in ("", "²", "①", "١٢", "+1", "-1", " 1", "1_0", "1.0", "1" * 5000):
        assert whole_number(text) is None, text[:20]  # 5,000 digits: int() raises ValueError
    assert whole_number("9" * 18) == 10**18 - 1


def test_a_form_over_the_upload_limit_says_it_is_too_large(
    client: Client, make_user: object
) -> None:
    """A notice body of 2 million characters (6 MB of UTF-8, over DATA_UPLOAD_MAX_MEMORY_SIZE)
    was answered 提交的内容格式不正确: nothing was wrong with its format."""
    clerk: User = make_user(Role.CLERK)  # type: ignore[operator]
    client.force_login(clerk)
    body = {"title": "公告", "published_on": "2026-11-20", "body_html": "文" * 1_000_000}
    text = page_refusal(client.post("/console/portal/notices/new/", body), 413, "请求内容过大")
    assert "格式不正确" not in text
    api_refusal(
        client.post("/console/portal/notices/new/", body, headers={"Accept": "application/json"}),
        413,
        "request_too_large",
    )


def test_a_refusal_page_leads_back_to_the_page_of_this_site_it_came_from(
    client: Client, make_user: object
) -> None:
    """A button pressed on a page of this site and refused (a 403, a 429): the error page has
    a way back to that page, not only the home page; never to another site or to itself."""
    clerk: User = make_user(Role.CLERK)  # type: ignore[operator]
    client.force_login(clerk)
    came = client.get("/hall/", headers={"Referer": "http://testserver/console/?tab=q&x=1"})
    page_refusal(came, 403, "工作人员请使用受理台")
    assert 'id="error-back" href="/console/?tab=q&amp;x=1">返回上一页' in came.content.decode()
    for elsewhere in (
        "https://evil.example/console/",
        "//evil.example/",
        "http://testserver/hall/",
        # this site's own address, its path written as another site's (//host, /\host)
        "http://testserver//evil.example/x",
        "http://testserver/\\evil.example/x",
    ):
        refused = client.get("/hall/", headers={"Referer": elsewhere})
        assert 'id="error-back"' not in refused.content.decode(), elsewhere
    assert 'id="error-back"' not in client.get("/hall/").content.decode()


def test_a_field_keyed_by_ids_is_named_and_documented_so(client: Client, make_user: object) -> None:
    """``reasons`` and ``tokens`` are objects keyed by ids: a key that is not a number was
    refused naming the field ``[key]`` (pydantic's place of a dict's key), and the document
    allowed any key (schemathesis: "Schema-valid request rejected")."""
    client.force_login(make_user(Role.REVIEWER))  # type: ignore[operator]
    path = "/api/hall/applications/{number}/return"
    response = client.post(
        path.format(number="SQ20260101-000001"),
        json.dumps({"reasons": {"营业执照": "不清晰"}, "note": ""}),
        content_type="application/json",
    )
    body = api_refusal(response, 422, "invalid_input", operation=("POST", path))
    assert body["fields"] == ["reasons"]
    schemas = _document()["components"]["schemas"]
    for schema, field in (("ReturnIn", "reasons"), ("IssueIn", "tokens")):
        keys = schemas[schema]["properties"][field]["propertyNames"]
        assert keys == {"pattern": "^[0-9]+$"}, schema
