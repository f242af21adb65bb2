"""Refusals a customer meets in the online hall on a 360 px phone (zh-CN), against the world of
tests/browser/test_phones.py on Friday 2026-11-20 10:00 (Shanghai): each refusal beside its
form, where the page opens, with what was typed kept, and the page passing phone_checks.js.
Full-page screenshots are saved under tmp_path (printed) to be looked at."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser, expect

from tests.browser.test_phones import (  # noqa: F401 (the fixtures)
    CHECKS,
    FRIDAY,
    NARROW_VIEWPORT,
    browser,
    db_from_the_test,
    phone_problems,
    session,
    world,
)
from tests.conftest_softhsm import make_softhsm_store  # noqa: F401
from tests.hall.conftest import stock, ukey_store  # noqa: F401

pytestmark = [pytest.mark.browser]


def test_refusals_on_a_360_px_phone(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,  # noqa: F811
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
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
