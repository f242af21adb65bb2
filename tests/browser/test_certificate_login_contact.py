"""The certificate login's refusal of a disabled account links 联系客服 to 联系我们, as the
other login forms do (``contact_linked``): the page's script wrote the server's JSON answer as
plain text until 12-07. The helper and the site's two answers are stood in for (``page.route``):
what is checked is how the script shows the server's words, which it must never treat as
HTML. At 1366 px and 390 px; screenshots under the test's tmp_path (the path is printed)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from certhall.messages import text
from tests.browser.conftest import chromium, refused
from tests.browser.test_phones import (
    DESKTOP_VIEWPORT,
    PHONE_VIEWPORT,
    measure,
    phone_problems,
    session,
    wide_problem,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST",
    "Access-Control-Allow-Headers": "Content-Type",
}
CERTIFICATES = {
    "tokens": [{"serial": "T-1", "label": "Ukey 1", "pin_locked": False}],
    "certificates": [
        {
            "id": "c-1",
            "subject_cn": "深圳市示例医药有限公司",
            "issuer_cn": "SZCA",
            "serial": "0A1B",
            "not_before": "2026-01-01T00:00:00+00:00",
            "not_after": "2028-01-01T00:00:00+00:00",
            "token": {"serial": "T-1", "label": "Ukey 1"},
        }
    ],
}


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def helper(answers: dict[str, Any]) -> Callable[[Route], None]:
    """The certificate helper on 127.0.0.1: a certificate, a request signed at once."""

    def answer(route: Route) -> None:
        request = route.request
        if request.method == "OPTIONS":
            route.fulfill(status=204, headers=CORS)
        elif "/pin/" in request.url:
            route.fulfill(content_type="text/html", body="<title>PIN</title>")
        elif request.url.endswith("/v1/certificates"):
            route.fulfill(json=CERTIFICATES, headers=CORS)
        elif request.method == "POST":
            pin_url = request.url.replace("/v1/requests", "/pin/r-1")
            body = {"id": "r-1", "state": "waiting_pin", "pin_url": pin_url, "version": 1}
            route.fulfill(status=201, json=body, headers=CORS)
        else:
            answers["polled"] = True
            route.fulfill(json={"state": "done", "version": 2, "result": {}}, headers=CORS)

    return answer


def refused_with(page: Page, url: str, message: str) -> None:
    """Log in with the helper stood in, the site answering ``message`` as its refusal."""
    page.route("**/v1/**", helper({}))
    page.route("**/pin/**", helper({}))
    page.route(
        "**/login/certificate/challenge",
        lambda route: route.fulfill(json={"challenge": "c"}),
    )
    refusal = {"error": "account_disabled", "message": message}
    page.route(
        "**/login/certificate/verify",
        lambda route: route.fulfill(
            status=403, body=json.dumps(refusal), content_type="application/json"
        ),
    )
    page.goto(f"{url}/login/certificate/")
    expect(page.locator("#cert-list input[type=radio]")).to_have_count(1)
    with page.expect_popup():
        page.click("#login-button")
    expect(page.locator("#login-message")).to_have_attribute("data-error", "account_disabled")


@pytest.mark.allow_page_error(
    refused("/login/certificate/verify", 403),
    why="a disabled account's certificate login is refused on purpose (403)",
)
def test_a_disabled_accounts_refusal_links_to_contact_us(
    live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    print("screenshots:", tmp_path)
    disabled = text("account_disabled.login")
    assert "联系客服（见“联系我们”）" in disabled
    for viewport, name in ((DESKTOP_VIEWPORT, "1366"), (PHONE_VIEWPORT, "390")):
        page = session(browser, live_server.url, viewport, None)
        refused_with(page, live_server.url, disabled)
        message = page.locator("#login-message")
        expect(message).to_have_text(disabled.replace("（见“联系我们”）", ""))
        expect(message).to_have_class("notice error")
        link = message.locator("a.contact-us")
        expect(link).to_have_text("联系客服")
        expect(link).to_have_attribute("href", "/contact/")
        got = measure(page, tmp_path, f"certlogin-disabled-{name}")
        if name == "390":
            assert phone_problems(got, 390) == {}
        else:
            assert wide_problem(got, 1366) is None
        link.click()
        page.wait_for_url(f"{live_server.url}/contact/")
        expect(page.locator("h1")).to_have_text("联系我们")
        page.context.close()


@pytest.mark.allow_page_error(
    refused("/login/certificate/verify", 403),
    why="a refusal carrying markup is provoked on purpose (403) to see it shown as text",
)
def test_the_servers_words_are_never_html(live_server: Any, browser: Browser) -> None:
    page = session(browser, live_server.url, DESKTOP_VIEWPORT, None)
    words = '<img src="x" id="injected">请联系客服（见“联系我们”）<a href="/x">'
    refused_with(page, live_server.url, words)
    message = page.locator("#login-message")
    expect(message).to_have_text('<img src="x" id="injected">请联系客服<a href="/x">')
    expect(message.locator("img")).to_have_count(0)
    expect(message.locator("a")).to_have_count(1)
    page.context.close()
