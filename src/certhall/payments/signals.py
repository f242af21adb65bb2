"""Signals other apps listen to.

``order_paid`` and ``order_refunded`` are sent INSIDE the transaction that changes the order,
with ``sender=Order``, ``order=order`` and ``actor=`` (who recorded it; the gateway's system
account for online notifications), plus ``payment=`` / ``reason=``: a receiver that raises
rolls the payment or the refund back, so the order and the receiver's own state never
disagree. Receivers must be idempotent and quick (no network).
"""

from __future__ import annotations

from django.dispatch import Signal

#: ``order_paid.send(sender=Order, order=order, payment=payment, actor=actor)``
order_paid = Signal()

#: ``order_refunded.send(sender=Order, order=order, reason=reason, actor=actor)``
order_refunded = Signal()

#: ``payment_starting.send(sender=Order, order=order)``, outside any transaction, before the
#: customer is shown a way to pay a pending order (its page, the API's ``payment_options``) or
#: pays it at the cashier (``services.require_payable``): a receiver that raises a
#: ``CerthallError`` refuses it with its words (an online renewal the round will cancel,
#: ``hall.renewal.require_payable``). Never sent for a payment a gateway already took: that
#: one is recorded as before (``record_payment``, ``surplus``).
payment_starting = Signal()
