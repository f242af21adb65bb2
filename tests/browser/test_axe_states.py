"""The accessibility check (docs/portal.md, "Accessibility check") on pages in the states the
CSP crawl does not load them in: forms shown again with their refusal, and the phone's open
菜单, at 390 px (the consoles' forms at 1366 px) against the world of
tests/browser/test_phones.py on Friday 2026-11-20.
Screenshots are saved under tmp_path (printed) to be looked at."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from playwright.sync_api import Browser, Locator, Page, expect

from certhall.accounts.models import Handler, Role
from certhall.hall import counter
from certhall.messages import text
from certhall.pki.identity import uscc_check_character
from tests.browser.axe import Looks, assert_refused
from tests.browser.conftest import refused
from tests.browser.test_phones import (  # noqa: F401 (the fixtures)
    DESKTOP_VIEWPORT,
    FRIDAY,
    PHONE_VIEWPORT,
    session,
    world,
)
from tests.conftest_softhsm import make_softhsm_store  # noqa: F401
from tests.hall.conftest import stock, ukey_store  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

#: a well-formed USCC nobody registered (its check character computed)
USCC = "91440300MA5ABCDE" + "F" + uscc_check_character("91440300MA5ABCDEF")


def _send(page: Page, form: str, button: str) -> None:
    """Submits ``form`` past the browser's own checks, so the server's refusal is shown."""
    page.evaluate(f"document.querySelector('{form}').noValidate = true")
    page.click(f"{form} {button}")
    expect(page.locator("#form-error, #status-error").first).to_be_visible()


# Every refusal below is provoked on purpose, to axe the page that shows it.
@pytest.mark.allow_page_error(refused("/accounts/login/", 403), why="a wrong password")
@pytest.mark.allow_page_error(refused("/accounts/register/", 400), why="a mistyped SMS code")
@pytest.mark.allow_page_error(
    refused(f"/status/?serial={quote('不是序列号')}", 400), why="a serial that is not one"
)
@pytest.mark.allow_page_error(
    refused("/refunds/progress/", 404), why="an application number unknown"
)
@pytest.mark.allow_page_error(refused("/hall/new/", 400), why="an ID number that is not one")
def test_refusals_and_the_open_menu_pass_axe(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    url = live_server.url
    print(f"screenshots in {tmp_path}")
    check = Looks(tmp_path)

    with time_machine.travel(FRIDAY):
        visitor = session(browser, url, PHONE_VIEWPORT, None)
        visitor.goto(f"{url}/accounts/login/")
        visitor.fill("#username", world["applicant"].username)
        visitor.fill("#password", "wrong-password-1")
        _send(visitor, "#password-form", "button[type=submit]")
        # one wording for a wrong account or password: both fields are told of it
        assert_refused(visitor, "#username", "#password", words=text("login_failed"))
        check(visitor, "login-refused")
        visitor.goto(f"{url}/accounts/register/")
        visitor.fill("#organization_name", "深圳市新开医疗科技有限公司")
        visitor.fill("#uscc", USCC)
        visitor.fill("#legal_representative", "赵六")
        visitor.fill("#phone", "13900139000")
        visitor.fill("#code", "000000")
        visitor.fill("#password", "Zhao-liu-2026")
        visitor.fill("#password_again", "Zhao-liu-2026")
        _send(visitor, "#register-form", "button[value=register]")
        assert_refused(visitor, "#code")  # no code was sent to that phone
        check(visitor, "register-refused")
        visitor.goto(f"{url}/status/")
        visitor.fill("#serial", "不是序列号")
        _send(visitor, "#status-form", "button[type=submit]")
        assert_refused(visitor, "#serial", words=text("bad_serial"))
        check(visitor, "status-refused")
        visitor.goto(f"{url}/refunds/progress/")
        visitor.fill("#number", "FH20990101-000001")
        visitor.fill("#uscc", USCC)
        _send(visitor, "#progress-form", "#send-code")
        # one wording for a number unknown and a USCC not its own: both fields
        assert_refused(visitor, "#number", "#uscc", words=text("refund_progress_not_found"))
        check(visitor, "refund-progress-refused")
        customer = session(browser, url, PHONE_VIEWPORT, world["applicant"])
        customer.goto(f"{url}/hall/new/")
        customer.fill("#person_name", "王五")
        customer.fill("#person_id_number", "123")
        _send(customer, "#new-form", "#next-button")
        assert_refused(customer, "#person_id_number")
        check(customer, "new-refused")
        customer.goto(f"{url}/hall/")
        menu = customer.locator("#nav-button")
        # a button that says whether the links are shown (web/menu.js), the checkbox gone
        assert customer.locator("#nav-toggle, label.nav-button").count() == 0
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(customer.locator("#site-nav")).to_be_hidden()
        check(customer, "menu-closed")
        menu.click()
        expect(menu).to_have_attribute("aria-expanded", "true")
        expect(customer.locator("#site-nav a").first).to_be_visible()
        check(customer, "menu-open")
        customer.keyboard.press("Escape")
        expect(menu).to_have_attribute("aria-expanded", "false")
        expect(customer.locator("#site-nav")).to_be_hidden()
        assert customer.evaluate("document.activeElement.id") == "nav-button"
        # without script the checkbox and its label fold the links as before
        plain = browser.new_context(
            locale="zh-CN", viewport=PHONE_VIEWPORT, java_script_enabled=False
        )
        page = plain.new_page()
        page.goto(f"{url}/notices/")
        expect(page.locator("#nav-button")).to_be_hidden()
        expect(page.locator("#site-nav")).to_be_hidden()
        page.click("label.nav-button")
        expect(page.locator("#site-nav a").first).to_be_visible()
        # (axe needs script: a screenshot only, looked at)
        page.screenshot(path=str(tmp_path / "menu-open-without-script.png"))
        plain.close()
    check.assert_clean()


#: site.css's --error (#b42318), as the browser computes a colour
ERROR_RED = "rgb(180, 35, 24)"


def _border(element: Locator) -> str:
    return str(element.evaluate("e => getComputedStyle(e).borderTopColor"))


# The remaining forms' refusals (12-07, late): the rules' refusal of a business line, a
# document's upload, the Ukey stock count and a row of finance's page, each provoked on purpose.
@pytest.mark.allow_page_error(refused("/hall/new/", 422), why="an ODC asked for online")
@pytest.mark.allow_page_error(refused("/hall/applications/", 400), why="an upload without a file")
@pytest.mark.allow_page_error(refused("/console/applications/", 422), why="a 6-year term")
@pytest.mark.allow_page_error(refused("/console/ukeys/", 400), why="99 Ukeys at once")
@pytest.mark.allow_page_error(refused("/console/counter/", 400), why="no point chosen")
@pytest.mark.allow_page_error(refused("/payments/invoices/", 400), why="a number that is not one")
def test_the_remaining_forms_mark_their_refused_fields(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    url = live_server.url
    print(f"screenshots in {tmp_path}")
    check = Looks(tmp_path)

    staff = world["staff"]
    with time_machine.travel(FRIDAY):
        handler = Handler.objects.get(organization=world["applicant"].organization)
        onsite = counter.open_application(
            staff[Role.CLERK],
            point="kejiyuan",
            customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )
        customer = session(browser, url, PHONE_VIEWPORT, world["applicant"])
        customer.goto(f"{url}/hall/new/")
        customer.check("#cert-org")
        _send(customer, "#new-form", "#next-button")
        # an ODC is not issued online: the type chosen is marked (rules.Refusal.inputs)
        assert_refused(customer, "#cert-org", "#cert-personal")
        check(customer, "new-odc-refused")
        customer.goto(f"{url}/hall/applications/{world['draft'].number}/documents/")
        row = 'tr[data-kind="licence_copy"]'
        _send(customer, f"{row} form", "button[type=submit]")
        # the refusal in that row, its file marked (each row holds a file field)
        expect(customer.locator(f"{row} #form-error")).to_be_visible()
        assert_refused(customer, f"{row} input[type=file]")
        # the control is invisible over its button: the button shows the mark, in the refusal's
        # red (--error), where another row's stays the brand's blue
        refused_button = customer.locator(f"{row} .file-pick-button")
        other_button = customer.locator('tr:not([data-kind="licence_copy"]) .file-pick-button')
        assert _border(refused_button) == ERROR_RED != _border(other_button.first)
        check(customer, "documents-refused")
        refused_button.screenshot(path=str(tmp_path / "documents-refused-button-390.png"))
        customer.set_viewport_size(DESKTOP_VIEWPORT)
        assert _border(refused_button) == ERROR_RED
        check(customer, "documents-refused-1366")
        customer.locator(row).screenshot(path=str(tmp_path / "documents-refused-row-1366.png"))
        desk = session(browser, url, DESKTOP_VIEWPORT, staff[Role.CLERK])
        desk.goto(f"{url}/console/applications/{onsite.number}/")
        desk.select_option("#item-business", "new")
        desk.select_option("#item-cert-type", "personal")
        desk.fill("#item-years", "6")
        desk.fill("#add-item input[name=person_name]", "王五")
        _send(desk, "#add-item", "button[type=submit]")
        assert_refused(desk, "#item-years")  # the rules' term refusal
        check(desk, "add-item-refused")
        # 选择受理点 pressed with none chosen: the points' radio buttons marked (act_on_page)
        desk.goto(f"{url}/console/counter/")
        _send(desk, "#points form", "#choose-point")
        expect(desk.locator("#points #form-error")).to_contain_text(text("point_required"))
        assert_refused(desk, "#points input[name=point] >> nth=0", "#point-longgang")
        # a radio button draws no border: the refused ones a red ring (site.css)
        ring = "e => getComputedStyle(e).outlineColor + ' ' + getComputedStyle(e).outlineStyle"
        assert desk.locator("#point-longgang").evaluate(ring) == f"{ERROR_RED} solid"
        check(desk, "counter-point-refused")
        desk.set_viewport_size(PHONE_VIEWPORT)
        check(desk, "counter-point-refused-390")
        desk.set_viewport_size(DESKTOP_VIEWPORT)
        desk.goto(f"{url}/payments/invoices/")
        _send(desk, "form.issue-invoice", "button[type=submit]")
        assert_refused(desk, "form.issue-invoice input[name=number]")
        check(desk, "invoice-row-refused")
        issuer = session(browser, url, DESKTOP_VIEWPORT, staff[Role.ISSUER])
        issuer.goto(f"{url}/console/ukeys/")
        issuer.fill("#stock-count", "99")
        _send(issuer, "#add-stock-form", "#add-stock-button")
        assert_refused(issuer, "#stock-count")
        expect(issuer.locator("#stock-count")).to_have_value("99")
        check(issuer, "ukeys-refused")
    check.assert_clean()


# The four forms that sent a field through act_and_return (h6, 12-07, night): a notice's
# 上传附件 with none chosen, in the browser at 1366 and 390 px.
@pytest.mark.allow_page_error(refused("/console/portal/notices/", 400), why="no file chosen")
def test_a_notice_attachment_refused_marks_its_file(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    from datetime import date

    from certhall.portal import notices

    url = live_server.url
    print(f"screenshots in {tmp_path}")
    check = Looks(tmp_path)
    clerk = world["staff"][Role.CLERK]
    with time_machine.travel(FRIDAY):
        notice = notices.create(
            clerk,
            notices.NoticeInput(
                title="关于系统维护的通知",
                summary="",
                body_html="<p>维护期间暂停服务。</p>",
                region="shenzhen",
                category="system",
                published_on=date(2026, 11, 20),
                pinned=False,
            ),
        )
        desk = session(browser, url, DESKTOP_VIEWPORT, clerk)
        desk.goto(f"{url}/console/portal/notices/{notice.pk}/")
        form = 'form[enctype="multipart/form-data"]'
        _send(desk, form, "button[type=submit]")
        expect(desk.locator(f"{form} #form-error")).to_contain_text(text("portal_file_missing"))
        assert_refused(desk, f"{form} input[type=file]")
        check(desk, "notice-attach-refused")
        desk.set_viewport_size(PHONE_VIEWPORT)
        check(desk, "notice-attach-refused-390")
