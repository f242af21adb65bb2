"""Orders, the payments that settle them, and the sandbox gateway's own trade records.

Money is ``Decimal`` yuan with two places everywhere (``DecimalField(decimal_places=2)``),
never a float. An order is paid by exactly one ``Payment`` (a database constraint); a payment
is identified by its gateway's transaction id, unique per gateway (channel), which is what
makes a notification delivered twice change nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from certhall.accounts.models import Organization, Provider, User
from certhall.accounts.visibility import VisibleQuerySet
from certhall.payments.lifecycle import (
    Channel,
    DiscrepancyKind,
    DiscrepancyStatus,
    InvoiceKind,
    InvoiceStatus,
    Method,
    Status,
    SurplusStatus,
)

LIVE_STATUSES = (Status.PENDING.value, Status.PAID.value)


#: The longest order number a row holds (a request's longer one is no order's).
REFERENCE_LENGTH = 32


class Order(models.Model):
    """Something an organisation owes: one business (``purpose`` + ``object_id``), one amount."""

    Status = Status

    reference = models.CharField(
        "订单号",
        max_length=REFERENCE_LENGTH,
        unique=True,
        help_text="ZF<YYYYMMDD>-<NNNNNN>, also the bank transfer note",
    )
    purpose = models.CharField(max_length=64, help_text='What is paid for, e.g. "hall.application"')
    object_id = models.CharField(max_length=64, help_text="The paid object's id within purpose")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="orders")
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="orders", help_text="Who is paid"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    description = models.CharField(max_length=200)
    #: The receipt's lines: [{"description": str, "amount": "150.00"}]; they sum to ``amount``.
    items = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    method = models.CharField(max_length=16, choices=Method.choices, blank=True)
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_reason = models.CharField(max_length=200, blank=True)
    #: When the refunded money went back to the payer: at once for a counter payment (cash
    #: handed back, the POS or code reversed there), later for a bank or gateway payment, which
    #: finance sends back and records here with the bank's or gateway's reference.
    refund_sent_at = models.DateTimeField(null=True, blank=True)
    refund_sent_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    refund_sent_reference = models.CharField(max_length=64, blank=True)
    #: An online payment's refund sent back through the gateway's refund API by the jobs
    #: (``certhall.payments.refunding``): calls made, the last one's refusal or failure, and
    #: when the next one is due (none: at the next round).
    refund_attempts = models.PositiveIntegerField(default=0)
    refund_last_error = models.CharField(max_length=200, blank=True)
    refund_retry_at = models.DateTimeField(null=True, blank=True)
    #: A call to the gateway's refund API started and its answer not yet recorded (set and
    #: cleared by the jobs on the order row, ``refunding.send``): while it is set, finance can
    #: neither record the refund by hand nor stop the automatic refund (a lost answer, older
    #: than ``refund_state.CALL_LEASE``, can be stopped).
    refund_calling_at = models.DateTimeField(null=True, blank=True)
    #: Finance stopped the automatic refund (to send the money back itself), who and why.
    refund_stopped_at = models.DateTimeField(null=True, blank=True)
    refund_stopped_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    refund_stop_reason = models.CharField(max_length=200, blank=True)
    #: The alert of a second refund: the gateway refunded an order finance had already
    #: recorded as sent back by hand (its refund id, when the jobs learnt it).
    refund_duplicate_reference = models.CharField(max_length=64, blank=True)
    refund_duplicate_at = models.DateTimeField(null=True, blank=True)
    #: Finance looked into the alert (已处理): when, who, and what it found or did.
    refund_duplicate_handled_at = models.DateTimeField(null=True, blank=True)
    refund_duplicate_handled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    refund_duplicate_note = models.CharField(max_length=200, blank=True)

    objects = VisibleQuerySet["Order"].as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "订单"
        indexes = [
            models.Index(fields=["organization", "created_at"]),
            models.Index(fields=["provider", "status"]),
            models.Index(fields=["purpose", "object_id"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="order_status_known",
                condition=models.Q(status__in=[s.value for s in Status]),
            ),
            models.CheckConstraint(name="order_amount_positive", condition=models.Q(amount__gt=0)),
            models.CheckConstraint(
                name="order_paid_has_method_and_time",
                condition=models.Q(status__in=[Status.PENDING.value, Status.CANCELLED.value])
                | (models.Q(paid_at__isnull=False) & ~models.Q(method="")),
            ),
            # One live (pending or paid) order per paid object: paying twice needs a refund.
            models.UniqueConstraint(
                fields=["purpose", "object_id"],
                condition=models.Q(status__in=LIVE_STATUSES),
                name="order_one_live_per_object",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount} {self.status}"

    @property
    def receipt_number(self) -> str:
        """收据编号: the order's number with the receipt prefix (one receipt per order)."""
        return "SJ" + self.reference.removeprefix("ZF")

    def snapshot(self) -> dict[str, object]:
        """What the audit log records of an order."""
        return {
            "reference": self.reference,
            "status": self.status,
            "amount": str(self.amount),
            "method": self.method,
            "organization": self.organization_id,
        }


class Payment(models.Model):
    """Money received for an order, as the gateway reported it."""

    Channel = Channel

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    transaction_id = models.CharField(
        "交易流水号", max_length=64, help_text="The gateway's id of the transaction"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    received_at = models.DateTimeField(help_text="When the gateway says the money arrived")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    #: SHA-256 of the raw notification body / bank statement line this payment came from.
    source_sha256 = models.CharField(max_length=64, blank=True)
    details = models.JSONField(default=dict)

    class Meta:
        ordering = ["recorded_at", "pk"]
        verbose_name = "收款记录"
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "transaction_id"], name="payment_transaction_once"
            ),
            models.UniqueConstraint(fields=["order"], name="payment_once_per_order"),
            models.CheckConstraint(
                name="payment_amount_positive", condition=models.Q(amount__gt=Decimal("0"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.transaction_id} {self.amount}"


class SurplusPayment(models.Model):
    """多余到账: money an online gateway notified for an order that was no longer waiting for it
    (paid at the counter or through the other gateway, cancelled, refunded). Never applied to
    the order; owed back to the payer through the gateway's refund (``payments.surplus``) or
    by finance's hand. One row per gateway transaction, which is what makes the same
    notification again change nothing. The organisation and provider are the order's, copied
    when the row is written (who sees it: ``accounts.visibility``)."""

    Status = SurplusStatus

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="surpluses")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="surplus_payments"
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="surplus_payments"
    )
    gateway = models.CharField(
        max_length=10,
        choices=[(Channel.ALIPAY.value, "支付宝"), (Channel.WECHAT.value, "微信支付")],
    )
    trade_no = models.CharField("交易流水号", max_length=64)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    paid_at = models.DateTimeField(help_text="When the gateway says the money arrived")
    created_at = models.DateTimeField()
    #: SHA-256 of the raw notification body this row came from.
    source_sha256 = models.CharField(max_length=64, blank=True)
    status = models.CharField(
        max_length=10, choices=SurplusStatus.choices, default=SurplusStatus.RECEIVED
    )
    #: When the gateway's refund was claimed (``returning``): a claim older than
    #: ``refund_state.CALL_LEASE`` is a lost call, asked again by the jobs with the same number.
    return_calling_at = models.DateTimeField(null=True, blank=True)
    return_attempts = models.PositiveIntegerField(default=0)
    return_last_error = models.CharField(max_length=200, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    returned_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    #: The gateway's refund id, or the reference finance sent it back by.
    returned_reference = models.CharField(max_length=64, blank=True)

    objects = VisibleQuerySet["SurplusPayment"].as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "多余到账"
        constraints = [
            models.UniqueConstraint(fields=["gateway", "trade_no"], name="surplus_trade_once"),
            models.CheckConstraint(
                name="surplus_status_known",
                condition=models.Q(status__in=[s.value for s in SurplusStatus]),
            ),
            models.CheckConstraint(
                name="surplus_amount_positive", condition=models.Q(amount__gt=Decimal("0"))
            ),
            models.CheckConstraint(
                name="surplus_returned_has_reference",
                condition=~models.Q(status=SurplusStatus.RETURNED.value)
                | (~models.Q(returned_reference="") & models.Q(returned_at__isnull=False)),
            ),
        ]
        indexes = [models.Index(fields=["provider", "status"])]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.trade_no} {self.amount} {self.status}"

    @property
    def key(self) -> str:
        """What names it in refusals and the audit log: the order and the gateway's trade."""
        return f"{self.order.reference}/{self.trade_no}"

    @property
    def gateway_label(self) -> str:
        return self.get_gateway_display()

    def snapshot(self) -> dict[str, object]:
        return {
            "order": self.order.reference,
            "gateway": self.gateway,
            "trade_no": self.trade_no,
            "amount": str(self.amount),
            "status": self.status,
            "returned_reference": self.returned_reference,
        }


ONLINE_GATEWAYS = [(Channel.ALIPAY.value, "支付宝"), (Channel.WECHAT.value, "微信支付")]


class GatewayDiscrepancy(models.Model):
    """对账差异: something a gateway's daily bill and the platform's records disagree on, that
    reconciliation could not settle by itself (``payments.gateway_bills``): for finance to look
    into and mark handled with a note. One row per gateway, kind and the gateway's id of the
    trade or refund (``reference``), which is what makes reconciling a day again add nothing.
    The organisation and provider are the order's when there is one (who sees it:
    ``accounts.visibility``), else the home provider's (the merchant account's)."""

    Kind = DiscrepancyKind
    Status = DiscrepancyStatus

    gateway = models.CharField(max_length=10, choices=ONLINE_GATEWAYS)
    day = models.DateField(help_text="The bill's day (Shanghai)")
    kind = models.CharField(max_length=24, choices=DiscrepancyKind.choices)
    #: The gateway's trade number or refund id.
    reference = models.CharField(max_length=64)
    #: The merchant's order number (or refund number) the bill names, as it names it.
    merchant_reference = models.CharField(max_length=64, blank=True)
    order = models.ForeignKey(
        Order, on_delete=models.PROTECT, related_name="discrepancies", null=True, blank=True
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    bill_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    recorded_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    #: Why, in the catalogue's words (a refusal's message when the trade could not be applied).
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    status = models.CharField(
        max_length=8, choices=DiscrepancyStatus.choices, default=DiscrepancyStatus.OPEN
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    note = models.CharField(max_length=200, blank=True)

    objects = VisibleQuerySet["GatewayDiscrepancy"].as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "对账差异"
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "kind", "reference"], name="discrepancy_once"
            ),
            models.CheckConstraint(
                name="discrepancy_status_known",
                condition=models.Q(status__in=[s.value for s in DiscrepancyStatus]),
            ),
            models.CheckConstraint(
                name="discrepancy_handled_has_note",
                condition=~models.Q(status=DiscrepancyStatus.HANDLED.value)
                | (~models.Q(note="") & models.Q(handled_at__isnull=False)),
            ),
        ]
        indexes = [models.Index(fields=["provider", "status"])]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.kind}:{self.reference} {self.status}"

    @property
    def key(self) -> str:
        return f"{self.gateway}/{self.reference}"

    def snapshot(self) -> dict[str, object]:
        return {
            "gateway": self.gateway,
            "day": self.day.isoformat(),
            "kind": self.kind,
            "reference": self.reference,
            "merchant_reference": self.merchant_reference,
            "bill_amount": None if self.bill_amount is None else str(self.bill_amount),
            "recorded_amount": None if self.recorded_amount is None else str(self.recorded_amount),
            "status": self.status,
            "note": self.note,
        }


class GatewayBillRun(models.Model):
    """A gateway's daily bill reconciled (``payments.gateway_bills``): the jobs reconcile each
    day once, the row says it was done (and the counts), or when it was last tried and why it
    failed."""

    gateway = models.CharField(max_length=10, choices=ONLINE_GATEWAYS)
    day = models.DateField()
    attempted_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "对账记录"
        constraints = [
            models.UniqueConstraint(fields=["gateway", "day"], name="gateway_bill_run_once")
        ]

    def __str__(self) -> str:
        return f"{self.gateway} {self.day} {'done' if self.finished_at else 'not done'}"


class SandboxTrade(models.Model):
    """The sandbox gateway's side: a trade the buyer confirmed on the sandbox cashier page.

    This is the stand-in for Alipay's / WeChat Pay's own records, not the platform's: the
    platform learns about a trade only from the signed notification.
    """

    gateway = models.CharField(
        max_length=10, choices=[("alipay", "支付宝"), ("wechat", "微信支付")]
    )
    trade_no = models.CharField(max_length=64, unique=True)
    out_trade_no = models.CharField(max_length=32)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    subject = models.CharField(max_length=200)
    buyer = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    notify_id = models.CharField(max_length=64)
    paid_at = models.DateTimeField()
    notify_attempts = models.PositiveIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = "沙箱交易"
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "out_trade_no"], name="sandbox_trade_once_per_order"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.trade_no} {self.out_trade_no}"


class SandboxRefund(models.Model):
    """The sandbox gateway's side of a refund (Alipay's ``alipay.trade.refund``, WeChat Pay's
    ``refunds``): one per merchant refund number (``out_request_no`` / ``out_refund_no``), which
    is what makes asking again with the same number return the same refund."""

    gateway = models.CharField(
        max_length=10, choices=[("alipay", "支付宝"), ("wechat", "微信支付")]
    )
    trade = models.ForeignKey(SandboxTrade, on_delete=models.PROTECT, related_name="refunds")
    #: The merchant's refund number (the platform's, derived from the order).
    out_request_no = models.CharField(max_length=64)
    #: The gateway's own id of the refund (WeChat's ``refund_id``).
    refund_id = models.CharField(max_length=64, unique=True)
    refund_amount = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_at = models.DateTimeField()

    class Meta:
        verbose_name = "沙箱退款"
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "out_request_no"], name="sandbox_refund_once_per_number"
            ),
            models.CheckConstraint(
                name="sandbox_refund_amount_positive",
                condition=models.Q(refund_amount__gt=Decimal("0")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.refund_id} {self.out_request_no} {self.refund_amount}"


class Invoice(models.Model):
    """发票: one per paid order, asked for by the customer, issued by the CA's finance in the tax
    system (its number recorded here). Title, tax number and amount are copied from the
    organisation and the order when asked for: what the customer asked for stays on record."""

    Kind = InvoiceKind
    Status = InvoiceStatus

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="invoices"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField("发票类型", max_length=10, choices=InvoiceKind.choices)
    title = models.CharField("发票抬头", max_length=128)
    tax_number = models.CharField("纳税人识别号", max_length=18)
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2)
    email = models.EmailField("接收邮箱", max_length=254)
    status = models.CharField(
        max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.REQUESTED
    )
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField()
    number = models.CharField("发票号码", max_length=20, blank=True)
    issued_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    #: The PDF from the tax system, in ``<uploads>/invoices`` (``payments.invoices``).
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size = models.PositiveIntegerField(null=True, blank=True)
    #: The red-letter invoice (红字发票) that cancelled it after the order was refunded.
    reversal_number = models.CharField("红字发票号码", max_length=20, blank=True)
    reversed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversal_pdf_sha256 = models.CharField(max_length=64, blank=True)

    objects = VisibleQuerySet["Invoice"].as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = "发票"
        constraints = [
            models.CheckConstraint(
                name="invoice_status_known",
                condition=models.Q(status__in=[s.value for s in InvoiceStatus]),
            ),
            models.CheckConstraint(
                name="invoice_kind_known",
                condition=models.Q(kind__in=[k.value for k in InvoiceKind]),
            ),
            models.CheckConstraint(
                name="invoice_issued_has_number",
                condition=models.Q(
                    status__in=[InvoiceStatus.REQUESTED.value, InvoiceStatus.WITHDRAWN.value]
                )
                | (~models.Q(number="") & models.Q(issued_at__isnull=False)),
            ),
            models.CheckConstraint(
                name="invoice_reversed_has_number",
                condition=~models.Q(status=InvoiceStatus.REVERSED.value)
                | (~models.Q(reversal_number="") & models.Q(reversed_at__isnull=False)),
            ),
            models.UniqueConstraint(
                fields=["provider", "number"],
                condition=~models.Q(number=""),
                name="invoice_number_once",
            ),
            models.UniqueConstraint(
                fields=["provider", "reversal_number"],
                condition=~models.Q(reversal_number=""),
                name="invoice_reversal_number_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.amount} {self.status}"

    def snapshot(self) -> dict[str, object]:
        return {
            "order": self.order.reference,
            "status": self.status,
            "kind": self.kind,
            "amount": str(self.amount),
            "number": self.number,
            "pdf_sha256": self.pdf_sha256,
            "reversal_number": self.reversal_number,
            "reversal_pdf_sha256": self.reversal_pdf_sha256,
        }
