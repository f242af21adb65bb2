"""The platform receiving an online gateway's asynchronous notification (异步通知).

:func:`handle` is what ``POST /payments/notify/<gateway>`` runs on the raw body:

1. parse the form body (UTF-8, ``application/x-www-form-urlencoded``, each field once);
2. verify the RSA2 signature with the gateway's PUBLIC key and the merchant ``app_id``;
3. ``WAIT_BUYER_PAY`` / ``TRADE_CLOSED``: acknowledged, nothing changes;
   ``TRADE_SUCCESS`` / ``TRADE_FINISHED``: go on;
4. in one transaction, with the order row locked: a payment with this ``trade_no`` already
   recorded -> nothing changes, answer ``success`` again (idempotent by trade_no); an order
   that is no longer pending (paid another way, cancelled, refunded) -> the money arrived but
   is not applied: kept as a surplus payment owed back to the payer (``payments.surplus``,
   audited ``payments.surplus.received``, once per trade: again, nothing changes), whatever
   its amount, answer ``success``; an amount that is not the pending order's -> refused;
   otherwise the payment is recorded (``services.apply_payment``) and ``order_paid`` sent.

Every refusal (bad signature, wrong app, unknown order, wrong amount, malformed body) is
answered ``fail`` and goes into the audit chain (action ``payments.notify``, result
``refused``) with the body's SHA-256. A notification the gateway signed is recorded each time.
One that is not (malformed, or a signature that does not verify) could come from anyone, as
often as they like: those are recorded once per sending address and ten minutes, with the
number refused in between (``audit.record_unauthenticated_refusal``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import parse_qsl

from django.db import transaction

from certhall import clock, money
from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
)
from certhall.payments import gateways, keys, services, signing, surplus
from certhall.payments.gateways import OnlineGateway
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order, Payment
from certhall.rules import SHANGHAI

MAX_BODY = 16 * 1024
PAID_STATUSES = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})
IGNORED_STATUSES = frozenset({"WAIT_BUYER_PAY", "TRADE_CLOSED"})
ACTION = "payments.notify"
#: ``total_amount`` as the gateways write it: yuan with up to two decimals, nothing else.
AMOUNT = re.compile(r"\d{1,10}(\.\d{1,2})?")


@dataclass(frozen=True)
class Outcome:
    """``paid`` (recorded now), ``duplicate`` (recorded before), ``ignored`` (not a payment),
    ``unexpected`` (money for an order no longer pending: kept to be sent back,
    ``payments.surplus``)."""

    result: str
    reference: str = ""
    trade_no: str = ""
    payment_id: int | None = None
    surplus_id: int | None = None

    @property
    def answer(self) -> str:
        return "success"


def parse_body(raw: bytes) -> dict[str, str]:
    if len(raw) > MAX_BODY:
        raise InvalidInput(code="notify_too_large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(code="notify_encoding") from None
    params: dict[str, str] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key in params:
            raise InvalidInput(code="notify_field_twice", field=key)
        params[key] = value
    if not params:
        raise InvalidInput(code="notify_empty")
    return params


def _field(params: dict[str, str], name: str, limit: int = 64) -> str:
    value = params.get(name, "").strip()
    if not value or len(value) > limit:
        raise InvalidInput(code="notify_field", field=name)
    return value


def _gmt(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
    except ValueError:
        return None


@dataclass
class _Received:
    """One notification as it is being handled: its fields, and whether the gateway's
    signature on them verified."""

    gateway: OnlineGateway
    digest: str
    source: str | None
    params: dict[str, str] = field(default_factory=dict)
    signed: bool = False

    def refused(self) -> audit.Refused:
        """What the refusal's event says of the notification (``audit.refusals_recorded``):
        recorded each time when the gateway signed it, throttled per source when not."""
        params = self.params
        return audit.Refused(
            object_id=params.get("out_trade_no", "")[:64],
            after={
                "gateway": self.gateway.name,
                "trade_no": params.get("trade_no", "")[:64],
                "total_amount": params.get("total_amount", "")[:32],
                "notify_id": params.get("notify_id", "")[:64],
                "sha256": self.digest,
            },
            unauthenticated=not self.signed,
            source=self.source,
        )


def handle(gateway_name: str, raw: bytes, *, source: str | None = None) -> Outcome:
    """Verify and apply one notification from the address ``source``; raises a
    ``CerthallError`` (recorded) to refuse it. An unknown gateway is NotFound (not recorded:
    it is just a wrong URL)."""
    gateway = gateways.online(gateway_name)
    received = _Received(gateway, hashlib.sha256(raw).hexdigest(), source)
    actor = gateway.actor()
    with audit.refusals_recorded(actor, ACTION, object_type="order", refused=received.refused):
        received.params.update(parse_body(raw))
        return _apply(actor, received)


def _apply(actor: User, received: _Received) -> Outcome:
    gateway, params, digest = received.gateway, received.params, received.digest
    signing.verify(params, keys.public_key(gateway.name))
    received.signed = True
    if params.get("app_id") != gateway.app_id:
        raise Forbidden(code="wrong_app", app_id=params.get("app_id", ""))
    status = _field(params, "trade_status")
    reference = services.normalise_reference(_field(params, "out_trade_no"))
    trade_no = _field(params, "trade_no")
    if status in IGNORED_STATUSES:
        return Outcome("ignored", reference, trade_no)
    if status not in PAID_STATUSES:
        raise InvalidInput(code="notify_status", status=status)
    total = _field(params, "total_amount", 16)
    if not AMOUNT.fullmatch(total):
        raise InvalidInput(code="notify_amount", amount=total)
    amount = money.parse(total, what="通知金额").yuan
    return settle(
        actor,
        gateway,
        reference=reference,
        trade_no=trade_no,
        amount=amount,
        received_at=_gmt(params.get("gmt_payment", "")) or clock.now(),
        source_sha256=digest,
        details={
            "notify_id": params.get("notify_id", ""),
            "buyer_id": params.get("buyer_id", ""),
            "gmt_payment": params.get("gmt_payment", ""),
        },
    )


def settle(
    actor: User,
    gateway: OnlineGateway,
    *,
    reference: str,
    trade_no: str,
    amount: Decimal,
    received_at: datetime,
    source_sha256: str,
    details: dict[str, object],
    what: str = "通知金额",
) -> Outcome:
    """What a paid trade of ``gateway`` does to the platform, in one transaction with the order
    row locked: the one path of a notification and of a trade the daily bill shows that no
    notification brought (``payments.gateway_bills``). Recorded before: nothing changes
    (``duplicate``); the order no longer pending: kept as a surplus payment (``unexpected``);
    else the payment recorded (``paid``). Refused: an unknown order, the trade recorded for
    another order or amount, an amount that is not the pending order's (``what`` names where
    the amount was read)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(reference=reference).first()
        if order is None:
            raise NotFound(code="order_not_found", variant="notify", reference=reference)
        existing = Payment.objects.filter(channel=gateway.channel, transaction_id=trade_no).first()
        if existing is not None:
            if existing.order_id != order.pk or existing.amount != amount:
                raise Conflict(
                    code="trade_mismatch", trade_no=trade_no, reference=existing.order.reference
                )
            return Outcome("duplicate", reference, trade_no, existing.pk)
        if order.status != Status.PENDING:  # the money is there all the same: kept, owed back
            kept = surplus.receive(
                actor,
                order,
                gateway,
                trade_no=trade_no,
                amount=amount,
                paid_at=received_at,
                source_sha256=source_sha256,
            )
            return Outcome("unexpected", reference, trade_no, surplus_id=kept.pk)
        if amount != order.amount:
            raise RuleViolation(
                code="amount_mismatch",
                what=what,
                amount=money.grouped(amount),
                against=f"订单 {reference} 的金额",
                expected=money.grouped(order.amount),
            )
        payment = services.apply_payment(
            actor,
            order,
            channel=gateway.channel,
            method=gateway.method,
            transaction_id=trade_no,
            amount=amount,
            received_at=received_at,
            source_sha256=source_sha256,
            details=details,
        )
    return Outcome("paid", reference, trade_no, payment.pk)
