"""The review queue (deadline order, overdue flags), separation of duties, who may review."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from certhall.accounts.models import Handler, Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput
from certhall.hall import counter, documents, review, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.rules import SHANGHAI
from tests.hall.conftest import FRIDAY, at, online_draft, pay_online

pytestmark = pytest.mark.django_db


def paid_online(applicant: User, handler: Handler, when: datetime) -> Application:
    with at(when):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    return Application.objects.get(pk=draft.pk)


def counter_submitted(actor: User, handler: Handler, when: datetime) -> Application:
    """An on-site 解锁-free application: a personal 新办 taken and paid at the counter."""
    from certhall.hall import payment

    with at(when):
        draft = counter.open_application(
            actor,
            point="kejiyuan",
            customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )
        services.add_item(
            actor,
            draft.number,
            ItemRequest(
                business="new",
                cert_type="personal",
                years=1,
                person_name="王五",
                person_id_number="11010519491231002X",
            ),
        )
        for kind in documents.required(draft, list(draft.items.all())):
            documents.check_at_counter(actor, draft.number, kind, original_seen=True)
        services.submit(actor, draft.number)
        payment.take_counter_payment(actor, draft.number, method="cash")
    return Application.objects.get(pk=draft.pk)


def test_queue_is_ordered_by_deadline_and_flags_overdue(
    applicant: User, handler: Handler, reviewer: User, clerk: User
) -> None:
    late = paid_online(applicant, handler, datetime(2026, 11, 16, 10, 0, tzinfo=SHANGHAI))
    later = paid_online(applicant, handler, datetime(2026, 11, 18, 10, 0, tzinfo=SHANGHAI))
    onsite = counter_submitted(clerk, handler, FRIDAY)
    fresh = paid_online(applicant, handler, FRIDAY)
    assert (late.due_date, later.due_date, onsite.due_date, fresh.due_date) == (
        date(2026, 11, 19),
        date(2026, 11, 23),
        date(2026, 11, 20),  # on site: the same day
        date(2026, 11, 25),
    )
    with at(FRIDAY):
        queue = review.review_queue(reviewer)
    assert [e.application.number for e in queue] == [
        late.number,
        onsite.number,
        later.number,
        fresh.number,
    ]
    assert [(e.overdue, e.due_today) for e in queue] == [
        (True, False),
        (False, True),
        (False, False),
        (False, False),
    ]


def test_who_entered_it_cannot_approve_it(make_user, handler: Handler, reviewer: User) -> None:  # type: ignore[no-untyped-def]
    ca_admin = make_user(Role.CA_ADMIN)
    application = counter_submitted(ca_admin, handler, FRIDAY)
    with at(FRIDAY):
        with pytest.raises(Forbidden) as refused:
            review.approve(ca_admin, application.number)
        assert "职责分离" in refused.value.message
        with pytest.raises(Forbidden):
            review.return_application(ca_admin, application.number, reasons={}, note="x")
        assert Application.objects.get(pk=application.pk).state == State.PAID
        approved = review.approve(reviewer, application.number)
    assert approved.state == State.APPROVED and approved.approved_by == reviewer


def test_who_checked_its_documents_at_the_counter_cannot_review_it(
    make_user,  # type: ignore[no-untyped-def]
    handler: Handler,
    clerk: User,
    reviewer: User,
) -> None:
    """A CA admin who received a document and saw its original on a clerk's application (or
    replaced one the review returned) approved what they had checked themselves: only the
    application's ``entered_by`` was compared (12-06)."""
    ca_admin = make_user(Role.CA_ADMIN)
    with at(FRIDAY):
        draft = counter.open_application(
            clerk,
            point="kejiyuan",
            customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )
        services.add_item(
            clerk, draft.number, ItemRequest(business="new", cert_type="org", years=1)
        )
    application = Application.objects.get(pk=draft.pk)
    with at(FRIDAY):
        kinds = documents.required(application, list(application.items.all()))
        documents.check_at_counter(ca_admin, draft.number, kinds[0], original_seen=True)
        for kind in kinds[1:]:
            documents.check_at_counter(clerk, draft.number, kind, original_seen=True)
        services.submit(clerk, draft.number)
        from certhall.hall import payment

        payment.take_counter_payment(clerk, draft.number, method="cash")
        for act in (
            lambda: review.approve(ca_admin, draft.number),
            lambda: review.return_application(ca_admin, draft.number, reasons={}, note="x"),
        ):
            with pytest.raises(Forbidden) as refused:
                act()
            assert "职责分离" in refused.value.message and "录入或核验材料" in refused.value.message
        assert Application.objects.get(pk=draft.pk).state == State.PAID
        approved = review.approve(reviewer, draft.number)
    assert approved.approved_by == reviewer


def test_only_reviewers_review(applicant: User, handler: Handler, clerk: User, make_user) -> None:  # type: ignore[no-untyped-def]
    application = paid_online(applicant, handler, FRIDAY)
    issuer = make_user(Role.ISSUER)
    with at(FRIDAY):
        for actor in (applicant, clerk, issuer):
            with pytest.raises(Forbidden):
                review.approve(actor, application.number)
            with pytest.raises(Forbidden):
                review.review_queue(actor)
    assert Application.objects.get(pk=application.pk).state == State.PAID


def test_a_review_by_someone_who_may_not_review_is_audited(
    applicant: User, handler: Handler, clerk: User, make_user
) -> None:  # type: ignore[no-untyped-def]
    """A forged 审核通过 or 退回 from the applicant, a clerk or an issuer is refused and, like a
    forged 制证 (docs/hall.md), recorded as a refusal: the role check came before the audited
    block, so these left no trace."""
    application = paid_online(applicant, handler, FRIDAY)
    issuer = make_user(Role.ISSUER)
    actors = (applicant, clerk, issuer)
    with at(FRIDAY):
        for actor in actors:
            with pytest.raises(Forbidden):
                review.approve(actor, application.number)
            with pytest.raises(Forbidden):
                review.return_application(actor, application.number, reasons={}, note="不清晰")
    assert Application.objects.get(pk=application.pk).state == State.PAID
    refused = AuditEvent.objects.filter(object_id=application.number, result="refused")
    for action in ("hall.application.approve", "hall.application.return"):
        events = refused.filter(action=action)
        assert sorted(e.actor_id for e in events) == sorted(a.pk for a in actors), action
        assert {e.after["error"] for e in events} == {"role_required"}


def test_review_before_payment_is_refused(
    applicant: User, handler: Handler, reviewer: User
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        with pytest.raises(Conflict):
            review.approve(reviewer, draft.number)
        services.submit(applicant, draft.number)
        with pytest.raises(Conflict) as refused:
            review.approve(reviewer, draft.number)
    assert refused.value.code == "application_state"
    assert Application.objects.get(pk=draft.pk).state == State.AWAITING_PAYMENT


def test_return_only_names_current_documents(
    applicant: User, handler: Handler, reviewer: User, other_organization
) -> None:  # type: ignore[no-untyped-def]
    application = paid_online(applicant, handler, FRIDAY)
    other = paid_online(applicant, handler, FRIDAY)
    foreign_document = other.documents.first()
    assert foreign_document is not None
    with at(FRIDAY), pytest.raises(Exception) as refused:
        review.return_application(
            reviewer, application.number, reasons={foreign_document.pk: "不清晰"}
        )
    assert getattr(refused.value, "code", "") == "document_unknown"
    assert Application.objects.get(pk=application.pk).state == State.PAID


def test_an_approval_note_over_the_limit_is_refused_like_a_return_note_not_cut(
    applicant: User, handler: Handler, reviewer: User
) -> None:
    """审核通过 cut a note over 500 characters silently (and sent the cut one to the customer),
    while 退回 refused its note; both refuse now, naming the limit."""
    application = paid_online(applicant, handler, FRIDAY)
    with at(FRIDAY):
        with pytest.raises(InvalidInput) as refused:
            review.approve(reviewer, application.number, note="资" * 501)
        assert refused.value.code == "field_too_long"  # errors.bounded, the one bound
        assert str(refused.value) == "审核意见不能超过500个字，请核对后重新填写。"
        with pytest.raises(InvalidInput) as returned:
            review.return_application(reviewer, application.number, reasons={}, note="资" * 501)
        assert returned.value.code == "field_too_long"
        assert str(returned.value) == "退回说明不能超过500个字，请核对后重新填写。"
        assert Application.objects.get(pk=application.pk).state == State.PAID
        review.approve(reviewer, application.number, note="资" * 500)
        approved = Application.objects.get(pk=application.pk)
        assert services.history(reviewer, approved)[-1]["reason"] == "资" * 500
