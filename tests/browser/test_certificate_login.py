"""Certificate login in a real browser: the served hall, the helper with a SoftHSM2 Ukey, the
PIN typed into the helper's own window; then the same certificate revoked and refused.

Screenshots go to the stack's screenshot directory (printed on failure)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from tests.browser.conftest import (
    ORG_NAME,
    PIN,
    USCC,
    Stack,
    chromium,
    new_page,
    refused,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = new_page(browser, 1100, 760)
    yield page
    page.context.close()


def open_pin_window(page: Page, stack: Stack) -> Page:
    """Click 登录 and return the helper's PIN window once it shows the PIN field."""
    page.goto(f"{stack.url}/login/certificate/")
    expect(page.locator("#cert-list input[type=radio]")).to_have_count(1)
    with page.expect_popup() as popup_info:
        page.click("#login-button")
    popup = popup_info.value
    popup.wait_for_url(f"{stack.agent_url}/pin/**")
    expect(popup.locator("#pin")).to_be_visible()
    return popup


def test_the_list_shows_a_certificates_days_in_shanghai(page: Page, stack: Stack) -> None:
    """The helper reports notBefore/notAfter in UTC; the list showed their first ten
    characters, so a certificate ending at 05:00 on 2027-01-01 in Shenzhen read 至 2026-12-31
    here and 2027-01-01 on 我的证书. (Before the next test, which stops the helper.)"""

    def near_new_year(route: Route) -> None:
        answer = route.fetch()
        data = answer.json()
        for cert in data["certificates"]:
            cert["not_before"] = "2025-12-31T16:30:00+00:00"  # 2026-01-01 00:30 in Shenzhen
            cert["not_after"] = "2026-12-31T21:00:00+00:00"  # 2027-01-01 05:00
        route.fulfill(response=answer, json=data)

    page.route(f"{stack.agent_url}/v1/certificates", near_new_year)
    page.goto(f"{stack.url}/login/certificate/")
    expect(page.locator("#cert-list")).to_contain_text("有效期：2026-01-01 至 2027-01-01")


@pytest.mark.allow_page_error(
    refused("/login/certificate/verify", 403),
    why="the revoked certificate's login is refused on purpose (403, 证书已吊销)",
)
@pytest.mark.allow_page_error(
    refused("/v1/certificates"),
    why="the helper is stopped on purpose: the login page's call of it is refused",
)
def test_wrong_pin_then_login_then_revoked(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/login/certificate/")
    radio = page.locator("#cert-list input[type=radio]")
    expect(radio).to_have_count(1)
    expect(radio).to_have_attribute("data-serial", stack.serial)
    expect(page.locator("#agent-status")).to_contain_text("证书助手已连接")
    page.screenshot(path=stack.shots / "1-login-page.png", full_page=True)

    # a wrong PIN: the helper's window and the hall page both say how many tries are left
    popup = open_pin_window(page, stack)
    expect(popup.locator("body")).to_contain_text(stack.url)  # the user sees who asks
    page.wait_for_timeout(3000)  # a person reads the window and types: the request stays open
    expect(page.locator("#login-message")).not_to_contain_text("已取消")
    assert not page.evaluate("() => window.open('', 'certhall-pin').closed")
    popup.fill("#pin", "000000")
    popup.click("#submit")
    expect(popup.locator("#message")).to_contain_text("PIN码错误，还可以尝试 5 次")
    expect(page.locator("#login-message")).to_contain_text("还可以尝试 5 次")
    expect(page.locator("#unlock-hint")).to_be_hidden()  # not locked yet
    popup.screenshot(path=stack.shots / "2-pin-window-wrong-pin.png", full_page=True)
    page.screenshot(path=stack.shots / "3-login-page-wrong-pin.png", full_page=True)

    # the right PIN: the window closes, the hall logs in and shows the organisation
    popup.fill("#pin", PIN)
    popup.click("#submit")
    page.wait_for_url(f"{stack.url}/my/")
    expect(page.locator("#org-name")).to_have_text(ORG_NAME)
    expect(page.locator("#org-uscc")).to_have_text(USCC)
    expect(page.locator("#login-serial")).to_have_text(stack.serial)
    row = page.locator(f'#org-certificates tbody[data-serial="{stack.serial}"]')
    expect(row).to_contain_text("有效")
    page.screenshot(path=stack.shots / "4-my-certificates.png", full_page=True)
    for _ in range(50):  # the helper's window closes itself after success
        if popup.is_closed():
            break
        page.wait_for_timeout(100)
    assert popup.is_closed()

    # revoked at the counter: the next login is refused with the revoked message
    stack.cli("ca", "revoke", stack.serial, "--reason", "keyCompromise")
    popup = open_pin_window(page, stack)
    popup.fill("#pin", PIN)
    popup.click("#submit")
    expect(page.locator("#login-message")).to_contain_text("证书已吊销，无法登录。")
    # the code is for support, not in the words (English on a zh-CN page, issue 7)
    expect(page.locator("#login-message")).not_to_contain_text("certificate_revoked")
    expect(page.locator("#login-message")).to_have_attribute("data-error", "certificate_revoked")
    page.screenshot(path=stack.shots / "5-revoked-refused.png", full_page=True)
    page.goto(f"{stack.url}/my/")  # still logged in from before: now the status shows it
    expect(row).to_contain_text("已吊销")

    # a Ukey whose PIN is locked, as the helper reports it: the page shows the way out
    def locked(route: Route) -> None:
        answer = route.fetch()
        data = answer.json()
        for token in data["tokens"]:
            token["pin_locked"] = True
        route.fulfill(response=answer, json=data)

    page.route(f"{stack.agent_url}/v1/certificates", locked)
    page.goto(f"{stack.url}/login/certificate/")
    expect(page.locator("#cert-list")).to_contain_text("PIN已锁定")
    expect(page.locator("#unlock-hint")).to_be_visible()
    expect(page.locator("#unlock-hint a")).to_have_attribute("href", "/guide/unlock/")
    page.screenshot(path=stack.shots / "5b-pin-locked.png", full_page=True)
    page.unroute(f"{stack.agent_url}/v1/certificates")

    # the helper stopped: the page says so instead of failing silently
    assert stack.agent is not None
    stack.agent.terminate()
    stack.agent.wait(timeout=15)
    page.goto(f"{stack.url}/login/certificate/")
    expect(page.locator("#agent-status")).to_contain_text("未检测到证书助手")
    expect(page.locator("#login-button")).to_be_disabled()
    page.screenshot(path=stack.shots / "6-no-helper.png", full_page=True)
    print(f"screenshots: {stack.shots}")
