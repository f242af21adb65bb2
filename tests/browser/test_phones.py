"""Phones first (issue 9, item 4): every customer page in Debian's headless Chromium at 390x844
(an iPhone 12-14 viewport), as the user who sees it, against pytest-django's live server on
Friday 2026-11-20 10:00 (Shanghai).

On every page: no horizontal scrolling (``scrollWidth <= 390``), the header does not overlap the
page, no visible text smaller than 12 px, and every button, form field and menu link is at least
44 px tall (links inside running text are exempt, as in WCAG 2.5.8), no button's short label
is broken over lines (查/询 beside a field that squeezed it), and no date in a field's value or
a table's cell is either (2027年1月5 | 日, 2026-12- | 09), nor a short part of a · line (新办 ·
网上营业 | 厅), a short bracket, or a reference number (申请 SQ20261120-|000016), and no card's
value is past its card's edge (test_phone_checks.py holds them to a page of each fault). The
customer pages are checked at 1366 px too, the staff consoles (counter, review, issuance, Ukeys,
finance, refund officers, portal editors, CA admin, the auditors' 审计日志) at 1366, 1024 and
768 px: no horizontal scrolling, and at 1024 px and wider no date, code, login name or short
label of a table's cell broken over lines (SQ20261206-|000006, demo-|applicant, 网上营业|厅,
待审|核); and every staff page has the consoles' one bar (web/staff.html: who is logged in,
the role's pages, 退出), its fields beside a button as tall as the button.
A full-page screenshot of each page is saved under tmp_path (the directory is printed) to be
looked at.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from certhall.accounts.models import Handler, Organization, Provider, Role, User
from certhall.accounts.services import home_provider
from certhall.audit.models import AuditEvent
from certhall.hall import identity, renewal, services
from certhall.hall.models import Application
from certhall.payments import invoices
from certhall.refunds.models import FeeRecord, Programme, UsageRecord
from certhall.rules import SHANGHAI
from certhall.ukeys.models import Ukey
from tests.browser.conftest import PAGES_AGAIN, refused, sizes
from tests.conftest_softhsm import make_softhsm_store  # noqa: F401
from tests.hall.conftest import (
    CA_CREATED_AT,
    HANDLER_ID,
    PHONE,
    at,
    online_draft,
    pay_online,
    software_certificate,
    stock,  # noqa: F401
    ukey_store,  # noqa: F401
)
from tests.refunds.conftest import IN_WINDOW, announced, certificate_holder

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
#: An enterprise's name as long as real ones are (a branch of a company with a long trade),
#: its short brackets kept whole where it breaks (…有限公司（第一分|公司） in a card at 360 px).
LONG_NAME = "深圳市某某（集团）医疗器械科技发展有限公司（第一分公司）"
PHONE_VIEWPORT = {"width": 390, "height": 844}
#: The cheap Android phones customers open the SMS links on.
NARROW_VIEWPORT = {"width": 360, "height": 780}
DESKTOP_VIEWPORT = {"width": 1366, "height": 900}

#: Pages below a section's first page and the link back above their heading: the orders'
#: pages were the hall's only pages without one (the way back only through the menu).
WAY_BACK = {
    "hall-list": "/hall/",
    "progress-paid": "/hall/",
    "renew": "/hall/",
    "orders": "/hall/",
    "order-to-pay": "/payments/orders/",
    "order-paid": "/payments/orders/",
    "refund-programme": "/refunds/",
    "refund-progress": "/refunds/",
}

#: What every page must pass, measured in the page (a function expression).
CHECKS = (Path(__file__).parent / "phone_checks.js").read_text(encoding="utf-8")


@pytest.fixture
def world(
    admin: User,
    organization: Organization,
    audit_flushable: None,
    stock: Callable[[str], Ukey],  # noqa: F811
) -> Iterator[dict[str, Any]]:
    """An enterprise of a long name with a handler, a certificate near its end, applications in
    the states a customer meets (a draft of the wizard, one to pay, one paid with an invoice
    asked for, an online renewal to do), Ukeys in stock, and the staff of the CA."""
    from certhall.ca import ocsp, signers
    from certhall.ca.services import init_ca

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    signers.forget()
    ocsp.reset()
    with at(CA_CREATED_AT):
        init_ca(admin)
    organization.legal_representative = "王五"
    organization.name = LONG_NAME
    organization.save()
    applicant = User.objects.create(
        username=f"phone-{uuid.uuid4().hex[:6]}",
        role=Role.APPLICANT,
        organization=organization,
        email="finance@example.cn",
    )
    handler = Handler.objects.create(
        organization=organization,
        name="李四",
        id_kind=Handler.IdKind.RESIDENT_ID,
        id_number=HANDLER_ID,
        phone=PHONE,
    )
    provider = home_provider()
    staff = {
        role: User.objects.create(username=f"{role.value}-phone", role=role, provider=provider)
        for role in (Role.CLERK, Role.REVIEWER, Role.ISSUER, Role.CA_ADMIN, Role.AUDITOR)
    }
    staff[Role.REFUND_OFFICER] = User.objects.create(
        username="refund-officer-phone", role=Role.REFUND_OFFICER
    )
    for n in range(2):
        stock(f"ukey-phone-{n}")
    _, personal = software_certificate(admin, organization, profile="personal")
    _, odc = software_certificate(admin, organization, profile="org")
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        to_pay = online_draft(applicant, handler, years=1)
        services.submit(applicant, to_pay.number)
        paid = online_draft(applicant, handler, years=3)
        services.submit(applicant, paid.number)
        order = pay_online(paid.number, applicant)
        invoices.request_invoice(applicant, order.reference, kind="normal", email="a@example.cn")
        no_invoice = online_draft(applicant, handler, years=1)
        services.submit(applicant, no_invoice.number)
        pay_online(no_invoice.number, applicant)
        renewing = renewal.start(applicant, odc.serial, None)
        checking = online_draft(applicant, handler, identity_check=False)
        check = identity.start(applicant, checking.number)
    refunds = announced()  # the refund programme of the data migration (2021-12-21 to 2022-01-20)
    refund_application(refunds, organization)
    refund_batches(refunds, staff[Role.REFUND_OFFICER])
    yield {
        "applicant": applicant,
        "staff": staff,
        "personal": personal,
        "draft": Application.objects.get(pk=draft.pk),
        "to_pay": Application.objects.get(pk=to_pay.pk),
        "paid": Application.objects.get(pk=paid.pk),
        "renewing": Application.objects.get(pk=renewing.pk),
        "no_invoice": Application.objects.get(pk=no_invoice.pk),
        "checking": checking.number,
        "check_token": check.token,
        "refunds": refunds.slug,
    }
    signers.forget()
    ocsp.reset()


def counted_fee(programme: Programme, serial: str, uscc: str, name: str, amount: str) -> None:
    """A fee paid at szca on 2019-06-01 for ``serial`` and its use on the platform that day:
    a line the refund counts."""
    szca = Provider.objects.get(slug="szca")
    FeeRecord.objects.create(
        programme=programme, provider=szca, serial=serial, uscc=uscc, enterprise_name=name,
        business="new", paid_on=date(2019, 6, 1), amount=Decimal(amount),
    )  # fmt: skip
    UsageRecord.objects.create(
        programme=programme, provider=szca, serial=serial, platform="深圳市电子政务平台",
        used_on=date(2019, 6, 1),
    )  # fmt: skip


def refund_application(programme: Programme, organization: Organization) -> None:
    """An online refund application of the enterprise, made in the programme's window: rows
    on the refund officers' pages."""
    from certhall.refunds import services as refund_services

    counted_fee(programme, "5a1c0001", organization.uscc, LONG_NAME, "300.00")
    holder = certificate_holder("refund-holder-phone", organization)
    account = refund_services.BankAccount(LONG_NAME, "6222020200001234567", "中国工商银行深圳分行")
    with at(IN_WINDOW):
        refund_services.apply_online(holder, programme.slug, account, phone=PHONE)


def refund_batches(programme: Programme, officer: User) -> None:
    """Two payout batches of another enterprise's applications, made by another officer: one
    released (by the page's officer: a download link), one waiting for the page's officer
    (复核放行 and 撤销批次 on the row)."""
    from certhall.refunds import payout, review
    from certhall.refunds import services as refund_services

    maker = User.objects.create(username="refund-maker-phone", role=Role.REFUND_OFFICER)
    for n, uscc in enumerate(("91440300MA5DEM0K1W", "91440300MA5FUND1RF")):
        name = f"深圳市拨付批次演示有限公司{n}"
        counted_fee(programme, f"5b1c000{n}", uscc, name, "300.00")
        holder = certificate_holder(
            f"refund-batch-phone-{n}", Organization.objects.create(name=name, uscc=uscc)
        )
        account = refund_services.BankAccount(name, "6222020200001234567", "中国工商银行深圳分行")
        with at(IN_WINDOW):
            application = refund_services.apply_online(holder, programme.slug, account, phone=PHONE)
            review.approve(maker, application.number)
            batch = payout.create_batch(maker, programme.slug)
            if n == 0:
                payout.release(officer, batch.number)


def session(browser: Browser, url: str, viewport: dict[str, int], user: User | None) -> Page:
    context = browser.new_context(locale="zh-CN", viewport=viewport, device_scale_factor=1)
    context.set_default_timeout(20_000)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": url}])
    return context.new_page()


def visit(page: Page, url: str, shots: Path, name: str) -> dict[str, Any]:
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    return measure(page, shots, name)


def measure(page: Page, shots: Path, name: str) -> dict[str, Any]:
    """The page as it is now: a full-page screenshot ``name``.png and phone_checks.js."""
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    measured: dict[str, Any] = page.evaluate(CHECKS)
    return measured


def visit_all(
    browser: Browser,
    url: str,
    viewport: dict[str, int],
    pages: Sequence[tuple[str, str, User | None]],
    shots: Path,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, measurements) of each page, opened as its user (one browser context a user)."""
    sessions: dict[User | None, Page] = {}
    for name, path, user in pages:
        if user not in sessions:
            sessions[user] = session(browser, url, viewport, user)
        yield name, visit(sessions[user], url + path, shots, name)


def wide_problem(got: dict[str, Any], width: int) -> int | str | list[str] | None:
    """What is wrong with a page at a desktop or tablet ``width``: wider than the screen, the
    header's links out of its bar, the site's name broken over lines, (from 1024 px) a date,
    code or short label of a table's cell, a short part of a · line or a reference number
    broken over lines (435 字|节, · 网上营业|厅 in a console tile), a checkbox not beside its words,
    a form whose fields differ in height, or something sticking out of its card."""
    if got["width"] > width:
        return int(got["width"])
    if got["headerOverflows"] or got["headerBottom"] > got["mainTop"] + 0.5:
        return "header"  # links wrapped out of the header's bar
    if got["brandLines"] != 1:
        return f"the site's name on {got['brandLines']} lines"
    if width >= 1024 and (got["dates"] or got["words"] or got["units"] or got["refs"]):
        return [*got["dates"], *got["words"], *got["units"], *got["refs"]]
    if got["choices"]:
        return [f"{words}: the box is not beside its words" for words in got["choices"]]
    if got["fields"]:
        return [f"fields of unlike heights in {form}" for form in got["fields"]]
    if got["spill"]:
        return [f"out of its card: {what}" for what in got["spill"]]
    return None


def staff_layout_problem(got: dict[str, Any], user: User) -> str | list[str] | None:
    """What a staff page lacks of the consoles' one layout (web/staff.html): the one bar with
    who is logged in, the way to the role's pages and 退出, and fields beside a button as tall
    as the button (within 2 px)."""
    bar = got["staffNav"]
    if bar["count"] != 1 or user.username not in bar["who"] or not bar["logout"]:
        return f"not the consoles' one bar: {bar}"
    if not bar["links"]:
        return "the bar links to none of the role's pages"
    if got["inline"]:
        return [f"a field beside a button of another height: {what}" for what in got["inline"]]
    return None


def customer_pages(world: dict[str, Any]) -> list[tuple[str, str, User | None]]:
    applicant = world["applicant"]
    draft, to_pay = world["draft"].number, world["to_pay"]
    paid, renewing = world["paid"], world["renewing"].number
    serial = world["personal"].serial
    hall = "/hall/applications"
    cashier = f"/payments/sandbox/{to_pay.payment_reference}"
    invoice_form = world["no_invoice"].payment_reference
    return [
        ("home", "/", None),
        ("status", "/status/", None),
        ("status-result", f"/status/?serial={serial}", None),
        ("status-long", f"/status/?serial={with_colons(serial)}", None),  # as the helper shows it
        ("guide", "/guide/", None),
        ("guide-new", "/guide/new/", None),
        ("guide-renew", "/guide/renew/", None),
        ("notices", "/notices/", None),
        ("faq", "/faq/", None),
        ("downloads", "/downloads/", None),
        ("search", "/search/?q=證書續期", None),
        ("questions", "/questions/", None),
        ("contact", "/contact/", None),
        ("refunds", "/refunds/", None),
        ("refund-programme", f"/refunds/{world['refunds']}/", None),
        ("refund-progress", "/refunds/progress/", None),
        ("login", "/accounts/login/", None),
        ("register", "/accounts/register/", None),
        ("certificate-login", "/login/certificate/", None),
        ("profile", "/accounts/profile/", applicant),
        ("handlers", "/accounts/handlers/", applicant),
        ("password", "/accounts/password/", applicant),
        ("my-certificates", "/my/", applicant),
        ("hall", "/hall/", applicant),
        ("hall-list", "/hall/applications/", applicant),
        ("new", "/hall/new/", applicant),
        ("new-details", f"{hall}/{draft}/details/", applicant),
        ("new-handler", f"{hall}/{draft}/handler/", applicant),
        ("new-delivery", f"{hall}/{draft}/delivery/", applicant),
        ("new-documents", f"{hall}/{draft}/documents/", applicant),
        ("new-identity", f"{hall}/{world['checking']}/identity/", applicant),
        ("handler-phone", f"/hall/identity/m/{world['check_token']}/", None),
        ("new-confirm", f"{hall}/{draft}/confirm/", applicant),
        ("progress-draft", f"{hall}/{draft}/", applicant),
        ("progress-to-pay", f"{hall}/{to_pay.number}/", applicant),
        ("progress-paid", f"{hall}/{paid.number}/", applicant),
        ("renew", "/hall/renew/", applicant),
        ("renew-link", f"/hall/renew/?serial={serial}", applicant),  # 我的证书's, the SMS's
        ("renew-lookup", f"/hall/renew/?serial={serial}&years=2", applicant),
        ("renewal-progress", f"{hall}/{renewing}/", applicant),
        ("orders", "/payments/orders/", applicant),
        ("order-to-pay", f"/payments/orders/{to_pay.payment_reference}", applicant),
        ("order-waiting", f"/payments/orders/{to_pay.payment_reference}?paid=alipay", applicant),
        ("order-paid", f"/payments/orders/{paid.payment_reference}", applicant),
        ("order-invoice-form", f"/payments/orders/{invoice_form}", applicant),
        ("cashier-alipay", f"{cashier}?gateway=alipay", applicant),
        ("cashier-wechat", f"{cashier}?gateway=wechat", applicant),
    ]  # fmt: skip


def with_colons(serial: str) -> str:
    """A serial as the certificate helper shows it: 47 characters for 16 bytes (5F:3A:…)."""
    return ":".join(serial[i : i + 2] for i in range(0, len(serial), 2)).upper()


def staff_pages(world: dict[str, Any]) -> list[tuple[str, str, User]]:
    staff, paid = world["staff"], world["paid"].number
    officer, refunds = staff[Role.REFUND_OFFICER], f"?programme={world['refunds']}"
    last_event = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return [
        ("console-clerk", "/console/", staff[Role.CLERK]),
        ("console-counter", "/console/counter/", staff[Role.CLERK]),
        ("console-refund-counter", "/refunds/counter/", staff[Role.CLERK]),
        ("console-application", f"/console/applications/{paid}/", staff[Role.REVIEWER]),
        ("console-review", "/console/review/", staff[Role.REVIEWER]),
        ("console-issuance", "/console/issuance/", staff[Role.ISSUER]),
        ("console-ukeys", "/console/ukeys/", staff[Role.ISSUER]),
        ("console-invoices", "/payments/invoices/", staff[Role.CLERK]),
        ("console-admin", "/console/", staff[Role.CA_ADMIN]),
        ("console-portal", "/console/portal/", staff[Role.CA_ADMIN]),
        ("console-portal-notice", "/console/portal/notices/new/", staff[Role.CA_ADMIN]),
        ("console-portal-entry", "/console/portal/entries/new/", staff[Role.CA_ADMIN]),
        ("refunds-console", f"/refunds/console/{refunds}", officer),
        ("refunds-list", f"/refunds/console/applications/{refunds}", officer),
        ("refunds-batches", f"/refunds/console/batches/{refunds}", officer),
        ("refunds-programmes", "/refunds/console/programmes/", officer),
        ("refunds-programme-new", "/refunds/console/programmes/new", officer),
        ("console-audit", "/console/audit/", staff[Role.AUDITOR]),
        ("console-audit-refused", "/console/audit/?result=refused", staff[Role.AUDITOR]),
        ("console-audit-event", f"/console/audit/{last_event}/", staff[Role.AUDITOR]),
        ("console-audit-admin", "/console/audit/", staff[Role.CA_ADMIN]),
    ]


#: No helper runs for the customer pages: the certificate login's and the renewal's calls of it,
#: at its default port, are refused (the pages say 未检测到证书助手).
NO_HELPER = pytest.mark.allow_page_error(
    refused("127.0.0.1:17443/v1/certificates"), why="no helper runs for these pages"
)


@NO_HELPER
@pytest.mark.parametrize(
    "viewport",
    [
        pytest.param(PHONE_VIEWPORT, id="390"),
        pytest.param(NARROW_VIEWPORT, id="360", marks=PAGES_AGAIN),
    ],
)
def test_every_customer_page_fits_a_phone(
    world: dict[str, Any],
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    viewport: dict[str, int],
) -> None:
    width = viewport["width"]
    shots = tmp_path / str(width)
    shots.mkdir()
    print(f"screenshots in {shots}")
    problems: dict[str, Any] = {}
    with time_machine.travel(FRIDAY):
        measured = visit_all(browser, live_server.url, viewport, customer_pages(world), shots)
        for name, got in measured:
            wrong = phone_problems(got, width)
            if name in WAY_BACK and WAY_BACK[name] not in got["crumbs"]:
                wrong["no way back"] = True
            if wrong:
                problems[name] = wrong
        # the header's menu: folded, then open with every link a 44 px target
        menu = session(browser, live_server.url, viewport, world["applicant"])
        menu.goto(live_server.url + "/hall/")
        assert not menu.locator("#site-nav").is_visible()
        menu.click("#nav-button")
        links = menu.locator("#site-nav a")
        hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
        assert {"/", "/hall/", "/my/", "/accounts/profile/"} <= hrefs
        assert links.first.is_visible()
        assert all(
            links.nth(i).bounding_box()["height"] >= 44  # type: ignore[index]
            for i in range(links.count())
        )
        menu.screenshot(path=str(shots / "menu-open.png"))
        assert menu.evaluate("document.documentElement.scrollWidth") <= width
        # the wizard's bar: eight labels broke mid-word at 390 px ("证书信/息"); the numbers
        # only, on one line, and the current step named below it in one line
        menu.goto(f"{live_server.url}/hall/applications/{world['draft'].number}/delivery/")
        now = menu.locator("#step-now")
        assert now.is_visible() and "第 3 步（共 8 步）：领取方式" in now.inner_text()
        assert now.bounding_box()["height"] < 30  # type: ignore[index]
        heights = menu.evaluate(
            "[...document.querySelectorAll('ol.steps li')].map(li => li.offsetHeight)"
        )
        assert len(heights) == 8 and max(heights) < 40, heights
        menu.screenshot(path=str(shots / "steps.png"))
        # certificate login needs a computer with the Ukey: a phone is told so, with a way on
        menu.goto(f"{live_server.url}/login/certificate/")
        assert menu.locator("#computer-needed").is_visible()
        # 证书查询 with a serial typed as the helper shows it: it scrolled inside its one-line
        # field; wrapped, every character is in sight, and Enter looks it up
        serial = world["personal"].serial
        menu.goto(f"{live_server.url}/status/")
        menu.locator("#serial").press_sequentially(with_colons(serial))
        if wrong := phone_problems(measure(menu, shots, "status-typed"), width):
            problems["status-typed"] = wrong
        menu.press("#serial", "Enter")
        expect(menu.locator("#result-serial")).to_have_text(serial.upper())
        assert menu.locator("#serial").input_value() == with_colons(serial)
        # back from the cashier on the order page: a way on to the application it pays for
        paid = world["paid"]
        menu.goto(f"{live_server.url}/payments/orders/{paid.payment_reference}?paid=alipay")
        menu.click("#application-link")
        menu.wait_for_url(f"**/hall/applications/{paid.number}/")
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


@NO_HELPER
@PAGES_AGAIN
def test_every_customer_page_fits_a_desktop(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """The same pages at 1366 px (an enterprise's office PC): no horizontal scrolling."""
    shots = tmp_path / "1366"
    shots.mkdir()
    print(f"screenshots in {shots}")
    with time_machine.travel(FRIDAY):
        measured = visit_all(
            browser, live_server.url, DESKTOP_VIEWPORT, customer_pages(world), shots
        )
        wide = {name: problem for name, got in measured if (problem := wide_problem(got, 1366))}
    assert not wide, wide


@pytest.mark.parametrize("width", sizes(1366, 1024, 768))
def test_the_staff_console_at_desktop_and_tablet(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path, width: int
) -> None:
    shots = tmp_path / str(width)
    shots.mkdir()
    print(f"screenshots in {shots}")
    with time_machine.travel(FRIDAY):
        viewport = {"width": width, "height": 900}
        pages = staff_pages(world)
        user_of = {name: user for name, _, user in pages}
        measured = visit_all(browser, live_server.url, viewport, pages, shots)
        wide: dict[str, Any] = {}
        for name, got in measured:
            if problem := wide_problem(got, width):
                wide[name] = problem
            elif not got["consoleNav"]:
                wide[name] = "no console navigation nor a way back to it"
            elif problem := staff_layout_problem(got, user_of[name]):
                wide[name] = problem
    assert not wide, wide


@pytest.mark.allow_page_error(refused("&until=2026-12-01", 400), why="the refusal beside the form")
@pytest.mark.allow_page_error(refused("/console/audit/", 403), why="a clerk's refusal")
@pytest.mark.allow_page_error(refused("/console/audit/verify", 429), why="a second verification")
def test_the_auditors_pages_fit_a_phone(
    world: dict[str, Any], live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """审计日志 at 390 px (an auditor on a phone): the list (a later page too, with its way back),
    an event, a refusal beside the form (400), a role's refusal (403) and a second verification
    (429, the rate limit): nothing wider than the screen, no tiny text or target, no date broken."""
    shots = tmp_path / "390-audit"
    shots.mkdir()
    print(f"screenshots in {shots}")
    staff = world["staff"]
    auditor, clerk = staff[Role.AUDITOR], staff[Role.CLERK]
    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    pages = [
        ("audit", "/console/audit/", auditor, 200),
        ("audit-older", f"/console/audit/?before={last}&action=hall.", auditor, 200),
        ("audit-event", f"/console/audit/{last}/", auditor, 200),
        ("audit-bad-date", "/console/audit/?since=2026-12-09&until=2026-12-01", auditor, 400),
        ("audit-clerk", "/console/audit/", clerk, 403),
    ]
    problems: dict[str, Any] = {}
    with time_machine.travel(FRIDAY):
        sessions = {
            u: session(browser, live_server.url, PHONE_VIEWPORT, u) for u in (auditor, clerk)
        }
        verifying = sessions[auditor]
        verifying.goto(live_server.url + "/console/audit/")
        verifying.click("#verify-form button")
        verifying.wait_for_url("**/console/audit/")
        for name, path, user, status in pages:
            response = sessions[user].goto(live_server.url + path)
            assert response is not None and response.status == status, (name, response)
            problems[name] = _phone_problems(sessions[user], shots, name)
        verifying.goto(live_server.url + "/console/audit/")
        with verifying.expect_response("**/console/audit/verify") as refused:
            verifying.click("#verify-form button")
        assert refused.value.status == 429
        problems["audit-429"] = _phone_problems(verifying, shots, "audit-429")
        assert "每人每10分钟只能校验一次审计链" in verifying.inner_text("main")
    problems = {name: wrong for name, wrong in problems.items() if wrong}
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def _phone_problems(page: Page, shots: Path, name: str) -> dict[str, Any]:
    measured = measure(page, shots, name)
    page.screenshot(path=str(shots / f"{name}-top.png"))  # as the phone's screen shows it
    return phone_problems(measured)


def phone_problems(got: dict[str, Any], width: int = PHONE_VIEWPORT["width"]) -> dict[str, Any]:
    """What is wrong with a page ``width`` px wide (the measurements of phone_checks.js)."""
    wrong = {
        "width": got["width"] if got["width"] > width else None,
        "header": got["headerOverflows"] or got["headerBottom"] > got["mainTop"] + 0.5,
        "small": got["small"],
        "tiny": got["tiny"],
        "broken": got["broken"],
        "dates": got["dates"],
        "choices": got["choices"],
        "fields": got["fields"],
        "spill": got["spill"],
        "path": got["path"],
        "scrolled": got["scrolled"],
        # a short bracket of a value or a short part of a · line broken (a name's （第一分|公司）
        # in 我的证书's card, 新办 · 网上营业|厅 under a progress page's heading at 360 px)
        "units": got["units"],
        # a number read out on the phone broken (申请 SQ20261120-|000016 in the orders' cards)
        "refs": got["refs"],
        # a range of numbers where a line may break at its hyphen (可办理1-|5年期 at 390 px)
        "ranges": got["ranges"],
        # a card's value past its card's edge, a row's button past its scrolling table's
        "outOfSight": got["outOfSight"],
        # the way back drawn under the box that follows it (a message's, on the hall's pages)
        "overlaps": got["overlaps"],
        # a field narrower than the button beside it (the phone beside 60秒后重新获取 at 360 px)
        "narrow": got["narrow"],
    }
    return {k: v for k, v in wrong.items() if v}
