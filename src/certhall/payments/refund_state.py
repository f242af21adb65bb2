"""The automatic refund of an order paid online, as the jobs and finance's hand both read it.

An order's refund is sent back through its gateway by the jobs (``payments.refunding``) under a
number derived from the order (:func:`refund_no`), at most :data:`MAX_ATTEMPTS` calls, each
claimed on the order row for :data:`CALL_LEASE`. While it is pending, finance's hand record is
refused (:func:`require_hand_allowed`, called by ``services.record_refund_sent`` with the order
row locked): one refund, never two.

Here, below both, so that ``services`` (which records what ``refunding`` sent) reads the guard
without importing the jobs that import it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Q

from certhall import clock
from certhall.errors import Conflict
from certhall.payments import gateways
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order

#: Calls in all; then the order waits for finance (its page says so).
MAX_ATTEMPTS = 10
#: What a refund number starts with (退款), followed by the order's date and sequence.
REFUND_PREFIX = "TK"
#: How long a gateway call may be under way before it counts as lost (its process died): far
#: above any refund client's timeout. A lost call is asked again by the next round (the same
#: refund number), and finance may stop the automatic refund then.
CALL_LEASE = timedelta(minutes=5)


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


def calling(order: Order, now: datetime) -> bool:
    """Whether a call to ``order``'s gateway is under way (claimed less than
    :data:`CALL_LEASE` ago, its answer not recorded)."""
    return order.refund_calling_at is not None and order.refund_calling_at > now - CALL_LEASE


def pending(order: Order) -> bool:
    """Whether ``order``'s refund is the jobs' to send: paid online with a refund client, owed,
    not stopped by finance, and calls left (or one whose answer is not recorded yet)."""
    return (
        order.status == Status.REFUNDED
        and order.refund_sent_at is None
        and order.refund_stopped_at is None
        and (order.refund_attempts < MAX_ATTEMPTS or order.refund_calling_at is not None)
        and automatic(order)
    )


def failed(order: Order, now: datetime) -> bool:
    """Whether finance may ask for ``order``'s refund again at once (立即重试): the jobs'
    last call was refused or failed, nothing is under way, nothing stopped."""
    return (
        order.status == Status.REFUNDED
        and order.refund_sent_at is None
        and order.refund_stopped_at is None
        and bool(order.refund_last_error)
        and not calling(order, now)
        and automatic(order)
    )


def require_hand_allowed(order: Order, now: datetime) -> None:
    """Refuse finance's hand record of ``order`` (locked by the caller) while its automatic
    refund is pending: the gateway is refunding it, a second refund in the back office would
    be the customer's money twice."""
    if order.status != Status.REFUNDED or order.refund_sent_at is not None:
        return  # not owed: the record itself refuses it (refund_not_owed)
    if calling(order, now):
        raise refusal("refund_gateway_calling", order)
    if order.refund_stopped_at is None and pending(order):
        raise refusal("refund_gateway_pending", order)


def refusal(code: str, order: Order) -> Conflict:
    """Finance's hand (or the stop) refused because of ``order``'s automatic refund."""
    gateway = gateways.for_method(order.method)
    return Conflict(
        code=code,
        reference=order.reference,
        gateway=gateway.label if gateway else "",
        refund_no=refund_no(order),
    )


def not_calling(now: datetime | None = None) -> Q:
    """Orders with no call under way (none claimed, or its claim older than the lease)."""
    now = now or clock.now()
    return Q(refund_calling_at__isnull=True) | Q(refund_calling_at__lte=now - CALL_LEASE)
