"""Signals other apps listen to.

Both are sent INSIDE the transaction that changes the order, with ``sender=Order``,
``order=order`` and ``actor=`` (who recorded it; the gateway's system account for online
notifications), plus ``payment=`` / ``reason=``: a receiver that raises rolls the payment or
the refund back, so the order and the receiver's own state never disagree. Receivers must be
idempotent and quick (no network).
"""

from __future__ import annotations

from django.dispatch import Signal

#: ``order_paid.send(sender=Order, order=order, payment=payment, actor=actor)``
order_paid = Signal()

#: ``order_refunded.send(sender=Order, order=order, reason=reason, actor=actor)``
order_refunded = Signal()
