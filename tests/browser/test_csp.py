"""The Content-Security-Policy holds on every page (docs/security.md, "Content-Security-Policy"):
the main pages of every role, the error pages and the API docs, loaded in Debian's headless
Chromium from pytest-django's live server, with the policy enforced; any
``securitypolicyviolation`` event, or a console message about the policy, fails the test.
The same crawl runs axe-core on each page (customers' at 390 px, staff's at the desk's
1366 px): a serious or critical WCAG 2 A/AA violation fails it too (docs/portal.md,
"Accessibility check").

The pages and their world are the phone test's (``test_phones.py``), plus the portal, refunds,
error and API pages. The certificate helper's calls (connect-src) are exercised for real by
``test_certificate_login.py``; here the renewal and login pages only load.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import time_machine
from playwright.sync_api import Browser, ConsoleMessage, Page

from certhall.accounts.models import Role, User
from certhall.accounts.services import home_provider
from tests.browser.axe import axe_source, axe_violations
from tests.browser.conftest import refused
from tests.browser.test_phones import (  # noqa: F401 - fixtures
    DESKTOP_VIEWPORT,
    FRIDAY,
    PHONE_VIEWPORT,
    customer_pages,
    make_softhsm_store,
    session,
    staff_pages,
    stock,
    ukey_store,
    world,
)
from tests.refunds.conftest import announced

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

#: Installed before any page script runs: every violation the page reports, kept for the test.
WATCH = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push({directive: e.effectiveDirective, blocked: e.blockedURI,
                     source: e.sourceFile, line: e.lineNumber, sample: e.sample});
});
"""


def more_pages(world: dict[str, Any]) -> list[tuple[str, str, User | None, int]]:  # noqa: F811
    announced()  # the refund console shows a programme (gone when an earlier test flushed)
    provider = home_provider()
    officer = User.objects.create(username="csp-refunds", role=Role.REFUND_OFFICER)
    admin = User.objects.create(username="csp-admin", role=Role.CA_ADMIN, provider=provider)
    applicant, clerk = world["applicant"], world["staff"][Role.CLERK]
    return [
        ("guide", "/guide/", None, 200),
        ("notices", "/notices/", None, 200),
        ("faq", "/faq/", None, 200),
        ("usage", "/usage/", None, 200),
        ("questions", "/questions/", None, 200),
        ("downloads", "/downloads/", None, 200),
        ("search", "/search/?q=证书", None, 200),
        ("login-sms", "/accounts/login/?tab=sms", None, 200),
        ("refunds", "/refunds/", None, 200),
        ("refund-progress", "/refunds/progress/", None, 200),
        ("refund-apply", f"/refunds/{world['refunds']}/", applicant, 200),
        ("refund-console", "/refunds/console/", officer, 200),
        ("refund-console-list", "/refunds/console/applications/", officer, 200),
        ("refund-programmes", "/refunds/console/programmes/", officer, 200),
        ("refund-programme", "/refunds/console/programmes/sz-2021/", officer, 200),
        ("refund-counter", "/refunds/counter/", clerk, 200),
        ("calendar", "/console/calendar/", admin, 200),
        ("portal-console", "/console/portal/", admin, 200),
        ("portal-notice-new", "/console/portal/notices/new/", admin, 200),
        ("api-docs", "/api/docs", admin, 200),
        ("not-found", "/no-such-page/", None, 404),
        ("forbidden", "/console/", applicant, 403),
        ("bad-request", "/status/?serial=%00", None, 400),
    ]


#: Pages the crawl does not run axe-core on, and why.
NOT_AXED = {
    # Swagger UI's own page (django-ninja's template and script): its nested controls, its
    # colours and its <html> without lang are the tool's, for developers, not a customer's or
    # a clerk's page (docs/portal.md, "Accessibility check")
    "api-docs",
}


def _console_watcher(page: Page, seen: list[str]) -> None:
    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            seen.append(message.text)

    page.on("console", on_console)


@pytest.mark.allow_page_error(
    refused("/no-such-page/", 404),
    why="the policy of the not-found page is checked: it is visited on purpose",
)
@pytest.mark.allow_page_error(
    refused("/console/", 403),
    why="the policy of the forbidden page is checked: an applicant visits the console on purpose",
)
@pytest.mark.allow_page_error(
    refused("/status/?serial=%00", 400),
    why="the policy of the bad-request page is checked: it is visited on purpose",
)
@pytest.mark.allow_page_error(
    refused("127.0.0.1:17443/v1/certificates"),
    why="no helper runs here: the certificate login page's call of it, at its default port, is "
    "refused (the page says 未检测到证书助手)",
)
def test_no_page_violates_the_policy_nor_axe(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    print(f"screenshots in {tmp_path}")
    axe = axe_source(tmp_path)
    pages = [(n, p, u, 200) for n, p, u in customer_pages(world)]
    pages += [(n, p, u, 200) for n, p, u in staff_pages(world)]
    pages += more_pages(world)
    violations: dict[str, Any] = {}
    inaccessible: dict[str, list[str]] = {}
    console: list[str] = []
    with time_machine.travel(FRIDAY):
        tabs: dict[User | None, Page] = {}
        for name, path, user, status in pages:
            if user not in tabs:
                staff = user is not None and user.role != Role.APPLICANT
                viewport = DESKTOP_VIEWPORT if staff else PHONE_VIEWPORT
                tabs[user] = session(browser, live_server.url, viewport, user)
                tabs[user].add_init_script(WATCH)
                _console_watcher(tabs[user], console)
            page = tabs[user]
            response = page.goto(live_server.url + path)
            assert response is not None and response.status == status, (name, response)
            policy = response.headers.get("content-security-policy", "")
            assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy, name
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
            found = page.evaluate("window.__csp")
            if found:
                violations[name] = found
            if name not in NOT_AXED and (bad := axe_violations(page, axe)):
                inaccessible[name] = bad
    assert not violations, json.dumps(violations, ensure_ascii=False, indent=1)
    assert not console, console
    assert not inaccessible, json.dumps(inaccessible, ensure_ascii=False, indent=1)


def test_cancel_asks_first_without_inline_script(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
) -> None:
    """The cancel button's question was an inline ``onsubmit``; now ``data-confirm`` and
    ``web/confirm.js``: dismissed, nothing is cancelled; accepted, the application is."""
    draft = world["draft"]
    page = session(browser, live_server.url, {"width": 1100, "height": 800}, world["applicant"])
    page.add_init_script(WATCH)
    questions: list[str] = []
    answer = {"accept": False}

    def on_dialog(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.accept() if answer["accept"] else dialog.dismiss()

    page.on("dialog", on_dialog)
    with time_machine.travel(FRIDAY):
        page.goto(f"{live_server.url}/hall/applications/{draft.number}/")
        page.click("#cancel-button")
        assert questions == [f"确定取消申请 {draft.number}？"]
        draft.refresh_from_db()
        assert draft.state == "draft"
        answer["accept"] = True
        with page.expect_navigation():
            page.click("#cancel-button")
        draft.refresh_from_db()
        assert draft.state == "cancelled"
        assert page.evaluate("window.__csp") == []
