"""Staff pages on a phone (390x844): every staff role (the counter clerk with the refund counter
and finance's 发票与退款, the reviewer, the issuer, the refund officers, the portal's editor and
the CA admin, the auditor) opens each of its pages with realistic data (an application with its
documents and a payment, one approved, an onsite one opened at the counter, a bank transfer
refunded and owed back, a refund application, one entered at the refund counter, a payout
batch, the portal's seeds, the audit log), in Debian's headless Chromium on Friday 2026-11-20
10:00 (Shanghai).

On every page (phone_checks.js): nothing wider than the screen, the consoles' one bar, no text
under 12 px, buttons, fields and the links of bars and forms 44 px tall, no short label, date,
code or table cell's word broken over lines (a serial of 20 characters or more may wrap in its
card), nothing out of its card unless a table scrolls it inside itself. The same pages at 1366,
1280, 1100, 1024 (the narrowest table of finance's alerts) and 768 px stay as they were (the
desktop's and the tablet's checks of test_phones.py), finance's with every alert it raises (a
refund made twice, a second payment, the daily bill's discrepancies): no table's column
squeezed to a character or two a line, no item of the consoles' bar alone on its line, no
link's short label broken. At every width a row's button or field is in sight without
scrolling its table sideways, and a numeric column's heading is on one line. A full-page
screenshot of each page is saved under tmp_path (the directory is printed) to be looked at.
"""

from __future__ import annotations

import dataclasses
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.db import transaction
from playwright.sync_api import Browser

from certhall import clock
from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.hall import counter as hall_counter
from certhall.hall import review
from certhall.hall.models import Application
from certhall.payments import gateway_bills, notify, sandbox
from certhall.payments import services as payments
from certhall.payments.lifecycle import Channel, Method
from certhall.payments.models import Order, SandboxRefund, SandboxTrade
from certhall.portal import seed
from certhall.portal.models import Entry, Notice, Question
from certhall.refunds import counter
from certhall.refunds import review as refund_review
from certhall.refunds.models import (
    PayoutBatch,
    Programme,
    RefundApplication,
)
from certhall.refunds.services import BankAccount
from certhall.refunds.states import State
from tests.browser.conftest import PAGES_AGAIN, USCC
from tests.browser.test_phones import (  # noqa: F401  (the fixtures of the staff pages)
    FRIDAY,
    PHONE_VIEWPORT,
    counted_fee,
    make_softhsm_store,
    measure,
    phone_problems,
    session,
    staff_layout_problem,
    stock,
    ukey_store,
    visit_all,
    wide_problem,
    world,
)
from tests.hall.conftest import at
from tests.refunds.conftest import (
    ACCOUNT,
    GONE_NAME,
    GONE_USCC,
    IN_WINDOW,
    LEGAL_REP_ID,
    PHONE,
    counter_code,
)
from tests.support.payments import refunded_twice

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]

#: Pages whose table cells' codes and login names stay whole on a tablet too: the refund
#: officers' 批次 (its maker refund-maker-|phone, its SHA-256 in three lines at 768 px, before
#: 批次号 / 生成 shared a cell); their other tables may wrap them there (console.css: 操作 in
#: sight).
WHOLE_ON_A_TABLET = {"officer-batches"}

#: A code a phone may wrap: a serial or a provider's reference of 20 characters or more.
LONG_CODE = re.compile(r"[A-Za-z0-9@._:\-]{20,}")


def pages_of_every_role(world: dict[str, Any]) -> list[tuple[str, str, User]]:  # noqa: F811
    """(name, path, user) of each staff role's pages."""
    staff, paid = world["staff"], world["paid"].number
    clerk, reviewer, issuer = staff[Role.CLERK], staff[Role.REVIEWER], staff[Role.ISSUER]
    officer, admin, auditor = staff[Role.REFUND_OFFICER], staff[Role.CA_ADMIN], staff[Role.AUDITOR]
    programme = Programme.objects.get(slug=world["refunds"])
    # the world's batches (test_phones.refund_batches): one released, one waiting for release
    batch = PayoutBatch.objects.filter(programme=programme).values_list("number", flat=True)
    waiting = RefundApplication.objects.get(programme=programme, state=State.SUBMITTED).number
    of = f"?programme={programme.slug}"
    with at(FRIDAY):  # an application the issuer writes onto a Ukey (its issue form)
        approved = review.approve(reviewer, world["no_invoice"].number).number
    owed_by_bank(world["to_pay"], clerk)  # finance's 待退回的退款 with its 登记已退回
    at_counter = counter_refund(programme, clerk, officer)
    seed.seed_demo(admin)  # the portal's notices, visitors' questions, FAQ entries
    notice = Notice.objects.order_by("pk").values_list("pk", flat=True).first()
    question = Question.objects.order_by("pk").values_list("pk", flat=True).first()
    entry = Entry.objects.order_by("pk").values_list("pk", flat=True).first()
    last_event = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    assert len(batch) == 2 and last_event and notice and question and entry
    with at(FRIDAY):  # a counter draft with no business yet: its 办理 card says to add one
        empty = hall_counter.open_application(
            clerk, point="kejiyuan", customer=hall_counter.Customer(uscc=USCC),
            handler_id=world["paid"].handler_id,
        ).number  # fmt: skip
    return [
        ("clerk-empty-draft", f"/console/applications/{empty}/", clerk),
        ("clerk-home", "/console/", clerk),
        ("clerk-counter", "/console/counter/", clerk),
        ("clerk-application", f"/console/applications/{paid}/", clerk),
        ("refund-counter", "/refunds/counter/", clerk),
        ("refund-counter-application", f"/refunds/counter/applications/{at_counter}/", clerk),
        ("finance-invoices", "/payments/invoices/", clerk),
        ("clerk-portal", "/console/portal/", clerk),
        ("reviewer-home", "/console/", reviewer),
        ("reviewer-queue", "/console/review/", reviewer),
        ("reviewer-application", f"/console/applications/{paid}/", reviewer),
        ("issuer-home", "/console/", issuer),
        ("issuer-queue", "/console/issuance/", issuer),
        ("issuer-ukeys", "/console/ukeys/", issuer),
        ("issuer-application", f"/console/applications/{approved}/", issuer),
        ("officer-dashboard", f"/refunds/console/{of}", officer),
        ("officer-list", f"/refunds/console/applications/{of}", officer),
        ("officer-application", f"/refunds/console/applications/{waiting}/", officer),
        ("officer-batches", f"/refunds/console/batches/{of}", officer),
        ("officer-programmes", "/refunds/console/programmes/", officer),
        ("officer-programme", f"/refunds/console/programmes/{programme.slug}/", officer),
        ("officer-programme-new", "/refunds/console/programmes/new", officer),
        ("admin-home", "/console/", admin),
        ("editor-portal", "/console/portal/", admin),
        ("editor-notice-new", "/console/portal/notices/new/", admin),
        ("editor-entry-new", "/console/portal/entries/new/", admin),
        ("editor-notice", f"/console/portal/notices/{notice}/", admin),
        ("editor-question", f"/console/portal/questions/{question}/", admin),
        ("editor-entry", f"/console/portal/entries/{entry}/", admin),
        ("admin-calendar", "/console/calendar/", admin),
        ("admin-audit", "/console/audit/", admin),
        ("auditor-audit", "/console/audit/", auditor),
        ("auditor-refused", "/console/audit/?result=refused", auditor),
        ("auditor-event", f"/console/audit/{last_event}/", auditor),
    ]


def owed_by_bank(application: Application, clerk: User) -> None:
    """The application's order paid by a bank transfer, then refunded: finance owes the money
    back (a row of 待退回的退款, its form 登记已退回)."""
    order = Order.objects.get(reference=application.payment_reference)
    with at(FRIDAY), transaction.atomic():
        payments.apply_payment(
            clerk, order, channel=Channel.BANK, method=Method.BANK_TRANSFER,
            transaction_id=f"bank-{order.reference}", amount=order.amount,
            received_at=clock.now(),
        )  # fmt: skip
    with at(FRIDAY):
        payments.refund(clerk, order, "客户撤回申请")


def counter_refund(programme: Programme, clerk: User, officer: User) -> str:
    """The number of a deregistered enterprise's refund application entered at the clerk's
    counter, an officer asking for more material (its page's 补充材料 form). The enterprise
    has fee records only: no organisation of the world's is made again."""
    counted_fee(programme, "5c1c0001", GONE_USCC, GONE_NAME, "480.00")
    needed = frozenset(counter.required_items("deregistered", False))
    entry = counter.OfflineEntry(
        uscc=GONE_USCC, enterprise_name=GONE_NAME, special_case="deregistered",
        person_name="李四", id_kind="resident_id", id_number=LEGAL_REP_ID, phone=PHONE,
        account=BankAccount("李四", ACCOUNT, "中国工商银行深圳分行"), received=needed,
        signed=needed,
    )  # fmt: skip
    with at(IN_WINDOW):
        proven = dataclasses.replace(entry, code=counter_code(PHONE))  # read out at the desk
        number = counter.enter_offline(clerk, programme.slug, proven).number
        refund_review.ask_more(officer, number, "请补充注销证明的原件照片。")
    return number


def finance_alerts(world: dict[str, Any]) -> None:  # noqa: F811
    """Every alert of finance's page, made as the gateways make them (tests/payments/
    test_browser.py): a refund made twice, a second payment, a refund made in the gateway's back
    office and an amount that differs on the day's bill."""
    applicant, clerk = world["applicant"], world["staff"][Role.CLERK]
    admin = world["staff"][Role.CA_ADMIN]
    made = iter(range(1, 100))

    def paid(*gateways: str) -> tuple[Order, list[SandboxTrade]]:
        order = payments.create_order(
            applicant, purpose="tests.payments", object_id=f"SQ20261120-{next(made):06d}",
            organization=applicant.organization, amount=Decimal("300.00"),
            description="机构证书（ODC证书）新办 1年",
        )  # fmt: skip
        trades = [sandbox.pay(applicant, order.reference, gateway) for gateway in gateways]
        for trade in trades:
            body = urlencode(sandbox.notification(trade)).encode()
            notify.handle(trade.gateway, body, source="127.0.0.1")
        return order, trades

    with at(FRIDAY):
        twice, _ = paid("alipay")
        payments.refund(clerk, twice, "客户撤回申请")
        refunded_twice(
            clerk,
            twice,
            by_hand="2026112023001HAND0000000000017",
            by_gateway="2026112023001000000000000042",
        )
        paid("alipay", "wechat")  # 多余到账
        (_, (trade,)), (differs, _) = paid("alipay"), paid("alipay")
        SandboxRefund.objects.create(
            gateway="alipay", trade=trade, out_request_no="HT20261120000001",
            refund_id="2026112023001999000000000001", refund_amount="300.00",
            refunded_at=clock.now(),
        )  # fmt: skip
        SandboxTrade.objects.filter(out_trade_no=differs.reference).update(total_amount="105.00")
        # with the world's two online payments the sandbox never saw (payment_not_in_bill)
        assert len(gateway_bills.reconcile_day(admin, "alipay", clock.today()).discrepancies) == 4


def phone_staff_problems(got: dict[str, Any], user: User) -> dict[str, Any]:
    """What is wrong with a staff page at 390 px: a phone's checks, a table cell's code or
    short label or a bracket broken over lines, and the consoles' one layout."""
    wrong = phone_problems(got, PHONE_VIEWPORT["width"])
    # an editor's long title scrolls in its field as in any editor; the customer pages' check
    # is for what the page filled in for the customer to read (the renewal's serial)
    wrong.pop("scrolled", None)
    # a long serial (SBX4E543BE3BA7D3B1E3CC8892) wraps inside its card on a phone, shorter
    # codes and labels stay whole (docs/architecture.md "staff pages")
    words = [word for word in got["words"] if not LONG_CODE.fullmatch(word)]
    for what, found in (("words", words), ("units", got["units"]), *reachable(got)):
        if found:
            wrong[what] = found
    if layout := staff_layout_problem(got, user):
        wrong["layout"] = layout
    return wrong


def reachable(got: dict[str, Any]) -> tuple[tuple[str, list[str]], ...]:
    """At every width: a row's button or field in sight without scrolling its table (finance's
    登记已开具 was past the box's edge at 768 px), a numeric column's heading on one line."""
    return (("outOfSight", got["outOfSight"]), ("numHeads", got["numHeads"]))


def test_every_staff_page_fits_a_phone(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
) -> None:
    shots = tmp_path / "390"
    shots.mkdir()
    print(f"screenshots in {shots}")
    finance_alerts(world)  # finance's alerts as cards
    pages = pages_of_every_role(world)
    assert {user.role for _, _, user in pages} == set(Role) - {Role.APPLICANT}
    user_of = {name: user for name, _, user in pages}
    problems: dict[str, Any] = {}
    with time_machine.travel(FRIDAY):
        for name, got in visit_all(browser, live_server.url, PHONE_VIEWPORT, pages, shots):
            if wrong := phone_staff_problems(got, user_of[name]):
                problems[name] = wrong
        clerk = world["staff"][Role.CLERK]
        for name, got in at_the_counter(browser, live_server.url, clerk, shots):
            if wrong := phone_staff_problems(got, clerk):
                problems[name] = wrong
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)


def at_the_counter(
    browser: Browser,
    url: str,
    clerk: User,
    shots: Path,
) -> list[tuple[str, dict[str, Any]]]:
    """The counter clerk's walk on a phone: a point chosen (what may be done there now), the
    enterprise looked up, an onsite application opened (its items' form, its checklist)."""
    page = session(browser, url, PHONE_VIEWPORT, clerk)
    page.goto(f"{url}/console/counter/")
    page.check("#point-kejiyuan")
    page.click("#choose-point")
    page.wait_for_load_state()
    measured = [("clerk-counter-point", measure(page, shots, "clerk-counter-point"))]
    page.fill("#lookup-uscc", USCC)
    page.click("#lookup")
    page.wait_for_load_state()
    measured.append(("clerk-counter-customer", measure(page, shots, "clerk-counter-customer")))
    page.click("#open-application")
    page.wait_for_url("**/console/applications/*/")
    measured.append(("clerk-onsite-application", measure(page, shots, "clerk-onsite-application")))
    return measured


@PAGES_AGAIN
@pytest.mark.parametrize("width", [1366, 1280, 1100, 1024, 768])
def test_the_same_pages_at_desktop_and_tablet(
    world: dict[str, Any],  # noqa: F811
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    width: int,
) -> None:
    """The phone's layout stays on phones: the desktop's and the tablet's checks of the same
    pages (the cards begin below 760 px), finance's with every alert it raises; between the
    tablet and the desktop no table's column squeezed to a character or two a line (its alerts'
    30-character references left 单位 and 差异 two characters wide at 1100-1366 px) and no item of
    the consoles' bar alone on its line (退出 under the counter clerk's links at 768 px)."""
    shots = tmp_path / str(width)
    shots.mkdir()
    print(f"screenshots in {shots}")
    finance_alerts(world)
    pages = pages_of_every_role(world)
    viewport = {"width": width, "height": 900}
    with time_machine.travel(FRIDAY):
        measured = visit_all(browser, live_server.url, viewport, pages, shots)
        wide = {
            name: problem
            for name, got in measured
            if (
                problem := wide_problem(got, width)
                or [f for _, f in between(got) if f]
                or (name in WHOLE_ON_A_TABLET and got["words"])
            )
        }
    assert not wide, json.dumps(wide, ensure_ascii=False, indent=1)


def between(got: dict[str, Any]) -> tuple[tuple[str, list[str]], ...]:
    """From the tablet to the desktop: :func:`reachable`, no column squeezed to a character or
    two a line, no bar's item alone on its line, no link's short label broken over lines."""
    return (
        *reachable(got),
        ("squeezed", got["squeezed"]),
        ("barAlone", got["barAlone"]),
        ("linkWords", got["linkWords"]),
    )
