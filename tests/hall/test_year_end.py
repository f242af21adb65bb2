"""The turn of the year 2026/2027, met by a customer, a clerk, a reviewer and an operator with
frozen clocks: online renewals on a certificate's last day (元旦), the review deadlines of
applications paid 2026-12-24..2027-01-08 with 2027 unknown and then imported, the calendar's
warning in January, counter refusals on estimated days, a notice arranging days of December."""

from __future__ import annotations

from datetime import date, datetime, time
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from django.urls import reverse

from certhall import crashpoints, jobs
from certhall.accounts.models import Handler, Organization, User
from certhall.audit.models import AuditEvent
from certhall.ca.models import Certificate
from certhall.errors import Conflict, InvalidInput, RuleViolation
from certhall.hall import calendar, counter, notices, renewal, review, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application, CalendarYear
from certhall.hall.states import State
from certhall.notify.models import SmsMessage
from certhall.payments import notify as payment_notify
from certhall.payments import sandbox
from certhall.payments.models import Order
from certhall.rules import SHANGHAI, QuoteRefused, quote
from certhall.rules.workdays import Arrangement, DayKind, Deadline
from tests.hall.conftest import PHONE, at, online_draft, pay_online, software_certificate
from tests.hall.test_calendar import ARRANGEMENT_2027
from tests.hall.test_renewal import issued_unrecorded, signed

pytestmark = pytest.mark.django_db

#: 元旦 2027, a Friday: the certificate below ends at 10:00 that morning.
EXPIRES = datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI)


def keyed_ending_at(
    admin: User, organization: Organization, not_after: datetime, profile: str = "personal"
) -> tuple[ec.EllipticCurvePrivateKey, Certificate]:
    """A certificate of ours issued on 2026-01-10 that ends at ``not_after``, and its key."""
    issued = datetime(2026, 1, 10, 10, 0, tzinfo=SHANGHAI)
    return software_certificate(
        admin, organization, profile=profile, when=issued, not_after=not_after
    )


def ending_at(
    admin: User, organization: Organization, not_after: datetime, profile: str = "personal"
) -> Certificate:
    """A certificate of ours issued on 2026-01-10 that ends at ``not_after``."""
    return keyed_ending_at(admin, organization, not_after, profile)[1]


def test_an_online_renewal_is_refused_once_the_certificate_ended_on_its_last_day(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    """The window's last day is the expiry day, but not after the moment it ends: from 10:00
    on 2027-01-01 the helper could no longer renew (``ca.renewal`` refuses an expired
    certificate), so the hall must not take the fee either (before: quoted, started, paid)."""
    old = ending_at(admin, organization, EXPIRES)
    web = Client()
    link = f'renew-link" href="/hall/renew/?serial={old.serial}" data-business="renew">在线续期'
    with at(datetime(2027, 1, 1, 9, 59, tzinfo=SHANGHAI)):
        web.force_login(applicant)
        assert renewal.lookup(applicant, old.serial, 1).quote.allowed
        assert link in web.get("/my/").content.decode()
    with at(datetime(2027, 1, 1, 10, 30, tzinfo=SHANGHAI)):
        assert link not in web.get("/my/").content.decode()  # 我的证书 no longer offers it
        found = renewal.lookup(applicant, old.serial, 1)
        assert [r.rule for r in found.quote.refusals] == ["renewal_expired"]
        assert "2027-01-01" in found.quote.refusals[0].detail
        with pytest.raises(QuoteRefused) as refused:
            renewal.start(applicant, old.serial, 1)
        assert "证书已过期的,须至受理点现场办理续期" in refused.value.message
    assert not Application.objects.exists()


@pytest.mark.parametrize("today", [date(2027, 1, 1), date(2027, 1, 5), date(2027, 6, 30)])
def test_the_warning_goes_on_into_the_year_nobody_imported(today: date) -> None:
    """From 1 November the console and the jobs warn that next year is not imported; on
    2027-01-01 that year became this year and the warning stopped (month < 11), although every
    deadline the hall promised was still 预计 and would stay so until someone imported it."""
    warning = calendar.next_year_warning(today)
    assert warning is not None and "2027年节假日安排尚未导入" in warning


def test_the_console_warns_in_january_too(reviewer: User) -> None:
    web = Client()
    with at(datetime(2027, 1, 4, 10, 0, tzinfo=SHANGHAI)):
        web.force_login(reviewer)
        page = web.get(reverse("hall-staff:home")).content.decode()
    assert 'id="calendar-warning"' in page and "2027年节假日安排尚未导入" in page


def test_once_this_year_is_imported_only_next_year_is_warned_of(admin: User) -> None:
    calendar.import_year(admin, Arrangement.parse(ARRANGEMENT_2027))
    assert calendar.next_year_warning(date(2027, 1, 5)) is None
    assert "2028年" in (calendar.next_year_warning(date(2027, 11, 1)) or "")


#: When each online 新办 is paid (Shanghai, 10:00), and its deadline before and after 2027 is
#: imported (ARRANGEMENT_2027: 元旦 01-01..01-04, 01-09 a make-up Saturday).
PAID = {
    date(2026, 12, 24): ((date(2026, 12, 29), False), (date(2026, 12, 29), False)),
    date(2026, 12, 28): ((date(2026, 12, 31), False), (date(2026, 12, 31), False)),
    date(2026, 12, 31): ((date(2027, 1, 6), True), (date(2027, 1, 7), False)),
    date(2027, 1, 1): ((date(2027, 1, 6), True), (date(2027, 1, 7), False)),
    date(2027, 1, 4): ((date(2027, 1, 7), True), (date(2027, 1, 7), False)),
    date(2027, 1, 8): ((date(2027, 1, 13), True), (date(2027, 1, 12), False)),
}


def test_deadlines_across_the_turn_on_the_page_the_api_and_the_queue(
    admin: User, applicant: User, handler: Handler, reviewer: User
) -> None:
    """Applications paid 2026-12-24..2027-01-08: the deadline the customer's page and the API
    promise (预计 while 2027 is not imported), the reviewer's queue in deadline order with its
    overdue and due-today marks on 2027-01-06, and the import moving each 2027 deadline."""
    numbers: dict[date, str] = {}
    for day in PAID:
        with at(datetime.combine(day, time(10), SHANGHAI)):
            draft = online_draft(applicant, handler)
            services.submit(applicant, draft.number)
            pay_online(draft.number, applicant)
            numbers[day] = draft.number
    web = Client()
    with at(datetime(2027, 1, 6, 9, 0, tzinfo=SHANGHAI)):
        web.force_login(applicant)
        for day, ((due, provisional), _) in PAID.items():
            paid = Application.objects.get(number=numbers[day])
            assert (paid.due_date, paid.due_provisional) == (due, provisional), day
            api = web.get(f"/api/hall/applications/{paid.number}").json()
            assert (api["due_date"], api["due_provisional"]) == (due.isoformat(), provisional)
            page = web.get(f"/hall/applications/{paid.number}/").content.decode()
            estimate = (
                '<span class="muted" title="该年度节假日安排尚未公布，按法定节假日预计">（预计）'
            )
            assert f'id="due-date">{due:%Y-%m-%d}</strong>' in page
            assert (estimate in page) is provisional, day
        queue = review.review_queue(reviewer)
        assert [e.application.number for e in queue] == [numbers[d] for d in PAID]
        marks = {e.application.number: (e.overdue, e.due_today) for e in queue}
        assert marks[numbers[date(2026, 12, 24)]] == (True, False)
        assert marks[numbers[date(2026, 12, 31)]] == (False, True)
        assert marks[numbers[date(2027, 1, 4)]] == (False, False)
        console = Client()
        console.force_login(reviewer)
        home = console.get(reverse("hall-staff:home")).content.decode()
        # The console's home names the year: 12-29 was last year's, overdue by a week.
        assert '时限 2026-12-29</span> <span class="tag error">已超时' in home
        assert "时限 2027-01-06（预计）" in home

    with at(datetime(2027, 1, 6, 9, 30, tzinfo=SHANGHAI)):
        calendar.import_year(admin, Arrangement.parse(ARRANGEMENT_2027))
        for day, (_, (due, provisional)) in PAID.items():
            paid = Application.objects.get(number=numbers[day])
            assert (paid.due_date, paid.due_provisional) == (due, provisional), day
        queue = review.review_queue(reviewer)
        marks = {e.application.number: (e.overdue, e.due_today) for e in queue}
        assert marks[numbers[date(2026, 12, 31)]] == (False, False)  # moved to 01-07


PROVISIONAL_NOTE = "2027年节假日安排尚未导入，按法定节假日预计，不含调休"


def test_a_counter_refusal_in_a_year_nobody_imported_says_it_is_an_estimate(
    admin: User, clerk: User
) -> None:
    """On Saturday 2027-01-09 龙岗 is closed and an ODC refused by the weekend rule; if the
    State Council makes it a 调休 working day, the point is open and both are wrong. Until 2027
    is imported, the refusal the clerk reads says that the day's kind is an estimate (before:
    only "不是…的服务日" and "是周末"); once imported, nothing of the kind."""
    saturday = datetime(2027, 1, 9, 10, 0, tzinfo=SHANGHAI)
    answer = quote("new", "org", years=1, channel="onsite", point="longgang-hall", at=saturday)
    assert [r.rule for r in answer.refusals] == ["closed_day", "weekend"]
    assert all(PROVISIONAL_NOTE in r.detail for r in answer.refusals)
    holiday = quote(
        "new", "personal", years=1, channel="onsite", point="kejiyuan",
        at=datetime(2027, 1, 1, 10, 0, tzinfo=SHANGHAI),
    )  # fmt: skip
    assert [r.rule for r in holiday.refusals] == ["statutory_holiday"]
    assert "元旦" in holiday.refusals[0].detail and PROVISIONAL_NOTE in holiday.refusals[0].detail
    web = Client()
    with at(saturday):
        web.force_login(clerk)
        page = web.get(reverse("hall-staff:counter")).content.decode()
    assert PROVISIONAL_NOTE in page

    calendar.import_year(admin, Arrangement.parse(ARRANGEMENT_2027))  # 01-09: 调休上班
    answer = quote("new", "org", years=1, channel="onsite", point="longgang-hall", at=saturday)
    assert answer.allowed
    sunday = quote(
        "new", "org", years=1, channel="onsite", point="longgang-hall",
        at=datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI),
    )  # fmt: skip
    assert sunday.refusals and all(PROVISIONAL_NOTE not in r.detail for r in sunday.refusals)


#: Modelled on the notices for 2019 ("2018年12月30日至2019年1月1日放假调休，共3天。2018年12月29日
#: （星期六）上班") and 2023 ("2022年12月31日至2023年1月2日"): next year's notice arranges days
#: of this December, which the packaged calendar (from this year's notice) cannot know.
CROSSING_2027 = {
    **ARRANGEMENT_2027,
    "holidays": ["2026-12-31", *ARRANGEMENT_2027["holidays"]],
    "workdays": ["2026-12-27", *ARRANGEMENT_2027["workdays"]],
}


def test_next_years_notice_may_arrange_days_of_this_december(
    admin: User, applicant: User, handler: Handler
) -> None:
    """Before, the import refused 2026-12-31 in the 2027 file (不在 2027 年内), and importing
    2026 again was the only way: the notice could not be loaded as it is written."""
    with at(datetime(2026, 12, 28, 10, 0, tzinfo=SHANGHAI)):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    paid = Application.objects.get(number=draft.number)
    assert (paid.due_date, paid.due_provisional) == (date(2026, 12, 31), False)

    with at(datetime(2026, 12, 28, 11, 0, tzinfo=SHANGHAI)):
        result = calendar.import_year(admin, Arrangement.parse(CROSSING_2027))
    # 12-29, 12-30, then 12-31 and 01-01..01-04 off: Tuesday 2027-01-05
    assert result.recomputed == [(paid.number, date(2026, 12, 31), date(2027, 1, 5))]
    cal = calendar.provider()
    assert cal.day_kind(date(2026, 12, 31)) == DayKind.STATUTORY_HOLIDAY
    assert cal.holiday_name(date(2026, 12, 31)) == "元旦"
    assert cal.day_kind(date(2026, 12, 27)) == DayKind.MAKEUP_WORKDAY
    assert cal.working_deadline(date(2026, 12, 26), 1) == Deadline(date(2026, 12, 27), False)
    eve = datetime(2026, 12, 31, 10, 0, tzinfo=SHANGHAI)
    closed = quote("new", "personal", years=1, channel="onsite", point="kejiyuan", at=eve)
    assert [r.rule for r in closed.refusals] == ["statutory_holiday"]
    sunday = datetime(2026, 12, 27, 10, 0, tzinfo=SHANGHAI)  # 调休上班: 龙岗 open, ODC too
    assert quote("new", "org", years=1, channel="onsite", point="longgang", at=sunday).allowed


def test_only_december_of_the_year_before_may_be_arranged() -> None:
    for day in ("2026-11-30", "2028-01-01", "2025-12-31"):
        with pytest.raises(InvalidInput) as refused:
            Arrangement.parse({**ARRANGEMENT_2027, "holidays": [day, "2027-01-01"]})
        assert "不在 2027 年内" in refused.value.message


def test_an_unpaid_online_renewal_closes_when_its_certificate_ends(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    """Started on New Year's Eve, the certificate ending at 10:00 on 元旦, paid after the
    holiday: before, the payment was taken, the application approved by the hall, and the
    helper's request then refused (renewal_expired): money for a renewal only the counter could
    do. Now the jobs' first round after 10:00 cancels the application and its order, saying
    why; a payment after that is not applied to it (the gateway's is 多余到账, sent back)."""
    old = ending_at(admin, organization, EXPIRES)
    other = ending_at(admin, organization, datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI))
    with at(datetime(2026, 12, 31, 18, 0, tzinfo=SHANGHAI)):
        started = renewal.start(applicant, old.serial, 1)
        waiting = renewal.start(applicant, other.serial, 1)
    assert started.state == waiting.state == State.AWAITING_PAYMENT
    with at(datetime(2027, 1, 1, 9, 59, tzinfo=SHANGHAI)):
        jobs.run_due_jobs()
    assert Application.objects.get(pk=started.pk).state == State.AWAITING_PAYMENT
    with at(datetime(2027, 1, 1, 10, 1, tzinfo=SHANGHAI)):
        jobs.run_due_jobs()
        jobs.run_due_jobs()  # again: nothing more
    closed = Application.objects.get(pk=started.pk)
    assert closed.state == State.CANCELLED
    assert Application.objects.get(pk=waiting.pk).state == State.AWAITING_PAYMENT
    order = Order.objects.get(reference=closed.payment_reference)
    assert order.status == Order.Status.CANCELLED
    events = AuditEvent.objects.filter(action="hall.application.cancel", object_id=closed.number)
    assert events.count() == 1
    reason = events.get().after["reason"]
    assert "2027-01-01" in reason and "受理点" in reason
    with at(datetime(2027, 1, 4, 10, 0, tzinfo=SHANGHAI)), pytest.raises(Conflict):
        pay_online(closed.number, applicant)
    assert Application.objects.get(pk=started.pk).state == State.CANCELLED


def test_an_unpaid_online_renewal_cannot_be_paid_once_its_certificate_ended(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    """At 10:00:30 on 元旦, the certificate ended at 10:00 and the round not yet run: the
    payment could still be started and taken, then refunded by the round (12-07). Now the
    cashier refuses it, saying that it ended and that the counter renews it."""
    old = ending_at(admin, organization, EXPIRES)
    with at(datetime(2026, 12, 31, 18, 0, tzinfo=SHANGHAI)):
        number = renewal.start(applicant, old.serial, 1).number
    reference = Application.objects.get(number=number).payment_reference
    with at(datetime(2027, 1, 1, 9, 59, tzinfo=SHANGHAI)):
        sandbox.cashier(applicant, reference, "alipay")  # still payable before the end
    with at(datetime(2027, 1, 1, 10, 0, 30, tzinfo=SHANGHAI)):
        with pytest.raises(Conflict) as refused:
            sandbox.pay(applicant, reference, "alipay")
        web = Client()
        web.force_login(applicant)
        page = web.get(f"/hall/applications/{number}/").content.decode()
    why = refused.value.message
    assert f"证书 {old.serial} 已于 2027-01-01 10:00 到期" in why and "不能再付款" in why
    assert "受理点现场办理续期" in why and "吊销" not in why
    assert why in page and 'id="pay-options"' not in page
    assert Application.objects.get(number=number).state == State.AWAITING_PAYMENT


def test_an_estimate_is_recomputed_once_the_calendar_knows_its_year_without_an_import(
    admin: User, hall_ca: object, applicant: User, handler: Handler
) -> None:
    """A year the calendar learns other than by this platform's import (chinese-calendar
    upgraded to know 2027, a row restored by hand): before, the deadlines stored as 预计 stayed
    so for good, since only an import recomputed them. Now the jobs' next round does, once,
    with its audit event."""
    with at(datetime(2026, 12, 31, 10, 0, tzinfo=SHANGHAI)):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    paid = Application.objects.get(number=draft.number)
    assert (paid.due_date, paid.due_provisional) == (date(2027, 1, 6), True)
    known = Arrangement.parse(ARRANGEMENT_2027).as_json()
    CalendarYear.objects.create(
        year=2027,
        holidays=known["holidays"],
        workdays=known["workdays"],
        source="restored",
        imported_at=datetime(2027, 1, 2, 0, 0, tzinfo=SHANGHAI),
        imported_by=admin,
    )
    calendar.invalidate()
    with at(datetime(2027, 1, 2, 9, 0, tzinfo=SHANGHAI)):
        jobs.run_due_jobs()
        jobs.run_due_jobs()  # again: nothing more
    paid.refresh_from_db()
    assert (paid.due_date, paid.due_provisional) == (date(2027, 1, 7), False)
    recomputed = AuditEvent.objects.filter(
        action="hall.application.deadline_recomputed", object_id=paid.number
    )
    assert recomputed.count() == 1
    assert recomputed.get().after["due_date"] == "2027-01-07"


def test_an_import_gives_no_deadline_to_an_online_renewal(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    """Nobody reviews an online renewal, so it has no deadline (``queue_entry_fields``); an
    import recomputing the open deadlines gave the approved ones one, with its audit event, and
    the console's preview counted them among the deadlines it would move (until 12-06)."""
    certificate = ending_at(admin, organization, datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI))
    with at(datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI)):
        started = renewal.start(applicant, certificate.serial, 1)
        pay_online(started.number, applicant)
    approved = Application.objects.get(pk=started.pk)
    assert (approved.state, approved.due_date) == (State.APPROVED, None)
    arrangement = Arrangement.parse(ARRANGEMENT_2027)
    assert calendar.preview(admin, arrangement).recomputed == []
    assert calendar.import_year(admin, arrangement).recomputed == []
    assert Application.objects.get(pk=started.pk).due_date is None
    recomputed = AuditEvent.objects.filter(action="hall.application.deadline_recomputed")
    assert not recomputed.filter(object_id=started.number).exists()


#: A certificate ending at 00:30 on 元旦 2027, renewed online and paid on New Year's Eve.
JUST_AFTER_MIDNIGHT = datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)


def counter_draft(clerk: User, organization: Organization, handler: Handler) -> Application:
    """A new counter draft for ``organization`` at 科技园."""
    return counter.open_application(
        clerk,
        point="kejiyuan",
        customer=counter.Customer(uscc=organization.uscc),
        handler_id=handler.pk,
    )


def counter_refusal(
    clerk: User, organization: Organization, handler: Handler, line: ItemRequest
) -> str:
    """The code the counter refuses ``line`` with, in a new draft for ``organization``."""
    draft = counter_draft(clerk, organization, handler)
    with pytest.raises(Conflict) as refused:
        services.add_item(clerk, draft.number, line)
    return refused.value.code


def paid_at_the_cashier(number: str, applicant: User) -> None:
    """Paid at the sandbox's Alipay cashier, its signed notification handled: the gateway holds
    the trade its refund goes back to."""
    reference = Application.objects.get(number=number).payment_reference
    trade = sandbox.pay(applicant, reference, "alipay")
    body = urlencode(sandbox.notification(trade)).encode("utf-8")
    assert payment_notify.handle("alipay", body, source="127.0.0.1").result == "paid"
    type(trade).objects.filter(pk=trade.pk).update(notified_at=trade.paid_at)  # delivered


def test_a_paid_online_renewal_the_helper_did_not_finish_before_the_end_is_refunded(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    clerk: User,
    handler: Handler,
) -> None:
    """Paid on New Year's Eve at 23:50 for a certificate ending at 00:30, the helper run after
    the holiday: before (12-06), the helper refused it (renewal_expired), the page kept offering
    在线更新证书, 我的证书 called the certificate 有效, nothing moved the application (approved
    for good, listed on no console page), the money stayed held until a clerk noticed, and the
    open application held the certificate: the counter's 续期 was refused (certificate_busy).
    Now the jobs' first round after the end refunds it through the clerk's refund (the gateway's
    refund follows in the same round), the handler's account is told by SMS why and that the
    counter renews it, and the pages say so; a free ODC renewal is cancelled; a renewal ending
    later is left alone."""
    key, old = keyed_ending_at(admin, organization, JUST_AFTER_MIDNIGHT)
    odc = ending_at(admin, organization, JUST_AFTER_MIDNIGHT, profile="org")
    later = ending_at(admin, organization, datetime(2027, 3, 1, 10, 0, tzinfo=SHANGHAI))
    with at(datetime(2026, 12, 31, 23, 45, tzinfo=SHANGHAI)):
        number = renewal.start(applicant, old.serial, 1).number
        free = renewal.start(applicant, odc.serial, 1).number
        waiting = renewal.start(applicant, later.serial, 1).number
    with at(datetime(2026, 12, 31, 23, 50, tzinfo=SHANGHAI)):
        paid_at_the_cashier(number, applicant)
        pay_online(waiting, applicant)
    assert {a.state for a in Application.objects.all()} == {State.APPROVED}
    with at(datetime(2027, 1, 1, 0, 29, tzinfo=SHANGHAI)):
        jobs.run_due_jobs()
    assert {a.state for a in Application.objects.all()} == {State.APPROVED}

    web = Client()
    with at(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)):
        web.force_login(applicant)
        # before the jobs' round: the page no longer offers the helper, and says what follows
        page = web.get(f"/hall/applications/{number}/").content.decode()
        assert 'id="renew-panel"' not in page and "请用证书助手在线更新证书" not in page
        assert "已于 2027-01-01 00:30 到期，已不能在线更新：本申请将自动关闭" in page
        # the free ODC renewal's page promises no money back (h9: it said 已付的款项原路退回)
        page = web.get(f"/hall/applications/{free}/").content.decode()
        assert "本申请将自动取消" in page and "款项" not in page
        with pytest.raises(RuleViolation):  # the helper: renewal_expired, as before
            renewal.request_renewal(applicant, number, **signed(key, old.serial, 1))  # type: ignore[arg-type]
        jobs.run_due_jobs()
        jobs.run_due_jobs()  # again: nothing more

        refunded = Application.objects.get(number=number)
        assert refunded.state == State.REFUNDED
        assert Application.objects.get(number=free).state == State.CANCELLED
        assert Application.objects.get(number=waiting).state == State.APPROVED
        order = Order.objects.get(reference=refunded.payment_reference)
        assert order.status == Order.Status.REFUNDED
        assert order.refund_sent_at is not None  # back through the gateway in the same round
        events = AuditEvent.objects.filter(action="hall.application.refund", object_id=number)
        assert [e.result for e in events] == ["ok"]
        reason = events.get().after["reason"]
        assert "2027-01-01 00:30 到期" in reason and "已付的 150.00 元已退款" in reason
        assert "受理点现场办理续期" in reason
        texts = list(SmsMessage.objects.filter(phone=PHONE).values_list("kind", "text"))
        told = [t for k, t in texts if k == "application_status" and number in t]
        assert len(told) == 1 and "已退款" in told[0] and "受理点现场办理续期" in told[0]
        assert any(k == "refund_sent" for k, _ in texts)
        assert any(free in t and "申请已取消" in t for _, t in texts)

        page = web.get(f"/hall/applications/{number}/").content.decode()
        assert 'id="renew-panel"' not in page and 'id="renewal-ended"' in page
        assert "已付的 150.00 元已退款，原路退回付款账户" in page
        api = web.get(f"/api/hall/applications/{number}").json()
        assert api["state"] == "refunded" and api["history"][-1]["reason"] == reason
        assert web.get(f"/api/hall/applications/{number}/renewal").json()["state"] == "refunded"
        with pytest.raises(Conflict):
            renewal.request_renewal(applicant, number, **signed(key, old.serial, 1))  # type: ignore[arg-type]
        mine = web.get("/my/").content.decode()
        row = mine[mine.index(f'data-serial="{old.serial}"') :]
        row = row[: row.index("</tbody>")]
        assert '<span class="tag closed">已过期</span>' in row and "受理点现场办理续期" in row
        assert "tag ok" not in row
    with at(datetime(2027, 1, 5, 10, 0, tzinfo=SHANGHAI)):
        # the certificate is free again for the counter's 续期 (this one, a software key, is
        # refused for its medium: not because an application holds it)
        assert renewal.lookup(applicant, old.serial, 1).open_application is None
        line = ItemRequest(business="renew", serial=old.serial, years=1)
        assert counter_refusal(clerk, organization, handler, line) != "certificate_busy"


def test_an_online_renewal_issued_before_the_end_but_not_recorded_is_not_refunded(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its new certificate was issued at 23:55 and a failure put the application back before it
    recorded it: refunding it would leave the customer the money and the certificate
    (``payment.require_nothing_done``). The jobs leave it (no refusal recorded every round) and
    the helper's retry after the end records it."""
    key, old = keyed_ending_at(admin, organization, JUST_AFTER_MIDNIGHT)

    with at(datetime(2026, 12, 31, 23, 50, tzinfo=SHANGHAI)):
        number = renewal.start(applicant, old.serial, 1).number
        pay_online(number, applicant)
        request = issued_unrecorded(applicant, key, old, number, 1, monkeypatch)
    assert Application.objects.get(number=number).state == State.APPROVED
    web = Client()
    with at(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)):
        jobs.run_due_jobs()
        assert Application.objects.get(number=number).state == State.APPROVED
        assert Order.objects.get(object_id=number).status == Order.Status.PAID
        assert not AuditEvent.objects.filter(
            action="hall.application.refund", object_id=number
        ).exists()
        web.force_login(applicant)
        page = web.get(f"/hall/applications/{number}/").content.decode()
        assert 'id="renew-panel"' in page and 'id="renewal-ended"' not in page
        done = renewal.request_renewal(applicant, number, **request)  # type: ignore[arg-type]
    assert done.new_certificate is not None
    assert Application.objects.get(number=number).state == State.ISSUED


def test_a_free_renewal_whose_certificate_the_helper_issues_during_the_round_is_not_cancelled(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two free ODC renewals ending at 00:30; the second's helper request of 23:55 failed before
    signing (its ``Renewal`` requested). The jobs' round after the holiday reads both as not
    issued; while it closes the first, the helper's retry of the second signs its new
    certificate and fails before recording it (the application back at ``approved``). Before
    (12-06, h9) the round then cancelled the second from what it had read: the customer had a
    valid renewed certificate the helper could no longer write to the Ukey, the application
    cancelled. Now it is left to the helper's retry, which records it."""
    odc = [keyed_ending_at(admin, organization, JUST_AFTER_MIDNIGHT, "org") for _ in range(2)]
    with at(datetime(2026, 12, 31, 23, 45, tzinfo=SHANGHAI)):
        first, second = (renewal.start(applicant, c.serial, 1).number for _, c in odc)
    assert {a.state for a in Application.objects.all()} == {State.APPROVED}
    key, old = odc[1]
    request = signed(key, old.serial, 1)

    def failing_at(point: str) -> object:
        def reached(name: str) -> None:
            if name == point:
                raise RuntimeError(name)

        return reached

    with at(datetime(2026, 12, 31, 23, 55, tzinfo=SHANGHAI)), monkeypatch.context() as patch:
        patch.setattr(crashpoints, "reached", failing_at("renewal.signed"))
        with pytest.raises(RuntimeError):
            renewal.request_renewal(applicant, second, **request)  # type: ignore[arg-type]
    assert Application.objects.get(number=second).state == State.APPROVED

    told = notices.renewal_ended

    def meanwhile(actor: User, application: Application, reason: str) -> None:
        told(actor, application, reason)
        if application.number == first:  # the helper's retry of the second, at this moment
            with monkeypatch.context() as patch:
                patch.setattr(crashpoints, "reached", failing_at("renewal.issued"))
                with pytest.raises(RuntimeError):
                    renewal.request_renewal(applicant, second, **request)  # type: ignore[arg-type]

    with at(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)):
        monkeypatch.setattr(notices, "renewal_ended", meanwhile)
        assert renewal.close_ended() == [first]
        monkeypatch.undo()
        assert Application.objects.get(number=first).state == State.CANCELLED
        assert Application.objects.get(number=second).state == State.APPROVED
        assert renewal.close_ended() == []
        done = renewal.request_renewal(applicant, second, **request)  # type: ignore[arg-type]
    assert done.new_certificate is not None
    assert Application.objects.get(number=second).state == State.ISSUED
