"""The counter's offline refund entry proves the phone (12-07), in Debian's headless Chromium at
the counter's desk width (1366 px) and on a 390 px phone: the clerk fills the form, presses
发送验证码 (the form's second button, no JavaScript), the form comes back as typed with the
notice beside the phone; a wrong code is refused in Chinese and nothing is stored; the code the
phone got enters the application. Screenshots and test_phones.py's checks under tmp_path; the
form shown again with the wrong code's refusal passes the accessibility check (axe.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from certhall.notify.models import SmsMessage
from certhall.refunds.models import RefundApplication
from tests.browser.axe import assert_refused, axe_source, axe_violations
from tests.browser.conftest import refused
from tests.browser.refund_counter import fill_offline_entry
from tests.browser.test_phones import measure, phone_problems, session, wide_problem
from tests.browser.test_refund_first_day import browser, world  # noqa: F401 - the fixtures
from tests.refunds.conftest import (
    ACCOUNT,
    GONE_USCC,
    IN_WINDOW,
    other_code,
    sent_code,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

TYPED_PHONE = "139 0013 9000"
PHONE = "13900139000"


@pytest.mark.allow_page_error(
    refused("/refunds/counter/", 400), why="the wrong code is refused beside the form (400)"
)
@pytest.mark.parametrize("width", [1366, 390])
def test_the_clerk_proves_the_phone_before_entering(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,  # noqa: F811
    tmp_path: Path,
    width: int,
) -> None:
    url = live_server.url
    problems: dict[str, Any] = {}
    print(f"screenshots in {tmp_path}")

    def shot(name: str) -> None:
        got = measure(clerk, tmp_path, f"{width}-{name}")
        wrong = wide_problem(got, width) if width > 600 else phone_problems(got, width)
        if wrong:
            problems[name] = wrong

    with time_machine.travel(IN_WINDOW):
        clerk = session(browser, url, {"width": width, "height": 900}, world["clerk"])
        clerk.goto(f"{url}/refunds/counter/")
        fill_offline_entry(clerk, account=ACCOUNT, bank="中国工商银行深圳分行", phone=TYPED_PHONE)
        shot("1-filled")
        # Enter in a field presses the form's first button, 提交: the browser asks for the
        # code (a required field), no code is sent
        clerk.press("#bank_name", "Enter")
        assert clerk.locator("#code").evaluate("field => !field.validity.valid")
        assert not SmsMessage.objects.filter(kind="refund_counter_code").exists()
        clerk.click("#send-code")
        expect(clerk.locator("#code-notice")).to_contain_text("验证码已发送至 139****9000")
        expect(clerk.locator("#send-code")).to_have_text("重新发送验证码")
        # the form as it was typed, every tick too
        expect(clerk.locator("#person_name")).to_have_value("李四")
        expect(clerk.locator("#phone")).to_have_value(TYPED_PHONE)
        expect(clerk.locator("#special_case")).to_have_value("deregistered")
        boxes = clerk.locator("#offline-form td input[type=checkbox]")
        assert boxes.count() == 11
        assert all(box.is_checked() for box in boxes.all())
        shot("2-code-sent")
        code = sent_code(PHONE, "refund_counter_code")
        clerk.fill("#code", other_code(code))
        clerk.click("#enter")
        # beside the code it is about: at 390 px the page's top is a long form away
        expect(clerk.locator("#phone-proof #form-error")).to_have_text(
            "登记手机号的验证码不正确，请核对或重新获取。"
        )
        assert clerk.locator("#form-error").count() == 1
        # the code's field is marked, described by the refusal and focused (web.refused)
        assert_refused(clerk, "#code", words="登记手机号的验证码不正确，请核对或重新获取。")
        assert not RefundApplication.objects.filter(uscc=GONE_USCC).exists()
        shot("3-wrong-code")
        assert axe_violations(clerk, axe_source(tmp_path)) == []
        clerk.fill("#code", code)
        clerk.click("#enter")
        clerk.wait_for_url("**/refunds/counter/applications/**")
        expect(clerk.locator("main")).to_contain_text("已提交，待审核")
        shot("4-entered")
    assert RefundApplication.objects.get(uscc=GONE_USCC).phone == PHONE
    assert not problems, problems
