"""A first visit on a phone (12-07): the handler of a Shenzhen clinic whose 机构证书 was made at
a counter, who has never used the platform, opens the renewal reminder's SMS link at 390 and
360 px (zh-CN) against pytest-django's live server on Friday 2026-11-20 10:00 (Shanghai). What
that walk found, each fixed at its root and held here (docs/hall.md "A first visit on a
phone"):

* the link's page was lost on the way: the login page's 注册网上营业厅账户 and the registration
  form dropped ``next``, and the new account landed on 我的账户, which did not link the hall;
* the 机构证书's online 续期 (free) said 付款成功后…, and nowhere before submitting that the
  update needs the computer with the Ukey;
* 证书新办 with 机构证书 chosen said to go to a counter, with no way to what to bring or where;
* the portal's menu (办事指南 · 公告 · 常见问题 …, on every portal page) was 33 px chips and the
  home page's links to the guides 26 px lines: now 44 px targets, and phone_checks.js measures
  them;
* 联系我们 listed the 科技园 counter as open 周一至周日 without the seed's weekend rule (周末无法
  办理机构证书): a clinic reading the hours there could come on a Saturday for nothing.

Every page passes phone_checks.js; full-page screenshots are saved under tmp_path (printed)
and were looked at."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from certhall.accounts.models import Handler, Organization, User
from certhall.notify.models import SmsMessage
from tests.browser.conftest import refused
from tests.browser.test_phones import (
    CHECKS,
    FRIDAY,
    NARROW_VIEWPORT,
    NO_HELPER,
    PHONE_VIEWPORT,
    phone_problems,
    session,
)
from tests.hall.conftest import HANDLER_ID, hall_ca, software_certificate  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

CLINIC = "深圳市福田区某某社区健康服务中心"
USCC = "91440300MA5G8B3L49"
PHONE = "13600136000"
PASSWORD = "Clinic-Futian-2026"
WEEKEND_RULE = "注:周末无法办理机构证书(ODC证书),机构个人证书可正常办理"
VIEWPORTS = [pytest.param(PHONE_VIEWPORT, id="390"), pytest.param(NARROW_VIEWPORT, id="360")]


@pytest.fixture
def clinic(hall_ca: object, admin: User, audit_flushable: None) -> dict[str, Any]:  # noqa: F811
    """The clinic as the counter left it: the organisation, its handler, and a 机构证书 within
    90 days of its end; no account on the platform."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
    organization = Organization.objects.create(
        name=CLINIC, uscc=USCC, legal_representative="陈医生"
    )
    Handler.objects.create(
        organization=organization,
        name="陈护士",
        id_kind=Handler.IdKind.RESIDENT_ID,
        id_number=HANDLER_ID,
        phone=PHONE,
    )
    _, odc = software_certificate(admin, organization, profile="org")
    return {"odc": odc}


class Walk:
    """Full-page screenshots ``width``-name.png and what phone_checks.js finds on each."""

    def __init__(self, folder: Path, width: int) -> None:
        self.folder, self.width = folder, width
        self.problems: dict[str, Any] = {}
        print(f"screenshots in {folder}")

    def shot(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.folder / f"{self.width}-{name}.png"), full_page=True)
        if wrong := phone_problems(page.evaluate(CHECKS), self.width):
            self.problems[name] = wrong

    def passed(self) -> None:
        assert not self.problems, json.dumps(self.problems, ensure_ascii=False, indent=1)


def _register(page: Page, walk: Walk) -> None:
    """The registration form, as the clinic's handler fills it in (the code from the SMS)."""
    page.fill("#organization_name", CLINIC)
    page.fill("#uscc", USCC)
    page.fill("#legal_representative", "陈医生")
    page.fill("#phone", PHONE)
    page.click("#send-code")
    expect(page.locator("#form-notice")).to_contain_text("验证码已发送至 136****6000")
    sms = SmsMessage.objects.filter(phone=PHONE).order_by("-pk").values_list("text", flat=True)
    found = re.search(r"\d{6}", sms[0])
    assert found is not None
    page.fill("#code", found.group(0))
    page.fill("#password", PASSWORD)
    page.fill("#password_again", PASSWORD)
    walk.shot(page, "register")
    page.click("#register-form button[value=register]")


@NO_HELPER
@pytest.mark.allow_page_error(
    refused("/hall/new/", 422), why="a 机构证书 asked for online, refused on purpose"
)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_from_the_sms_link_to_the_renewal(
    clinic: dict[str, Any],
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    viewport: dict[str, int],
) -> None:
    url, walk = live_server.url, Walk(tmp_path, viewport["width"])
    serial = clinic["odc"].serial
    with time_machine.travel(FRIDAY):
        page = session(browser, url, viewport, None)
        # the reminder's link: the login page, then 注册 from it, then the linked page itself
        page.goto(f"{url}/hall/renew/?serial={serial}")
        page.wait_for_url("**/accounts/login/?next=**")
        walk.shot(page, "login")
        page.click("#to-register")
        page.wait_for_url("**/accounts/register/?next=**")
        _register(page, walk)
        page.wait_for_url(f"{url}/hall/renew/?serial={serial}")
        expect(page.locator("main")).to_contain_text("注册成功")
        expect(page.locator("#serial-shown")).to_have_text(serial)
        # the 机构证书's 续期 is free, and done on the computer with the Ukey: said before
        allowed = page.locator("#renew-allowed")
        expect(allowed).to_contain_text("免费，无需付款")
        expect(allowed).not_to_contain_text("付款成功")
        expect(allowed).to_contain_text("电脑")
        walk.shot(page, "renew")
        # 我的账户 leads to the hall
        page.goto(f"{url}/accounts/profile/")
        page.click("#to-hall")
        page.wait_for_url(f"{url}/hall/")
        # 证书新办 of a second 机构证书: only at a counter, and the way to what to bring
        page.goto(f"{url}/hall/new/")
        page.check("#cert-org")
        warning = page.locator("#onsite-org")
        expect(warning).to_be_visible()
        walk.shot(page, "new-org")
        page.click("#next-button")  # asked for online all the same: refused, the way still there
        expect(page.locator("#form-error")).to_contain_text("仅支持机构个人证书网厅办理")
        expect(warning).to_be_visible()
        walk.shot(page, "new-org-refused")
        warning.locator("a").click()
        page.wait_for_url(f"{url}/guide/new/#org")
        expect(page.locator("#org")).to_contain_text("《单位数字证书申请表》")
        expect(page.locator("#points .weekend-rule")).to_have_text(WEEKEND_RULE)
        walk.shot(page, "guide-new")
    walk.passed()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_portal_menu_and_the_counters_hours(
    live_server: Any, browser: Browser, tmp_path: Path, viewport: dict[str, int]
) -> None:
    url, walk = live_server.url, Walk(tmp_path, viewport["width"])
    page = session(browser, url, viewport, None)
    pages = [("home", "/"), ("guide", "/guide/"), ("faq", "/faq/"), ("unlock", "/guide/unlock/")]
    for name, path in pages:
        page.goto(url + path)
        walk.shot(page, name)  # phone_checks.js measures the menu's chips too
    chips = page.locator(".portal-nav a")
    heights = [chips.nth(i).bounding_box()["height"] for i in range(chips.count())]  # type: ignore[index]
    assert len(heights) == 6 and min(heights) >= 44, heights
    # 联系我们: the counters' hours, then the weekend rule the guide says under them
    page.goto(url + "/contact/")
    expect(page.locator("#points .weekend-rule")).to_have_text(WEEKEND_RULE)
    walk.shot(page, "contact")
    walk.passed()
