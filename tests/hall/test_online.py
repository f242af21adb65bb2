"""Online 新办 through the services: draft, documents, submit, pay, review, return and
resubmit, cancel and refund; deadlines on the statutory calendar."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest

from certhall import config
from certhall.accounts.models import Handler, Organization, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput
from certhall.hall import payment, review, services, workflow
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application, Document
from certhall.hall.states import State
from certhall.notify.models import SmsMessage
from certhall.payments.models import Order
from certhall.rules import SHANGHAI, default_catalog, loader
from certhall.rules.catalog import Postage
from tests.hall.conftest import FRIDAY, JPEG, MONDAY, PHONE, at, online_draft, pay_online, upload

pytestmark = pytest.mark.django_db


def test_draft_to_paid_to_approved(
    applicant: User, handler: Handler, reviewer: User, organization: Organization
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler, years=2)
        assert draft.number.startswith("SQ20261120-")
        assert draft.state == State.DRAFT and draft.channel == "online"
        assert draft.project == "sz_medical_insurance"
        # 150 yuan per year x 2 (the rules' fee) + 12 yuan postage (邮费自付)
        assert (draft.fee_total, draft.postage, draft.total) == (
            Decimal("300.00"),
            Decimal("12.00"),
            Decimal("312.00"),
        )
        submitted = services.submit(applicant, draft.number)
        assert submitted.state == State.AWAITING_PAYMENT
        assert submitted.complete_at is None and submitted.due_date is None
        order = Order.objects.get(reference=submitted.payment_reference)
        assert (order.amount, order.purpose, order.object_id) == (
            Decimal("312.00"),
            "hall.application",
            draft.number,
        )
        assert order.organization == organization
        assert [line["amount"] for line in order.items] == ["300.00", "12.00"]
        # not in the review queue before payment (pay first, then review)
        assert review.review_queue(reviewer) == []

        pay_online(draft.number, applicant)
        paid = Application.objects.get(pk=draft.pk)
        assert paid.state == State.PAID
        # paid on Friday 2026-11-20: three working days are 23, 24, 25 November
        assert paid.due_date == date(2026, 11, 25)
        assert [e.application.number for e in review.review_queue(reviewer)] == [draft.number]
        # the same notification again changes nothing
        payment.on_order_paid(Order, Order.objects.get(pk=order.pk))
        assert Application.objects.get(pk=draft.pk).state == State.PAID

    with at(MONDAY):
        approved = review.approve(reviewer, draft.number, note="资料齐全")
    assert approved.state == State.APPROVED and approved.approved_by == reviewer
    assert not approved.documents.exclude(status=Document.Status.ACCEPTED).exists()
    states = [row["state"] for row in services.history(applicant, approved)]
    assert states == ["draft", "awaiting_payment", "paid", "approved"]
    assert "actor" not in services.history(applicant, approved)[0]
    assert "actor" in services.history(reviewer, approved)[0]


def test_submit_needs_everything(applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        with pytest.raises(InvalidInput) as refused:
            services.submit(applicant, draft.number)
        assert refused.value.code == "no_items"
        services.add_item(
            applicant,
            draft.number,
            ItemRequest(
                business="new",
                cert_type="personal",
                years=1,
                person_name="王五",
                person_id_number="11010519491231002X",
            ),
        )
        with pytest.raises(InvalidInput) as refused:
            services.submit(applicant, draft.number)
        assert refused.value.code == "handler_missing"
        services.update_details(applicant, draft.number, services.Details(handler_id=handler.pk))
        with pytest.raises(InvalidInput) as refused:
            services.submit(applicant, draft.number)
        assert refused.value.code == "address_missing"
        services.update_details(
            applicant, draft.number, services.Details(delivery="pickup", pickup_point="kejiyuan")
        )
        with pytest.raises(InvalidInput) as refused:
            services.submit(applicant, draft.number)
        assert refused.value.code == "documents_incomplete"
        assert "经办人身份证正面照" in refused.value.message
        assert "单位新版营业执照复印件一份" in refused.value.message
        assert Application.objects.get(pk=draft.pk).state == State.DRAFT
        assert (
            AuditEvent.objects.filter(action="hall.application.submit", result="refused").count()
            == 4
        )
        # picked up: no postage
        assert Application.objects.get(pk=draft.pk).postage == Decimal("0.00")


@pytest.fixture
def dearer_postage(monkeypatch: pytest.MonkeyPatch) -> Iterator[Postage]:
    """The packaged catalog with another postage, as every caller of default_catalog() sees it."""
    postage = Postage(Decimal("15.50"), "Ukey快递费（邮费自付）")
    changed = dataclasses.replace(default_catalog(), postage=postage)
    default_catalog.cache_clear()
    monkeypatch.setattr(loader, "load_catalog", lambda path=None: changed)
    yield postage
    default_catalog.cache_clear()  # the packaged catalog again once monkeypatch undoes


def test_postage_is_the_catalogs(
    applicant: User, handler: Handler, dearer_postage: Postage
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler, years=1)
        assert (draft.postage, draft.total) == (Decimal("15.50"), Decimal("165.50"))
        submitted = services.submit(applicant, draft.number)
        order = Order.objects.get(reference=submitted.payment_reference)
    assert order.items[-1] == {"description": "Ukey快递费（邮费自付）", "amount": "15.50"}


def test_handler_of_another_organization_is_refused(
    applicant: User, other_organization: Organization
) -> None:
    other = Handler.objects.create(
        organization=other_organization,
        name="外人",
        id_kind="resident_id",
        id_number="440301199001011234",
        phone=PHONE,
    )
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        with pytest.raises(Exception) as refused:
            services.update_details(applicant, draft.number, services.Details(handler_id=other.pk))
    assert getattr(refused.value, "code", "") == "handler_not_found"


def test_return_with_reasons_then_resubmit(
    applicant: User, handler: Handler, reviewer: User
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    licence = Document.objects.get(application=draft, kind="licence_copy", superseded=False)
    form = Document.objects.get(application=draft, kind="personal_form", superseded=False)
    with at(MONDAY):
        with pytest.raises(InvalidInput) as refused:
            review.return_application(reviewer, draft.number, reasons={})
        assert refused.value.code == "reason_missing"
        returned = review.return_application(
            reviewer,
            draft.number,
            reasons={licence.pk: "营业执照复印件未加盖公章"},
            note="请补正后重新提交",
        )
    assert returned.state == State.RETURNED and returned.return_note == "请补正后重新提交"
    licence.refresh_from_db()
    form.refresh_from_db()
    assert (licence.status, licence.review_reason) == ("returned", "营业执照复印件未加盖公章")
    assert form.status == "accepted"
    sms = SmsMessage.objects.get(kind="review_result")
    assert sms.phone == PHONE and draft.number in sms.text
    assert "未通过" in sms.text and "请补正后重新提交" in sms.text

    with at(MONDAY):
        with pytest.raises(InvalidInput) as refused:
            services.resubmit(applicant, draft.number)
        assert "须重新提交：单位新版营业执照复印件一份" in refused.value.message
        # items are frozen once submitted
        with pytest.raises(Conflict):
            services.remove_item(applicant, draft.number, draft.items.get().pk)
        upload(applicant, draft.number, "licence_copy", JPEG + b"stamped")
        again = services.resubmit(applicant, draft.number)
    assert again.state == State.RESUBMITTED
    # the clock starts again from the corrected documents: Monday 23 -> 24, 25, 26
    assert again.due_date == date(2026, 11, 26)
    assert Document.objects.filter(application=draft, kind="licence_copy").count() == 2
    assert Document.objects.get(application=draft, kind="licence_copy", superseded=True) == licence


def test_cancel_unpaid_cancels_the_order_and_paid_needs_a_refund(
    applicant: User, handler: Handler, clerk: User
) -> None:
    with at(FRIDAY):
        first = online_draft(applicant, handler)
        services.submit(applicant, first.number)
        with pytest.raises(InvalidInput) as too_long:  # refused whole, never stored cut
            services.cancel(applicant, first.number, "不" * 201)
        assert too_long.value.message == "原因不能超过200个字，请核对后重新填写。"
        cancelled = services.cancel(applicant, first.number, "不办了")
    assert cancelled.state == State.CANCELLED and cancelled.closed_at is not None
    assert Order.objects.get(reference=cancelled.payment_reference).status == "cancelled"

    with at(FRIDAY):
        second = online_draft(applicant, handler)
        services.submit(applicant, second.number)
        pay_online(second.number, applicant)
        with pytest.raises(Conflict) as refused:
            services.cancel(applicant, second.number)
        assert refused.value.code == "application_paid"
        with pytest.raises(Forbidden):
            payment.refund_application(applicant, second.number, "不办了")
        refunded = payment.refund_application(clerk, second.number, "客户放弃申请")
    assert refunded.state == State.REFUNDED
    assert Order.objects.get(reference=refunded.payment_reference).status == "refunded"
    assert AuditEvent.objects.filter(
        action="hall.application.refund", object_id=second.number, actor=clerk.label()
    ).exists()


def test_a_payment_for_a_cancelled_application_is_refused(
    applicant: User, handler: Handler
) -> None:
    """The order was cancelled with the application; a late payment cannot land on it."""
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        services.cancel(applicant, draft.number)
        with pytest.raises(Conflict):
            pay_online(draft.number, applicant)
    assert Application.objects.get(pk=draft.pk).state == State.CANCELLED


@pytest.mark.parametrize(
    ("paid_at", "due"),
    [
        # 国庆节 2026: 10-01..10-07 off; make-up working day Saturday 10-10
        (datetime(2026, 9, 30, 15, 0, tzinfo=SHANGHAI), date(2026, 10, 10)),
        # 春节 2026: 02-15..02-23 off; make-up Saturday 02-14
        (datetime(2026, 2, 13, 15, 0, tzinfo=SHANGHAI), date(2026, 2, 25)),
        # paid on a Sunday evening: Monday, Tuesday, Wednesday
        (datetime(2026, 11, 22, 21, 0, tzinfo=SHANGHAI), date(2026, 11, 25)),
    ],
)
def test_deadline_is_three_working_days_after_payment(
    applicant: User, handler: Handler, paid_at: datetime, due: date
) -> None:
    with at(paid_at):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    assert Application.objects.get(pk=draft.pk).due_date == due


def test_deadline_into_an_unpublished_year_is_provisional() -> None:
    """Paid on 2026-12-30: three working days run into 2027, whose arrangement nobody has
    published (chinese-calendar 1.11 stops at 2026). Counted by the law's holidays, marked."""
    application = Application(channel="online")
    due = workflow.deadline(application, datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI))
    assert (due.due, due.provisional) == (date(2027, 1, 5), True)
    onsite = Application(channel="onsite")
    due = workflow.deadline(onsite, datetime(2026, 12, 30, 10, 0, tzinfo=SHANGHAI))
    assert (due.due, due.provisional) == (date(2026, 12, 30), False)


@pytest.mark.parametrize("origin", [None, "https://" + "ca-hall-" * 20 + "example.cn"])
def test_long_review_words_do_not_refuse_the_review(
    applicant: User,
    handler: Handler,
    reviewer: User,
    configure: Callable[..., object],
    origin: str | None,
) -> None:
    """The SMS of the review result holds at most 500 characters; a note or reasons the
    review accepts (a 500-character note, 200 characters per document) were refused with
    "短信最多500个字。" and the application stayed in review. The message is shortened instead
    (the whole text is online, behind the link the message ends with, however long the
    platform's address); the review's own record keeps every word."""
    if origin is not None:
        configure(base_url=origin)
    with at(FRIDAY):
        returned, approved = (online_draft(applicant, handler) for _ in range(2))
        for draft in (returned, approved):
            services.submit(applicant, draft.number)
            pay_online(draft.number, applicant)
    current = Document.objects.filter(application=returned, superseded=False)
    reasons = {d.pk: f"{d.kind}：" + "请加盖公章后重新上传" * 40 for d in current}
    reasons = {pk: text[: review.REASON_LIMIT] for pk, text in reasons.items()}
    with at(MONDAY):
        done = review.return_application(reviewer, returned.number, reasons=reasons)
        passed = review.approve(reviewer, approved.number, note="资料齐全" * 125)
    assert done.state == State.RETURNED and passed.state == State.APPROVED
    assert {d.review_reason for d in current.all()} == set(reasons.values())
    texts = list(SmsMessage.objects.filter(kind="review_result").values_list("text", flat=True))
    assert len(texts) == 2 and all(len(text) <= 500 for text in texts)
    link = f"{config.get().base_url}/hall/applications/{approved.number}/"
    assert any(text.endswith(f"……。请登录网上营业厅查看：{link}") for text in texts)
    assert all("……。请登录网上营业厅查看：http" in text for text in texts)
