"""The account pages in Debian's headless Chromium (Playwright) against pytest-django's live
server: register with an SMS code, log out, a failed and a good password login, the SMS tab.

Screenshots are saved under the test's tmp_path (the path is printed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from certhall.notify.models import SmsMessage
from tests.browser.conftest import chromium, new_page, refused

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE = "13800138000"
USCC = "91440300MA5G8B3L49"
PASSWORD = "Shenzhen-CA-2026"


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield new_page(browser)


def code_sent_to(phone: str) -> str:
    text = SmsMessage.objects.filter(phone=phone).order_by("-pk").values_list("text", flat=True)[0]
    found = re.search(r"\d{6}", text)
    assert found is not None
    return found.group(0)


@pytest.mark.allow_page_error(
    refused("/accounts/login/", 403),
    why="a wrong password is tried on purpose: the login page answers it 403 (账号或密码不正确)",
)
def test_register_and_log_in(
    audit_flushable: None, db_from_the_test: None, live_server: Any, page: Page, tmp_path: Path
) -> None:
    url = live_server.url
    print(f"screenshots in {tmp_path}")

    page.goto(f"{url}/accounts/register/")
    expect(page.locator("h1")).to_have_text("注册网上营业厅账户")
    page.fill("#organization_name", "深圳市测试医疗器械有限公司")
    page.fill("#uscc", USCC)
    page.fill("#legal_representative", "李四")
    page.fill("#phone", PHONE)
    page.screenshot(path=tmp_path / "1-register.png", full_page=True)
    page.click("button[value=send_code]")
    expect(page.locator("#form-notice")).to_contain_text("验证码已发送至 138****8000")
    expect(page.locator("#uscc")).to_have_value(USCC)  # the form survives the round trip
    page.fill("#code", code_sent_to(PHONE))
    page.fill("#password", PASSWORD)
    page.fill("#password_again", PASSWORD)
    page.screenshot(path=tmp_path / "2-register-code-sent.png", full_page=True)
    page.click("button[value=register]")
    page.wait_for_url(f"{url}/accounts/profile/")
    expect(page.locator("#org-name")).to_have_text("深圳市测试医疗器械有限公司")
    expect(page.locator("#org-uscc")).to_have_text(USCC)
    expect(page.locator(".messages")).to_contain_text("注册成功")
    page.screenshot(path=tmp_path / "3-profile.png", full_page=True)

    page.click("#logout")
    page.wait_for_url(f"{url}/accounts/login/")
    expect(page.locator("#tab-password")).to_have_class(re.compile("active"))
    expect(page.locator("#tab-certificate")).to_have_attribute("href", "/login/certificate/")
    page.fill("#username", PHONE)
    page.fill("#password", "not-the-password")
    page.click("#password-form button[type=submit]")
    expect(page.locator("#form-error")).to_have_text("账号或密码不正确。")
    page.screenshot(path=tmp_path / "4-login-failed.png", full_page=True)

    page.click("#tab-sms")
    expect(page.locator("#sms-form")).to_be_visible()
    page.fill("#phone", PHONE)
    page.screenshot(path=tmp_path / "5-login-sms.png", full_page=True)

    page.click("#tab-password")
    page.fill("#username", PHONE)
    page.fill("#password", PASSWORD)
    page.click("#password-form button[type=submit]")
    page.wait_for_url(f"{url}/accounts/profile/")
    expect(page.locator("#account-username")).to_have_text(PHONE)
    for shot in ("1-register", "2-register-code-sent", "3-profile", "4-login-failed"):
        assert (tmp_path / f"{shot}.png").stat().st_size > 10_000


@pytest.mark.allow_page_error(
    refused("/accounts/register/", 429), why="a second code in the phone's minute, on purpose"
)
@pytest.mark.parametrize("width", [360, 390])
def test_a_code_asked_again_too_soon_counts_the_wait_down(
    audit_flushable: None, db_from_the_test: None, live_server: Any, tmp_path: Path, width: int
) -> None:
    """获取验证码 pressed again within the phone's minute (every purpose counted together): the
    refusal says the wait, and the button counts it down, disabled (the page's clock driven by
    the test), then is 获取验证码 again; typing another phone ends the wait at once. The page
    passes the phone checks at 360 and 390 px with the button counting."""
    from tests.browser.test_phones import measure, phone_problems

    with chromium() as browser:
        page = new_page(browser, width, 780)
        page.clock.install()
        page.goto(f"{live_server.url}/accounts/register/")
        page.fill("#phone", PHONE)
        page.click("#send-code")
        expect(page.locator("#form-notice")).to_contain_text("验证码已发送至 138****8000")
        page.click("#send-code")
        expect(page.locator("#form-error")).to_contain_text("各项业务合计")
        button = page.locator("#send-code")
        expect(button).to_be_disabled()
        expect(button).to_have_text(re.compile(r"^[1-6]?\d秒后重新获取$"))
        got = measure(page, tmp_path, f"register-wait-{width}")
        # the phone keeps its width beside the countdown (it wraps under it at 360 px), and the
        # footer's 数字证书服务平台 is whole: phone_checks.js's narrow and units
        assert phone_problems(got, width) == {}
        assert page.locator("#phone").bounding_box()["width"] >= 150  # type: ignore[index]
        page.clock.run_for(61_000)
        expect(button).to_be_enabled()
        expect(button).to_have_text("获取验证码")
        page.click("#send-code")  # refused again (the server's clock did not move): waits
        expect(button).to_be_disabled()
        page.fill("#phone", "13900139000")  # another phone: its own limit, no wait
        expect(button).to_be_enabled()
        expect(button).to_have_text("获取验证码")
    assert SmsMessage.objects.filter(phone=PHONE).count() == 1
