"""Payment services: orders, counter payments, refunds, cancellation, who sees what.

Every service takes an explicit actor, checks roles and the order's organisation or provider,
changes the database in one transaction together with its audit event, and records refusals
(``refusals_recorded``, outside the transaction). Recording a payment (:func:`apply_payment`)
is shared by the three gateways: the counter here, bank reconciliation
(``certhall.payments.reconcile``) and the online notification (``certhall.payments.notify``).

``order_paid`` / ``order_refunded`` (``certhall.payments.signals``) are sent inside that
transaction: a receiver that raises undoes the payment or the refund.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from certhall import clock, crashpoints, money
from certhall.accounts.models import Organization, Role, User
from certhall.accounts.permissions import require_organization, require_provider, require_role
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.errors import (
    CerthallError,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
    about,
    quoted,
)
from certhall.lifecycle import transition
from certhall.payments import notices, refund_state
from certhall.payments.lifecycle import COUNTER_METHODS, ORDERS, Channel, Method, Status
from certhall.payments.models import LIVE_STATUSES, REFERENCE_LENGTH, Order, Payment
from certhall.payments.signals import order_paid, order_refunded, payment_starting
from certhall.pki import identity
from certhall.rules import local

#: Who may create an order: the organisation itself (online) or the counter.
CREATE_ROLES = (Role.APPLICANT, Role.CLERK, Role.CA_ADMIN)
#: Counter payments are taken by clerks (and CA administrators).
COUNTER_ROLES = (Role.CLERK, Role.CA_ADMIN)
REFUND_ROLES = (Role.CLERK, Role.CA_ADMIN)
CANCEL_ROLES = (Role.APPLICANT, Role.CLERK, Role.CA_ADMIN)

REFERENCE_PREFIX = "ZF"
PURPOSE = re.compile(r"[a-z][a-z0-9_.-]{0,63}")
MAX_ITEMS = 20
#: The largest amount an order may have (a certificate costs a few hundred yuan).
MAX_AMOUNT = money.Money(100_000_000)


class AlreadyRecorded(Conflict):
    """This gateway transaction was recorded before (a notification or statement line again)."""

    code = "payment_already_recorded"

    def __init__(self, *, payment: Payment, **params: Any) -> None:
        super().__init__(**params)
        self.payment = payment


# --- references ----------------------------------------------------------------------------


def normalise_reference(text: str) -> str:
    """An order number as printed (``ZF20261120-000123``); blanks, case and a missing hyphen
    are forgiven, full-width characters folded (``fold_width``). InvalidInput otherwise."""
    reference = identity.dated_number(str(text or ""), REFERENCE_PREFIX)
    if reference is None:
        raise InvalidInput(code="bad_reference", text=quoted(text, REFERENCE_LENGTH))
    return reference


def _next_reference(day: date) -> str:
    prefix = f"{REFERENCE_PREFIX}{day:%Y%m%d}-"
    last = (
        Order.objects.filter(reference__startswith=prefix)
        .order_by("-reference")
        .values_list("reference", flat=True)
        .first()
    )
    number = int(last[len(prefix) :]) + 1 if last else 1
    if number > 999_999:
        raise Conflict(code="order_numbers_used_up")
    return f"{prefix}{number:06d}"


# --- who sees what: Order.objects.visible_to (certhall.accounts.visibility) -----------------


def find_order(reference: str) -> Order:
    """The order with this number, without a permission check (gateways, reconciliation)."""
    order = (
        Order.objects.select_related("organization", "provider")
        .filter(reference=normalise_reference(reference))
        .first()
    )
    if order is None:
        raise _order_missing(reference)
    return order


def _order_missing(reference: str) -> NotFound:
    return NotFound(code="order_not_found", reference=quoted(reference, REFERENCE_LENGTH))


def get_order(actor: User, reference: str) -> Order:
    order = find_order(reference)
    Order.objects.require_visible(actor, order, missing=_order_missing(reference))
    return order


def require_payable(order: Order) -> None:
    """Refuse starting the payment of ``order`` when what it pays for refuses it
    (``signals.payment_starting``'s receivers raise). Read only; the order page, the API's
    payment options and the cashier ask it, a gateway's notification never does."""
    if order.status == Status.PENDING:
        payment_starting.send(sender=Order, order=order)


def payment_refusal(order: Order) -> str:
    """Why ``order`` cannot be paid now (:func:`require_payable`), or ""."""
    try:
        require_payable(order)
    except CerthallError as refused:
        return refused.message
    return ""


def list_orders(actor: User, *, status: str | None = None, limit: int = 200) -> list[Order]:
    query = Order.objects.visible_to(actor)
    if status is not None:
        if status not in Status.values:
            raise InvalidInput(
                code="order_status_unknown", status=status, choices=", ".join(Status.values)
            )
        query = query.filter(status=status)
    return list(query.select_related("organization").order_by("-created_at", "-pk")[:limit])


def payment_of(order: Order) -> Payment | None:
    return order.payments.first()


# --- orders --------------------------------------------------------------------------------


def order_text(value: object, what: str, limit: int) -> str:
    """A text finance must give (a reason, a reference, a note), named ``what`` in its
    refusals: one line, nothing invisible (``pki.identity.refuse_invisible``)."""
    text = str(value or "").strip()
    if not text:
        raise InvalidInput(code="order_text_empty", what=what)
    return identity.visible_text(text, limit, what)


def _items(
    items: Sequence[Mapping[str, object] | tuple[str, object]] | None,
    description: str,
    amount: Decimal,
) -> list[dict[str, str]]:
    """The receipt lines; they must add up to the order's amount."""
    if items is None:
        return [{"description": description, "amount": str(amount)}]
    if not items or len(items) > MAX_ITEMS:
        raise InvalidInput(code="order_items_count", limit=MAX_ITEMS)
    lines = []
    total = money.Money(0)
    for item in items:
        text, value = (
            (item.get("description"), item.get("amount"))
            if isinstance(item, Mapping)
            else (item[0], item[1])
        )
        line_amount = money.parse(value, what="明细金额")
        lines.append({"description": order_text(text, "明细名称", 100), "amount": str(line_amount)})
        total += line_amount
    if total.yuan != amount:
        raise InvalidInput(
            code="order_items_total_mismatch",
            total=money.grouped(total),
            amount=money.grouped(amount),
        )
    return lines


def _order_amount(value: object) -> Decimal:
    """An order's amount: positive, at most ``MAX_AMOUNT``; Decimal yuan for the database."""
    amount = money.parse(value, what="订单金额", negative=True)
    if amount.fen <= 0:
        raise InvalidInput(code="amount_not_positive")
    if amount > MAX_AMOUNT:
        raise InvalidInput(code="order_amount_too_large", limit=money.grouped(MAX_AMOUNT))
    return amount.yuan


def _reuse(order: Order, organization: Organization, amount: Decimal) -> Order:
    """A live order for the same object: give it back if it is the same bill, else refuse."""
    if order.status == Status.PAID:
        raise Conflict(code="order_paid", reference=order.reference)
    if order.organization_id != organization.pk or order.amount != amount:
        raise Conflict(
            code="order_pending_exists",
            reference=order.reference,
            amount=money.grouped(order.amount),
        )
    return order


def create_order(
    actor: User,
    *,
    purpose: str,
    object_id: str,
    organization: Organization,
    amount: Decimal,
    description: str,
    items: Sequence[Mapping[str, object] | tuple[str, object]] | None = None,
) -> Order:
    """An order for ``organization`` to pay ``amount`` yuan for ``purpose``/``object_id``.

    Free businesses need no order: an amount of zero is refused (``InvalidInput``), the caller
    goes straight on. One live (pending or paid) order per ``purpose``/``object_id``: asking
    again for the same bill returns the pending order (idempotent); a different amount while
    one is pending, or any new order once it is paid, is a Conflict. ``items`` (description,
    amount) are the receipt's lines and must add up to ``amount``; by default one line.
    """
    require_role(actor, *CREATE_ROLES)
    with audit.refusals_recorded(
        actor, "payments.order.create", object_type="order", object_id=f"{purpose}:{object_id}"
    ):
        value = _order_amount(amount)
        purpose = str(purpose or "").strip()
        if not PURPOSE.fullmatch(purpose):
            raise InvalidInput(code="order_purpose", purpose=purpose)
        object_id = order_text(object_id, "业务编号", 64)
        description = order_text(description, "订单说明", 200)
        lines = _items(items, description, value)
        if actor.role == Role.APPLICANT:
            require_organization(actor, organization.pk)
            provider_id = home_provider().pk
        elif actor.provider_id is None:
            raise Forbidden(code="order_staff_only")
        else:
            provider_id = actor.provider_id
        for _attempt in range(5):
            live = Order.objects.filter(
                purpose=purpose, object_id=object_id, status__in=LIVE_STATUSES
            ).first()
            if live is not None:
                return _reuse(live, organization, value)
            now = clock.now()
            try:
                with transaction.atomic():
                    order = Order.objects.create(
                        reference=_next_reference(local(now).date()),
                        purpose=purpose,
                        object_id=object_id,
                        organization=organization,
                        provider_id=provider_id,
                        amount=value,
                        description=description,
                        items=lines,
                        created_by=actor,
                        created_at=now,
                    )
                    audit.record(
                        actor,
                        "payments.order.create",
                        object_type="order",
                        object_id=order.reference,
                        after={
                            **order.snapshot(),
                            "purpose": purpose,
                            "object_id": object_id,
                            "description": description,
                        },
                    )
                return order
            except IntegrityError:
                continue  # another order took the number (or the object) meanwhile: look again
        raise Conflict(code="order_reference_busy")


def apply_payment(
    actor: User,
    order: Order,
    *,
    channel: Channel,
    method: Method,
    transaction_id: str,
    amount: Decimal,
    received_at: datetime,
    source_sha256: str = "",
    details: Mapping[str, Any] | None = None,
) -> Payment:
    """Record that ``amount`` arrived for ``order`` through ``channel``: the one place a payment
    is recorded. Must run inside ``transaction.atomic()``; the order row is locked first, so
    two notifications of one payment give one Payment (the other gets ``AlreadyRecorded``).

    Refused: an order that is not pending (Conflict), the same gateway transaction recorded
    for another order (AlreadyRecorded), an amount that is not the order's (RuleViolation
    ``amount_mismatch``).
    Sends ``order_paid`` before returning; a receiver that raises undoes everything.
    """
    locked = Order.objects.select_for_update().get(pk=order.pk)
    if locked.status != Status.PENDING:
        raise ORDERS.refusal(locked, Status.PAID, code="order_not_payable")
    existing = Payment.objects.filter(channel=channel, transaction_id=transaction_id).first()
    if existing is not None:
        raise AlreadyRecorded(
            payment=existing, transaction_id=transaction_id, reference=existing.order.reference
        )
    if amount != locked.amount:
        raise RuleViolation(
            code="amount_mismatch",
            what="收款金额",
            amount=money.grouped(amount),
            against=f"订单 {locked.reference} 的金额",
            expected=money.grouped(locked.amount),
        )
    now = clock.now()
    try:
        with transaction.atomic():
            payment = Payment.objects.create(
                order=locked,
                channel=channel,
                method=method,
                transaction_id=transaction_id,
                amount=amount,
                received_at=received_at,
                recorded_at=now,
                recorded_by=actor,
                source_sha256=source_sha256,
                details=dict(details or {}),
            )
    except IntegrityError:
        raise Conflict(code="payment_concurrent", reference=locked.reference) from None
    transition(
        actor,
        ORDERS,
        locked,
        Status.PAID,
        fields={"method": method, "paid_at": now},
        extra_after={
            "channel": channel,
            "transaction_id": transaction_id,
            "payment": payment.pk,
            "source_sha256": source_sha256,
        },
    )
    order.refresh_from_db()
    crashpoints.reached("payments.recorded")  # the order paid, the application not yet moved on
    order_paid.send(sender=Order, order=order, payment=payment, actor=actor)
    return payment


def record_counter_payment(
    actor: User, order: Order, *, method: str, amount: Decimal, voucher: str | None = None
) -> Payment:
    """A clerk took the money at the counter: cash, POS, or the customer scanned the counter's
    WeChat / Alipay code. ``amount`` must be the order's amount exactly. ``voucher`` is the POS
    slip or mobile payment transaction number when there is one (a voucher is used once)."""
    require_role(actor, *COUNTER_ROLES)
    with audit.refusals_recorded(
        actor, "payments.counter.record", object_type="order", object_id=order.reference
    ):
        if method not in COUNTER_METHODS:
            choices = "、".join(f"{m.value}（{m.label}）" for m in COUNTER_METHODS)
            raise InvalidInput(code="counter_method", choices=choices)
        value = money.parse(amount, what="收款金额", negative=True).yuan
        require_provider(actor, order.provider_id)
        transaction_id = (
            order_text(voucher, "凭证号", 64)
            if voucher is not None
            else f"counter-{order.reference}"
        )
        with transaction.atomic():
            return apply_payment(
                actor,
                order,
                channel=Channel.COUNTER,
                method=Method(method),
                transaction_id=transaction_id,
                amount=value,
                received_at=clock.now(),
                details={"voucher": voucher or ""},
            )


def refund(actor: User, order: Order, reason: str) -> Order:
    """退款: a paid order becomes refunded (final) and ``order_refunded`` is sent.

    Bookkeeping: the money itself goes back the way it came (cash at the counter, a transfer
    back to the payer's account, the gateway's refund for online payments).
    """
    require_role(actor, *REFUND_ROLES)
    with audit.refusals_recorded(
        actor, "payments.order.refund", object_type="order", object_id=order.reference
    ):
        text = order_text(reason, "退款原因", 200)
        require_provider(actor, order.provider_id)
        with transaction.atomic():
            order.refresh_from_db()
            now = clock.now()
            fields: dict[str, object] = {"refunded_at": now, "refund_reason": text}
            if order.method in COUNTER_METHODS:  # given back over the counter there and then
                fields |= {"refund_sent_at": now, "refund_sent_by": actor}
            transition(
                actor, ORDERS, order, Status.REFUNDED, fields=fields, extra_after={"reason": text}
            )
            crashpoints.reached("payments.refunded")  # the order refunded, not its application
            order_refunded.send(sender=Order, order=order, reason=text, actor=actor)
    return order


def refunds_owed(actor: User) -> list[Order]:
    """Refunded orders whose money finance has still to send back (bank or gateway), oldest
    first."""
    require_role(actor, *REFUND_ROLES)
    owed = Order.objects.visible_to(actor).filter(
        status=Status.REFUNDED, refund_sent_at__isnull=True
    )
    return list(owed.select_related("organization").order_by("refunded_at", "pk"))


def refunds_sent(actor: User, *, limit: int = 20) -> list[Order]:
    """The refunds last sent back by finance or through a gateway (not the counter's, handed
    back on the spot), newest first."""
    require_role(actor, *REFUND_ROLES)
    sent = (
        Order.objects.visible_to(actor)
        .filter(status=Status.REFUNDED, refund_sent_at__isnull=False)
        .exclude(method__in=COUNTER_METHODS)
    )
    return list(
        sent.select_related("organization", "refund_sent_by").order_by("-refund_sent_at", "-pk")[
            :limit
        ]
    )


def refund_alerts(actor: User, *, limit: int = 50) -> list[Order]:
    """Orders the gateway refunded after finance had recorded them as sent back by hand (the
    customer may have had the money twice), not yet marked handled, newest first."""
    require_role(actor, *REFUND_ROLES)
    alerts = Order.objects.visible_to(actor).filter(
        refund_duplicate_at__isnull=False, refund_duplicate_handled_at__isnull=True
    )
    return list(
        alerts.select_related("organization", "refund_sent_by").order_by(
            "-refund_duplicate_at", "-pk"
        )[:limit]
    )


def record_refund_sent(actor: User, reference: str, sent_reference: str) -> Order:
    """Finance sent a refunded order's money back (a transfer to the payer, the gateway's
    refund): recorded once, with the bank's or gateway's reference.

    Refused while the order's automatic refund through its gateway is pending or under way
    (``refund_state.require_hand_allowed``, checked with the order row locked, the lock the jobs'
    claim of a call waits for): the gateway is giving that money back already."""
    require_role(actor, *REFUND_ROLES)
    with audit.refusals_recorded(
        actor, "payments.order.refund_sent", object_type="order", object_id=reference[:32]
    ):
        order = get_order(actor, reference)
        require_provider(actor, order.provider_id)
        with about("sent_reference"):  # finance's row form's (web.refused)
            text = order_text(sent_reference, "退回流水号", 64)
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            refund_state.require_hand_allowed(locked, clock.now())
            extra = {"automatic": "stopped"} if locked.refund_stopped_at else {}
            if not extra and refund_state.automatic(locked):
                extra = {"automatic": "exhausted"}
            return _mark_refund_sent(actor, locked, text, extra, only=refund_state.not_calling())


def refund_sent_by_gateway(
    actor: User, order: Order, sent_reference: str, *, gateway: str, refund_no: str
) -> Order:
    """The gateway refunded ``order``'s online payment (``certhall.payments.refunding``): the
    same record as finance's, by the gateway's system account, with the gateway's refund id."""
    if not actor.is_system or actor.username != f"system-gateway-{gateway}":
        raise Forbidden(code="refund_gateway_only", gateway=gateway)
    with audit.refusals_recorded(
        actor, "payments.order.refund_sent", object_type="order", object_id=order.reference
    ):
        extra = {"gateway": gateway, "refund_no": refund_no}
        return _mark_refund_sent(actor, order, order_text(sent_reference, "退回流水号", 64), extra)


def _mark_refund_sent(
    actor: User, order: Order, text: str, extra: Mapping[str, str], *, only: Q | None = None
) -> Order:
    with transaction.atomic():
        owed = Order.objects.filter(
            pk=order.pk, status=Status.REFUNDED, refund_sent_at__isnull=True
        )
        if only is not None:  # finance's: never over a call of the jobs' (a second guard)
            owed = owed.filter(only)
        sent = owed.update(
            refund_sent_at=clock.now(),
            refund_sent_by=actor,
            refund_sent_reference=text,
            refund_last_error="",
            refund_retry_at=None,
            refund_calling_at=None,
        )
        if not sent:
            raise Conflict(code="refund_not_owed", reference=order.reference)
        order.refresh_from_db()
        audit.record(
            actor,
            "payments.order.refund_sent",
            object_type="order",
            object_id=order.reference,
            after={
                "amount": str(order.amount),
                "method": order.method,
                "reference": text,
                **extra,
            },
        )
        notices.refund_sent(actor, order, by_gateway="gateway" in extra)
    return order


def cancel_order(actor: User, order: Order, reason: str = "") -> Order:
    """A pending order nobody will pay (the application was withdrawn, the bill was wrong)."""
    require_role(actor, *CANCEL_ROLES)
    with audit.refusals_recorded(
        actor, "payments.order.cancel", object_type="order", object_id=order.reference
    ):
        if actor.role == Role.APPLICANT:
            require_organization(actor, order.organization_id)
        else:
            require_provider(actor, order.provider_id)
        text = identity.visible_text(str(reason or "").strip(), 200, "取消原因")
        with transaction.atomic():
            order.refresh_from_db()
            transition(
                actor,
                ORDERS,
                order,
                Status.CANCELLED,
                fields={"cancelled_at": clock.now()},
                extra_after={"reason": text},
            )
    return order
