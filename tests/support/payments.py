"""Payments' states the tests need that take several steps to reach."""

from __future__ import annotations

from datetime import timedelta

from certhall import clock
from certhall.accounts.models import User
from certhall.payments import refund_state, refunding
from certhall.payments import services as payments
from certhall.payments.models import Order


def refunded_twice(clerk: User, order: Order, *, by_hand: str, by_gateway: str) -> None:
    """An online refund recorded twice: finance stopped a call that looked lost and recorded
    the refund by hand (``by_hand``); the gateway's late answer was a refund too
    (``by_gateway``), as the jobs raise it (tests/payments/test_refund_guard.py)."""
    Order.objects.filter(pk=order.pk).update(
        refund_calling_at=clock.now() - refund_state.CALL_LEASE - timedelta(seconds=1)
    )
    refunding.stop(clerk, order.reference, "调用超时，改为人工退款")
    payments.record_refund_sent(clerk, order.reference, by_hand)
    Order.objects.filter(pk=order.pk).update(
        refund_duplicate_reference=by_gateway, refund_duplicate_at=clock.now()
    )
