"""The refund programme's online flow in headless Chromium at phone width (390 px): the demo
enterprise opens the demo programme (window includes today), logs in with its SoftHSM Ukey
through the certificate helper (PIN in the helper's own window), sees the explained amount,
applies; two refund officers review it in their console (650 yuan is above the demo's 500
threshold: a first and a second approval); one batches it (at 1366 px), cancels that batch while
the other has the page open (at 768 px: its 复核放行 refused, once), batches again; the other
releases it, the file is downloaded and the bank's return uploaded; the enterprise then reads
已拨付. Screenshots in the stack's directory."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.conftest import (
    ORG_NAME,
    PIN,
    Stack,
    chromium,
    refused,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PHONE_VIEW = {"width": 390, "height": 844}
OFFICER_PASSWORD = "Refund-officer-2026"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(locale="zh-CN", viewport=viewport)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    return context


def _officers(stack: Stack) -> None:
    code = (
        "from certhall.accounts.models import User\n"
        "for name in ('demo-refund-officer', 'demo-refund-officer-2'):\n"
        "    u = User.objects.get(username=name)\n"
        f"    u.set_password({OFFICER_PASSWORD!r})\n"
        "    u.save()\n"
    )
    stack.cli("manage", "shell", "-c", code)


def _log_in(page: Page, stack: Stack, username: str) -> None:
    page.goto(f"{stack.url}/accounts/login/?next=/refunds/console/?programme=demo")
    page.fill("#username", username)
    page.fill("#password", OFFICER_PASSWORD)
    page.click("#password-form button[type=submit]")
    page.wait_for_url("**/refunds/console/**")


def _fits(page: Page, width: int) -> None:
    """A staff page at ``width``: the page itself does not scroll sideways (a wide table
    scrolls inside its own .table-scroll box)."""
    got = page.evaluate("document.documentElement.scrollWidth")
    assert got <= width, f"the page is {got}px wide at {width}px"


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEW["width"], f"the page is {width}px wide at 390px"


@pytest.mark.allow_page_error(
    refused("/apply#apply-form", 400), why="an account name not the enterprise's, refused"
)
def test_online_refund_from_login_to_payout(browser: Browser, stack: Stack) -> None:
    shots = stack.shots
    print(f"screenshots: {shots}")
    enterprise = _context(browser, PHONE_VIEW)
    page = enterprise.new_page()

    page.goto(f"{stack.url}/refunds/")
    expect(page.locator('[data-programme="demo"]')).to_contain_text("申请中")
    _no_sideways_scroll(page)
    page.screenshot(path=shots / "refund-1-programmes.png", full_page=True)
    page.click('[data-programme="demo"] a.btn')
    page.click("#login-link")
    page.wait_for_url("**/login/certificate/**")
    expect(page.locator("#cert-list input[type=radio]")).to_have_count(1)
    with page.expect_popup() as popup_info:
        page.click("#login-button")
    popup = popup_info.value
    popup.wait_for_url(f"{stack.agent_url}/pin/**")
    popup.fill("#pin", PIN)
    popup.click("#submit")
    page.wait_for_url(f"{stack.url}/refunds/demo/")

    # the explained amount: four records counted, three excluded with their reasons
    expect(page.locator("#amount")).to_contain_text("¥650.00")
    expect(page.locator('#records tr[data-reason=""]')).to_have_count(4)
    expect(page.locator('#records tr[data-reason="outside_window"]')).to_contain_text(
        "缴费日期不在业务期间内"
    )
    expect(page.locator('#records tr[data-reason="never_used"]')).to_have_count(1)
    expect(page.locator('#records tr[data-reason="business_not_covered"]')).to_have_count(1)
    _no_sideways_scroll(page)
    page.screenshot(path=shots / "refund-2-explained-amount.png", full_page=True)

    # a wrong account name is refused beside the form, then the application goes in; the
    # account number typed as a Chinese input method types it (full-width digits and blanks)
    # is the same number, paid to in ASCII (docs/security.md, "Numbers people type")
    page.fill("#account_name", "张三")
    page.fill("#account_number", "６２２２　０２０２　００００　１２３４　５６７")
    page.fill("#bank_name", "中国工商银行深圳分行")
    page.fill("#phone", "13800138000")
    page.check("#confirm")
    page.click("#submit")
    expect(page.locator("#form-error")).to_contain_text("必须与企业名称")
    _no_sideways_scroll(page)
    page.screenshot(path=shots / "refund-2b-name-refused-wide-digits.png", full_page=True)
    page.fill("#account_name", ORG_NAME)
    page.check("#confirm")
    page.click("#submit")
    page.wait_for_url(f"{stack.url}/refunds/applications/**")
    expect(page.locator("#state")).to_have_text("已提交，待审核")
    number = page.locator("#number").inner_text()
    _no_sideways_scroll(page)
    page.screenshot(path=shots / "refund-3-submitted.png", full_page=True)

    # a second attempt points to the first
    page.goto(f"{stack.url}/refunds/demo/")
    expect(page.locator("#application-number")).to_have_text(number)

    # two officers: the first approval, then the second (never the same one)
    _officers(stack)
    desk = _context(browser, {"width": 1200, "height": 900})
    officer = desk.new_page()
    _log_in(officer, stack, "demo-refund-officer")
    expect(officer.locator(f'#queue tr[data-number="{number}"]')).to_have_count(1)
    officer.screenshot(path=shots / "refund-4-dashboard.png", full_page=True)
    officer.click(f'#queue a:text("{number}")')
    officer.click("#approve")
    expect(officer.locator("#state")).to_have_text("初审通过，待复核")
    expect(officer.locator("#second-needed")).to_contain_text("另一名返还审核员复核")
    expect(officer.locator("#approve")).to_have_count(0)
    desk.close()

    desk = _context(browser, {"width": 1200, "height": 900})
    second = desk.new_page()
    _log_in(second, stack, "demo-refund-officer-2")
    second.goto(f"{stack.url}/refunds/console/applications/{number}/")
    second.click("#approve")
    expect(second.locator("#state")).to_have_text("审核通过，待拨付")

    # the payout batch: made by the second officer, who does not release it; the first, with
    # the page open at 768 px, meets it cancelled meanwhile (the refusal, once, as a notice)
    batches = f"{stack.url}/refunds/console/batches/?programme=demo"
    second.set_viewport_size({"width": 1366, "height": 900})
    second.goto(batches)
    second.click("#create-batch")
    made = second.locator("#batches tbody tr").first
    expect(made).to_contain_text("待复核")
    expect(made).to_contain_text("待另一名审核员复核放行")
    expect(made.locator("button.release")).to_have_count(0)
    expect(made.locator("a")).to_have_count(0)  # no transfer file before release
    _fits(second, 1366)
    second.screenshot(path=shots / "refund-5a-batch-made-1366.png", full_page=True)
    tablet = _context(browser, {"width": 768, "height": 1024})
    checker = tablet.new_page()
    _log_in(checker, stack, "demo-refund-officer")
    checker.goto(batches)
    expect(checker.locator("#batches tbody tr").first.locator("button.release")).to_have_count(1)
    made.locator("button.cancel").click()
    expect(second.locator(".flash-success")).to_contain_text("已撤销")
    checker.locator("#batches tbody tr").first.locator("button.release").click()
    refused = checker.locator(".flash-error")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("当前为“已撤销”，不能变为“已放行”")
    cancelled = checker.locator("#batches tbody tr").first
    expect(cancelled).to_contain_text("撤销：demo-refund-officer-2")
    _fits(checker, 768)
    checker.screenshot(path=shots / "refund-5b-release-refused-768.png", full_page=True)

    # batched again; the first officer releases it, then downloads the file
    second.click("#create-batch")
    checker.goto(batches)
    checker.locator("#batches tbody tr").first.locator("button.release").click()
    expect(checker.locator(".flash-success")).to_contain_text("已复核放行")
    row = checker.locator("#batches tbody tr").first
    expect(row).to_contain_text("650.00")
    expect(row).to_contain_text("放行：demo-refund-officer")
    _fits(checker, 768)
    checker.screenshot(path=shots / "refund-5c-released-768.png", full_page=True)
    tablet.close()
    second.goto(batches)
    row = second.locator("#batches tbody tr").first
    expect(row).to_contain_text("已放行")
    with second.expect_download() as download_info:
        row.locator("a").click()
    content = download_info.value.path().read_text(encoding="utf-8")
    lines = list(csv.reader(io.StringIO(content)))
    assert lines[0][:3] == ["batch", "line", "application"]
    assert lines[1][2] == number and lines[-2][0] == "TOTAL" and lines[-1][0] == "SHA256"
    assert lines[1][4] == "6222020200001234567"  # account_number, ASCII for the bank
    back = io.StringIO()
    writer = csv.writer(back)
    writer.writerow(["batch", "line", "application", "amount_yuan", "result", "bank_reference"])
    writer.writerow([lines[1][0], lines[1][1], number, lines[1][6], "paid", "BANK0001"])
    second.set_input_files(
        "#bank_return",
        files=[{"name": "return.csv", "mimeType": "text/csv", "buffer": back.getvalue().encode()}],
    )
    second.click("#settle")
    expect(second.locator("#settle-report")).to_contain_text("拨付成功 1 笔")
    _fits(second, 1366)
    second.screenshot(path=shots / "refund-5d-settled-1366.png", full_page=True)
    desk.close()

    # the enterprise reads the outcome
    page.goto(f"{stack.url}/refunds/applications/{number}/")
    expect(page.locator("#state")).to_have_text("已拨付")
    expect(page.locator("#history")).to_contain_text("已拨付")
    _no_sideways_scroll(page)
    page.screenshot(path=shots / "refund-6-paid.png", full_page=True)
    enterprise.close()
