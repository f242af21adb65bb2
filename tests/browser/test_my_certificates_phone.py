"""我的证书 on a phone (12-07, h1): every business of a certificate from its card, at 390 and
360 px in Chromium, against the live server on Friday 2026-11-20 10:00 (Shanghai). The clinic
holds a 机构个人证书 in its online renewal window, one far from its end, one past its end, a
revoked 机构证书, and a 机构证书 whose online renewal is under way. Each card's links are
44 px targets (phone_checks.js's ``tiny``: the 在线续期 link was a 20 px line), the renewal
under way shows its state and the way on instead of 在线续期, and following a card's link lands
on the business's start with the certificate chosen. axe-core finds nothing on the pages
(tests/browser/axe.py). Full-page screenshots under tmp_path
(printed), looked at."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from playwright.sync_api import Browser, expect

from certhall.accounts.models import Organization, User
from certhall.ca import services as ca_services
from certhall.hall import renewal
from certhall.rules import SHANGHAI
from tests.browser.axe import Looks
from tests.browser.test_phones import (
    CHECKS,
    FRIDAY,
    NARROW_VIEWPORT,
    NO_HELPER,
    PHONE_VIEWPORT,
    phone_problems,
    session,
    wide_problem,
)
from tests.hall.conftest import applicant, at, hall_ca, software_certificate  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

VIEWPORTS = [pytest.param(PHONE_VIEWPORT, id="390"), pytest.param(NARROW_VIEWPORT, id="360")]
ISSUED = datetime(2026, 1, 10, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def clinic(
    hall_ca: object,  # noqa: F811
    admin: User,
    applicant: User,  # noqa: F811
    organization: Organization,
    audit_flushable: None,
) -> dict[str, Any]:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise

    def issued(not_after: datetime, profile: str) -> Any:
        return software_certificate(
            admin, organization, profile=profile, when=ISSUED, not_after=not_after
        )[1]

    found = {
        "soon": issued(datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI), "personal"),
        "later": issued(datetime(2028, 6, 1, 10, 0, tzinfo=SHANGHAI), "personal"),
        "ended": issued(datetime(2026, 11, 1, 10, 0, tzinfo=SHANGHAI), "personal"),
        "revoked": issued(datetime(2028, 6, 1, 10, 0, tzinfo=SHANGHAI), "org"),
        "renewing": issued(datetime(2027, 1, 12, 10, 0, tzinfo=SHANGHAI), "org"),
    }
    with at(FRIDAY):
        ca_services.revoke(admin, found["revoked"].serial, "cessationOfOperation")
        found["application"] = renewal.start(applicant, found["renewing"].serial, 1)
    return found


@NO_HELPER
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_business_from_its_card_on_a_phone(
    clinic: dict[str, Any],
    applicant: User,  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    viewport: dict[str, int],
) -> None:
    url, width = live_server.url, viewport["width"]
    print(f"screenshots in {tmp_path}")
    problems: dict[str, Any] = {}
    looks = Looks(tmp_path)
    with time_machine.travel(FRIDAY):
        page = session(browser, url, viewport, applicant)

        def shot(name: str) -> None:
            looks(page, f"{width}-{name}")  # the screenshot, and axe-core's findings
            if wrong := phone_problems(page.evaluate(CHECKS), width):
                problems[name] = wrong

        def card(name: str) -> Any:
            return page.locator(f'tbody[data-serial="{clinic[name].serial}"]')

        page.goto(f"{url}/my/")
        shot("my")
        links = page.locator("#org-certificates td.businesses a")
        heights = [links.nth(i).bounding_box()["height"] for i in range(links.count())]  # type: ignore[index]
        assert len(heights) == 5 + 5 + 3 + 1 + 1 and min(heights) >= 44, heights
        expect(card("soon").locator("a[data-business]")).to_have_text(
            [
                "在线续期",
                "变更",
                "解锁",
                "介质补办",
                "吊销",
            ]
        )
        expect(card("soon").locator(".onsite-label")).to_have_text("到受理点办理：")
        expect(card("ended").locator("a[data-business]")).to_have_text(["在线新办", "续期", "解锁"])
        expect(card("revoked").locator("a[data-business]")).to_have_text(["新办"])
        renewing = card("renewing")
        expect(renewing.locator("a[data-business]")).to_have_count(0)
        expect(renewing.locator(".open-application")).to_contain_text(clinic["application"].number)
        expect(renewing).not_to_contain_text("在线续期")
        # the renewal under way: its page
        renewing.locator(".continue-link").click()
        page.wait_for_url(f"**/hall/applications/{clinic['application'].number}/")
        shot("renewal-continued")
        # 在线续期: the hall's 续期 with the serial filled in
        page.goto(f"{url}/my/")
        card("soon").locator("a[data-business=renew]").click()
        page.wait_for_url(f"**/hall/renew/?serial={clinic['soon'].serial}")
        expect(page.locator("#serial-shown")).to_have_text(clinic["soon"].serial)
        shot("renew")
        # 解锁 at a counter: its guide, naming the certificate, at its type's section
        page.goto(f"{url}/my/")
        card("ended").locator("a[data-business=unlock]").click()
        page.wait_for_url("**/guide/unlock/?serial=*")
        chosen = page.locator("#chosen-certificate")
        expect(chosen).to_contain_text(clinic["ended"].serial)
        expect(chosen).to_contain_text("机构个人证书")
        shot("guide-unlock")
        # 新办 in place of the revoked 机构证书: the 新办 guide's 机构证书 section
        page.goto(f"{url}/my/")
        card("revoked").locator("a[data-business=new]").click()
        page.wait_for_url("**/guide/new/#org")
        expect(page.locator("#org")).to_contain_text("《单位数字证书申请表》")
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    looks.assert_clean()


@pytest.mark.parametrize("width", [1366, 1024, 768])
def test_the_cards_on_a_desktop_and_a_tablet(
    clinic: dict[str, Any],
    applicant: User,  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    width: int,
) -> None:
    """The same page on an enterprise's office PC and a tablet: the table of seven columns in
    its card (the column of businesses pushed 下载 out of it at 1366 px), nothing broken."""
    print(f"screenshots in {tmp_path}")
    with time_machine.travel(FRIDAY):
        page = session(browser, live_server.url, {"width": width, "height": 900}, applicant)
        page.goto(f"{live_server.url}/my/")
        page.screenshot(path=str(tmp_path / f"{width}-my.png"), full_page=True)
        assert wide_problem(page.evaluate(CHECKS), width) is None
