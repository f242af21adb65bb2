"""证书续期 on a phone (390 px), in Debian's headless Chromium against pytest-django's live
server on Friday 2026-11-20 (test_phones.py's world: a 机构个人证书 ending 2027-01-10, within
the 90 days of the online renewal).

The lookup's card quotes one term and 提交续期申请 sends that term; 续期年限 stays above it. A
term chosen there after the quote is quoted again at once (hall/renew-years.js): the button
sent the quoted 1 year while the field said 3年 · 450.00 元."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from certhall.accounts.models import Role
from certhall.ca.services import revoke
from certhall.hall import renewal
from certhall.messages import text
from certhall.rules import SHANGHAI
from tests.browser.conftest import chromium, refused
from tests.browser.test_phones import (  # noqa: F401
    DESKTOP_VIEWPORT,
    FRIDAY,
    PHONE_VIEWPORT,
    measure,
    phone_problems,
    session,
    wide_problem,
    world,
)
from tests.conftest_softhsm import make_softhsm_store  # noqa: F401
from tests.hall.conftest import pay_online, stock, ukey_store  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def test_a_term_chosen_after_the_quote_is_the_term_submitted(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    serial = world["personal"].serial
    with time_machine.travel(FRIDAY):
        page = session(browser, live_server.url, PHONE_VIEWPORT, world["applicant"])
        page.goto(f"{live_server.url}/hall/renew/?serial={serial}&years=1")
        expect(page.locator("#renew-fee")).to_have_text("150.00 元")
        # 3 years chosen where the field stays, above the quote: quoted again, and sent
        page.select_option("#years", "3")
        page.wait_for_url(f"**/hall/renew/?serial={serial}&years=3")
        expect(page.locator("#renew-fee")).to_have_text("450.00 元")
        expect(page.locator("#renew-form input[name=years]")).to_have_value("3")
        expect(page.locator("#years")).to_have_value("3")
        assert phone_problems(measure(page, tmp_path, "renew-3-years"), 390) == {}


#: What the page and 我的证书 say of a renewal closed because its certificate ended on
#: 2027-01-10, or because the CA revoked it on Monday 2026-11-23 (12-06, h1): (when the round
#: runs, the advice, 我的证书's tag and its words beside it).
CLOSED_BY = {
    "ended": (
        datetime(2027, 1, 11, 10, 0, tzinfo=SHANGHAI),
        "到受理点现场办理续期",
        "已过期",
        "须携带办理资料和Ukey到受理点现场办理续期",
    ),
    "revoked": (
        datetime(2026, 11, 23, 10, 1, tzinfo=SHANGHAI),
        "如仍需证书，请按新办流程申请",
        "已吊销",
        None,
    ),
}


#: The chip of an online renewal the round will close (it said 待在线更新 or 待付款).
CLOSING_CHIP = text("next_renewal_ended.state")
#: The progress path of a paid one the round will close: no step after the one that closes it.
PAID_CLOSING_PATH = ["填写申请", "待付款", "已付款", "将自动关闭并退款"]


@pytest.mark.allow_page_error(
    refused("/payments/sandbox/", 409),
    why="the cashier is opened on purpose for an order it must refuse: 409 (不能付款)",
)
@pytest.mark.parametrize("cause", sorted(CLOSED_BY))
def test_an_unpaid_online_renewal_out_of_reach_offers_no_payment(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    cause: str,
) -> None:
    """Started on the Friday, not paid, the certificate ended on 2027-01-10 (or revoked on the
    Monday), the round not yet run: the page offered 支付宝支付 and the cashier took the money
    the round then refunded (12-07). Now the page, its row and the order's page say why it can
    no longer be paid and what to do, with no way to pay, and the cashier refuses; at 390 px
    and at 1366 px."""
    applicant, personal = world["applicant"], world["personal"]
    moment = CLOSED_BY[cause][0]
    advice = {"ended": "到受理点现场办理续期", "revoked": "到受理点按新办流程申请"}[cause]
    with time_machine.travel(FRIDAY):
        application = renewal.start(applicant, personal.serial, 1)
    number, reference = application.number, application.payment_reference
    if cause == "revoked":
        with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI), tick=False):
            revoke(world["staff"][Role.CA_ADMIN], personal.serial, "keyCompromise")
    cashier = f"/payments/sandbox/{reference}?gateway=alipay"
    pages = ((f"unpaid-{cause}", f"/hall/applications/{number}/"),
             (f"unpaid-{cause}-list", "/hall/applications/"),
             (f"unpaid-{cause}-order", f"/payments/orders/{reference}"),
             (f"unpaid-{cause}-cashier", cashier))  # fmt: skip
    with time_machine.travel(moment, tick=False):
        page = session(browser, live_server.url, PHONE_VIEWPORT, applicant)
        page.goto(f"{live_server.url}/hall/applications/{number}/")
        notice = page.locator("#renewal-ended")
        expect(notice).to_contain_text("本申请不能再付款，将自动取消")
        expect(notice).to_contain_text(advice)
        expect(page.locator("#pay-options")).to_have_count(0)
        expect(page.locator("#application-state")).to_have_text(CLOSING_CHIP)
        expect(page.locator("#next-action")).to_contain_text("无需付款")
        expect(page.locator("main")).not_to_contain_text("去支付")
        # the path ends where it will: it marked 待付款 current, the steps after to come (12-07)
        expect(page.locator("ol.path li")).to_have_text(["填写申请", "将自动取消"])
        expect(page.locator("ol.path li.current.closing")).to_have_text("将自动取消")
        assert phone_problems(measure(page, tmp_path, pages[0][0]), 390) == {}
        page.goto(live_server.url + pages[1][1])
        listed = page.locator("tr", has_text=number)
        expect(listed.locator(".state")).to_have_text(CLOSING_CHIP)
        expect(listed).not_to_contain_text("去支付")
        assert phone_problems(measure(page, tmp_path, pages[1][0]), 390) == {}
        page.goto(live_server.url + pages[2][1])
        expect(page.locator("#pay-refused")).to_contain_text(advice)
        expect(page.locator("#pay-options")).to_have_count(0)
        assert phone_problems(measure(page, tmp_path, pages[2][0]), 390) == {}
        answer = page.goto(live_server.url + pages[3][1])
        assert answer is not None and answer.status == 409
        expect(page.locator("main")).to_contain_text("本申请不能再付款")
        assert phone_problems(measure(page, tmp_path, pages[3][0]), 390) == {}
        desk = session(browser, live_server.url, DESKTOP_VIEWPORT, applicant)
        for name, path in pages:
            desk.goto(live_server.url + path)
            assert wide_problem(measure(desk, tmp_path, f"{name}-1366"), 1366) is None, name
    print("screenshots:", tmp_path)


@pytest.mark.parametrize("cause", sorted(CLOSED_BY))
def test_an_online_renewal_refunded_when_its_certificate_ended_says_so_on_a_phone(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    cause: str,
) -> None:
    """Paid for on the Friday, the helper never run, the certificate ended on 2027-01-10 (or
    was revoked by the CA on the Monday): before the jobs' round neither the page nor its row in
    我的申请 offers 在线更新证书 (they said 已付款，请用证书助手在线更新证书 above the notice
    saying it was over) and both say the application will close; after it the progress page
    says it was refunded and what to do (the counter renews an ended certificate; a revoked one
    is applied for anew), and 我的证书 calls the certificate 已过期 (or 已吊销), not 有效; at
    390 px and at 1366 px."""
    applicant, personal = world["applicant"], world["personal"]
    moment, advice, tag, beside = CLOSED_BY[cause]
    with time_machine.travel(FRIDAY):
        number = renewal.start(applicant, personal.serial, 1).number
        pay_online(number, applicant)
    if cause == "revoked":
        with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI), tick=False):
            revoke(world["staff"][Role.CA_ADMIN], personal.serial, "keyCompromise")
    with time_machine.travel(moment, tick=False):
        page = session(browser, live_server.url, PHONE_VIEWPORT, applicant)
        page.goto(f"{live_server.url}/hall/applications/{number}/")
        expect(page.locator("#renewal-ended")).to_contain_text("本申请将自动关闭")
        expect(page.locator("#renew-panel")).to_have_count(0)
        # the progress line agrees with the notice, here and in 我的申请's row
        expect(page.locator("main")).to_contain_text("已不能在线更新，本申请将自动关闭并退款")
        expect(page.locator("main")).not_to_contain_text("请用证书助手在线更新证书")
        # and so does the state's chip, and the row's (they said 待在线更新 until 12-07)
        expect(page.locator("#application-state")).to_have_text(CLOSING_CHIP)
        # and the path: it marked 待在线更新 current, 新证书已签发 and 已办结 to come (12-07)
        expect(page.locator("ol.path li")).to_have_text(PAID_CLOSING_PATH)
        expect(page.locator("ol.path li.current.closing")).to_have_text("将自动关闭并退款")
        assert phone_problems(measure(page, tmp_path, f"renewal-{cause}-waiting"), 390) == {}
        page.goto(f"{live_server.url}/hall/applications/")
        listed = page.locator("tr", has_text=number)
        expect(listed).to_contain_text("本申请将自动关闭并退款")
        expect(listed).not_to_contain_text("请用证书助手")
        expect(listed.locator(".state")).to_have_text(CLOSING_CHIP)
        assert phone_problems(measure(page, tmp_path, f"applications-{cause}-waiting"), 390) == {}
        desk = session(browser, live_server.url, DESKTOP_VIEWPORT, applicant)
        waiting = ((f"renewal-{cause}-waiting-1366", f"/hall/applications/{number}/"),
                   (f"applications-{cause}-waiting-1366", "/hall/applications/"))  # fmt: skip
        for name, path in waiting:
            desk.goto(live_server.url + path)
            assert wide_problem(measure(desk, tmp_path, name), 1366) is None, name
        assert number in renewal.close_ended()
        page.goto(f"{live_server.url}/hall/applications/{number}/")
        expect(page.locator("#renewal-ended")).to_contain_text("已付的 150.00 元已退款")
        expect(page.locator("#renewal-ended")).to_contain_text(advice)
        expect(page.locator("#renew-panel")).to_have_count(0)
        assert phone_problems(measure(page, tmp_path, f"renewal-{cause}-refunded"), 390) == {}
        page.screenshot(path=str(tmp_path / f"renewal-{cause}-refunded-top.png"))
        page.goto(f"{live_server.url}/my/")
        row = page.locator(f'tbody[data-serial="{personal.serial}"]')
        expect(row.locator(".tag")).to_have_text(tag)
        expect(row.locator(".renew-link")).to_have_count(0)
        if beside:
            expect(row).to_contain_text(beside)
        assert phone_problems(measure(page, tmp_path, f"my-{cause}"), 390) == {}
        for name, path in ((f"renewal-{cause}-1366", f"/hall/applications/{number}/"),
                           (f"my-{cause}-1366", "/my/")):  # fmt: skip
            desk.goto(live_server.url + path)
            assert wide_problem(measure(desk, tmp_path, name), 1366) is None, name
    print("screenshots:", tmp_path)


@pytest.mark.allow_page_error(
    refused("/v1/certificates", 503), why="the helper's refusal is the test's own route (503)"
)
def test_the_helpers_refusal_on_the_renewal_links_to_contact_us(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    """在线更新证书's lines are written by its script from the helper's and the site's JSON
    answers: the catalogue's 联系客服（见“联系我们”） is a link to 联系我们 there too, as on the
    certificate login (``certhallNotice``, one function for both pages; until 12-07 each page
    had its own copy writing plain text)."""
    applicant, personal = world["applicant"], world["personal"]
    failed = text("token_failed")
    assert "联系客服（见“联系我们”）" in failed
    with time_machine.travel(FRIDAY):
        number = renewal.start(applicant, personal.serial, 1).number
        pay_online(number, applicant)
        page = session(browser, live_server.url, PHONE_VIEWPORT, applicant)
        page.route(
            "**/v1/certificates",
            lambda route: route.fulfill(
                status=503,
                json={"error": {"code": "token_failed", "message": failed}},
                headers={"Access-Control-Allow-Origin": "*"},
            ),
        )
        page.goto(f"{live_server.url}/hall/applications/{number}/")
        status = page.locator("#agent-status")
        expect(status).to_have_text(failed.replace("（见“联系我们”）", ""))
        expect(status.locator("a.contact-us")).to_have_attribute("href", "/contact/")
        assert phone_problems(measure(page, tmp_path, "renewal-helper-refused"), 390) == {}
