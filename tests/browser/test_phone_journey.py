"""A new customer's journey on a phone, at 390 and 360 px (zh-CN), against a served
``certhall setup --demo`` instance with a SoftHSM Ukey and the certificate helper
(tests/browser/conftest.py): the portal (home, notices, a notice, 咨询, FAQ, usage guides,
downloads, search in either script), then the refund programme (eligibility after certificate
login, a refused and an accepted application, the offline application's counters, 进度查询 with
a wrong and a right code) and every refusal met on the way (a question sent too fast or too
often, a wrong number or code, too many look-ups). Every page and refusal passes
phone_checks.js; full-page screenshots are saved in the stack's directory (printed) to be
looked at (docs/refunds.md "Checked on a phone")."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ORG_NAME, PIN, USCC, Stack, chromium, refused, sizes
from tests.browser.test_phones import CHECKS, phone_problems

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (390, 360)
PHONE = "13800138000"

#: The public pages a customer opens from an SMS link or the portal's menu.
PORTAL_PAGES = [
    ("home", "/"), ("notices", "/notices/"), ("notice", "/notices/1/"),
    ("questions", "/questions/"), ("question-answer", "/questions/answer/"),
    ("faq", "/faq/"), ("usage", "/usage/"),
    ("downloads", "/downloads/"), ("search-traditional", "/search/?q=證書續期"),
    ("search-simplified", "/search/?q=证书续期"), ("search-nothing", "/search/?q=火星"),
    ("search-empty", "/search/?q="), ("guide", "/guide/"), ("guide-new", "/guide/new/"),
    ("refunds", "/refunds/"), ("refund-programme", "/refunds/demo/"),
    ("refund-progress", "/refunds/progress/"),
]  # fmt: skip

#: The site's name breaks, if it must on a narrow phone, only between its two halves
#: (数字证书服务| 平台 at 360 px before).
BRAND_HALF_LINES = """() => {
  const brand = document.querySelector('.site-header .brand');
  const walker = document.createTreeWalker(brand, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.textContent.indexOf('数字证书服务平台');
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 8);
    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
  }
  return 0;
}"""


#: The 下载 page's helper commands (<pre><code>): their text, lines and whether they scroll.
COMMANDS = """() => [...document.querySelectorAll('#helper-steps pre')].map(pre => {
  const range = document.createRange();
  range.selectNodeContents(pre);
  const rects = [...range.getClientRects()].filter(r => r.width > 0);
  return {text: pre.textContent, lines: new Set(rects.map(r => Math.round(r.top))).size,
          scrolls: ['auto', 'scroll'].includes(getComputedStyle(pre).overflowX)};
})"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


class Phone:
    """A zh-CN browser context ``width`` px wide; :meth:`shot` saves a full-page screenshot
    and collects what phone_checks.js finds wrong with the page."""

    def __init__(self, browser: Browser, stack: Stack, width: int) -> None:
        self.context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": 800})
        self.context.set_default_timeout(20_000)
        self.page = self.context.new_page()
        self.stack, self.width = stack, width
        self.problems: dict[str, Any] = {}

    def go(self, path: str) -> Page:
        self.page.goto(self.stack.url + path)
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(
            path=str(self.stack.shots / f"{self.width}-{name}.png"), full_page=True
        )
        got: dict[str, Any] = self.page.evaluate(CHECKS)
        wrong = phone_problems(got, self.width)
        if self.page.evaluate(BRAND_HALF_LINES) != 1:
            wrong["brand"] = "数字证书服务平台 broken over lines"
        if wrong:
            self.problems[name] = wrong

    def close(self) -> None:
        self.context.close()
        assert not self.problems, json.dumps(self.problems, ensure_ascii=False, indent=1)


@pytest.mark.allow_page_error(refused("/questions/", 400), why="a question asked too soon")
@pytest.mark.allow_page_error(
    refused("/questions/answer/", 404), why="an answer asked for with a wrong code"
)
@pytest.mark.parametrize("width", sizes(*WIDTHS))
def test_the_portal_on_a_phone(browser: Browser, stack: Stack, width: int) -> None:
    print(f"screenshots: {stack.shots}")
    phone = Phone(browser, stack, width)
    for name, path in PORTAL_PAGES:
        phone.go(path)
        phone.shot(name)
    # the helper's install commands: each its own block, on one line scrolling inside itself
    # (they were running text, a command broken over three lines at 360 px)
    blocks = phone.go("/downloads/").evaluate(COMMANDS)
    if len(blocks) != 3 or not all(b["lines"] == 1 and b["scrolls"] for b in blocks):
        phone.problems["downloads-commands"] = blocks
    # the refund notice named another site's address: the programme is applied for here, the
    # one the notice announces (the demo links them), whose page links back to the notice
    page = phone.go("/notices/1/")
    page.click("text=去办理费用返还")
    page.wait_for_url(f"{stack.url}/refunds/sz-2021/")
    expect(page.locator("#programme-notice")).to_have_attribute("href", "/notices/1/")
    # an empty search said nothing (an empty card): now what to type and where else to look
    page = phone.go("/search/?q=")
    expect(page.locator("#search-hint")).to_contain_text("繁体、简体均可")
    page = phone.go("/search/?q=證書續期")
    expect(page.locator("#search-results li").first).to_contain_text("证书")
    # 咨询: sent within 3 seconds of the form is refused, what was typed is kept
    page = phone.go("/questions/")
    page.fill("#text", "证书助手在手机上可以用吗？")
    page.fill("#name", "张先生")
    page.click("#ask-form button[type=submit]")
    expect(page.locator("#ask-error")).to_contain_text("提交太快")
    expect(page.locator("#text")).to_have_value("证书助手在手机上可以用吗？")
    expect(page.locator("#name")).to_have_value("张先生")
    phone.shot("ask-too-fast")
    page.wait_for_timeout(3500)
    page.click("#ask-form button[type=submit]")
    expect(page.locator("#asked")).to_contain_text("您的问题已提交，编号 ZX")
    expect(page.locator("#asked-code")).to_contain_text("请保存")
    code = page.locator("#code-shown").inner_text()
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{8}", code), code
    phone.shot("asked")
    # 查看答复 from the link shown once (the code in it), then a wrong code typed in
    page.click("#answer-link")
    expect(page.locator("#question-state")).to_have_text("待答复")
    expect(page.locator("#my-question-text")).to_have_text("证书助手在手机上可以用吗？")
    phone.shot("question-answer-open")
    page.fill("#code", "23456789")
    page.click("#answer-form button[type=submit]")
    expect(page.locator("#answer-error")).to_contain_text("编号或查询码不正确")
    expect(page.locator("#my-question")).to_have_count(0)
    phone.shot("question-answer-refused")
    phone.close()


def _certificate_login(phone: Phone) -> None:
    page, stack = phone.page, phone.stack
    page.goto(f"{stack.url}/refunds/demo/")
    page.click("#login-link")
    page.wait_for_url("**/login/certificate/**")
    phone.shot("certificate-login")
    with page.expect_popup() as popup_info:
        page.click("#login-button")
    popup = popup_info.value
    popup.wait_for_url(f"{stack.agent_url}/pin/**")
    popup.fill("#pin", PIN)
    popup.click("#submit")
    page.wait_for_url(f"{stack.url}/refunds/demo/")


def _refused_application(phone: Phone) -> None:
    """A wrong account name: the refusal beside the form, where the page opens (it was at
    the top, three screens above the form), and what was typed kept."""
    page = phone.page
    # the records' amounts say their unit on a phone (the table's 金额（元） is hidden there)
    label = page.evaluate(
        "getComputedStyle(document.querySelector('#records td[data-label^=\"金额\"]'), "
        "'::before').content"
    )
    assert "元" in label, label
    page.fill("#account_name", "张三")
    page.fill("#account_number", "6222 0202 0000 1234 567")
    page.fill("#bank_name", "中国工商银行深圳分行")
    page.fill("#phone", PHONE)
    page.check("#confirm")
    page.click("#submit")
    error = page.locator("#apply-form #form-error")
    expect(error).to_contain_text("必须与企业名称")
    expect(error).to_be_in_viewport()
    expect(page.locator("#form-error")).to_have_count(1)
    expect(page.locator("#account_number")).to_have_value("6222 0202 0000 1234 567")
    phone.shot("apply-refused")


def _progress_refusals(phone: Phone) -> None:
    page = phone.go("/refunds/progress/")
    page.fill("#number", "FH20220110-000009")
    page.fill("#uscc", USCC)
    page.click("#send-code")
    expect(page.locator("#form-error")).to_contain_text("不匹配")
    expect(page.locator("#number")).to_have_value("FH20220110-000009")
    phone.shot("progress-wrong-number")
    page.fill("#uscc", "123")
    page.click("#send-code")
    expect(page.locator("#form-error")).to_contain_text("18位")
    phone.shot("progress-bad-uscc")


@pytest.mark.allow_page_error(refused("/apply#apply-form", 400), why="the refused application")
@pytest.mark.allow_page_error(
    refused("/refunds/progress/", 404), why="进度查询 for an application that does not match"
)
@pytest.mark.allow_page_error(refused("/refunds/progress/", 400), why="进度查询 with a bad USCC")
@pytest.mark.parametrize("width", sizes(*WIDTHS))
def test_the_refund_programme_on_a_phone(browser: Browser, stack: Stack, width: int) -> None:
    """Eligibility after certificate login, a refused application (nothing applied: the
    application itself goes in in the next test), the offline counters, 进度查询's refusals."""
    phone = Phone(browser, stack, width)
    _certificate_login(phone)
    expect(phone.page.locator("#amount")).to_contain_text("¥650.00")
    expect(phone.page.locator("#offline")).to_contain_text("营业执照原件及复印件")
    phone.shot("eligibility")
    _refused_application(phone)
    _progress_refusals(phone)
    phone.close()


@pytest.mark.allow_page_error(
    refused("/refunds/progress/", 400), why="进度查询's refusals, as in the test before"
)
@pytest.mark.allow_page_error(
    refused("/refunds/progress/", 404), why="进度查询's refusals, as in the test before"
)
@pytest.mark.allow_page_error(
    refused("/refunds/progress/", 429), why="进度查询 asked too often on purpose (操作过于频繁)"
)
def test_apply_then_progress_by_code_on_a_phone(browser: Browser, stack: Stack) -> None:
    phone = Phone(browser, stack, 360)
    _certificate_login(phone)
    page = phone.page
    page.fill("#account_name", ORG_NAME)
    page.fill("#account_number", "6222020200001234567")
    page.fill("#bank_name", "中国工商银行深圳分行")
    page.fill("#phone", PHONE)
    page.check("#confirm")
    page.click("#submit")
    page.wait_for_url(f"{stack.url}/refunds/applications/**")
    number = page.locator("#number").inner_text()
    expect(page.locator("#next-step")).to_contain_text("以短信通知申请时登记的手机")
    phone.shot("applied")
    phone.go("/refunds/demo/")
    expect(page.locator("#application-number")).to_have_text(number)
    phone.shot("applied-again")
    phone.close()

    phone = Phone(browser, stack, 360)  # another phone, no certificate: the SMS code
    page = phone.go("/refunds/progress/")
    page.fill("#number", number)
    page.fill("#uscc", USCC)
    page.click("#send-code")
    expect(page.locator("#sent")).to_contain_text("验证码已发送至 138****8000")
    phone.shot("progress-sent")
    page.fill("#code", "000000")
    page.press("#code", "Enter")
    # the refusal beside the form it refuses, as on the hall's pages (it was above the page's
    # way back and heading, 12-06)
    expect(page.locator("#progress-form #form-error")).to_contain_text("验证码不正确")
    phone.shot("progress-wrong-code")
    sms = json.loads(stack.cli("outbox", "--json", "--kind", "refund_code", "--limit", "1"))
    code = re.findall(r"\d{6}", str(sms[0]["text"]))[0]
    # the phone keyboard's 前往 (Enter) opens the application: it sent another code before
    page.fill("#code", code)
    page.press("#code", "Enter")
    page.wait_for_url(f"{stack.url}/refunds/applications/{number}/")
    expect(page.locator("#state")).to_have_text("已提交，待审核")
    phone.shot("progress-open")
    # too many look-ups from one phone: refused with the wait, what was typed kept
    page = phone.go("/refunds/progress/")
    page.fill("#number", "FH20220110-000009")
    page.fill("#uscc", USCC)
    for _ in range(10):
        page.click("#send-code")
    expect(page.locator("#progress-form #form-error")).to_contain_text("操作过于频繁")
    expect(page.locator("#number")).to_have_value("FH20220110-000009")
    expect(page.locator("#code")).to_have_count(0)  # no code went out: no field for one
    phone.shot("progress-rate-limited")
    phone.close()
