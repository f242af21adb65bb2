"""The hall and payments: the paid / refunded signals move the application inside the
payment's transaction; counter payments; refunds."""

from __future__ import annotations

from decimal import Decimal

import pytest

from certhall.accounts.models import Handler, Organization, User
from certhall.audit.models import AuditEvent
from certhall.ca.models import Certificate
from certhall.certlogin.models import Renewal
from certhall.errors import Conflict, Forbidden, InvalidInput
from certhall.hall import payment, renewal, review, services
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.payments import services as payments
from certhall.payments.models import Order, Payment
from tests.hall.conftest import FRIDAY, at, online_draft, pay_online, software_certificate
from tests.hall.test_renewal import issued_unrecorded
from tests.hall.test_review import counter_submitted

pytestmark = pytest.mark.django_db


def awaiting(applicant: User, handler: Handler) -> Application:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        return services.submit(applicant, draft.number)


def test_a_refusing_receiver_rolls_the_payment_back(applicant: User, handler: Handler) -> None:
    """The order says 312 yuan but the application now costs something else: the hall refuses
    the payment inside its transaction, so no payment is recorded and the order stays open."""
    application = awaiting(applicant, handler)
    Application.objects.filter(pk=application.pk).update(fee_total=Decimal("1.00"))
    with at(FRIDAY), pytest.raises(Conflict) as refused:
        pay_online(application.number, applicant)
    assert refused.value.code == "amount_mismatch"
    assert not Payment.objects.exists()
    assert Order.objects.get(object_id=application.number).status == "pending"
    assert Application.objects.get(pk=application.pk).state == State.AWAITING_PAYMENT


def test_a_refund_recorded_by_payments_closes_the_application(
    applicant: User, handler: Handler, clerk: User
) -> None:
    application = awaiting(applicant, handler)
    with at(FRIDAY):
        order = pay_online(application.number, applicant)
        payments.refund(clerk, order, "客户申请退款")
    refunded = Application.objects.get(pk=application.pk)
    assert refunded.state == State.REFUNDED and refunded.closed_at is not None


def test_no_refund_once_issuance_started(
    applicant: User, handler: Handler, clerk: User, reviewer: User
) -> None:
    application = awaiting(applicant, handler)
    with at(FRIDAY):
        order = pay_online(application.number, applicant)
        review.approve(reviewer, application.number)
        Application.objects.filter(pk=application.pk).update(state=State.ISSUED)
        with pytest.raises(Conflict):
            payment.refund_application(clerk, application.number, "不要了")
        with pytest.raises(Conflict):
            payments.refund(clerk, order, "不要了")  # the receiver refuses: rolled back
    order.refresh_from_db()
    assert order.status == "paid"
    assert Application.objects.get(pk=application.pk).state == State.ISSUED


def test_a_refund_by_someone_who_may_not_refund_is_audited(
    applicant: User, handler: Handler, reviewer: User, issuer: User
) -> None:
    """A forged 退款 from the applicant, a reviewer or an issuer is refused and recorded as a
    refusal (the role check came before the audited block and left no trace)."""
    application = awaiting(applicant, handler)
    with at(FRIDAY):
        pay_online(application.number, applicant)
        for actor in (applicant, reviewer, issuer):
            with pytest.raises(Forbidden):
                payment.refund_application(actor, application.number, "不要了")
    assert Application.objects.get(pk=application.pk).state == State.PAID
    refused = AuditEvent.objects.filter(
        action="hall.application.refund", object_id=application.number, result="refused"
    )
    assert sorted(e.actor_id for e in refused) == sorted(
        a.pk for a in (applicant, reviewer, issuer)
    )
    assert {e.after["error"] for e in refused} == {"role_required"}


def test_a_counter_payment_by_someone_who_may_not_take_one_is_audited(
    applicant: User, handler: Handler, reviewer: User, issuer: User
) -> None:
    """Money recorded by the wrong role is refused and the refusal recorded (the role check
    came before the audited block, as it did for 退款)."""
    application = awaiting(applicant, handler)
    with at(FRIDAY):
        for actor in (applicant, reviewer, issuer):
            with pytest.raises(Forbidden):
                payment.take_counter_payment(actor, application.number, method="cash")
    refused = AuditEvent.objects.filter(
        action="hall.application.counter_payment", object_id=application.number, result="refused"
    )
    assert sorted(e.actor_id for e in refused) == sorted(
        a.pk for a in (applicant, reviewer, issuer)
    )


def test_counter_payments(applicant: User, handler: Handler, clerk: User, make_user) -> None:  # type: ignore[no-untyped-def]
    online = awaiting(applicant, handler)
    with at(FRIDAY):
        with pytest.raises(Conflict) as refused:
            payment.take_counter_payment(clerk, online.number, method="cash")
        assert refused.value.code == "not_onsite"
        onsite = counter_submitted(clerk, handler, FRIDAY)  # taken in cash already
        with pytest.raises(Conflict) as refused:
            payment.take_counter_payment(clerk, onsite.number, method="cash")
        assert refused.value.code == "application_state"
    paid = Payment.objects.get(order__object_id=onsite.number)
    assert (paid.method, paid.amount, paid.recorded_by) == ("cash", Decimal("150.00"), clerk)
    assert onsite.state == State.PAID and onsite.paid_at is not None


def test_counter_payment_needs_a_counter_method_and_a_clerk(
    clerk: User, handler: Handler, reviewer: User
) -> None:
    from certhall.hall import counter, documents
    from certhall.hall.items import ItemRequest

    with at(FRIDAY):
        draft = counter.open_application(
            clerk,
            point="kejiyuan",
            customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )
        services.add_item(clerk, draft.number, ItemRequest(business="new", cert_type="org"))
        for kind in documents.required(draft, list(draft.items.all())):
            documents.check_at_counter(clerk, draft.number, kind, original_seen=True)
        services.submit(clerk, draft.number)
        with pytest.raises(InvalidInput):
            payment.take_counter_payment(clerk, draft.number, method="alipay_online")
        with pytest.raises(Forbidden):
            payment.take_counter_payment(reviewer, draft.number, method="cash")
    assert Application.objects.get(pk=draft.pk).state == State.AWAITING_PAYMENT


def test_no_refund_of_a_renewal_whose_new_certificate_was_issued(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    clerk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A paid online renewal put back to ``approved`` after its new certificate was issued (a
    failure before the application recorded it): refunding it left the customer the money and
    a valid renewed certificate, its key on the Ukey and its file on 我的证书. Refused; the
    helper's retry finishes it."""
    old_key, old = software_certificate(admin, organization, profile="personal")

    with at(FRIDAY):
        number = renewal.start(applicant, old.serial, 2).number
        order = pay_online(number, applicant)
        request = issued_unrecorded(applicant, old_key, old, number, 2, monkeypatch)
        assert Application.objects.get(number=number).state == State.APPROVED
        renewed = Renewal.objects.get(old_certificate=old).new_certificate
        assert renewed is not None and renewed.status == Certificate.Status.VALID
        with pytest.raises(Conflict) as refused:
            payment.refund_application(clerk, number, "客户不要了")
        assert refused.value.code == "refund_certificate_issued"
        assert renewed.serial in refused.value.message
        with pytest.raises(Conflict):
            payments.refund(clerk, order, "客户不要了")  # the receiver refuses: rolled back
        order.refresh_from_db()
        assert order.status == "paid"
        assert Application.objects.get(number=number).state == State.APPROVED
        done = renewal.request_renewal(applicant, number, **request)  # type: ignore[arg-type]
    assert done.new_certificate == renewed
    assert Application.objects.get(number=number).state == State.ISSUED
    refusal = AuditEvent.objects.get(
        action="hall.application.refund", object_id=number, result="refused"
    )
    assert refusal.after["error"] == "refund_certificate_issued"


def test_no_refund_of_an_application_put_back_with_a_line_done(
    admin: User,
    hall_ca: object,
    organization: Organization,
    handler: Handler,
    clerk: User,
    reviewer: User,
) -> None:
    """An issuance put back to ``approved`` after its first line was done (a later line
    failed: "lines already done stay done") holds a valid certificate; refunding the whole
    order left the customer the certificate and the money. Refused, naming the certificate."""
    application = counter_submitted(clerk, handler, FRIDAY)
    _, issued = software_certificate(admin, organization, profile="personal")
    with at(FRIDAY):
        review.approve(reviewer, application.number)
        application.items.update(result_certificate=issued, done_at=FRIDAY)
        with pytest.raises(Conflict) as refused:
            payment.refund_application(clerk, application.number, "客户不办了")
    assert refused.value.code == "refund_certificate_issued"
    assert issued.serial in refused.value.message
    assert Application.objects.get(pk=application.pk).state == State.APPROVED
    assert Order.objects.get(object_id=application.number).status == "paid"
