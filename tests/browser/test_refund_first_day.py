"""A clerk's offline refund entry and two refund officers' first day at 1366 px, in Debian's
headless Chromium inside the announced programme's window (2022-01-10): the clerk looks up a
deregistered enterprise at 返还受理, ticks the checklist and enters the application; officer A
opens 全部申请 and approves it and an online one; A makes a payout batch (待复核), B releases it
(复核放行) and gets 下载转账文件. Every page goes through test_phones.py's desktop checks
(`wide_problem`); screenshots and each page's text under tmp_path. Walked on 12-06: nothing
found wrong at this width (docs/refunds.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from playwright.sync_api import Browser, expect

from certhall.accounts.models import Organization, Provider, Role, User
from certhall.refunds import services as refund_services
from tests.browser.conftest import chromium, refused
from tests.browser.refund_counter import fill_offline_entry
from tests.browser.test_phones import counted_fee, session
from tests.browser.test_staff_first_day import Shots
from tests.refunds.conftest import (
    ACCOUNT,
    GONE_NAME,
    GONE_USCC,
    IN_WINDOW,
    PHONE,
    announced,
    certificate_holder,
    sent_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

VIEW = {"width": 1366, "height": 768}


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def world(audit_flushable: None) -> Iterator[dict[str, Any]]:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    with time_machine.travel(IN_WINDOW):
        programme = announced()
        szca = Provider.objects.get(slug="szca")
        counted_fee(programme, "5c1c0001", GONE_USCC, GONE_NAME, "480.00")
        org = Organization.objects.create(
            name="深圳市在线申请医疗有限公司", uscc="91440300MA5DEM0K1W"
        )
        counted_fee(programme, "5a1c0001", org.uscc, org.name, "650.00")
        holder = certificate_holder("refund-holder", org)
        account = refund_services.BankAccount(org.name, ACCOUNT, "中国工商银行深圳分行")
        online = refund_services.apply_online(holder, programme.slug, account, phone=PHONE)
        yield {
            "programme": programme,
            "online": online.number,
            "clerk": User.objects.create(username="clerk-refund", role=Role.CLERK, provider=szca),
            "officer": User.objects.create(username="officer-a", role=Role.REFUND_OFFICER),
            "officer2": User.objects.create(username="officer-b", role=Role.REFUND_OFFICER),
        }


@pytest.mark.allow_page_error(
    refused("/console/", 403), why="the officer is shown the console home is not theirs (403)"
)
def test_a_refund_officers_first_day(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    url = live_server.url
    shot = Shots(None, tmp_path)
    print(f"screenshots in {tmp_path}")
    with time_machine.travel(IN_WINDOW):
        clerk = session(browser, url, VIEW, world["clerk"])
        clerk.goto(f"{url}/console/")
        shot("clerk-home", clerk)
        clerk.goto(f"{url}/refunds/counter/")
        shot("counter", clerk)
        fill_offline_entry(
            clerk,
            account=ACCOUNT,
            bank="中国工商银行深圳分行",
            phone=PHONE,
            looked_up=lambda: shot("counter-lookup", clerk),
        )
        clerk.click("#send-code")  # the representative reads the code from their phone
        expect(clerk.locator("#code-notice")).to_contain_text("138****8000")
        shot("counter-code-sent", clerk)
        clerk.fill("#code", sent_code(PHONE, "refund_counter_code"))
        clerk.click("#enter")
        expect(clerk.locator("main")).to_contain_text("已提交，待审核")
        shot("counter-entered", clerk)

        officer = session(browser, url, VIEW, world["officer"])
        officer.goto(f"{url}/console/")
        shot("officer-console-home", officer)
        officer.goto(f"{url}/refunds/console/")
        shot("officer-dashboard", officer)
        officer.goto(f"{url}/refunds/console/applications/")
        shot("officer-list", officer)
        rows = officer.locator("a[href*='/refunds/console/applications/FH']").all_inner_texts()
        assert world["online"] in rows and len(rows) == 2
        for number in rows:
            officer.click(f"text={number}")
            shot(f"officer-app-{number}", officer)
            officer.click("#approve")
            expect(officer.locator("#state")).to_have_text("审核通过，待拨付")
            officer.goto(f"{url}/refunds/console/applications/")
        officer.goto(f"{url}/refunds/console/batches/")
        shot("batches", officer)
        officer.click("#create-batch")
        expect(officer.locator(".flash-success")).to_contain_text("须由另一名返还审核员复核放行")
        shot("batch-made", officer)
        officer2 = session(browser, url, VIEW, world["officer2"])
        officer2.goto(f"{url}/refunds/console/batches/")
        officer2.click("button:has-text('复核放行'):not([disabled])")
        expect(officer2.locator(".flash-success")).to_contain_text("已复核放行")
        expect(officer2.locator("main")).to_contain_text("1,130.00")
        expect(officer2.get_by_role("link", name="下载转账文件")).to_be_visible()
        shot("released", officer2)
    assert not shot.problems
