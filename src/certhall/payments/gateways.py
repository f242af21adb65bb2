"""The payment gateways behind one interface.

A gateway is a way money reaches the payee. Each says how a customer pays an order
(:meth:`Gateway.instructions`) and records what it learns through the one shared
:func:`certhall.payments.services.apply_payment`:

* ``counter`` (受理点柜台): the clerk records cash, POS, or the counter's WeChat / Alipay code
  (:func:`certhall.payments.services.record_counter_payment`);
* ``bank`` (银行转账): the customer transfers to the seed's payee account and writes the order
  number in the transfer note; a bank statement is reconciled against pending orders
  (:mod:`certhall.payments.reconcile`, ``certhall payments reconcile``);
* ``alipay`` / ``wechat``: online payment. The real gateways cannot be reached from here, so a
  local sandbox (:mod:`certhall.payments.sandbox`) implements their shape: a cashier page and
  an asynchronous notification signed with the gateway's RSA key, which the platform verifies
  (:mod:`certhall.payments.notify`).

Refunds of online payments go back through the gateway (:meth:`OnlineGateway.refund`, Alipay's
``alipay.trade.refund`` with ``out_request_no``, WeChat Pay's ``refunds`` with
``out_refund_no``): idempotent by the merchant's refund number, so asking again with the same
number gives the same refund, never a second one. The call itself goes to a
:class:`RefundClient`, chosen by :func:`refund_client`: the sandbox's while it is on, else the
real gateway's client, which is where an Alipay / WeChat Pay SDK plugs in (none is configured:
the real gateways cannot be reached from here, and finance records such refunds by hand).

A gateway's daily bill (对账单: Alipay's ``alipay.data.dataservice.bill.downloadurl.query``,
WeChat Pay's ``tradebill``) comes from a :class:`BillClient`, chosen by :func:`bill_client`
the same way: the sandbox's (from its own trades and refunds) while it is on, else the real
gateway's download, which is where the SDK plugs in (none configured here). Its lines arrive
as the downloaded file's text fields and are read by :func:`read_bill` alone
(``payments.gateway_bills`` reconciles them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from django.urls import reverse

from certhall import config, money
from certhall.accounts.models import User
from certhall.accounts.services import system_actor
from certhall.errors import ConfigurationError, Conflict, InvalidInput, NotFound, RuleViolation
from certhall.payments.lifecycle import COUNTER_METHODS, Channel, Method
from certhall.payments.models import Order
from certhall.pki import identity
from certhall.rules import SHANGHAI, default_catalog


@dataclass(frozen=True)
class Instructions:
    """How to pay one order through one gateway, for a page or the API."""

    gateway: str
    label: str
    text: str
    url: str | None = None
    fields: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class GatewayRefund:
    """A refund as the gateway answered it."""

    #: The gateway's id of the refund (WeChat's ``refund_id``; for Alipay, which answers with
    #: the trade, the sandbox gives one too): what finance and the customer read.
    reference: str
    #: The merchant's refund number it was asked with (``out_request_no`` / ``out_refund_no``).
    refund_no: str
    amount: money.Money
    refunded_at: datetime


class RefundClient(Protocol):
    """What calls a gateway's refund API. Idempotent by ``refund_no``: the same number again
    answers the refund made the first time. Refusals are catalogued errors (``CerthallError``);
    anything else (the network) is a failure the caller retries."""

    def refund(
        self, gateway: OnlineGateway, out_trade_no: str, refund_no: str, amount: money.Money
    ) -> GatewayRefund: ...


@dataclass(frozen=True)
class BillTrade:
    """A paid trade of a gateway's daily bill."""

    line: int
    #: The merchant's order number (``out_trade_no``): our order's reference.
    out_trade_no: str
    trade_no: str
    amount: money.Money
    paid_at: datetime


@dataclass(frozen=True)
class BillRefund:
    """A refund of a gateway's daily bill, whoever asked for it (the platform's API call or
    finance in the gateway's merchant back office)."""

    line: int
    #: The merchant's refund number (``out_request_no`` / ``out_refund_no``).
    refund_no: str
    #: The gateway's id of the refund.
    refund_id: str
    trade_no: str
    out_trade_no: str
    amount: money.Money
    refunded_at: datetime


@dataclass(frozen=True)
class Bill:
    """One gateway's bill of one Shanghai calendar day."""

    gateway: str
    day: date
    trades: tuple[BillTrade, ...]
    refunds: tuple[BillRefund, ...]


#: The fields of a bill's lines as a client hands them over (the downloaded file's text).
BILL_TRADE_FIELDS = ("out_trade_no", "trade_no", "total_amount", "gmt_payment", "trade_status")
BILL_REFUND_FIELDS = (
    "out_request_no",
    "refund_id",
    "trade_no",
    "out_trade_no",
    "refund_amount",
    "gmt_refund",
)
#: A trade line's status that is money received (Alipay's 交易成功; WeChat Pay's ``SUCCESS``
#: is written so by the client); other lines (closed trades) are no money and are skipped.
BILL_PAID = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})


class BillClient(Protocol):
    """What downloads a gateway's daily bill: the trades and the refunds of ``day`` (Shanghai
    time), each line a mapping of :data:`BILL_TRADE_FIELDS` / :data:`BILL_REFUND_FIELDS` to
    the file's text. Failures of the download are catalogued errors or exceptions the caller
    reports."""

    def bill(
        self, gateway: OnlineGateway, day: date
    ) -> tuple[list[dict[str, str]], list[dict[str, str]]]: ...


class Gateway(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def channel(self) -> Channel: ...

    def instructions(self, order: Order) -> Instructions: ...


class CounterGateway:
    name = "counter"
    label = "受理点柜台缴费"
    channel = Channel.COUNTER
    methods = COUNTER_METHODS

    def instructions(self, order: Order) -> Instructions:
        ways = "、".join(str(m.label).removesuffix("（柜台）") for m in self.methods)
        return Instructions(
            self.name,
            self.label,
            f"在受理点办理时于柜台缴费（{ways}），受理员当场登记收款。",
            fields=(("订单号", order.reference), ("金额", money.with_symbol(order.amount))),
        )


class BankTransferGateway:
    """Transfer to the payee of the rules catalog (seed 001, 收款账户)."""

    name = "bank"
    label = "银行转账"
    channel = Channel.BANK
    method = Method.BANK_TRANSFER

    def instructions(self, order: Order) -> Instructions:
        payee = default_catalog().payee
        return Instructions(
            self.name,
            self.label,
            "请按订单金额转账，并在转账附言（备注）中填写订单号；到账核对后订单自动变为已支付。",
            fields=(
                ("收款单位", payee.company),
                ("开户行", payee.bank),
                ("账号", payee.account),
                ("金额", money.with_symbol(order.amount)),
                ("转账附言", order.reference),
            ),
        )


@dataclass(frozen=True)
class OnlineGateway:
    """Alipay / WeChat Pay as seen by the platform: who signs, for which merchant app id."""

    name: str
    label: str
    channel: Channel
    method: Method
    #: The merchant app id the platform is registered under (checked in every notification).
    app_id: str

    def actor(self) -> User:
        """The system account notifications are recorded under in the audit log."""
        return system_actor(f"gateway-{self.name}")

    def instructions(self, order: Order) -> Instructions:
        url = reverse("payments-sandbox", args=[order.reference]) + f"?gateway={self.name}"
        return Instructions(
            self.name,
            f"{self.label}（沙箱）",
            f"跳转到{self.label}收银台付款（本地沙箱，不产生真实扣款）。",
            url=url,
        )

    def refund(self, order: Order, refund_no: str, amount_fen: int) -> GatewayRefund:
        """Give ``amount_fen`` of ``order``'s online payment back through this gateway.

        ``refund_no`` is the merchant's refund number: the same number again returns the same
        refund. Refused here before any call: an order not paid through this gateway, and what
        :meth:`refund_trade` refuses."""
        if order.method != self.method:
            raise Conflict(
                code="gateway_refund_method", reference=order.reference, gateway=self.label
            )
        return self.refund_trade(
            order.reference, refund_no, money.Money(amount_fen), paid=money.parse(order.amount)
        )

    def refund_trade(
        self, out_trade_no: str, refund_no: str, amount: money.Money, *, paid: money.Money
    ) -> GatewayRefund:
        """Give ``amount`` back of the trade this gateway made for the merchant's order number
        ``out_trade_no`` (``paid`` in it): an order's own payment (:meth:`refund`) or money
        that arrived for an order no longer waiting for it (``payments.surplus``).

        Refused before any call: an amount not positive or above what was paid; the gateway's
        own refusals come through as they are; ConfigurationError when no refund client is
        configured."""
        if amount.fen <= 0:
            raise InvalidInput(code="gateway_refund_amount")
        if amount > paid:
            raise RuleViolation(
                code="gateway_refund_exceeds",
                amount=money.grouped(amount),
                paid=money.grouped(paid),
                reference=out_trade_no,
            )
        client = refund_client(self)
        if client is None:
            raise ConfigurationError(code="gateway_refund_unavailable", gateway=self.label)
        return client.refund(self, out_trade_no, refund_no, amount)


@dataclass(frozen=True)
class StandIn:
    """What stands in for the real gateways' own side while ``CERTHALL_PAYMENT_SANDBOX`` is
    on: their refund API, their daily bills, and the key pair their notifications are signed
    with (made on first use; ``provide_key`` writes the public half where
    ``payments.keys`` reads it). The sandbox registers itself at start-up
    (``PaymentsConfig.ready``): it is a client of the order services like a real gateway, so
    it sits above this module, which only holds what it registered."""

    refunds: RefundClient
    bills: BillClient
    provide_key: Callable[[str], object]


_stand_in: list[StandIn] = []


def register_stand_in(stand_in: StandIn) -> None:
    """Called once at start-up by the sandbox's app (again by a reloaded app: replaced)."""
    _stand_in[:] = [stand_in]


def stand_in() -> StandIn | None:
    """The sandbox while it is on, else None (the real gateways' side)."""
    if not config.get().payment_sandbox:
        return None
    if not _stand_in:
        raise RuntimeError("the payment sandbox is on but did not register (PaymentsConfig)")
    return _stand_in[0]


def refund_client(gateway: OnlineGateway) -> RefundClient | None:
    """Who carries out ``gateway``'s refunds: the sandbox while it is on.

    THE PLACE WHERE THE REAL CLIENTS PLUG IN: with the sandbox off, return a client calling
    Alipay's ``alipay.trade.refund`` (``out_trade_no``, ``refund_amount`` in yuan,
    ``out_request_no``; signed RSA2 like the notifications, with the merchant's private key) or
    WeChat Pay v3's ``POST /v3/refund/domestic/refunds`` (``out_trade_no``, ``out_refund_no``,
    ``amount.refund`` / ``amount.total`` in fen), mapping the gateway's error codes to
    catalogued refusals. None: no client, the refunds are finance's to send by hand.
    """
    sandbox = stand_in()
    return sandbox.refunds if sandbox is not None else None


def bill_client(gateway: OnlineGateway) -> BillClient | None:
    """Who downloads ``gateway``'s daily bill: the sandbox while it is on.

    THE PLACE WHERE THE REAL CLIENTS PLUG IN: with the sandbox off, return a client that asks
    Alipay's ``alipay.data.dataservice.bill.downloadurl.query`` (``bill_type=trade``,
    ``bill_date=YYYY-MM-DD``) for the bill's URL and reads the zipped GBK CSV's 业务明细, or
    WeChat Pay v3's ``GET /v3/bill/tradebill?bill_date=`` then its ``download_url``; each line
    mapped to the fields above. None: no client (the real gateways cannot be reached from
    here), nothing to reconcile against.
    """
    sandbox = stand_in()
    return sandbox.bills if sandbox is not None else None


@dataclass(frozen=True)
class _BillLine:
    """One line of a bill being read: its fields, what it is (交易 / 退款) and its number, for
    the refusal that names a field missing or malformed."""

    row: dict[str, str]
    what: str
    number: int

    def refused(self, name: str) -> InvalidInput:
        return InvalidInput(code="gateway_bill_line", what=self.what, line=self.number, field=name)

    def value(self, name: str) -> str:
        value = str(self.row.get(name) or "").strip()
        if not value or len(value) > 64:
            raise self.refused(name)
        return value

    def text(self, name: str) -> str:
        """A text field (a status, a trade or refund number): shown to finance in the alerts,
        and compared as it is, so nothing invisible (``gateway_bill_text_chars``)."""
        value = self.value(name)
        try:
            identity.refuse_invisible(value, name)
        except InvalidInput as refused:
            raise InvalidInput(
                code="gateway_bill_text_chars", record=self.what, line=self.number, **refused.params
            ) from None
        return value

    def amount(self, name: str) -> money.Money:
        try:
            amount = money.parse(self.value(name), what="对账单金额")
        except InvalidInput:
            raise self.refused(name) from None
        if amount.fen <= 0:
            raise self.refused(name)
        return amount

    def time(self, name: str) -> datetime:
        try:
            return datetime.strptime(self.value(name), "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
        except ValueError:
            raise self.refused(name) from None


def read_bill(
    gateway: OnlineGateway,
    day: date,
    trades: list[dict[str, str]],
    refunds: list[dict[str, str]],
) -> Bill:
    """The bill's lines read: every field present, amounts positive yuan, times in Shanghai
    time, texts without invisible characters; a line that is not (InvalidInput
    ``gateway_bill_line`` or ``gateway_bill_text_chars``, naming the line and the field) refuses
    the whole bill: nothing is reconciled against a bill only partly read."""
    paid: list[BillTrade] = []
    for number, row in enumerate(trades, start=1):
        line = _BillLine(row, "交易", number)
        if line.text("trade_status") in BILL_PAID:
            paid.append(
                BillTrade(
                    number,
                    out_trade_no=line.text("out_trade_no"),
                    trade_no=line.text("trade_no"),
                    amount=line.amount("total_amount"),
                    paid_at=line.time("gmt_payment"),
                )
            )
    back: list[BillRefund] = []
    for number, row in enumerate(refunds, start=1):
        line = _BillLine(row, "退款", number)
        back.append(
            BillRefund(
                number,
                refund_no=line.text("out_request_no"),
                refund_id=line.text("refund_id"),
                trade_no=line.text("trade_no"),
                out_trade_no=line.text("out_trade_no"),
                amount=line.amount("refund_amount"),
                refunded_at=line.time("gmt_refund"),
            )
        )
    return Bill(gateway.name, day, tuple(paid), tuple(back))


COUNTER = CounterGateway()
BANK = BankTransferGateway()
ALIPAY = OnlineGateway(
    "alipay", "支付宝", Channel.ALIPAY, Method.ALIPAY_ONLINE, app_id="2026000000000001"
)
WECHAT = OnlineGateway(
    "wechat", "微信支付", Channel.WECHAT, Method.WECHAT_ONLINE, app_id="wx0000000000000001"
)

ONLINE: dict[str, OnlineGateway] = {g.name: g for g in (ALIPAY, WECHAT)}
GATEWAYS: dict[str, Gateway] = {g.name: g for g in (COUNTER, BANK, ALIPAY, WECHAT)}


def online(name: str) -> OnlineGateway:
    gateway = ONLINE.get(name)
    if gateway is None:
        raise NotFound(code="gateway_unknown", name=name)
    return gateway


def for_method(method: str) -> OnlineGateway | None:
    """The online gateway an order paid with ``method`` was paid through, if any."""
    return next((g for g in ONLINE.values() if g.method == method), None)


def payment_options(order: Order) -> list[Instructions]:
    """How ``order`` can be paid: online (when the sandbox is on), bank transfer, counter."""
    options: list[Instructions] = []
    if config.get().payment_sandbox:
        options.extend(g.instructions(order) for g in ONLINE.values())
    options.append(BANK.instructions(order))
    options.append(COUNTER.instructions(order))
    return options
