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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.urls import reverse

from certhall import config, money
from certhall.accounts.models import User
from certhall.accounts.services import system_actor
from certhall.errors import NotFound
from certhall.payments.lifecycle import COUNTER_METHODS, Channel, Method
from certhall.payments.models import Order
from certhall.rules import default_catalog


@dataclass(frozen=True)
class Instructions:
    """How to pay one order through one gateway, for a page or the API."""

    gateway: str
    label: str
    text: str
    url: str | None = None
    fields: tuple[tuple[str, str], ...] = ()


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


def payment_options(order: Order) -> list[Instructions]:
    """How ``order`` can be paid: online (when the sandbox is on), bank transfer, counter."""
    options: list[Instructions] = []
    if config.get().payment_sandbox:
        options.extend(g.instructions(order) for g in ONLINE.values())
    options.append(BANK.instructions(order))
    options.append(COUNTER.instructions(order))
    return options
