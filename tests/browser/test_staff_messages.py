"""The staff consoles tell what happened in one way (web/staff.html's messages block, one look in
web/console.css): a confirmation and a refusal in each console (the hall's review, the refund
officers', the portal editors', the auditors'), at 1366 px and at 390 px. Every confirmation and
refusal on the page is a ``.flash`` (the refunds console showed ``.notice``, the portal editors
``.alert``, the audit log ``.notice`` with id verify-result), a refusal beside its form has
``id="form-error"`` once, and no page shows its message twice. Full-page screenshots are saved
under tmp_path (the directory is printed) to be looked at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser, Page

from certhall.accounts.models import Role
from certhall.refunds.models import RefundApplication
from certhall.refunds.states import State
from tests.browser.conftest import refused, sizes
from tests.browser.test_phones import (  # noqa: F401  (the fixtures of the staff pages)
    FRIDAY,
    make_softhsm_store,
    session,
    stock,
    ukey_store,
    world,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

#: What a confirmation or a refusal on a staff page is: a line of role status or alert (not a
#: card of things to do, a <section role=alert>), or the refusal beside a form.
TOLD = """() => [...document.querySelectorAll(
  '.console p[role=status], .console p[role=alert], .console div[role=status],'
  + ' .console div[role=alert], .console #form-error, .console .notice, .console .alert')]
  .map(e => ({cls: e.className, id: e.id, role: e.getAttribute('role'), text: e.innerText}))"""


def told(page: Page, shots: Path, name: str, kind: str) -> list[str]:
    """What is wrong with how ``page`` tells what happened (a ``kind``: flash-error for a
    refusal, flash-success for a confirmation)."""
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    lines: list[dict[str, Any]] = page.evaluate(TOLD)
    wrong = [f"{name}: not the one look: {line}" for line in lines if "flash" not in line["cls"]]
    texts = [line["text"] for line in lines]
    if not any(kind in line["cls"].split() for line in lines):
        wrong.append(f"{name}: no {kind}: {lines}")
    if len(texts) != len(set(texts)):
        wrong.append(f"{name}: told twice: {texts}")
    if page.locator("#form-error").count() > 1:
        wrong.append(f"{name}: id=form-error more than once")
    return wrong


def refuse(page: Page, form: str) -> None:
    """Sends ``form`` as it is (past the browser's own checks of required fields)."""
    with page.expect_navigation():
        page.eval_on_selector(form, "f => f.submit()")


# Every refusal below is provoked on purpose, to see how the console tells it (400).
@pytest.mark.allow_page_error(refused("/return", 400), why="a return without its reason")
@pytest.mark.allow_page_error(refused("&until=2026-12-01", 400), why="an audit period backwards")
@pytest.mark.allow_page_error(refused("/notices/new/", 400), why="a notice without its title")
@pytest.mark.allow_page_error(refused("/ask-more", 400), why="asking for more without a reason")
@pytest.mark.parametrize("width", sizes(1366, 390))
def test_every_console_tells_what_happened_in_one_way(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    width: int,
) -> None:
    shots = tmp_path / str(width)
    shots.mkdir()
    print(f"screenshots in {shots}")
    staff, url = world["staff"], live_server.url
    viewport = {"width": width, "height": 900}
    officer = staff[Role.REFUND_OFFICER]
    # the enterprise's own (the world's others are in payout batches)
    refund = RefundApplication.objects.get(programme__slug=world["refunds"], state=State.SUBMITTED)
    wrong: list[str] = []
    with time_machine.travel(FRIDAY):
        hall = session(browser, url, viewport, staff[Role.REVIEWER])
        hall.goto(f"{url}/console/applications/{world['paid'].number}/")
        refuse(hall, "#return-form")
        wrong += told(hall, shots, "hall-refused", "flash-error")
        hall.click("#approve")
        hall.wait_for_load_state()
        wrong += told(hall, shots, "hall-done", "flash-success")

        refunds = session(browser, url, viewport, officer)
        refunds.goto(f"{url}/refunds/console/applications/{refund.number}/")
        refuse(refunds, "form:has(#more-reason)")
        wrong += told(refunds, shots, "refunds-refused", "flash-error")
        refunds.click("#approve")
        refunds.wait_for_load_state()
        wrong += told(refunds, shots, "refunds-done", "flash-success")

        portal = session(browser, url, viewport, staff[Role.CA_ADMIN])
        portal.goto(f"{url}/console/portal/notices/new/")
        refuse(portal, "form:has(#save)")  # no title
        wrong += told(portal, shots, "portal-refused", "flash-error")
        portal.fill("#title", "关于春节期间受理安排的公告")
        portal.fill("#published_on", "2026-11-20")
        portal.click("#save")
        portal.wait_for_load_state()
        wrong += told(portal, shots, "portal-done", "flash-success")

        audit = session(browser, url, viewport, staff[Role.AUDITOR])
        audit.goto(f"{url}/console/audit/?since=2026-12-09&until=2026-12-01")
        wrong += told(audit, shots, "audit-refused", "flash-error")
        audit.goto(f"{url}/console/audit/")
        audit.click("#verify-form button")
        audit.wait_for_url("**/console/audit/")
        wrong += told(audit, shots, "audit-done", "flash-success")
        if audit.locator("#verify-result.flash").count() != 1:
            wrong.append("audit-done: the chain's verification is not one .flash#verify-result")
    assert not wrong, wrong
