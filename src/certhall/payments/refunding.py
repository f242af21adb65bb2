"""Refunds of online payments sent back through the gateway, by the jobs.

Every round (``certhall.jobs.run_due_jobs``, beside the sandbox's ``redeliver_due``), each refunded
order paid online (支付宝 / 微信支付网上支付) whose money has not gone back yet is refunded
through its gateway (:meth:`certhall.payments.gateways.OnlineGateway.refund`) with a refund
number derived from the order (``refund_state.refund_no``), then recorded as finance's own record is
(``services.refund_sent_by_gateway``: ``refund_sent_at``, the gateway's system account, the
gateway's refund id, audited ``payments.order.refund_sent``).

Why no ``refunding`` state committed before the call: the refund number is the order's, and the
gateway answers the same number with the same refund. A process killed between the gateway's
refund and the order's record (crashpoint ``payments.gateway_refunded``) leaves the order owed;
the next round asks again with the same number and records the refund made the first time.

A refusal or a failure is counted on the order (``refund_attempts``, ``refund_last_error``) and
tried again after :data:`RETRY_DELAYS`, at most ``refund_state.MAX_ATTEMPTS`` calls; finance
sees both on its page and records the refund by hand once the calls are used up or after
stopping them (below).
Bank transfers stay finance's to send. With no refund client (the sandbox off and no real
client plugged in, ``gateways.refund_client``) nothing is called: finance records them all.

**One refund, never two** (12-06). While an order's automatic refund is pending (calls left, or one
under way), finance's hand record is refused (``refund_state.require_hand_allowed``, called by
``services.record_refund_sent`` with the order row locked): a refund finance sends back in the
gateway's back office beside the jobs' would be a second one. Finance may record by hand once the
calls are exhausted, or after stopping the automatic refund (:func:`stop`, audited, refused while a
call is under way). Each call is claimed on the order row first (``refund_calling_at``, a
conditional UPDATE the hand record's lock serialises with), so the job and the hand can never both
go ahead. Should the gateway still answer a refund for an order finance recorded by hand (a call
older than ``refund_state.CALL_LEASE`` whose answer came late), the jobs raise an alert on the order
(``refund_duplicate_*``, finance's page, audited ``payments.order.refund_duplicate``), which finance
marks handled with a note (:func:`alert_handled`). Finance can ask for a failed refund again at once
(:func:`retry_now`, audited, rate-limited per order).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet

from certhall import clock, crashpoints, money, ratelimit
from certhall.accounts.models import User
from certhall.accounts.permissions import require_provider, require_role
from certhall.audit import services as audit
from certhall.errors import CerthallError, Conflict, about
from certhall.payments import gateways, refund_state, services
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order

log = logging.getLogger(__name__)

#: How long to wait after the n-th failed call (then the last one, again and again).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
)
#: Orders per round.
BATCH = 20
#: 立即重试: at most 3 a quarter of an hour per order (each is a call to the gateway).
RETRY_LIMIT = ratelimit.Limit("refund_retry_now", 3, 900, "rate_limited_refund_retry")


def due(now: datetime) -> QuerySet[Order]:
    """Refunded orders paid online, not sent back nor stopped, nothing under way, whose next
    call is due (a lost call's answer is asked for even after the last attempt)."""
    return Order.objects.filter(
        Q(refund_retry_at__isnull=True) | Q(refund_retry_at__lte=now),
        Q(refund_attempts__lt=refund_state.MAX_ATTEMPTS) | Q(refund_calling_at__isnull=False),
        refund_state.not_calling(now),
        status=Status.REFUNDED,
        refund_sent_at__isnull=True,
        refund_stopped_at__isnull=True,
        method__in=refund_state.automatic_methods(),
    ).order_by("refunded_at", "pk")


def send_due(now: datetime) -> int:
    """Send the refunds due through their gateways; how many were sent (and recorded)."""
    sent = 0
    for order in list(due(now)[:BATCH]):
        if send(order, now):
            sent += 1
    return sent


def send(order: Order, now: datetime) -> bool:
    """One order's refund through its gateway, then its record; False when the gateway refused
    or failed (counted on the order, retried later)."""
    gateway = gateways.for_method(order.method)
    if gateway is None:
        return False
    actor = gateway.actor()
    number = refund_state.refund_no(order)
    # Claimed and counted before the call, one conditional UPDATE: a process killed during it
    # leaves the attempt and the claim on record; finance's hand record (which locks the row)
    # is refused while the claim stands; an order sent back or stopped meanwhile (finance,
    # another round) is not asked for again, nor one another round is calling for.
    claim = Order.objects.filter(
        refund_state.not_calling(now),
        pk=order.pk,
        status=Status.REFUNDED,
        refund_sent_at__isnull=True,
        refund_stopped_at__isnull=True,
    )
    if not claim.update(refund_attempts=F("refund_attempts") + 1, refund_calling_at=now):
        return False
    order.refresh_from_db()
    try:
        with audit.refusals_recorded(
            actor, "payments.gateway.refund", object_type="order", object_id=order.reference
        ):
            try:
                refund = gateway.refund(order, number, money.parse(order.amount).fen)
            except CerthallError:
                raise
            except Exception as error:  # the network, a client's bug: tried again later
                log.exception("the %s refund of order %s failed", gateway.name, order.reference)
                # audited as a refusal is: a call without an answer may have refunded
                raise Conflict(code="gateway_refund_failed", error=type(error).__name__) from error
    except CerthallError as error:
        _failed(order, now, error.message)
        return False
    crashpoints.reached("payments.gateway_refunded")  # refunded at the gateway, not recorded
    try:
        services.refund_sent_by_gateway(
            actor, order, refund.reference, gateway=gateway.name, refund_no=number
        )
    except CerthallError as error:  # recorded meanwhile: by another round, or by hand
        _release(order, now)
        order.refresh_from_db()
        if order.refund_sent_at is not None and order.refund_sent_by_id != actor.pk:
            _duplicate(actor, order, refund, number)
        else:
            log.warning("order %s: refunded by %s (%s) but not recorded: %s",
                        order.reference, gateway.name, refund.reference, error)  # fmt: skip
        return False
    log.info("order %s refunded through %s: %s", order.reference, gateway.name, refund.reference)
    return True


def _release(order: Order, now: datetime, **fields: object) -> None:
    """The call's answer is in: its claim (and only its own) is lifted."""
    Order.objects.filter(pk=order.pk, refund_calling_at=now).update(
        refund_calling_at=None, **fields
    )


def _failed(order: Order, now: datetime, message: str) -> None:
    delay = RETRY_DELAYS[min(order.refund_attempts, len(RETRY_DELAYS)) - 1]
    _release(order, now, refund_last_error=message[:200], refund_retry_at=now + delay)
    log.warning("order %s: gateway refund refused or failed: %s", order.reference, message)


def _duplicate(actor: User, order: Order, refund: gateways.GatewayRefund, number: str) -> None:
    """The gateway refunded an order finance had recorded as sent back by hand: the customer
    may have the money twice. Kept on the order for finance's page, audited, logged."""
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(
            refund_duplicate_reference=refund.reference[:64], refund_duplicate_at=clock.now()
        )
        sent_by = order.refund_sent_by
        audit.record(
            actor,
            "payments.order.refund_duplicate",
            object_type="order",
            object_id=order.reference,
            after={
                "amount": str(refund.amount.yuan),
                "gateway_reference": refund.reference,
                "refund_no": number,
                "recorded_reference": order.refund_sent_reference,
                "recorded_by": sent_by.username if sent_by else "",
            },
        )
    log.error(
        "order %s: refunded by the gateway (%s, %s) after finance recorded it by hand (%s): "
        "the customer may have been refunded twice",
        order.reference,
        refund.reference,
        number,
        order.refund_sent_reference,
    )


def alert_handled(actor: User, reference: str, note: str) -> Order:
    """已处理 of a refund-twice alert: finance looked into it (asked the customer for the
    money back, found the hand record wrong) and says so in a note (required, at most 200
    characters), as it does for a daily bill's discrepancy; the alert leaves its page. Audited
    ``payments.order.refund_duplicate_handled``; refused with no alert, or once handled."""
    require_role(actor, *services.REFUND_ROLES)
    with audit.refusals_recorded(
        actor,
        "payments.order.refund_duplicate_handled",
        object_type="order",
        object_id=reference[:32],
    ):
        order = services.get_order(actor, reference)
        require_provider(actor, order.provider_id)
        with about("note"):  # finance's row forms' fields (web.refused)
            text = services.order_text(note, "处理说明", 200)
        with transaction.atomic():
            locked = Order.objects.select_for_update().get(pk=order.pk)
            if locked.refund_duplicate_at is None:
                raise Conflict(code="refund_alert_none", reference=locked.reference)
            if locked.refund_duplicate_handled_at is not None:
                raise Conflict(code="refund_alert_handled", reference=locked.reference)
            Order.objects.filter(pk=locked.pk).update(
                refund_duplicate_handled_at=clock.now(),
                refund_duplicate_handled_by=actor,
                refund_duplicate_note=text,
            )
            audit.record(
                actor,
                "payments.order.refund_duplicate_handled",
                object_type="order",
                object_id=locked.reference,
                after={
                    "note": text,
                    "gateway_reference": locked.refund_duplicate_reference,
                    "recorded_reference": locked.refund_sent_reference,
                },
            )
            locked.refresh_from_db()
    return locked


# --- finance's hand on the automatic refund ------------------------------------------------


def stop(actor: User, reference: str, reason: str) -> Order:
    """Finance stops ``reference``'s automatic refund to send the money back itself (the
    gateway keeps refusing, the payer's account is closed): audited with the reason. Refused
    while a call is under way (its answer could still be a refund)."""
    require_role(actor, *services.REFUND_ROLES)
    with audit.refusals_recorded(
        actor, "payments.order.refund_auto_stop", object_type="order", object_id=reference[:32]
    ):
        order = services.get_order(actor, reference)
        require_provider(actor, order.provider_id)
        with about("reason"):
            why = services.order_text(reason, "停止原因", 200)
        now = clock.now()
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=order.pk)
            _require_stoppable(order, now)
            Order.objects.filter(pk=order.pk).update(
                refund_stopped_at=now, refund_stopped_by=actor, refund_stop_reason=why
            )
            audit.record(
                actor,
                "payments.order.refund_auto_stop",
                object_type="order",
                object_id=order.reference,
                after={
                    "reason": why,
                    "refund_no": refund_state.refund_no(order),
                    "attempts": order.refund_attempts,
                    "last_error": order.refund_last_error,
                    # a call whose answer never came: finance must look in the back office
                    "lost_call": order.refund_calling_at is not None,
                },
            )
            order.refresh_from_db()
    return order


def _require_stoppable(order: Order, now: datetime) -> None:
    if order.status != Status.REFUNDED or order.refund_sent_at is not None:
        raise Conflict(code="refund_not_owed", reference=order.reference)
    if not refund_state.automatic(order):
        raise Conflict(code="refund_not_automatic", reference=order.reference)
    if order.refund_stopped_at is not None:
        raise Conflict(code="refund_auto_stopped", reference=order.reference)
    if refund_state.calling(order, now):
        raise refund_state.refusal("refund_gateway_calling", order)


def retry_now(actor: User, reference: str) -> Order:
    """立即重试: finance asks the gateway again at once for an order whose automatic refund
    was refused or failed (after topping up the merchant balance, say); even after the last
    attempt. The same refund number, the same path as the jobs'; audited, then the call's own
    outcome is audited as the jobs' is. Conflict ``gateway_refund_retry_failed`` when the
    gateway refused again."""
    require_role(actor, *services.REFUND_ROLES)
    with audit.refusals_recorded(
        actor, "payments.gateway.refund_retry", object_type="order", object_id=reference[:32]
    ):
        order = services.get_order(actor, reference)
        require_provider(actor, order.provider_id)
        now = clock.now()
        _require_stoppable(order, now)  # the same order a retry may ask the gateway about
        if not refund_state.failed(order, now):
            raise Conflict(code="refund_retry_not_failed", reference=order.reference)
        ratelimit.check(RETRY_LIMIT, order.reference, now=now)
        with transaction.atomic():
            audit.record(
                actor,
                "payments.gateway.refund_retry",
                object_type="order",
                object_id=order.reference,
                after={
                    "refund_no": refund_state.refund_no(order),
                    "attempts": order.refund_attempts,
                    "last_error": order.refund_last_error,
                },
            )
    sent = send(order, now)
    order.refresh_from_db()
    if sent or (order.refund_sent_at is not None and refund_state.sent_by_gateway(order)):
        return order  # (or a round of the jobs was quicker)
    if order.refund_sent_at is not None:  # finance's hand record was quicker: no call made
        raise Conflict(code="refund_not_owed", reference=order.reference)
    if refund_state.calling(order, now):  # a round of the jobs took it first: its answer will tell
        raise refund_state.refusal("refund_gateway_calling", order)
    raise Conflict(
        code="gateway_refund_retry_failed",
        reference=order.reference,
        error=order.refund_last_error,
    )
