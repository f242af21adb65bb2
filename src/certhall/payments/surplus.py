"""多余到账: money an online gateway notified for an order no longer waiting for it, sent back.

When Alipay / WeChat Pay notify a payment for an order that is not pending any more (paid at
the counter or through the other gateway, cancelled, refunded), the money is not applied to
the order: :func:`receive` keeps it as a :class:`~certhall.payments.models.SurplusPayment`
(one per gateway transaction: the same notification again changes nothing), audited
``payments.surplus.received``, inside the notification's transaction with the order row locked
(``payments.notify``). The gateway is answered ``success``: the money is on record.

Finance sees the rows on its refunds page (:func:`owed`, scoped like the orders) and sends the
money back in one of two ways (table ``payments.lifecycle.SURPLUSES``):

* 原路退回 (:func:`send_back`): the row is claimed (``received -> returning``, committed), then
  the gateway's refund API is called (``OnlineGateway.refund_trade``) with a refund number
  derived from the row (:func:`refund_no`, never the order's own ``TK…``), then the answer is
  recorded (``returning -> returned``, by the gateway's system account, with its refund id).
  A refusal or a failure puts the row back (``returning -> received``, the error kept).
* 已手工退回 (:func:`record_by_hand`): finance sent it another way and records the reference;
  refused while the row is ``returning`` (a call is under way or its answer is not recorded:
  the gateway may have refunded it already).

**Crash-safe without a second refund.** The claim is committed before the call; the refund
number is the row's, and the gateway answers the same number with the same refund. A process
killed after the gateway refunded and before the record (crashpoint
``payments.surplus_refunded``) leaves the row ``returning``: nobody can record it by hand or
press 原路退回 again, and the jobs' round after the claim's lease (``refund_state.CALL_LEASE``,
:func:`resume_due`) asks again with the same number and records the refund made the first time.

Once returned, the enterprise's online-hall accounts are told by SMS and email
(``notices.surplus_returned``), inside the record's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from certhall import clock, crashpoints, money
from certhall.accounts.models import User
from certhall.accounts.permissions import require_provider, require_role
from certhall.audit import services as audit
from certhall.errors import CerthallError, Conflict, NotFound, about
from certhall.lifecycle import transition
from certhall.messages import text
from certhall.payments import gateways, notices, refund_state, services
from certhall.payments.gateways import OnlineGateway
from certhall.payments.lifecycle import SURPLUSES, SurplusStatus
from certhall.payments.models import Order, SurplusPayment

log = logging.getLogger(__name__)

#: Rows per round of the jobs (lost calls only).
BATCH = 20


def refund_no(surplus: SurplusPayment) -> str:
    """The merchant's refund number of ``surplus`` (``TK20261205-000001-D7`` for row 7 of
    order ``ZF20261205-000001``): the same for every call, distinct from the order's own
    refund number (``refund_state.refund_no``) and from every other row's."""
    return f"{refund_state.refund_no(surplus.order)}-D{surplus.pk}"


# --- the notification (payments.notify) -----------------------------------------------------


def receive(
    actor: User,
    order: Order,
    gateway: OnlineGateway,
    *,
    trade_no: str,
    amount: Decimal,
    paid_at: datetime,
    source_sha256: str,
) -> SurplusPayment:
    """Keep money ``gateway`` notified for ``order`` (locked by the caller, not pending) as a
    row owed back, audited; the row already kept for this trade when it is notified again
    (Conflict ``trade_mismatch`` when that row is another order's or another amount)."""
    existing = (
        SurplusPayment.objects.select_related("order")
        .filter(gateway=gateway.name, trade_no=trade_no)
        .first()
    )
    if existing is not None:
        if existing.order_id != order.pk or existing.amount != amount:
            raise Conflict(
                code="trade_mismatch", trade_no=trade_no, reference=existing.order.reference
            )
        return existing
    surplus = SurplusPayment.objects.create(
        order=order,
        organization_id=order.organization_id,
        provider_id=order.provider_id,
        gateway=gateway.name,
        trade_no=trade_no,
        amount=amount,
        paid_at=paid_at,
        created_at=clock.now(),
        source_sha256=source_sha256,
    )
    audit.record(
        actor,
        "payments.surplus.received",
        object_type=SURPLUSES.kind,
        object_id=surplus.key,
        after={
            **surplus.snapshot(),
            "order_status": order.status,
            "order_method": order.method,
            "refund_no": refund_no(surplus),
            "source_sha256": source_sha256,
        },
    )
    log.warning(
        "order %s is %s: %s yuan from %s (%s) kept to be sent back",
        order.reference, order.status, amount, gateway.name, trade_no,
    )  # fmt: skip
    return surplus


# --- who sees them ---------------------------------------------------------------------------


def owed(actor: User) -> list[SurplusPayment]:
    """The rows still to be sent back (received or under way), oldest first: finance's page."""
    require_role(actor, *services.REFUND_ROLES)
    rows = SurplusPayment.objects.visible_to(actor).exclude(status=SurplusStatus.RETURNED)
    return list(rows.select_related("order", "organization").order_by("created_at", "pk"))


def of_order(order: Order) -> list[SurplusPayment]:
    """``order``'s rows (the order page, whoever may see the order)."""
    return list(order.surpluses.select_related("returned_by").order_by("created_at", "pk"))


def get(actor: User, surplus_id: int) -> SurplusPayment:
    """A row ``actor`` may act on: finance of its CA."""
    require_role(actor, *services.REFUND_ROLES)
    surplus = SurplusPayment.objects.select_related("order").filter(pk=surplus_id).first()
    if surplus is None:
        raise NotFound(code="surplus_not_found", id=surplus_id)
    SurplusPayment.objects.require_visible(actor, surplus)
    require_provider(actor, surplus.provider_id)
    return surplus


# --- 原路退回: through the gateway's refund API ----------------------------------------------


def send_back(actor: User, surplus_id: int) -> SurplusPayment:
    """Finance's 原路退回: claim the row, refund through its gateway, record the answer.
    Conflict ``surplus_return_failed`` (the row put back, the error kept) when the gateway
    refused or failed; ``surplus_return_calling`` while another call is under way."""
    with audit.refusals_recorded(
        actor, "payments.surplus.return", object_type=SURPLUSES.kind, object_id=surplus_id
    ):
        surplus = get(actor, surplus_id)
        gateway = gateways.online(surplus.gateway)
        if gateways.refund_client(gateway) is None:
            raise Conflict(code="gateway_refund_unavailable", gateway=gateway.label)
        now = clock.now()
        with transaction.atomic():
            surplus = _from_received(
                actor,
                surplus,
                SurplusStatus.RETURNING,
                fields={"return_calling_at": now, "return_attempts": surplus.return_attempts + 1},
                extra_after={"refund_no": refund_no(surplus)},
            )
        error = _call(surplus, now)
        if error is not None:
            raise Conflict(
                code="surplus_return_failed",
                reference=surplus.order.reference,
                gateway=gateway.label,
                amount=money.grouped(surplus.amount),
                error=error,
            )
    surplus.refresh_from_db()
    return surplus


def resume_due(now: datetime) -> int:
    """The jobs' round: rows whose call was claimed longer ago than the lease and never
    answered (its process died) are asked again with the same refund number; how many were
    recorded returned."""
    lost = SurplusPayment.objects.filter(
        status=SurplusStatus.RETURNING, return_calling_at__lte=now - refund_state.CALL_LEASE
    ).order_by("return_calling_at", "pk")
    done = 0
    for surplus in list(lost.select_related("order")[:BATCH]):
        gateway = gateways.online(surplus.gateway)
        if gateways.refund_client(gateway) is None:
            continue
        # The row's own claim taken over: a round running beside this one finds it moved on.
        taken = SurplusPayment.objects.filter(
            pk=surplus.pk,
            status=SurplusStatus.RETURNING,
            return_calling_at=surplus.return_calling_at,
        ).update(return_calling_at=now, return_attempts=surplus.return_attempts + 1)
        if taken and _call(surplus, now) is None:
            done += 1
    return done


def _call(surplus: SurplusPayment, now: datetime) -> str | None:
    """The gateway's refund of a claimed row, then its record; None when recorded, else the
    refusal or failure (the row put back to ``received`` with it)."""
    gateway = gateways.online(surplus.gateway)
    actor = gateway.actor()
    number = refund_no(surplus)
    amount = money.parse(surplus.amount)
    try:
        with audit.refusals_recorded(
            actor, "payments.gateway.refund", object_type=SURPLUSES.kind, object_id=surplus.key
        ):
            refund = gateway.refund_trade(surplus.order.reference, number, amount, paid=amount)
    except CerthallError as error:
        return _put_back(actor, surplus, now, error.message)
    except Exception as error:  # the network, a client's bug
        log.exception("the %s refund of %s failed", gateway.name, surplus.key)
        return _put_back(
            actor, surplus, now, text("surplus_call_failed", error=type(error).__name__)
        )
    crashpoints.reached("payments.surplus_refunded")  # refunded at the gateway, not recorded
    with transaction.atomic():
        locked = _locked(surplus)
        if locked.status != SurplusStatus.RETURNING or locked.return_calling_at != now:
            log.warning("%s: refunded by %s (%s), recorded meanwhile", surplus.key,
                        gateway.name, refund.reference)  # fmt: skip
            return None
        transition(
            actor,
            SURPLUSES,
            locked,
            SurplusStatus.RETURNED,
            fields={
                "returned_at": clock.now(),
                "returned_by": actor,
                "returned_reference": refund.reference[:64],
                "return_calling_at": None,
                "return_last_error": "",
            },
            extra_after={"amount": str(refund.amount.yuan), "refund_no": number, "by": "gateway"},
        )
        notices.surplus_returned(actor, locked, by_gateway=True)
    log.info("%s sent back through %s: %s", surplus.key, gateway.name, refund.reference)
    return None


def _put_back(actor: User, surplus: SurplusPayment, now: datetime, message: str) -> str:
    with transaction.atomic():
        locked = _locked(surplus)
        if locked.status == SurplusStatus.RETURNING and locked.return_calling_at == now:
            transition(
                actor,
                SURPLUSES,
                locked,
                SurplusStatus.RECEIVED,
                fields={"return_calling_at": None, "return_last_error": message[:200]},
                extra_after={"error": message[:200], "refund_no": refund_no(surplus)},
            )
    log.warning("%s: the gateway's refund refused or failed: %s", surplus.key, message)
    return message


# --- 已手工退回: finance's hand --------------------------------------------------------------


def record_by_hand(actor: User, surplus_id: int, sent_reference: str) -> SurplusPayment:
    """Finance sent the money back another way (the gateway's back office, a transfer):
    recorded with the reference it was sent by. Refused while a call to the gateway is under
    way or its answer is not recorded (``returning``): that would be the money twice."""
    with audit.refusals_recorded(
        actor, "payments.surplus.return_hand", object_type=SURPLUSES.kind, object_id=surplus_id
    ):
        surplus = get(actor, surplus_id)
        with about("sent_reference"):  # finance's row form's (web.refused)
            reference = services.order_text(sent_reference, "退回流水号", 64)
        with transaction.atomic():
            surplus = _from_received(
                actor,
                surplus,
                SurplusStatus.RETURNED,
                action="payments.surplus.return_hand",
                fields={
                    "returned_at": clock.now(),
                    "returned_by": actor,
                    "returned_reference": reference,
                },
                extra_after={"amount": str(surplus.amount), "by": "hand"},
            )
            notices.surplus_returned(actor, surplus, by_gateway=False)
    return surplus


def _locked(surplus: SurplusPayment) -> SurplusPayment:
    return SurplusPayment.objects.select_for_update().select_related("order").get(pk=surplus.pk)


def _from_received(
    actor: User, surplus: SurplusPayment, target: str, **change: Any
) -> SurplusPayment:
    """``surplus``, locked, from ``received`` to ``target`` (inside the caller's transaction):
    refused while a call is under way, or once returned."""
    locked = _locked(surplus)
    _require_received(locked)
    return transition(
        actor, SURPLUSES, locked, target, only_from={SurplusStatus.RECEIVED}, **change
    )


def _require_received(surplus: SurplusPayment) -> None:
    """Neither way while a call is under way, nor twice."""
    params = {
        "reference": surplus.order.reference,
        "gateway": surplus.gateway_label,
        "amount": money.grouped(surplus.amount),
    }
    if surplus.status == SurplusStatus.RETURNING:
        raise Conflict(code="surplus_return_calling", refund_no=refund_no(surplus), **params)
    if surplus.status == SurplusStatus.RETURNED:
        raise Conflict(code="surplus_returned", **params)
