"""修改PIN in a real browser: a freshly issued (or unlocked) Ukey whose PIN the SO set must have
it changed before use; the certificate login takes the holder through that change in the
helper's own window, and then logs in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from certhall.tokens.pin import pin_status, so_reset_pin
from certhall.tokens.softhsm import DEFAULT_MODULE
from tests.browser.conftest import (
    ORG_NAME,
    SO_PIN,
    Stack,
    chromium,
    new_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SMS_PIN = "482913"
NEW_PIN = "730518"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = new_page(browser, 1100, 760)
    yield page
    page.context.close()


def test_forced_pin_change_then_certificate_login(page: Page, stack: Stack) -> None:
    # As issuance onto a new Ukey and unlock do: the SO sets a PIN, sent by SMS, to be changed.
    so_reset_pin(DEFAULT_MODULE, "ukey-demo", SO_PIN, SMS_PIN, conf=stack.conf)
    page.goto(f"{stack.url}/login/certificate/")
    expect(page.locator("#cert-list input[type=radio]")).to_have_count(1)
    with page.expect_popup() as popup_info:
        page.click("#login-button")
    popup = popup_info.value
    popup.wait_for_url(f"{stack.agent_url}/pin/**")
    popup.fill("#pin", SMS_PIN)
    popup.click("#submit")

    # its bar names the service in Chinese ("证书助手 · certhall" until 12-06)
    expect(popup.locator("header.bar")).to_have_text("深圳医保在线签约 · 证书助手")
    # the helper's window turns into the change form; the hall page says what is going on
    expect(popup.locator("#change-form")).to_be_visible()
    expect(popup.locator("h1")).to_have_text("请设置新PIN码")
    expect(page.locator("#login-message")).to_contain_text("须先修改PIN码")
    popup.screenshot(path=stack.shots / "pin-1-forced-change.png", full_page=True)

    popup.fill("#new_pin", "123456")
    popup.fill("#new_pin_again", "123456")
    popup.click("#submit")
    expect(popup.locator("#message")).to_contain_text("过于简单")
    popup.screenshot(path=stack.shots / "pin-2-guessable-refused.png", full_page=True)

    popup.fill("#new_pin", NEW_PIN)
    popup.fill("#new_pin_again", NEW_PIN)
    popup.click("#submit")
    page.wait_for_url(f"{stack.url}/my/")
    expect(page.locator("#org-name")).to_have_text(ORG_NAME)
    page.screenshot(path=stack.shots / "pin-3-logged-in.png", full_page=True)
    status = pin_status(DEFAULT_MODULE, "ukey-demo", conf=stack.conf)
    assert status.must_change is False
    for _ in range(50):  # the helper's window closes itself after success
        if popup.is_closed():
            break
        page.wait_for_timeout(100)
    assert popup.is_closed()

    # later, the holder changes the PIN again from the login page
    page.goto(f"{stack.url}/login/certificate/")
    expect(page.locator("#change-pin-button")).to_be_enabled()
    with page.expect_popup() as popup_info:
        page.click("#change-pin-button")
    popup = popup_info.value
    popup.wait_for_url(f"{stack.agent_url}/pin/**")
    expect(popup.locator("h1")).to_have_text("修改Ukey的PIN码")
    popup.fill("#old_pin", NEW_PIN)
    popup.fill("#new_pin", "950264")
    popup.fill("#new_pin_again", "950264")
    popup.screenshot(path=stack.shots / "pin-4-change-form.png", full_page=True)
    popup.click("#submit")
    expect(page.locator("#login-message")).to_contain_text("PIN码已修改")
    page.screenshot(path=stack.shots / "pin-5-changed.png", full_page=True)
    print(f"screenshots: {stack.shots}")


BLANK_WINDOW = """() => {
  const box = document.createElement('p'), link = document.createElement('a');
  window.certhallPinWindow(box, link, 400).open();
  const opened = window.open('', 'certhall-pin');
  const seen = [opened.document.title, opened.document.body.textContent];
  opened.close();
  return seen;
}"""


def test_the_pin_window_reads_chinese_before_the_helper_answers(page: Page, stack: Stack) -> None:
    """The window opened in the click is empty until the helper's page loads: its title bar
    read about:blank; now 证书助手, and a line saying what it waits for."""
    page.goto(f"{stack.url}/login/certificate/")
    assert page.evaluate(BLANK_WINDOW) == ["证书助手", "正在连接证书助手……"]
