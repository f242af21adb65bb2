"""A CA administrator imports next year's holiday arrangement in the console, in Debian's
headless Chromium on 2026-12-06 (Shanghai): the home page warns that 2027 is not imported and
links to 节假日安排; the notice's text is pasted, previewed (the days by holiday, the make-up
days, the deadlines it moves), confirmed; the year shows as imported and the warning is gone.
At 1366 px and at 390 px (the consoles' phone checks on each step). Full-page screenshots are
saved under tmp_path (the directory is printed) to be looked at."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser

from certhall.accounts.models import Role, User
from certhall.accounts.services import home_provider
from certhall.hall import calendar
from certhall.rules import SHANGHAI
from tests.browser.conftest import sizes
from tests.browser.test_phones import measure, session
from tests.browser.test_staff_phones import phone_staff_problems

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

TODAY = datetime(2026, 12, 6, 10, 0, tzinfo=SHANGHAI)
NOTICE = (Path(__file__).parents[1] / "rules" / "notices" / "2027-example.txt").read_text("utf-8")


@pytest.mark.parametrize("width", sizes(1366, 390))
def test_a_ca_administrator_pastes_previews_and_imports_the_notice(
    audit_flushable: None, live_server: Any, browser: Browser, tmp_path: Path, width: int
) -> None:
    shots = tmp_path / str(width)
    shots.mkdir()
    print(f"screenshots in {shots}")
    admin = User.objects.create(username="ca-admin", role=Role.CA_ADMIN, provider=home_provider())
    url = live_server.url
    measured: list[tuple[str, dict[str, Any]]] = []
    with time_machine.travel(TODAY, tick=False):
        page = session(browser, url, {"width": width, "height": 900}, admin)
        page.goto(url + "/console/")
        warning = page.locator("#calendar-warning")
        assert "2027年节假日安排尚未导入" in warning.inner_text()
        measured.append(("home-warned", measure(page, shots, "1-home-warned")))
        with page.expect_navigation():
            warning.locator("#calendar-import").click()
        assert page.url == url + "/console/calendar/"
        assert page.locator("#notice-year").input_value() == "2027"
        page.fill("#notice-text", NOTICE)
        measured.append(("pasted", measure(page, shots, "2-pasted")))
        with page.expect_navigation():
            page.click("#preview-button")
        rows = page.locator("#preview-blocks tbody tr")
        assert rows.count() == 7
        assert rows.nth(1).locator("td").all_inner_texts()[:3] == [
            "春节",
            "2027-02-05 星期五 至 2027-02-12 星期五",
            "8",
        ]
        assert "0 件办理中申请的时限将改变" in page.locator("#preview-moves").inner_text()
        assert not calendar.load().imported  # a preview writes nothing
        measured.append(("preview", measure(page, shots, "3-preview")))
        with page.expect_navigation():
            page.click("#confirm-button")
        assert page.locator(".flash-success").inner_text() == (
            "2027年节假日安排已导入，重新计算了 0 件申请的办理时限。"
        )
        assert "已导入" in page.locator('#calendar-years tr[data-year="2027"]').inner_text()
        measured.append(("imported", measure(page, shots, "4-imported")))
        page.goto(url + "/console/")
        assert page.locator("#calendar-warning").count() == 0
        measured.append(("home", measure(page, shots, "5-home")))
        page.context.close()
    assert 2027 in calendar.load().imported
    if width == 390:
        problems = {
            name: wrong for name, got in measured if (wrong := phone_staff_problems(got, admin))
        }
        assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
