"""The announced programme of seed 000 walked by a new enterprise on a 390 px phone, inside its
window (Friday 2022-01-14, the day after the portal published the notice), in Debian's headless
Chromium against pytest-django's live server:

the portal's notice -> 去办理费用返还 -> the programme list -> the programme page (what it covers,
that certificate login needs the computer, the offline route's documents and counters) -> the
enterprise's amount and its online application (its certificate login is the helper's, walked in
test_refund_online.py: here the session is given) -> 进度查询 on another phone with the number as
a phone types it -> a deregistered enterprise's offline application at a counter (the clerk at
1366 px) -> its SMS with the number -> 进度查询 from that SMS's link on the legal representative's
phone. Every phone page passes phone_checks.js; screenshots under tmp_path (printed).

Walked on 12-07 (docs/refunds.md, "Walked with the announcement on a phone"): it found the four
defects its assertions hold (the CAs without counters sent to an attachment published nowhere,
the phone field cut typed blanks at 11 characters, 进度查询 refused the number typed with blanks,
in full width or without its hyphen, and the counter's applicant was never sent its number).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from playwright.sync_api import Browser, Page, expect

from certhall.accounts.models import Organization, Provider, Role, User
from certhall.notify.models import SmsMessage
from certhall.portal import notices as portal_notices
from certhall.portal.notices import NoticeInput
from certhall.portal.seed import REFUND_BODY, REFUND_SUMMARY, REFUND_TITLE, _lines_as_html
from certhall.refunds.models import FeeRecord, UsageRecord
from certhall.rules import SHANGHAI
from tests.browser.conftest import chromium, refused
from tests.browser.refund_counter import fill_offline_entry
from tests.browser.test_phones import CHECKS, counted_fee, phone_problems, session
from tests.refunds.conftest import (
    GONE_NAME,
    GONE_USCC,
    announced,
    certificate_holder,
    sent_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

PHONE = {"width": 390, "height": 844}
DESK = {"width": 1366, "height": 900}
#: Inside the window, the day after the portal's notice (发布时间 2022-01-13 in the seed).
FRIDAY = datetime(2022, 1, 14, 10, 0, tzinfo=SHANGHAI)
NAME, USCC = "深圳市新来企业科技有限公司", "91440300MA5DEM0K1W"
#: How many lines each bracket of the offline card's CA names takes (（网证|通） broke at 390 px).
BRACKET_LINES = """() => [...document.querySelectorAll('#offline h3')].flatMap(h => {
  const nodes = [], walker = document.createTreeWalker(h, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  const text = nodes.map(n => n.textContent).join('');
  const at = (i) => { for (const n of nodes) { if (i <= n.length) return [n, i]; i -= n.length; } };
  return [...text.matchAll(/（[^）]*）/g)].map(m => {
    const range = document.createRange();
    range.setStart(...at(m.index));
    range.setEnd(...at(m.index + m[0].length));
    const tops = [...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top));
    return [m[0], new Set(tops).size];
  });
})"""
HOTLINE = "该机构的办理点地址请拨打深圳市12345政务服务便民热线（12345）咨询。"


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def world(audit_flushable: None, admin: User) -> Iterator[dict[str, Any]]:
    """The seed's notice, published on its day; the announced programme; a new enterprise with a
    fee counted (2019) and one paid after the business window (2021); a deregistered one."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    with time_machine.travel(FRIDAY):
        notice = NoticeInput(
            title=REFUND_TITLE, summary=REFUND_SUMMARY, body_html=_lines_as_html(REFUND_BODY),
            region="shenzhen", category="refund", published_on=date(2022, 1, 13), pinned=True,
        )  # fmt: skip
        published = portal_notices.publish(admin, portal_notices.create(admin, notice))
        programme = announced()
        programme.notice = published  # as the demo links them (refunds.demo.link_announcement)
        programme.save(update_fields=["notice"])
        szca = Provider.objects.get(slug="szca")
        counted_fee(programme, "5a1c0001", USCC, NAME, "650.00")
        FeeRecord.objects.create(
            programme=programme, provider=szca, serial="5a1c0002", uscc=USCC,
            enterprise_name=NAME, business="renew", paid_on=date(2021, 2, 1),
            amount=Decimal("300.00"),
        )  # fmt: skip
        UsageRecord.objects.create(
            programme=programme, provider=szca, serial="5a1c0002", platform="深圳市电子政务平台",
            used_on=date(2021, 3, 1),
        )  # fmt: skip
        counted_fee(programme, "5c1c0001", GONE_USCC, GONE_NAME, "480.00")
        organization = Organization.objects.create(name=NAME, uscc=USCC)
        yield {
            "holder": certificate_holder("new-enterprise", organization),
            "clerk": User.objects.create(username="clerk-refund", role=Role.CLERK, provider=szca),
        }


class Phone:
    """Screenshots of the pages ``name``.png under ``shots``, and what phone_checks.js finds."""

    def __init__(self, shots: Path) -> None:
        self.shots = shots
        self.problems: dict[str, Any] = {}

    def __call__(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)
        wrong = phone_problems(page.evaluate(CHECKS), PHONE["width"])
        if wrong:
            self.problems[name] = wrong


@pytest.mark.allow_page_error(
    refused("/refunds/progress/", 429), why="进度查询 in the counter code's minute waits it out"
)
def test_the_announced_programme_on_a_phone(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    url = live_server.url
    shot = Phone(tmp_path)
    print(f"screenshots in {tmp_path}")
    with time_machine.travel(FRIDAY) as traveller:
        # the portal's notice sends the visitor here (it names the government's own site)
        page = session(browser, url, PHONE, None)
        page.goto(f"{url}/notices/")
        page.click(f"text={REFUND_TITLE}")
        expect(page.locator("#refund-here")).to_be_visible()
        shot(page, "01-notice")
        notice_url = page.url
        # the programme the notice announces, not the list of programmes (12-07 late)
        page.click("text=去办理费用返还")
        page.wait_for_url("**/refunds/sz-2021/")
        back = page.locator("#programme-notice")
        expect(back).to_have_text(REFUND_TITLE)
        shot(page, "02-programme-from-notice")
        back.click()
        page.wait_for_url(notice_url)
        page.goto(f"{url}/refunds/")
        card = page.locator('[data-programme="sz-2021"]')
        expect(card).to_contain_text("2021年12月21日 至 2022年1月20日")
        expect(card).to_contain_text("申请中")
        shot(page, "02-programmes")
        card.locator("a.btn").click()
        page.wait_for_url("**/refunds/sz-2021/")
        expect(page.locator("#businesses")).to_have_text(
            "申请、续期、变更、补办（解锁、吊销不在范围内）"
        )
        expect(page.locator('#hotline a[href="tel:12345"]')).to_be_visible()  # dialled by a tap
        expect(page.locator("#computer-needed")).to_contain_text("手机上无法登录")
        offline = page.locator("#offline")
        for document in (
            "营业执照原件及复印件",
            "有效身份证原件及复印件",
            "本人银行卡原件及复印件",
        ):
            expect(offline).to_contain_text(document)
        expect(offline).to_contain_text("科技园文化广场")
        # three of the four CAs have no counters loaded: the hotline, not "see the attachment"
        expect(offline.locator("[data-no-counters]")).to_have_count(3)
        expect(offline.locator("[data-no-counters]").first).to_have_text(HOTLINE)
        brackets = page.evaluate(BRACKET_LINES)
        assert brackets == [["（网证通）", 1], ["（数安时代）", 1]], brackets
        shot(page, "03-programme")

        # the enterprise, logged in with its certificate (on the computer with its Ukey)
        mine = session(browser, url, PHONE, world["holder"])
        mine.goto(f"{url}/refunds/sz-2021/")
        expect(mine.locator("#amount")).to_contain_text("¥650.00")
        expect(mine.locator('#records tr[data-reason="outside_window"]')).to_contain_text(
            "缴费日期不在业务期间内"
        )
        mine.fill("#account_number", "6222020200001234567")
        mine.fill("#bank_name", "中国工商银行深圳分行")
        # typed as a phone number is said, in groups: the field cut it at 11 characters
        # (138 0013 80), a number the service then refused
        mine.locator("#phone").press_sequentially("138 0013 8000")
        expect(mine.locator("#phone")).to_have_value("138 0013 8000")
        mine.check("#confirm")
        shot(mine, "04-apply")
        mine.click("#submit")
        mine.wait_for_url("**/refunds/applications/**")
        number = mine.locator("#number").inner_text()
        expect(mine.locator("#state")).to_have_text("已提交，待审核")
        expect(mine.locator("#next-step")).to_contain_text(number)
        shot(mine, "05-applied")

        # another phone, no certificate: the number as a phone keyboard types it
        other = session(browser, url, PHONE, None)
        other.goto(f"{url}/refunds/progress/")
        other.locator("#number").press_sequentially(number.lower().replace("-", ""))
        other.fill("#uscc", USCC)
        other.click("#send-code")
        expect(other.locator("#sent")).to_contain_text("138****8000")
        shot(other, "06-progress-sent")
        other.fill("#code", sent_code("13800138000", "refund_code"))
        other.press("#code", "Enter")
        other.wait_for_url(f"**/refunds/applications/{number}/")
        expect(other.locator("#state")).to_have_text("已提交，待审核")
        shot(other, "07-progress-open")

        # a deregistered enterprise at the counter: the clerk enters it, its legal
        # representative's phone gets the number, and follows the SMS's link
        clerk = session(browser, url, DESK, world["clerk"])
        clerk.goto(f"{url}/refunds/counter/")
        fill_offline_entry(
            clerk,
            account="6222020200007654321",
            bank="中国建设银行深圳分行",
            phone="139-0013-9000",
            keyed=True,
        )
        # the phone is proven at the desk: the representative reads the code from it
        clerk.click("#send-code")
        expect(clerk.locator("#code-notice")).to_contain_text("139****9000")
        expect(clerk.locator("#account_number")).to_have_value("6222020200007654321")
        clerk.fill("#code", sent_code("13900139000", "refund_counter_code"))
        clerk.click("#enter")
        clerk.wait_for_url("**/refunds/counter/applications/**")
        gone = clerk.locator("#number").inner_text()
        told = SmsMessage.objects.filter(phone="13900139000", kind="refund_status").get()
        assert f"（编号{gone}）的状态为：已提交，待审核" in told.text
        link = re.findall(r"详情请查看：(\S+)$", told.text)[0]
        assert link.endswith(f"/refunds/progress/?number={gone}")

        # at once, in the counter code's minute: the phone's sending limit counts every purpose,
        # so the progress code waits; the page says the wait and counts it down on its button
        # (the page's clock driven by the test), no field for a code the phone does not hold
        representative = session(browser, url, PHONE, None)
        representative.clock.install()
        sent_to = urlsplit(link)
        representative.goto(f"{url}{sent_to.path}?{sent_to.query}")
        expect(representative.locator("#number")).to_have_value(gone)
        representative.fill("#uscc", GONE_USCC)
        representative.click("#send-code")
        expect(representative.locator("#form-error")).to_contain_text("各项业务合计")
        waiting = representative.locator("#send-code")
        expect(waiting).to_be_disabled()
        expect(waiting).to_have_text(re.compile(r"^[1-6]?\d秒后重新获取$"))
        expect(representative.locator("#code")).to_have_count(0)
        shot(representative, "08-progress-wait")
        representative.clock.run_for(2_000)
        expect(waiting).to_be_disabled()  # still counting
        traveller.shift(61)  # the minute over, on the server and on the page
        representative.clock.run_for(61_000)
        expect(waiting).to_be_enabled()
        expect(waiting).to_have_text("获取验证码")
        representative.click("#send-code")
        representative.fill("#code", sent_code("13900139000", "refund_code"))
        representative.press("#code", "Enter")
        representative.wait_for_url(f"**/refunds/applications/{gone}/")
        expect(representative.locator("main")).to_contain_text("线下（机构办理点）申请")
        expect(representative.locator("main")).to_contain_text("¥480.00")
        shot(representative, "09-offline-progress")
    assert not shot.problems, json.dumps(shot.problems, ensure_ascii=False, indent=1)
