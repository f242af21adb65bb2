"""Refunds of online payments sent back through the gateway, by the jobs.

Every round (``ca.jobs.run_due_jobs``, beside the sandbox's ``redeliver_due``), each refunded
order paid online (支付宝 / 微信支付网上支付) whose money has not gone back yet is refunded
through its gateway (:meth:`certhall.payments.gateways.OnlineGateway.refund`) with a refund
number derived from the order (:func:`refund_no`), then recorded as finance's own record is
(``services.refund_sent_by_gateway``: ``refund_sent_at``, the gateway's system account, the
gateway's refund id, audited ``payments.order.refund_sent``).

Why no ``refunding`` state committed before the call: the refund number is the order's, and the
gateway answers the same number with the same refund. A process killed between the gateway's
refund and the order's record (crashpoint ``payments.gateway_refunded``) leaves the order owed;
the next round asks again with the same number and records the refund made the first time.

A refusal or a failure is counted on the order (``refund_attempts``, ``refund_last_error``) and
tried again after :data:`RETRY_DELAYS`, at most :data:`MAX_ATTEMPTS` calls; finance sees both on
its page and can record the refund by hand at any time (a gateway that refuses it for good).
Bank transfers stay finance's to send. With no refund client (the sandbox off and no real
client plugged in, ``gateways.refund_client``) nothing is called: finance records them all.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db.models import F, Q, QuerySet

from certhall import crashpoints, money
from certhall.audit import services as audit
from certhall.errors import CerthallError
from certhall.messages import text
from certhall.payments import gateways, services
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
#: Calls in all; then the order waits for finance (its page says so).
MAX_ATTEMPTS = 10
#: Orders per round.
BATCH = 20
#: What a refund number starts with (退款), followed by the order's date and sequence.
REFUND_PREFIX = "TK"


def refund_no(order: Order) -> str:
    """The merchant's refund number of ``order`` (``TK20261205-000001`` for
    ``ZF20261205-000001``): the same for every call, so a retry can never refund twice."""
    return REFUND_PREFIX + order.reference.removeprefix("ZF")


def automatic(order: Order) -> bool:
    """Whether the jobs send ``order``'s refund through its gateway (paid online, a refund
    client configured)."""
    gateway = gateways.for_method(order.method)
    return gateway is not None and gateways.refund_client(gateway) is not None


def automatic_methods() -> list[str]:
    """The payment methods whose refunds the jobs send (finance's page marks those rows)."""
    return [g.method for g in gateways.ONLINE.values() if gateways.refund_client(g)]


def sent_by_gateway(order: Order) -> bool:
    """Whether ``order``'s refund was sent (and recorded) by its gateway, not by finance."""
    gateway = gateways.for_method(order.method)
    return (
        gateway is not None
        and order.refund_sent_by is not None
        and order.refund_sent_by.username == f"system-gateway-{gateway.name}"
    )


def due(now: datetime) -> QuerySet[Order]:
    """Refunded orders paid online, not sent back, whose next call is due."""
    return Order.objects.filter(
        Q(refund_retry_at__isnull=True) | Q(refund_retry_at__lte=now),
        status=Status.REFUNDED,
        refund_sent_at__isnull=True,
        method__in=automatic_methods(),
        refund_attempts__lt=MAX_ATTEMPTS,
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
    number = refund_no(order)
    # Counted before the call: a process killed during it leaves the attempt on record. An
    # order sent back meanwhile (finance, another round) is not asked for again.
    owed = Order.objects.filter(pk=order.pk, status=Status.REFUNDED, refund_sent_at__isnull=True)
    if not owed.update(refund_attempts=F("refund_attempts") + 1):
        return False
    order.refresh_from_db()
    try:
        with audit.refusals_recorded(
            actor, "payments.gateway.refund", object_type="order", object_id=order.reference
        ):
            refund = gateway.refund(order, number, money.parse(order.amount).fen)
    except CerthallError as error:
        _failed(order, now, error.message)
        return False
    except Exception as error:  # the network, a client's bug: tried again later
        log.exception("the %s refund of order %s failed", gateway.name, order.reference)
        _failed(order, now, text("gateway_refund_failed", error=type(error).__name__))
        return False
    crashpoints.reached("payments.gateway_refunded")  # refunded at the gateway, not recorded
    try:
        services.refund_sent_by_gateway(
            actor, order, refund.reference, gateway=gateway.name, refund_no=number
        )
    except CerthallError as error:  # finance recorded it by hand meanwhile: look at both
        log.warning(
            "order %s: refunded by %s (%s) but not recorded: %s",
            order.reference,
            gateway.name,
            refund.reference,
            error,
        )
        return False
    log.info("order %s refunded through %s: %s", order.reference, gateway.name, refund.reference)
    return True


def _failed(order: Order, now: datetime, message: str) -> None:
    delay = RETRY_DELAYS[min(order.refund_attempts, len(RETRY_DELAYS)) - 1]
    Order.objects.filter(pk=order.pk, refund_sent_at__isnull=True).update(
        refund_last_error=message[:200], refund_retry_at=now + delay
    )
    log.warning("order %s: gateway refund refused or failed: %s", order.reference, message)
