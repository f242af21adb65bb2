"""Refusals a customer meets in the online hall on a 360 px phone (zh-CN), against the world of
tests/browser/test_phones.py on Friday 2026-11-20 10:00 (Shanghai): each refusal beside its
form, where the page opens, with what was typed kept, and the page passing phone_checks.js.
Full-page screenshots are saved under tmp_path (printed) to be looked at."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from certhall.accounts.models import Role
from certhall.hall import review
from tests.browser.conftest import refused
from tests.browser.test_phones import (  # noqa: F401 (the fixtures)
    CHECKS,
    DESKTOP_VIEWPORT,
    FRIDAY,
    NARROW_VIEWPORT,
    PHONE_VIEWPORT,
    phone_problems,
    session,
    wide_problem,
    world,
)
from tests.conftest_softhsm import make_softhsm_store  # noqa: F401
from tests.hall.conftest import stock, ukey_store  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]


# Every refusal below is provoked on purpose, to see it on a phone: each page answers it so.
@pytest.mark.allow_page_error(
    refused("/invoice#invoice-form", 400), why="an invoice to a mistyped e-mail address"
)
@pytest.mark.allow_page_error(
    refused(f"/status/?serial={quote('不是序列号')}", 400), why="a serial that is not one"
)
@pytest.mark.allow_page_error(refused("&years=9", 400), why="a renewal for years not offered")
@pytest.mark.allow_page_error(refused("/accounts/register/", 400), why="a mistyped SMS code")
@pytest.mark.allow_page_error(refused("/accounts/login/", 403), why="a wrong password")
def test_refusals_on_a_360_px_phone(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    url, width = live_server.url, NARROW_VIEWPORT["width"]
    print(f"screenshots in {tmp_path}")
    problems: dict[str, Any] = {}
    page = session(browser, url, NARROW_VIEWPORT, world["applicant"])

    def shot(name: str) -> None:
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        page.screenshot(path=str(tmp_path / f"{name}-top.png"))  # as the phone shows it
        wrong = phone_problems(page.evaluate(CHECKS), width)
        if wrong:
            problems[name] = wrong

    with time_machine.travel(FRIDAY):
        # 申请开具发票 with a mistyped email: the refusal was above the order's card, two
        # screens above the form, and the page opened at its top
        page.goto(f"{url}/payments/orders/{world['no_invoice'].payment_reference}")
        page.fill("#invoice-email", "finance@@example.cn")
        page.evaluate("document.querySelector('#invoice-form').noValidate = true")
        page.click("#invoice-submit")
        error = page.locator("#invoice-form #form-error")
        expect(error).to_be_visible()
        expect(error).to_be_in_viewport()
        expect(page.locator("#form-error")).to_have_count(1)
        expect(error).to_have_css("color", "rgb(180, 35, 24)")  # a refusal, not plain text
        expect(page.locator("#invoice-email")).to_have_value("finance@@example.cn")
        shot("invoice-refused")
        # 证书查询 of a serial that is not one
        page.goto(f"{url}/status/")
        page.fill("#serial", "不是序列号")
        page.click("#status-form button[type=submit]")
        expect(page.locator("#status-error")).to_be_visible()
        expect(page.locator("#serial")).to_have_value("不是序列号")
        shot("status-refused")
        # 退回补正: the reason beside the document, 补正 on the documents page, 重新提交审核
        paid = world["paid"]
        document = paid.documents.filter(superseded=False).order_by("pk").first()
        review.return_application(
            world["staff"][Role.REVIEWER],
            paid.number,
            reasons={document.pk: "公章不清晰，请重新扫描上传"},
        )
        page.goto(f"{url}/hall/applications/{paid.number}/")
        expect(page.get_by_text("公章不清晰，请重新扫描上传").first).to_be_visible()
        # the path's current step is the customer's (已付款，待审核 until 12-06), in the
        # 退回补正 notice's colour, one line on a phone as on a desktop
        current = page.locator("ol.path li.current")
        expect(current).to_have_text("已退回，待补正")
        expect(current).to_have_css("color", "rgb(147, 55, 13)")
        shot("returned")
        for viewport in (PHONE_VIEWPORT, DESKTOP_VIEWPORT):
            other = session(browser, url, viewport, world["applicant"])
            other.goto(f"{url}/hall/applications/{paid.number}/")
            expect(other.locator("ol.path li.current")).to_have_text("已退回，待补正")
            other.screenshot(path=str(tmp_path / f"returned-{viewport['width']}.png"))
            got = other.evaluate(CHECKS)
            wrong = (
                phone_problems(got, viewport["width"])
                if viewport is PHONE_VIEWPORT
                else wide_problem(got, viewport["width"]) or got["path"]
            )
            if wrong:
                problems[f"returned-{viewport['width']}"] = wrong
            other.context.close()
        page.goto(f"{url}/hall/applications/{paid.number}/documents/")
        expect(page.locator("#resubmit-button")).to_be_visible()
        shot("returned-documents")
        # a mangled link's term (years=9): which terms there are, nothing chosen for the
        # customer (the fee rule's words and 1年 in the list until 12-06)
        serial = world["personal"].serial
        page.goto(f"{url}/hall/renew/?serial={serial}&years=9")
        expect(page.locator("#form-error")).to_have_text(
            "没有9年期的续期：机构个人证书(法人证书)可续期1-5年，请选择续期年限。"
        )
        expect(page.locator("#years")).to_have_value("")
        expect(page.locator("#lookup-result")).to_have_count(0)
        shot("renew-years-refused")
        # the serial as the helper shows it, 47 characters with colons: it scrolled inside
        # its field at 360 px; the certificate found, it is shown whole
        colons = ":".join(serial[i : i + 2] for i in range(0, len(serial), 2))
        page.goto(f"{url}/hall/renew/?serial={colons}&years=2")
        expect(page.locator("#serial-shown")).to_have_text(serial)
        expect(page.locator("#renew-allowed")).to_be_visible()
        shot("renew-long-serial")
        # a new enterprise registering with a mistyped code, and a wrong password
        page = session(browser, url, NARROW_VIEWPORT, None)
        page.goto(f"{url}/accounts/register/")
        page.fill("#organization_name", "深圳市新开医疗科技有限公司")
        page.fill("#uscc", "91440300MA5ABCDEF1")
        page.fill("#legal_representative", "赵六")
        page.fill("#phone", "13900139000")
        page.click("#register-form button[value=send_code]")
        expect(page.locator("#form-notice")).to_contain_text("验证码已发送")
        shot("register-code-sent")
        page.fill("#code", "000000")
        page.fill("#password", "Zhao-liu-2026")
        page.fill("#password_again", "Zhao-liu-2026")
        page.click("#register-form button[value=register]")
        expect(page.locator("#form-error")).to_be_in_viewport()
        expect(page.locator("#organization_name")).to_have_value("深圳市新开医疗科技有限公司")
        shot("register-refused")
        page.goto(f"{url}/accounts/login/")
        page.fill("#username", world["applicant"].username)
        page.fill("#password", "wrong-password-1")
        page.click("#password-form button[type=submit]")
        expect(page.locator("#form-error")).to_be_in_viewport()
        expect(page.locator("#username")).to_have_value(world["applicant"].username)
        shot("login-refused")
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
