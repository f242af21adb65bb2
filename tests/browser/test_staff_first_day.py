"""A new clerk's, reviewer's and issuer's first day at 1366 px, in Debian's headless Chromium
against pytest-django's live server on Friday 2026-11-20 10:00 (Shanghai).

The clerk chooses 科技园文化广场, registers a walk-in organisation and its handler, enters a
新办 of a 机构个人证书 for two years, ticks the paper checklist, submits and takes 300 yuan in
cash; the reviewer returns it for one copy (未加盖单位公章); the clerk receives the corrected copy
on the checklist and resubmits (before 12-06 the returned row's boxes stayed ticked and
disabled, and 补正完毕，重新提交 was refused with 须重新提交：… and no way out); the reviewer
approves, the issuer issues onto a Ukey from stock and hands it over. Then the clerk enters a
续期 of the customer's 机构个人证书 (its line holds the old serial and the Ukey's), through
payment and review to the issuer's page, and tries a 解锁 of the same certificate (refused:
the 续期 holds it, the refusal links to that application); the draft it leaves in the counter's
work in hand is cancelled from there (checked 12-07: not a dead end).

Every page is checked as test_phones.py checks the consoles at 1366 px (`wide_problem`: no
short label, date or code of a cell broken, nothing out of its card: the application's 业务
table had its 费用 and 删除 under the side column, 待审核 and 未收取 broke in the checklist), and
the history's times carry their year. Screenshots (and each page's text) under tmp_path.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from certhall.accounts.models import Handler, Organization, Role, User
from certhall.pki.identity import uscc_check_character
from certhall.pki.issuance import Subscriber
from certhall.ukeys import services as ukeys
from tests.browser.conftest import ORG_NAME, USCC, chromium, new_page, refused
from tests.browser.test_hall_counter_replace import clock, log_in, staff_user  # noqa: F401
from tests.browser.test_phones import measure, wide_problem

pytestmark = [pytest.mark.browser, pytest.mark.softhsm, pytest.mark.usefixtures("db_from_the_test")]

NEW_BODY = "91440300MA5H00012"
NEW_USCC = NEW_BODY + uscc_check_character(NEW_BODY)


@pytest.fixture
def world(clock: Any, audit_flushable: None, admin: User, ca: Any) -> dict[str, Any]:  # noqa: F811
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    organization = Organization.objects.create(
        name=ORG_NAME, uscc=USCC, legal_representative="王五"
    )
    handler = Handler.objects.create(
        organization=organization, name="李四", id_kind=Handler.IdKind.RESIDENT_ID,
        id_number="440301199001011234", phone="13800138000",
    )  # fmt: skip
    issuer = staff_user(Role.ISSUER, "issuer")
    tag = uuid.uuid4().hex[:6]
    old = ukeys.prepare_stock(issuer, f"old-{tag}")
    cert = ukeys.issue_onto_token(
        issuer, old, "personal", 3, Subscriber(org_name=ORG_NAME, uscc=USCC, person_name="王五",
        id_number="44030119800101123X"), phone=handler.phone, organization=organization,
    )  # fmt: skip
    stock = [ukeys.prepare_stock(issuer, f"s{i}-{tag}") for i in range(2)]
    return {
        "clerk": staff_user(Role.CLERK, "clerk"),
        "reviewer": staff_user(Role.REVIEWER, "reviewer"),
        "issuer": issuer,
        "cert": cert,
        "stock": stock,
    }


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield new_page(browser, 1366, 768, timeout_ms=20_000)


class Shots:
    """A full-page screenshot and the page's text of each step, numbered, under ``where``; what
    test_phones.py's desktop checks find wrong at 1366 px is kept in ``problems``. The page is
    ``page``, or the one named in the call (a walk of several people's browsers)."""

    def __init__(self, page: Page | None, where: Path) -> None:
        self.page, self.where, self.n = page, where, 0
        self.problems: list[str] = []

    def __call__(self, name: str, page: Page | None = None) -> None:
        page = page or self.page
        assert page is not None
        self.n += 1
        got = measure(page, self.where, f"{self.n:02d}-{name}")
        problem = wide_problem(got, 1366)
        if problem:
            self.problems.append(f"{name}: {problem}")
        (self.where / f"{self.n:02d}-{name}.txt").write_text(page.inner_text("body"))


def counter_customer(page: Page, url: str, uscc: str) -> None:
    page.goto(f"{url}/console/counter/")
    page.check("#point-kejiyuan")  # (the point is chosen per login session)
    page.click("#choose-point")
    page.fill("#lookup-uscc", uscc)
    page.click("#lookup")


def tick_and_submit(page: Page) -> None:
    for box in page.locator("#checklist input[type=checkbox]:not([disabled])").all():
        box.check()
    page.click("#checklist-save")
    expect(page.locator(".flash-success")).to_contain_text("资料核验已记录")
    page.click("#submit-application")
    expect(page.locator("#application-state")).to_have_text("待付款")


#: A time in the history: with its year, as 录入 beside the number (it read 11-20 10:00).
WITH_YEAR = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")


@pytest.mark.allow_page_error(
    refused("/items", 409), why="a 解锁 of a certificate with a renewal in hand, refused (409)"
)
def test_a_first_day_at_the_counter(
    world: dict[str, Any], live_server: Any, page: Page, tmp_path: Path
) -> None:
    url = live_server.url
    shot = Shots(page, tmp_path)
    print(f"screenshots in {tmp_path}")
    clerk, reviewer, issuer = world["clerk"], world["reviewer"], world["issuer"]

    # the clerk: a walk-in organisation, its handler, a 新办 with the paper checklist and cash
    log_in(page, url, clerk)
    shot("clerk-home")
    page.click("text=进入柜台受理")
    counter_customer(page, url, NEW_USCC)
    shot("counter-new-org")
    page.fill("#open-form input[name=name]", "深圳市新客户医疗有限公司")
    page.fill("#open-form input[name=legal_representative]", "赵六")
    page.fill("input[name=handler_name]", "钱七")
    page.fill("input[name=handler_id_number]", "440301199202021236")
    page.fill("input[name=handler_phone]", "13900139000")
    page.click("#open-application")
    number = page.locator("#application-number").inner_text()
    page.select_option("#item-business", "new")
    page.select_option("#item-cert-type", "personal")
    page.fill("#item-years", "2")
    page.fill("input[name=person_name]", "赵六")
    page.fill("input[name=person_id_number]", "440301198503031230")
    page.click("#add-item-button")
    expect(page.locator("#application-total")).to_have_text("¥300.00")
    shot("new-added")
    tick_and_submit(page)
    page.check("#payment-form input[value=cash]")
    page.click("#take-payment")
    expect(page.locator("#application-state")).to_have_text("已付款，待审核")
    shot("new-paid")

    # the reviewer returns it for the licence copy
    log_in(page, url, reviewer)
    page.click("text=进入审核队列")
    shot("review-queue")
    page.click(f"text={number}")
    shot("review")
    page.click("summary:has-text('退回补正')")
    page.locator("#return-form input[name^=reason_]").first.fill("复印件未加盖单位公章")
    page.fill("#return-form textarea[name=note]", "请加盖公章后重新提交")
    page.click("#return")
    expect(page.locator("#application-state")).to_have_text("已退回补正")

    # the clerk receives the corrected copy and resubmits
    log_in(page, url, clerk)
    page.goto(f"{url}/console/applications/{number}/")
    returned = page.locator("#checklist tr", has_text="复印件未加盖单位公章")
    expect(returned).to_contain_text("收取补正后的复印件后重新勾选")
    shot("returned")
    for box in returned.locator("input[type=checkbox]").all():
        box.check()
    page.click("#checklist-save")
    expect(page.locator(".flash-success")).to_contain_text("资料核验已记录")
    page.click("#resubmit-application")
    expect(page.locator("#application-state")).to_have_text("已补正，待审核")
    shot("resubmitted")

    # the reviewer approves, the issuer issues onto a Ukey from stock and hands it over
    log_in(page, url, reviewer)
    page.goto(f"{url}/console/applications/{number}/")
    page.click("#approve")
    expect(page.locator("#application-state")).to_have_text("审核通过，待制证")
    log_in(page, url, issuer)
    page.click("text=进入制证")
    shot("issuance-queue")
    page.click(f"text={number}")
    page.select_option("#issue-form select", world["stock"][0].serial)
    page.click("#issue")
    expect(page.locator("#application-state")).to_have_text("已交付")
    shot("issued")
    times = page.locator("#history time").all_inner_texts()
    assert times and all(WITH_YEAR.match(t) for t in times), times

    # the clerk's 续期 of the customer's certificate, to the issuer's page
    serial = world["cert"].serial
    log_in(page, url, clerk)
    counter_customer(page, url, USCC)
    page.click("#open-application")
    renewal = page.locator("#application-number").inner_text()
    page.select_option("#item-business", "renew")
    page.fill("#item-serial", serial)
    page.fill("#item-years", "1")
    page.click("#add-item-button")
    expect(page.locator("#application-total")).to_have_text("¥150.00")
    shot("renew-added")
    tick_and_submit(page)
    page.click("#take-payment")
    log_in(page, url, reviewer)
    page.goto(f"{url}/console/applications/{renewal}/")
    page.click("#approve")
    log_in(page, url, issuer)
    page.goto(f"{url}/console/applications/{renewal}/")
    expect(page.locator("#issue-form")).to_contain_text("客户输入Ukey的PIN码")
    shot("renew-to-issue")

    # a 解锁 of the same certificate meanwhile: refused, with the way to the 续期
    log_in(page, url, clerk)
    counter_customer(page, url, USCC)
    page.click("#open-application")
    page.select_option("#item-business", "unlock")
    page.fill("#item-serial", serial)
    page.click("#add-item-button")
    expect(page.locator("#form-error")).to_contain_text(f"已有办理中的申请 {renewal}")
    shot("unlock-refused")
    page.click(f"#form-error a:has-text('{renewal}')")
    expect(page.locator("#application-number")).to_have_text(renewal)

    # the draft whose line was refused stays in the counter's work in hand (草稿, 业务 —), not
    # a dead end: opened from there, it takes another line or is cancelled, and leaves the list
    page.goto(f"{url}/console/counter/")
    draft = page.locator("#recent tbody tr", has_text="草稿")
    expect(draft).to_contain_text("—")
    shot("counter-with-empty-draft")
    draft.locator("a").click()
    expect(page.locator("#add-item")).to_be_visible()
    page.click("summary:has-text('取消申请')")
    page.click("#cancel")
    expect(page.locator("#application-state")).to_have_text("已取消")
    page.goto(f"{url}/console/counter/")
    expect(page.locator("#recent")).to_contain_text("办理中的现场申请（1 件）")
    expect(page.locator("#recent tbody tr", has_text="草稿")).to_have_count(0)

    assert not shot.problems
