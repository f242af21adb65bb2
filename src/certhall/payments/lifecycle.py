"""Order states, payment channels and methods, and the one table of allowed transitions.

::

    pending --> paid --> refunded
       |
       +------> cancelled

* ``pending`` (待支付): created, waiting for the money;
* ``paid`` (已支付): exactly one payment was recorded (counter, bank transfer or online);
* ``refunded`` (已退款): the money went back; final;
* ``cancelled`` (已取消): nobody will pay this order; final.

Everything not in the table is refused (``certhall.lifecycle``).
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from django.db import models

from certhall.lifecycle import Lifecycle

if TYPE_CHECKING:
    from certhall.payments.models import GatewayDiscrepancy, Invoice, Order, SurplusPayment


class Status(models.TextChoices):
    PENDING = "pending", "待支付"
    PAID = "paid", "已支付"
    REFUNDED = "refunded", "已退款"
    CANCELLED = "cancelled", "已取消"


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.PENDING: frozenset({Status.PAID, Status.CANCELLED}),
    Status.PAID: frozenset({Status.REFUNDED}),
    Status.REFUNDED: frozenset(),
    Status.CANCELLED: frozenset(),
}

#: The audit action of each target state.
ACTIONS: dict[str, str] = {
    Status.PAID: "payments.order.paid",
    Status.REFUNDED: "payments.order.refund",
    Status.CANCELLED: "payments.order.cancel",
    Status.PENDING: "payments.order.create",
}


class Channel(models.TextChoices):
    """Where the money came in: one gateway each (``certhall.payments.gateways``)."""

    COUNTER = "counter", "受理点柜台收款"
    BANK = "bank", "银行转账"
    ALIPAY = "alipay", "支付宝"
    WECHAT = "wechat", "微信支付"


class Method(models.TextChoices):
    """How the customer paid; printed on the receipt."""

    CASH = "cash", "现金（柜台）"
    POS = "pos", "POS刷卡（柜台）"
    WECHAT = "wechat", "微信支付（柜台）"
    ALIPAY = "alipay", "支付宝（柜台）"
    BANK_TRANSFER = "bank_transfer", "银行转账"
    ALIPAY_ONLINE = "alipay_online", "支付宝（网上支付）"
    WECHAT_ONLINE = "wechat_online", "微信支付（网上支付）"


#: The methods a clerk records at the counter.
COUNTER_METHODS = (Method.CASH, Method.POS, Method.WECHAT, Method.ALIPAY)


ORDERS: Lifecycle[Order] = Lifecycle(
    kind="order",
    model="payments.Order",
    states=Status,
    table=TRANSITIONS,
    state_field="status",
    noun="订单",
    key=attrgetter("reference"),
    refused="order_transition",
    changed="order_changed",
    actions=ACTIONS,
    snapshot=lambda order: order.snapshot(),
)


# --- invoices (发票) -------------------------------------------------------------------------


class InvoiceStatus(models.TextChoices):
    """requested --> issued: the customer asks, finance issues it in the tax system and records
    its number here. The order refunded: a requested invoice is withdrawn, an issued one is due
    for its red-letter invoice (红字发票, which cancels it in the tax system), reversed once
    finance records that one."""

    REQUESTED = "requested", "已申请，待开具"
    ISSUED = "issued", "已开具"
    WITHDRAWN = "withdrawn", "订单已退款，不再开具"
    REVERSAL_DUE = "reversal_due", "订单已退款，待开具红字发票"
    REVERSED = "reversed", "已开具红字发票冲销"


class InvoiceKind(models.TextChoices):
    NORMAL = "normal", "增值税普通发票"
    SPECIAL = "special", "增值税专用发票"


INVOICES: Lifecycle[Invoice] = Lifecycle(
    kind="invoice",
    model="payments.Invoice",
    states=InvoiceStatus,
    table={
        InvoiceStatus.REQUESTED: frozenset({InvoiceStatus.ISSUED, InvoiceStatus.WITHDRAWN}),
        InvoiceStatus.ISSUED: frozenset({InvoiceStatus.REVERSAL_DUE}),
        InvoiceStatus.WITHDRAWN: frozenset(),
        InvoiceStatus.REVERSAL_DUE: frozenset({InvoiceStatus.REVERSED}),
        InvoiceStatus.REVERSED: frozenset(),
    },
    state_field="status",
    noun="发票申请",
    key=lambda invoice: str(invoice.pk),
    refused="invoice_transition",
    changed="invoice_changed",
    actions={
        InvoiceStatus.ISSUED: "payments.invoice.issue",
        InvoiceStatus.WITHDRAWN: "payments.invoice.withdraw",
        InvoiceStatus.REVERSAL_DUE: "payments.invoice.reversal_due",
        InvoiceStatus.REVERSED: "payments.invoice.reverse",
    },
    snapshot=lambda invoice: invoice.snapshot(),
)


# --- surplus payments (多余到账) ---------------------------------------------------------------


class SurplusStatus(models.TextChoices):
    """Money an online gateway notified for an order no longer waiting for it (paid another
    way, cancelled, refunded): never applied to the order, owed back to the payer.

    received --> returning --> returned: finance's 原路退回 claims the row (``returning``,
    committed before the gateway's refund API is called: while it stands nobody else calls,
    and the hand record is refused), the gateway's answer records it ``returned``; a refusal
    or a failure puts it back (``received``, with the error). received --> returned: finance
    sent it back another way and records the reference (已手工退回)."""

    RECEIVED = "received", "待退回"
    RETURNING = "returning", "正在经支付平台退回"
    RETURNED = "returned", "已退回"


SURPLUSES: Lifecycle[SurplusPayment] = Lifecycle(
    kind="surplus_payment",
    model="payments.SurplusPayment",
    states=SurplusStatus,
    table={
        SurplusStatus.RECEIVED: frozenset({SurplusStatus.RETURNING, SurplusStatus.RETURNED}),
        SurplusStatus.RETURNING: frozenset({SurplusStatus.RETURNED, SurplusStatus.RECEIVED}),
        SurplusStatus.RETURNED: frozenset(),
    },
    state_field="status",
    noun="多余到账",
    key=lambda surplus: surplus.key,
    refused="surplus_transition",
    changed="surplus_changed",
    actions={
        SurplusStatus.RETURNING: "payments.surplus.return_start",
        SurplusStatus.RECEIVED: "payments.surplus.return_failed",
        SurplusStatus.RETURNED: "payments.surplus.returned",
    },
    snapshot=lambda surplus: surplus.snapshot(),
)


# --- discrepancies of a gateway's daily bill (对账差异) -----------------------------------------


class DiscrepancyKind(models.TextChoices):
    """What the daily bill of a gateway and the platform's records disagree on
    (``payments.gateway_bills``)."""

    REFUND_UNRECORDED = "refund_unrecorded", "支付平台有退款，本平台未登记"
    REFUND_NOT_IN_BILL = "refund_not_in_bill", "本平台登记的退款，对账单中没有"
    PAYMENT_NOT_IN_BILL = "payment_not_in_bill", "本平台登记的收款，对账单中没有"
    AMOUNT_DIFFERS = "amount_differs", "金额不符"
    TRADE_UNMATCHED = "trade_unmatched", "对账单中的交易无法入账"


class DiscrepancyStatus(models.TextChoices):
    """open --> handled: finance looked into it (the back office, the bank) and says what it
    did in a note."""

    OPEN = "open", "待处理"
    HANDLED = "handled", "已处理"


DISCREPANCIES: Lifecycle[GatewayDiscrepancy] = Lifecycle(
    kind="gateway_discrepancy",
    model="payments.GatewayDiscrepancy",
    states=DiscrepancyStatus,
    table={
        DiscrepancyStatus.OPEN: frozenset({DiscrepancyStatus.HANDLED}),
        DiscrepancyStatus.HANDLED: frozenset(),
    },
    state_field="status",
    noun="对账差异",
    key=lambda row: row.key,
    refused="discrepancy_transition",
    changed="discrepancy_changed",
    actions={DiscrepancyStatus.HANDLED: "payments.gateway_bill.handled"},
    snapshot=lambda row: row.snapshot(),
)
