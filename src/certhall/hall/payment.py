"""The hall and ``certhall.payments``: orders for applications, the paid / refunded signals,
counter payments and refunds.

``order_paid`` and ``order_refunded`` are sent inside the transaction that records the payment
or the refund; the receivers here move the application in that same transaction, so order and
application never disagree (a receiver that refuses rolls the payment back). Both receivers are
idempotent: the same order seen again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from certhall import clock, money
from certhall.accounts.models import User
from certhall.accounts.permissions import require_role
from certhall.accounts.services import system_actor
from certhall.audit import services as audit
from certhall.certlogin.models import Renewal
from certhall.errors import Conflict, InvalidInput, NotFound
from certhall.hall import access, workflow
from certhall.hall.models import REASON_LENGTH, Application, Business, CertType, Channel
from certhall.hall.states import APPLICATIONS, IN_REVIEW, State
from certhall.lifecycle import transition
from certhall.messages import text
from certhall.payments import services as payments
from certhall.payments.models import Order
from certhall.pki import identity
from certhall.rules import default_catalog

PURPOSE = "hall.application"
#: States after payment: a payment notification seen again in these changes nothing.
PAID_OR_LATER = frozenset(
    {
        State.PAID,
        State.RETURNED,
        State.RESUBMITTED,
        State.APPROVED,
        State.ISSUING,
        State.ISSUED,
        State.DELIVERED,
    }
)
#: A refund is possible until issuance starts; after that the certificate exists. An
#: application put back to ``approved`` may hold one already: :func:`require_nothing_done`.
REFUNDABLE = frozenset({State.PAID, State.RETURNED, State.RESUBMITTED, State.APPROVED})


def _lines(application: Application) -> list[tuple[str, object]]:
    lines: list[tuple[str, object]] = []
    for item in application.items.order_by("pk"):
        text = f"{Business(item.business).label} {CertType(item.cert_type).label}"
        if item.years:
            text += f" {item.years}年"
        lines.append((text[:100], item.fee))
    if application.postage:
        lines.append((default_catalog().postage.text, application.postage))
    return lines


def create_order_for(actor: User, application: Application) -> Order:
    """The order for what the application costs (items and postage as receipt lines)."""
    businesses = "、".join(
        dict.fromkeys(str(Business(i.business).label) for i in application.items.all())
    )
    return payments.create_order(
        actor,
        purpose=PURPOSE,
        object_id=application.number,
        organization=application.organization,
        amount=application.total,
        description=(
            f"{application.get_project_display()} {businesses}（申请 {application.number}）"
        ),
        items=_lines(application),
    )


def cancel_order_of(actor: User, application: Application) -> None:
    """The withdrawn application's pending order is cancelled too (caller's transaction)."""
    order = Order.objects.filter(reference=application.payment_reference).first()
    if order is not None and order.status == Order.Status.PENDING:
        payments.cancel_order(actor, order, f"申请 {application.number} 已取消")


def _application_of(order: Order) -> Application | None:
    if order.purpose != PURPOSE:
        return None
    application = Application.objects.select_for_update().filter(number=order.object_id).first()
    if application is None:
        raise NotFound(
            code="order_application_missing", reference=order.reference, number=order.object_id
        )
    return application


def on_order_paid(sender: object, order: Order, **kwargs: Any) -> None:
    """awaiting_payment -> paid, in the payment's transaction; the review clock starts."""
    application = _application_of(order)
    if application is None:
        return
    if application.payment_reference != order.reference:
        raise Conflict(code="order_mismatch", reference=order.reference, number=application.number)
    if application.state in PAID_OR_LATER:
        return  # seen before
    if order.amount != application.total:
        raise Conflict(
            code="amount_mismatch",
            what="订单金额",
            amount=money.grouped(order.amount),
            against=f"申请 {application.number} 的应付金额",
            expected=money.grouped(application.total),
        )
    payment = kwargs.get("payment")
    actor = getattr(payment, "recorded_by", None) or system_actor("payments")
    now = clock.now()
    transition(
        actor,
        APPLICATIONS,
        application,
        State.PAID,
        action="hall.application.paid",
        reason=text("history_paid", reference=order.reference),
        fields={"paid_at": now, **workflow.queue_entry_fields(application, now)},
        extra_after={"order": order.reference, "amount": str(order.amount)},
    )
    auto_approve_online_renewal(application)


def auto_approve_online_renewal(application: Application) -> None:
    """网厅续期: "付款成功后即可在线更新证书" — no document review; the renewal is signed by
    the certificate's own key and the rules were checked. The hall approves it itself."""
    if application.state not in IN_REVIEW or not application.is_online_renewal:
        return
    transition(
        workflow.hall_system(),
        APPLICATIONS,
        application,
        State.APPROVED,
        action="hall.application.approve",
        reason=text("history_online_renewal_approved"),
        fields={"approved_at": clock.now()},
    )


def require_nothing_done(application: Application) -> None:
    """A refund pays back a service not rendered. An issuance put back to ``approved`` after
    one of its lines was done keeps that line done (its certificate valid, a Ukey unlocked), and
    an online renewal put back after its new certificate was issued keeps that certificate valid
    (the helper's retry records it): refunded, the customer kept both. Refused."""
    for line in application.items.select_related("result_certificate").order_by("pk"):
        issued = line.result_certificate
        if issued is None and line.is_online_renewal and line.target_certificate_id:
            renewal = (
                Renewal.objects.filter(
                    old_certificate_id=line.target_certificate_id, new_certificate__isnull=False
                )
                .select_related("new_certificate")
                .first()
            )
            if renewal is not None and renewal.new_certificate is not None:
                raise Conflict(
                    code="refund_certificate_issued",
                    variant="renewal",
                    number=application.number,
                    serial=renewal.new_certificate.serial,
                )
        if issued is not None:
            raise Conflict(
                code="refund_certificate_issued", number=application.number, serial=issued.serial
            )
        if line.done_at is not None:
            raise Conflict(
                code="refund_certificate_issued",
                variant="done",
                number=application.number,
                business=Business(line.business).label,
            )


def on_order_refunded(sender: object, order: Order, **kwargs: Any) -> None:
    """paid (or returned, resubmitted, approved) -> refunded, in the refund's transaction."""
    application = _application_of(order)
    if application is None or application.payment_reference != order.reference:
        return
    if application.state == State.REFUNDED:
        return
    if application.state not in REFUNDABLE:
        raise Conflict(
            code="application_state",
            variant="refund_ended",
            number=application.number,
            state=application.get_state_display(),
        )
    require_nothing_done(application)
    actor = kwargs.get("actor") or system_actor("payments")
    transition(
        actor,
        APPLICATIONS,
        application,
        State.REFUNDED,
        action="hall.application.refund",
        reason=str(kwargs.get("reason") or ""),
        fields={"closed_at": clock.now()},
        extra_after={"order": order.reference},
    )


def _order(application: Application) -> Order:
    order = Order.objects.filter(reference=application.payment_reference).first()
    if order is None:
        raise Conflict(code="no_order", number=application.number)
    return order


def take_counter_payment(
    actor: User, number: str, *, method: str, voucher: str | None = None
) -> Application:
    """The clerk takes the fee of a counter application (cash, POS, WeChat or Alipay at the
    counter); the paid signal moves the application on."""
    with audit.refusals_recorded(
        actor, "hall.application.counter_payment", object_type="application", object_id=number
    ):
        require_role(actor, *access.COUNTER_ROLES)
        application = access.load(actor, number)
        access.require_staff(actor, application, *access.COUNTER_ROLES)
        if application.channel != Channel.ONSITE:
            raise Conflict(code="not_onsite", variant="payment")
        if application.state != State.AWAITING_PAYMENT:
            raise Conflict(
                code="application_state",
                variant="collect",
                number=application.number,
                state=application.get_state_display(),
            )
        order = _order(application)
        payments.record_counter_payment(
            actor, order, method=method, amount=order.amount, voucher=voucher
        )
    application.refresh_from_db()
    return application


def refund_application(actor: User, number: str, reason: str) -> Application:
    """Refund a paid application that will not be issued (returned and given up, withdrawn);
    the refunded signal closes it."""
    with audit.refusals_recorded(
        actor, "hall.application.refund", object_type="application", object_id=number
    ):
        require_role(actor, *access.REFUND_ROLES)
        if not reason.strip():
            raise InvalidInput(code="refund_reason_missing")
        reason = identity.visible_text(reason.strip(), REASON_LENGTH, "退款原因")
        with transaction.atomic():
            application = access.load(actor, number, lock=True)
            access.require_staff(actor, application, *access.REFUND_ROLES)
            if application.state not in REFUNDABLE:
                raise Conflict(
                    code="application_state",
                    variant="refund",
                    number=application.number,
                    state=application.get_state_display(),
                )
            require_nothing_done(application)
            order = _order(application)
            # The clerk closes the application; the refunded signal then finds it closed.
            transition(
                actor,
                APPLICATIONS,
                application,
                State.REFUNDED,
                action="hall.application.refund",
                reason=reason,
                fields={"closed_at": clock.now()},
                extra_after={"order": order.reference},
            )
            payments.refund(actor, order, reason)
    application.refresh_from_db()
    return application
