"""Ways in that a phone needs (390 px, Debian's headless Chromium, test_phones.py's world): the
hall from the home page's first screen, 实名核验 on the handler's own phone."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from certhall.portal import indexing
from tests.browser.test_phones import (  # noqa: F401
    DESKTOP_VIEWPORT,
    FRIDAY,
    PHONE_VIEWPORT,
    session,
    world,
)
from tests.conftest_softhsm import make_softhsm_store  # noqa: F401
from tests.hall.conftest import stock, ukey_store  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]


def test_a_first_visitor_finds_the_hall_on_the_home_page(
    live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """A customer new to the site opens the home page on a phone: the way to log in to or
    register for 网上营业厅 is on the first screen, not only behind the folded 菜单 (12-06: the
    home page led to guides, notices and CA certificates, never to the hall)."""
    page = session(browser, live_server.url, PHONE_VIEWPORT, None)
    page.goto(live_server.url + "/")
    assert not page.locator("#site-nav").is_visible()
    entry = page.locator("#hall-entry a")
    words = [entry.nth(i).inner_text() for i in range(entry.count())]
    assert words == ["登录网上营业厅", "注册单位账户"]
    for i in range(entry.count()):
        box = entry.nth(i).bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE_VIEWPORT["height"]
        assert box["height"] >= 44
    page.screenshot(path=str(tmp_path / "home-first-screen.png"))
    entry.first.click()
    page.wait_for_url("**/accounts/login/?next=/hall/")
    page.go_back()
    page.locator("#hall-entry a", has_text="注册单位账户").click()
    page.wait_for_url("**/accounts/register/")


def test_a_visitor_searches_from_the_home_page(
    live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """The portal's one search was on every portal page but not on the home page, where a
    visitor lands, nor in the folded 菜单: on a phone, finding 介质补办 meant guessing a section
    first (12-07, phone probe). The home page carries the same search form; a Traditional
    query finds the Simplified guide."""
    indexing.reindex_all()
    for viewport in (PHONE_VIEWPORT, DESKTOP_VIEWPORT):
        page = session(browser, live_server.url, viewport, None)
        page.goto(live_server.url + "/")
        field = page.get_by_role("search").get_by_label("搜索")
        expect(field).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(tmp_path / f"home-search-{viewport['width']}.png"))
        field.fill("介質補辦")
        page.get_by_role("search").get_by_role("button", name="搜索").click()
        page.wait_for_url("**/search/?q=*")
        expect(page.locator("main")).to_contain_text("介质补办办事指南")
        page.context.close()


def test_a_handler_on_the_phone_goes_on_without_scanning(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    """实名核验 opened on the handler's own phone: a phone cannot scan its own screen, and the
    way on was a long address under 无法扫码时 (12-06). A button opens the handler's page."""
    page = session(browser, live_server.url, PHONE_VIEWPORT, world["applicant"])
    with time_machine.travel(FRIDAY):
        page.goto(f"{live_server.url}/hall/applications/{world['checking']}/identity/")
        here = page.locator("#phone-here")
        expect(here).to_be_visible()
        box = here.bounding_box()
        assert box is not None and box["height"] >= 44
        page.screenshot(path=str(tmp_path / "identity-on-a-phone.png"), full_page=True)
        # the platform's own address (CERTHALL_BASE_URL, not the live server's in a test)
        href = urlsplit(here.get_attribute("href") or "").path
        assert href == f"/hall/identity/m/{world['check_token']}/"
        page.goto(live_server.url + href)
        expect(page.locator("main")).to_contain_text("身份证正面（人像面）")
        # on the office computer the QR code is the way: no button about "this phone"
        desk = session(browser, live_server.url, DESKTOP_VIEWPORT, world["applicant"])
        desk.goto(f"{live_server.url}/hall/applications/{world['checking']}/identity/")
        expect(desk.locator("#identity-qr svg")).to_be_visible()
        expect(desk.locator("#phone-here")).to_be_hidden()
