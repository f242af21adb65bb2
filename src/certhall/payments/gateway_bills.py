"""对账 of the online gateways: a gateway's daily bill against the platform's records.

The platform learns of online payments only from the gateways' notifications and of gateway
refunds only from its own calls. :func:`reconcile_day` reads one gateway's bill of one Shanghai
day (``gateways.bill_client``, :func:`certhall.payments.gateways.read_bill`) and compares it
with what the platform recorded of that day and after:

* a paid trade with a payment recorded for it (``Payment`` by ``trade_no``) or kept as a
  surplus payment (``SurplusPayment``): agrees when the order and the amount do, else an
  ``amount_differs`` discrepancy;
* a paid trade nothing recorded (a lost notification): settled through the notification's own
  path (``notify.settle``): a pending order is paid (补单, audited
  ``payments.gateway_bill.supplement``), an order no longer pending keeps the money as a
  surplus payment to send back (``surplus.receive``, audited ``payments.gateway_bill.surplus``);
  a trade that path refuses (an unknown order, another amount) is a ``trade_unmatched``
  discrepancy with the refusal's words;
* a refund of the bill is known when an order's refund or a surplus payment's return was
  recorded with its id (``refund_sent_reference`` / ``returned_reference``) or under the
  platform's refund number for it: else ``refund_unrecorded`` (finance refunded in the
  merchant back office without recording it); known with another amount: ``amount_differs``;
* a payment, a surplus payment or a refund through the gateway the platform recorded for that
  day that the bill does not have: ``payment_not_in_bill`` / ``refund_not_in_bill``.

Discrepancies (``GatewayDiscrepancy``, lifecycle ``payments.lifecycle.DISCREPANCIES``) are one
row per gateway, kind and the gateway's id: reconciling a day again adds nothing, and a trade
settled once is found recorded the second time. Each trade is settled in its own transaction
(a kill after the first leaves it committed, crashpoint ``payments.gateway_bill_applied``); the
run's own event (``payments.gateway_bill.reconcile``, with the counts) is written at its end.

The jobs reconcile yesterday's bill of each online gateway once a day, after
:data:`BILL_READY` Shanghai time (:func:`reconcile_due`, a ``GatewayBillRun`` row per gateway
and day); ``certhall payments reconcile-gateway`` does it by hand.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q

from certhall import clock, crashpoints
from certhall.accounts.models import User
from certhall.accounts.permissions import require_provider, require_role
from certhall.accounts.services import home_provider, system_actor
from certhall.audit import services as audit
from certhall.errors import CerthallError, ConfigurationError, InvalidInput, NotFound, about
from certhall.lifecycle import transition
from certhall.messages import text
from certhall.payments import (
    gateways,
    notify,
    reconcile,
    refund_state,
    services,
    surplus,
)
from certhall.payments.gateways import Bill, BillRefund, BillTrade, OnlineGateway
from certhall.payments.lifecycle import DISCREPANCIES, DiscrepancyKind, DiscrepancyStatus
from certhall.payments.models import (
    GatewayBillRun,
    GatewayDiscrepancy,
    Order,
    Payment,
    SurplusPayment,
)
from certhall.rules import SHANGHAI, local

log = logging.getLogger(__name__)

ACTION = "payments.gateway_bill.reconcile"
#: The gateways publish a day's bill the next morning (Alipay from 09:00, WeChat Pay from
#: 10:00): the jobs ask after this time of the following day.
BILL_READY = time(10, 30)
#: A day's reconciliation that failed is tried again after this long.
RETRY_AFTER = timedelta(hours=1)

#: The outcomes counted in the run's event.
OUTCOMES = (
    "trades",
    "refunds",
    "matched",
    "supplemented",
    "surplus",
    "discrepancies",
    "known_discrepancies",
)


@dataclass
class Report:
    gateway: str
    day: date
    counts: Counter[str] = field(default_factory=Counter)
    #: The discrepancies this run found (new or already open), as rows.
    discrepancies: list[GatewayDiscrepancy] = field(default_factory=list)
    supplemented: list[str] = field(default_factory=list)

    def counted(self) -> dict[str, int]:
        return {k: self.counts[k] for k in OUTCOMES}

    def as_json(self) -> dict[str, object]:
        return {
            "gateway": self.gateway,
            "day": self.day.isoformat(),
            "counts": self.counted(),
            "supplemented": self.supplemented,
            "discrepancies": [
                {**row.snapshot(), "id": row.pk, "detail": row.detail} for row in self.discrepancies
            ],
        }


def _span(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0, 0), tzinfo=SHANGHAI)
    return start, start + timedelta(days=1)


def reconcile_day(actor: User, gateway_name: str, day: date) -> Report:
    """Reconcile ``gateway_name``'s bill of ``day`` (module docstring). Refused: an unknown
    gateway (NotFound ``gateway_unknown``), a day in the future (``gateway_bill_future``), no
    bill client (ConfigurationError ``gateway_bill_unavailable``), a bill line that cannot be
    read (``gateway_bill_line``): recorded refusals, nothing reconciled."""
    require_role(actor, *reconcile.RECONCILE_ROLES)  # as a bank statement's: a CA admin
    with audit.refusals_recorded(
        actor, ACTION, object_type="gateway_bill", object_id=f"{gateway_name[:16]}/{day}"
    ):
        gateway = gateways.online(gateway_name)
        if day > clock.today():
            raise InvalidInput(code="gateway_bill_future", day=day.isoformat())
        client = gateways.bill_client(gateway)
        if client is None:
            raise ConfigurationError(code="gateway_bill_unavailable", gateway=gateway.label)
        bill = gateways.read_bill(gateway, day, *client.bill(gateway, day))
        report = Report(gateway.name, day)
        for trade in bill.trades:
            _trade(actor, gateway, bill, trade, report)
        for refund in bill.refunds:
            _refund(actor, gateway, bill, refund, report)
        _not_in_bill(actor, gateway, bill, report)
        report.counts["trades"] = len(bill.trades)
        report.counts["refunds"] = len(bill.refunds)
        now = clock.now()
        with transaction.atomic():
            GatewayBillRun.objects.update_or_create(
                gateway=gateway.name,
                day=day,
                defaults={
                    "attempted_at": now,
                    "finished_at": now,
                    "counts": dict(report.counts),
                    "last_error": "",
                },
            )
            audit.record(
                actor,
                ACTION,
                object_type="gateway_bill",
                object_id=f"{gateway.name}/{day}",
                after={
                    "gateway": gateway.name,
                    "day": day.isoformat(),
                    "counts": report.counted(),
                    "supplemented": report.supplemented,
                    "discrepancies": [row.pk for row in report.discrepancies],
                },
            )
    return report


# --- the bill's trades -----------------------------------------------------------------------


def _trade(
    actor: User, gateway: OnlineGateway, bill: Bill, trade: BillTrade, report: Report
) -> None:
    amount = trade.amount.yuan
    if _checked_against_record(actor, gateway, bill, trade, report):
        return
    try:
        # The payment (or the surplus kept) and the bill's event commit together: a crash
        # between them would leave a 补单 without the record of what found it.
        with transaction.atomic():
            reference = services.normalise_reference(trade.out_trade_no)
            outcome = notify.settle(
                actor,
                gateway,
                reference=reference,
                trade_no=trade.trade_no,
                amount=amount,
                received_at=trade.paid_at,
                source_sha256="",
                details={"found_by": "gateway_bill", "bill_day": bill.day.isoformat()},
                what="对账单金额",
            )
            if outcome.result == "duplicate":  # a notification recorded it meanwhile
                report.counts["matched"] += 1
                return
            kept = outcome.result == "unexpected"
            audit.record(
                actor,
                "payments.gateway_bill.surplus" if kept else "payments.gateway_bill.supplement",
                object_type="order",
                object_id=reference,
                after={
                    "gateway": gateway.name,
                    "day": bill.day.isoformat(),
                    "trade_no": trade.trade_no,
                    "amount": str(amount),
                    "paid_at": trade.paid_at.isoformat(),
                    "payment": outcome.payment_id,
                    "surplus": outcome.surplus_id,
                },
            )
    except CerthallError as error:
        _discrepancy(
            actor,
            report,
            bill,
            DiscrepancyKind.TRADE_UNMATCHED,
            trade.trade_no,
            merchant_reference=trade.out_trade_no,
            reference_order=trade.out_trade_no,
            bill_amount=amount,
            detail=error.message,
        )
        return
    if kept:
        report.counts["surplus"] += 1
    else:
        report.counts["supplemented"] += 1
        report.supplemented.append(reference)
        log.warning("order %s paid by %s (%s) found in the daily bill: recorded",
                    reference, gateway.name, trade.trade_no)  # fmt: skip
        crashpoints.reached("payments.gateway_bill_applied")  # this trade's payment committed


def _checked_against_record(
    actor: User, gateway: OnlineGateway, bill: Bill, trade: BillTrade, report: Report
) -> bool:
    """A trade already recorded: matched, or a discrepancy (another order, another amount).
    False for a trade not recorded yet (a 补单 or a surplus to record)."""
    recorded = _recorded_trade(gateway, trade.trade_no)
    if recorded is None:
        return False
    reference, recorded_amount = recorded
    amount = trade.amount.yuan
    if reference == trade.out_trade_no and recorded_amount == amount:
        report.counts["matched"] += 1
        return True
    other = reference != trade.out_trade_no
    _discrepancy(
        actor,
        report,
        bill,
        DiscrepancyKind.TRADE_UNMATCHED if other else DiscrepancyKind.AMOUNT_DIFFERS,
        trade.trade_no,
        merchant_reference=trade.out_trade_no,
        reference_order=reference,
        bill_amount=amount,
        recorded_amount=recorded_amount,
        detail=text("trade_mismatch.bill", trade_no=trade.trade_no, reference=reference)
        if other
        else "",
    )
    return True


def _recorded_trade(gateway: OnlineGateway, trade_no: str) -> tuple[str, Decimal] | None:
    """The order number and amount the platform recorded for ``trade_no``: a payment, or a
    surplus payment kept."""
    payment = (
        Payment.objects.filter(channel=gateway.channel, transaction_id=trade_no)
        .select_related("order")
        .first()
    )
    if payment is not None:
        return payment.order.reference, payment.amount
    kept = (
        SurplusPayment.objects.filter(gateway=gateway.name, trade_no=trade_no)
        .select_related("order")
        .first()
    )
    if kept is not None:
        return kept.order.reference, kept.amount
    return None


# --- the bill's refunds ----------------------------------------------------------------------


def _refund(
    actor: User, gateway: OnlineGateway, bill: Bill, refund: BillRefund, report: Report
) -> None:
    amount = refund.amount.yuan
    recorded = _recorded_refund(gateway, refund)
    if recorded is None:
        _discrepancy(
            actor,
            report,
            bill,
            DiscrepancyKind.REFUND_UNRECORDED,
            refund.refund_id,
            merchant_reference=refund.refund_no,
            reference_order=refund.out_trade_no,
            bill_amount=amount,
        )
    elif recorded != amount:
        _discrepancy(
            actor,
            report,
            bill,
            DiscrepancyKind.AMOUNT_DIFFERS,
            refund.refund_id,
            merchant_reference=refund.refund_no,
            reference_order=refund.out_trade_no,
            bill_amount=amount,
            recorded_amount=recorded,
        )
    else:
        report.counts["matched"] += 1


def _recorded_refund(gateway: OnlineGateway, refund: BillRefund) -> Decimal | None:
    """The amount the platform recorded as given back for ``refund``: an order's refund or a
    surplus payment's return, recorded with the gateway's refund id or under the platform's
    own refund number for it. None: the platform knows nothing of it."""
    orders = Order.objects.filter(method=gateway.method, refund_sent_at__isnull=False).filter(
        Q(refund_sent_reference=refund.refund_id) | Q(reference=refund.out_trade_no)
    )
    for order in orders:
        if order.refund_sent_reference == refund.refund_id or (
            refund_state.refund_no(order) == refund.refund_no
        ):
            return order.amount
    returned = (
        SurplusPayment.objects.filter(gateway=gateway.name, returned_at__isnull=False)
        .filter(Q(returned_reference=refund.refund_id) | Q(trade_no=refund.trade_no))
        .select_related("order")
    )
    for row in returned:
        if row.returned_reference == refund.refund_id or surplus.refund_no(row) == refund.refund_no:
            return row.amount
    return None


# --- what the platform recorded and the bill does not have ---------------------------------


def _not_in_bill(actor: User, gateway: OnlineGateway, bill: Bill, report: Report) -> None:
    start, end = _span(bill.day)
    payments = Payment.objects.filter(
        channel=gateway.channel, received_at__gte=start, received_at__lt=end
    ).select_related("order")
    kept = SurplusPayment.objects.filter(
        gateway=gateway.name, paid_at__gte=start, paid_at__lt=end
    ).select_related("order")
    received = [(p.transaction_id, p.order, p.amount) for p in payments]
    received += [(s.trade_no, s.order, s.amount) for s in kept]
    _lacking(actor, report, bill, DiscrepancyKind.PAYMENT_NOT_IN_BILL, received,
             {t.trade_no for t in bill.trades})  # fmt: skip
    by_gateway = f"system-gateway-{gateway.name}"
    sent = Order.objects.filter(
        method=gateway.method,
        refund_sent_at__gte=start,
        refund_sent_at__lt=end,
        refund_sent_by__username=by_gateway,
    )
    returned = SurplusPayment.objects.filter(
        Q(returned_at__gte=start) & Q(returned_at__lt=end),
        gateway=gateway.name,
        returned_by__username=by_gateway,
    ).select_related("order")
    back = [(o.refund_sent_reference, o, o.amount) for o in sent]
    back += [(s.returned_reference, s.order, s.amount) for s in returned]
    _lacking(actor, report, bill, DiscrepancyKind.REFUND_NOT_IN_BILL, back,
             {r.refund_id for r in bill.refunds})  # fmt: skip


def _lacking(
    actor: User,
    report: Report,
    bill: Bill,
    kind: DiscrepancyKind,
    recorded: list[tuple[str, Order, Decimal]],
    in_bill: set[str],
) -> None:
    """A discrepancy of ``kind`` for each (gateway id, order, amount) recorded that the bill's
    ids ``in_bill`` lack."""
    for reference, order, amount in recorded:
        if reference not in in_bill:
            _discrepancy(
                actor,
                report,
                bill,
                kind,
                reference,
                merchant_reference=order.reference,
                reference_order=order.reference,
                recorded_amount=amount,
            )


# --- discrepancies ---------------------------------------------------------------------------


def _discrepancy(
    actor: User,
    report: Report,
    bill: Bill,
    kind: DiscrepancyKind,
    reference: str,
    *,
    merchant_reference: str,
    reference_order: str,
    bill_amount: Decimal | None = None,
    recorded_amount: Decimal | None = None,
    detail: str = "",
) -> None:
    """The row for this disagreement: written and audited the first time, else the one
    already there (whatever its state: finance handled it once)."""
    existing = GatewayDiscrepancy.objects.filter(
        gateway=bill.gateway, kind=kind, reference=reference
    ).first()
    if existing is not None:
        report.counts["known_discrepancies"] += 1
        if existing.status == DiscrepancyStatus.OPEN:
            report.discrepancies.append(existing)
        return
    order = Order.objects.filter(reference=reference_order).first()
    try:
        with transaction.atomic():
            row = GatewayDiscrepancy.objects.create(
                gateway=bill.gateway,
                day=bill.day,
                kind=kind,
                reference=reference[:64],
                merchant_reference=merchant_reference[:64],
                order=order,
                organization_id=order.organization_id if order else None,
                provider_id=order.provider_id if order else home_provider().pk,
                bill_amount=bill_amount,
                recorded_amount=recorded_amount,
                detail=detail[:300],
                created_at=clock.now(),
            )
            audit.record(
                actor,
                "payments.gateway_bill.discrepancy",
                object_type=DISCREPANCIES.kind,
                object_id=row.key,
                after={**row.snapshot(), "detail": row.detail},
            )
    except IntegrityError:  # another run wrote it meanwhile
        report.counts["known_discrepancies"] += 1
        return
    report.counts["discrepancies"] += 1
    report.discrepancies.append(row)
    log.warning("gateway bill %s %s: %s %s", bill.gateway, bill.day, kind, reference)


def failed_runs(actor: User, *, limit: int = 10) -> list[GatewayBillRun]:
    """Finance's page: the days whose bill the jobs could not reconcile yet, newest first; the
    merchant accounts are this instance's CA's, so its staff only."""
    require_role(actor, *services.REFUND_ROLES)
    if actor.provider_id != home_provider().pk:
        return []
    rows = GatewayBillRun.objects.filter(finished_at__isnull=True).exclude(last_error="")
    return list(rows.order_by("-day", "gateway")[:limit])


def open_discrepancies(actor: User, *, limit: int = 100) -> list[GatewayDiscrepancy]:
    """Finance's page: the open discrepancies of the actor's CA, oldest first."""
    require_role(actor, *services.REFUND_ROLES)
    rows = GatewayDiscrepancy.objects.visible_to(actor).filter(status=DiscrepancyStatus.OPEN)
    return list(rows.select_related("order", "organization").order_by("day", "pk")[:limit])


def mark_handled(actor: User, discrepancy_id: int, note: str) -> GatewayDiscrepancy:
    """已处理: finance looked into a discrepancy and says what it did (required, at most 200
    characters). Audited; refused once handled."""
    with audit.refusals_recorded(
        actor,
        "payments.gateway_bill.handled",
        object_type=DISCREPANCIES.kind,
        object_id=discrepancy_id,
    ):
        require_role(actor, *services.REFUND_ROLES)
        row = GatewayDiscrepancy.objects.filter(pk=discrepancy_id).first()
        if row is None:
            raise NotFound(code="discrepancy_not_found", id=discrepancy_id)
        GatewayDiscrepancy.objects.require_visible(actor, row)
        require_provider(actor, row.provider_id)
        with about("note"):  # finance's row form's (web.refused)
            text = services.order_text(note, "处理说明", 200)
        with transaction.atomic():
            locked = GatewayDiscrepancy.objects.select_for_update().get(pk=row.pk)
            return transition(
                actor,
                DISCREPANCIES,
                locked,
                DiscrepancyStatus.HANDLED,
                fields={"handled_at": clock.now(), "handled_by": actor, "note": text},
            )


# --- the jobs ---------------------------------------------------------------------------------


def reconcile_due(now: datetime) -> int:
    """The jobs' round: yesterday's bill of each online gateway with a bill client, once a day
    after :data:`BILL_READY`; a day that failed is tried again after :data:`RETRY_AFTER`. How
    many bills were reconciled."""
    today = local(now).date()
    if local(now).time() < BILL_READY:
        return 0
    day = today - timedelta(days=1)
    done = 0
    for gateway in gateways.ONLINE.values():
        if gateways.bill_client(gateway) is None:
            continue
        run = GatewayBillRun.objects.filter(gateway=gateway.name, day=day).first()
        if run is not None and (
            run.finished_at is not None or run.attempted_at > now - RETRY_AFTER
        ):
            continue
        # Claimed first (one conditional write): a round running beside this one skips it.
        if run is None:
            try:
                with transaction.atomic():
                    run = GatewayBillRun.objects.create(
                        gateway=gateway.name, day=day, attempted_at=now, attempts=1
                    )
            except IntegrityError:
                continue
        elif not GatewayBillRun.objects.filter(
            pk=run.pk, attempted_at=run.attempted_at, finished_at__isnull=True
        ).update(attempted_at=now, attempts=run.attempts + 1):
            continue
        try:
            reconcile_day(system_actor("jobs"), gateway.name, day)
        except Exception as error:
            # finance reads it on its page: a refusal's Chinese words, else a Chinese generic
            # one (the exception itself goes to the log below)
            message = (
                error.message
                if isinstance(error, CerthallError)
                else text("gateway_bill_run_failed")
            )
            GatewayBillRun.objects.filter(pk=run.pk).update(last_error=message[:300])
            log.exception("the %s bill of %s could not be reconciled", gateway.name, day)
            continue
        done += 1
    return done
