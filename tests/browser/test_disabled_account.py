"""A disabled account at the login, in Debian's headless Chromium against pytest-django's live
server: an enterprise's account (its registration disowned by the counter's licence check) at
390 px is told it is disabled, with 联系客服 a link to 联系我们; a clerk's at 1366 px is told to
ask the administrator. Until 12-06 both read 账号或密码不正确 with the right password.

Screenshots are saved under the test's tmp_path (the path is printed)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from certhall.accounts.models import Organization, Provider, Role, User
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

PASSWORD = "Shenzhen-CA-2026"


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def disabled(username: str, role: Role, **fields: object) -> User:
    user = User.objects.create(username=username, role=role, is_active=False, **fields)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.mark.allow_page_error(
    refused("/accounts/login/", 403),
    why="the disabled account's login is refused on purpose (403, whom to ask)",
)
def test_a_disabled_account_is_told_whom_to_ask(
    audit_flushable: None,
    organization: Organization,
    provider: Provider,
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    print("screenshots:", tmp_path)
    customer = disabled("13800138000", Role.APPLICANT, organization=organization)
    clerk = disabled("clerk-disabled", Role.CLERK, provider=provider)
    page = session(browser, live_server.url, PHONE_VIEWPORT, None)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#username", customer.username)
    page.fill("#password", PASSWORD)
    page.click("#password-form button[value=login]")
    refusal = page.locator("#form-error")
    expect(refusal).to_contain_text("该网上营业厅账户已停用")
    expect(refusal.locator("a.contact-us")).to_have_text("联系客服")
    assert phone_problems(measure(page, tmp_path, "customer-disabled-390"), 390) == {}
    refusal.locator("a.contact-us").click()
    page.wait_for_url(f"{live_server.url}/contact/")
    expect(page.locator("h1")).to_have_text("联系我们")
    assert phone_problems(measure(page, tmp_path, "contact-390"), 390) == {}

    desk = session(browser, live_server.url, DESKTOP_VIEWPORT, None)
    desk.goto(f"{live_server.url}/accounts/login/")
    desk.fill("#username", clerk.username)
    desk.fill("#password", PASSWORD)
    desk.click("#password-form button[value=login]")
    expect(desk.locator("#form-error")).to_contain_text("请联系本机构的系统管理员")
    expect(desk.locator("#form-error a")).to_have_count(0)
    assert wide_problem(measure(desk, tmp_path, "clerk-disabled-1366"), 1366) is None
