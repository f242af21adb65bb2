"""Orders, counter payments, refunds, cancellation: rules, permissions, audit, signals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from certhall.accounts.models import Organization, Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from certhall.payments import lifecycle, services
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order, Payment
from certhall.payments.signals import order_paid, order_refunded

pytestmark = pytest.mark.django_db


def events(action: str, result: str = "ok") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, result=result).order_by("seq"))


# --- the transition table -------------------------------------------------------------------

ALL = list(Status)
EXPECTED = {
    (Status.PENDING, Status.PAID),
    (Status.PENDING, Status.CANCELLED),
    (Status.PAID, Status.REFUNDED),
}


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("target", ALL)
def test_transition_table_is_exactly_the_documented_one(current: Status, target: Status) -> None:
    assert lifecycle.ORDERS.allowed(current, target) == ((current, target) in EXPECTED)


def _in_state(order: Order, status: Status) -> Order:
    fields: dict[str, object] = {"status": status}
    if status in (Status.PAID, Status.REFUNDED):
        fields.update(method="cash", paid_at=order.created_at)
    Order.objects.filter(pk=order.pk).update(**fields)
    order.refresh_from_db()
    return order


def _pay(clerk: User, order: Order) -> object:
    return services.record_counter_payment(clerk, order, method="cash", amount=order.amount)


def _cancel(clerk: User, order: Order) -> object:
    return services.cancel_order(clerk, order, "测试")


def _refund(clerk: User, order: Order) -> object:
    return services.refund(clerk, order, "测试")


ACTIONS: dict[Status, Callable[[User, Order], object]] = {
    Status.PAID: _pay,
    Status.CANCELLED: _cancel,
    Status.REFUNDED: _refund,
}


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("target", list(ACTIONS))
def test_every_service_transition_checks_the_current_state(
    clock: Any, clerk: User, order: Order, current: Status, target: Status
) -> None:
    order = _in_state(order, current)
    if (current, target) in EXPECTED:
        ACTIONS[target](clerk, order)
        order.refresh_from_db()
        assert order.status == target
        return
    before = Order.objects.values().get(pk=order.pk)
    with pytest.raises(Conflict):
        ACTIONS[target](clerk, order)
    assert Order.objects.values().get(pk=order.pk) == before
    assert not Payment.objects.filter(order=order).exists()


# --- creating orders ----------------------------------------------------------------------


def test_create_order_numbers_by_day_and_audits(
    clock: Any, applicant: User, make_order: Callable[..., Order], organization: Organization
) -> None:
    first = make_order()
    second = make_order("150.00")
    assert first.reference == "ZF20261120-000001"
    assert second.reference == "ZF20261120-000002"
    assert first.status == Status.PENDING and first.amount == Decimal("300.00")
    assert first.organization == organization
    assert first.provider.slug == "szca"
    assert first.items == [{"description": "机构证书（ODC证书）新办 1年", "amount": "300.00"}]
    assert first.receipt_number == "SJ20261120-000001"
    created = events("payments.order.create")
    assert [e.object_id for e in created] == [first.reference, second.reference]
    assert created[0].after["amount"] == "300.00"
    assert created[0].actor == applicant.label()


def test_reference_day_is_the_shanghai_date(
    applicant: User, make_order: Callable[..., Order]
) -> None:
    import time_machine

    # 2026-11-20 23:30 UTC is already 2026-11-21 07:30 in Shanghai.
    with time_machine.travel("2026-11-20T23:30:00+00:00", tick=False):
        assert make_order().reference.startswith("ZF20261121-")


def test_same_bill_again_returns_the_pending_order(
    clock: Any, make_order: Callable[..., Order]
) -> None:
    first = make_order(object_id="SQ-1")
    again = make_order(object_id="SQ-1")
    assert again.pk == first.pk
    assert Order.objects.count() == 1
    assert len(events("payments.order.create")) == 1


def test_another_amount_while_pending_or_any_order_once_paid_conflicts(
    clock: Any, clerk: User, make_order: Callable[..., Order]
) -> None:
    first = make_order(object_id="SQ-1")
    with pytest.raises(Conflict, match="已有待支付订单"):
        make_order("150.00", object_id="SQ-1")
    _pay(clerk, first)
    with pytest.raises(Conflict, match="已支付"):
        make_order(object_id="SQ-1")
    services.refund(clerk, first, "客户撤回申请")
    assert make_order(object_id="SQ-1").pk != first.pk  # refunded: a new bill may be made
    assert len(events("payments.order.create", "refused")) == 2


def test_items_must_add_up(clock: Any, make_order: Callable[..., Order]) -> None:
    order = make_order(
        "470.00",
        items=[
            ("机构个人证书（法人证书）新办 3年", "450.00"),
            {"description": "邮费", "amount": "20"},
        ],
    )
    assert order.items == [
        {"description": "机构个人证书（法人证书）新办 3年", "amount": "450.00"},
        {"description": "邮费", "amount": "20.00"},
    ]
    with pytest.raises(InvalidInput, match=r"合计 460\.00 元与订单金额 470\.00 元不符"):
        make_order("470.00", items=[("新办", "450.00"), ("邮费", "10.00")])
    with pytest.raises(InvalidInput, match="明细金额不能为负数"):
        make_order("470.00", items=[("新办", "480.00"), ("优惠", "-10.00")])


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"amount": Decimal("0")}, InvalidInput, "免费业务无需支付"),
        ({"amount": Decimal("-1")}, InvalidInput, "免费业务无需支付"),
        ({"amount": "1000000.01"}, InvalidInput, "订单金额不能超过 1,000,000.00 元"),
        ({"amount": None}, InvalidInput, "订单金额必须是金额（元）"),
        ({"amount": 300.0}, InvalidInput, "浮点数"),
        ({"amount": Decimal("300.001")}, InvalidInput, "两位小数"),
        ({"purpose": "Hall Application"}, InvalidInput, "用途"),
        ({"object_id": " "}, InvalidInput, "业务编号"),
        ({"description": ""}, InvalidInput, "订单说明"),
    ],
)
def test_bad_orders_are_refused_and_audited(
    clock: Any, make_order: Callable[..., Order], fields: dict[str, Any], error: type, message: str
) -> None:
    with pytest.raises(error, match=message):
        make_order(**fields)
    assert not Order.objects.exists()
    assert len(events("payments.order.create", "refused")) == 1


def test_who_may_create_orders(
    clock: Any,
    make_user: Callable[..., User],
    make_order: Callable[..., Order],
    other_organization: Organization,
    other_clerk: User,
) -> None:
    with pytest.raises(Forbidden):  # an applicant only for its own organisation
        make_order(organization=other_organization)
    with pytest.raises(Forbidden):
        make_order(actor=make_user(Role.REVIEWER))
    # the counter opens orders for any customer, on its own provider's account
    order = make_order(actor=other_clerk, organization=other_organization)
    assert order.provider == other_clerk.provider
    assert order.created_by == other_clerk


# --- counter payments ---------------------------------------------------------------------


def test_counter_payment_pays_the_order_once(clock: Any, clerk: User, order: Order) -> None:
    payment = services.record_counter_payment(clerk, order, method="pos", amount=Decimal("300"))
    assert order.status == Status.PAID
    assert order.method == "pos"
    assert order.paid_at is not None
    assert payment.channel == "counter"
    assert payment.transaction_id == f"counter-{order.reference}"
    assert payment.amount == Decimal("300.00")
    assert payment.recorded_by == clerk
    paid = events("payments.order.paid")
    assert len(paid) == 1
    assert paid[0].before["status"] == "pending"
    assert paid[0].after["status"] == "paid" and paid[0].after["channel"] == "counter"
    with pytest.raises(Conflict, match="已支付"):
        services.record_counter_payment(clerk, order, method="cash", amount=Decimal("300"))
    assert Payment.objects.count() == 1


def test_counter_payment_of_a_wrong_amount_is_refused_and_audited(
    clock: Any, clerk: User, order: Order
) -> None:
    with pytest.raises(RuleViolation, match=r"收款金额 200\.00 元与订单 .* 300\.00 元不符"):
        services.record_counter_payment(clerk, order, method="cash", amount=Decimal("200"))
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert not Payment.objects.exists()
    refused = events("payments.counter.record", "refused")
    assert len(refused) == 1
    assert refused[0].object_id == order.reference
    assert refused[0].after["error"] == "amount_mismatch"
    assert not events("payments.order.paid")


@pytest.mark.parametrize(
    ("method", "amount", "error"),
    [
        ("bitcoin", "300", InvalidInput),
        ("bank_transfer", "300", InvalidInput),  # not a counter method
        ("cash", 300.0, InvalidInput),
    ],
)
def test_counter_payment_bad_input(
    clock: Any, clerk: User, order: Order, method: str, amount: Any, error: type
) -> None:
    with pytest.raises(error):
        services.record_counter_payment(clerk, order, method=method, amount=amount)
    assert not Payment.objects.exists()


def test_counter_payment_roles_and_providers(
    clock: Any, applicant: User, other_clerk: User, make_user: Callable[..., User], order: Order
) -> None:
    for actor in (applicant, other_clerk, make_user(Role.REVIEWER), make_user(Role.ISSUER)):
        with pytest.raises(Forbidden):
            services.record_counter_payment(actor, order, method="cash", amount=order.amount)
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert not Payment.objects.exists()


def test_a_voucher_is_used_once(clock: Any, clerk: User, make_order: Callable[..., Order]) -> None:
    first, second = make_order(), make_order()
    services.record_counter_payment(
        clerk, first, method="wechat", amount=first.amount, voucher="4200001234"
    )
    with pytest.raises(Conflict, match="已入账"):
        services.record_counter_payment(
            clerk, second, method="wechat", amount=second.amount, voucher="4200001234"
        )
    second.refresh_from_db()
    assert second.status == Status.PENDING


# --- signals ------------------------------------------------------------------------------


@pytest.fixture
def receiver() -> Iterator[list[dict[str, Any]]]:
    calls: list[dict[str, Any]] = []

    def on_paid(sender: type, **kwargs: Any) -> None:
        calls.append({**kwargs, "which": "paid", "sender": sender})
        if kwargs["order"].object_id.startswith("FAIL"):
            raise Conflict("申请状态不允许支付")

    def on_refunded(sender: type, **kwargs: Any) -> None:
        calls.append({**kwargs, "which": "refunded", "sender": sender})
        if kwargs["order"].object_id.startswith("FAIL"):
            raise RuntimeError("receiver bug")

    order_paid.connect(on_paid, dispatch_uid="test-paid")
    order_refunded.connect(on_refunded, dispatch_uid="test-refunded")
    yield calls
    order_paid.disconnect(dispatch_uid="test-paid")
    order_refunded.disconnect(dispatch_uid="test-refunded")


def test_order_paid_is_sent_inside_the_transaction(
    clock: Any, clerk: User, order: Order, receiver: list[dict[str, Any]]
) -> None:
    payment = _pay(clerk, order)
    assert len(receiver) == 1
    call = receiver[0]
    assert call["sender"] is Order
    assert call["order"].status == Status.PAID  # the receiver sees the paid order
    assert call["payment"] == payment
    assert call["actor"] == clerk
    services.refund(clerk, order, "重复缴费")
    assert receiver[1]["which"] == "refunded"
    assert receiver[1]["reason"] == "重复缴费"
    assert receiver[1]["actor"] == clerk
    assert receiver[1]["order"].status == Status.REFUNDED


def test_a_failing_receiver_rolls_the_payment_back(
    clock: Any, clerk: User, make_order: Callable[..., Order], receiver: list[dict[str, Any]]
) -> None:
    order = make_order(object_id="FAIL-1")
    with pytest.raises(Conflict, match="申请状态不允许支付"):
        _pay(clerk, order)
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert order.paid_at is None
    assert not Payment.objects.exists()
    assert not events("payments.order.paid")
    assert len(events("payments.counter.record", "refused")) == 1


def test_a_failing_receiver_rolls_the_refund_back(
    clock: Any, clerk: User, make_order: Callable[..., Order], receiver: list[dict[str, Any]]
) -> None:
    order = make_order(object_id="FAIL-2")
    order_paid.disconnect(dispatch_uid="test-paid")
    _pay(clerk, order)
    with pytest.raises(RuntimeError):
        services.refund(clerk, order, "测试")
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert order.refunded_at is None
    assert not events("payments.order.refund")


# --- refunds and cancellation -------------------------------------------------------------


def test_refund(clock: Any, clerk: User, order: Order) -> None:
    _pay(clerk, order)
    with pytest.raises(InvalidInput, match="退款原因"):
        services.refund(clerk, order, "  ")
    refunded = services.refund(clerk, order, "客户撤回申请")
    assert refunded.status == Status.REFUNDED
    assert refunded.refund_reason == "客户撤回申请"
    assert refunded.refunded_at is not None
    event = events("payments.order.refund")[0]
    assert event.before["status"] == "paid"
    assert event.after["reason"] == "客户撤回申请"
    with pytest.raises(Conflict, match="已退款"):
        services.refund(clerk, order, "again")
    assert len(events("payments.order.refund", "refused")) == 2


def test_a_counter_refund_goes_back_at_once_a_transfers_is_owed_until_sent(
    clock: Any, clerk: User, other_clerk: User, applicant: User, make_order: Callable[..., Order]
) -> None:
    """Before, a refunded bank transfer or online payment left finance no list of the money it
    still had to send back."""
    at_counter, by_bank = make_order(), make_order()
    _pay(clerk, at_counter)
    with transaction.atomic():
        services.apply_payment(
            clerk,
            by_bank,
            channel=lifecycle.Channel.BANK,
            method=lifecycle.Method.BANK_TRANSFER,
            transaction_id="bank-0001",
            amount=by_bank.amount,
            received_at=datetime.now(UTC),
        )
    for order in (at_counter, by_bank):
        services.refund(clerk, order, "客户撤回申请")
    at_counter.refresh_from_db()
    assert at_counter.refund_sent_at is not None and at_counter.refund_sent_by == clerk
    assert services.refunds_owed(clerk) == [by_bank]
    assert services.refunds_owed(other_clerk) == []  # another provider's finance
    with pytest.raises(Forbidden):
        services.refunds_owed(applicant)
    with pytest.raises(InvalidInput):
        services.record_refund_sent(clerk, by_bank.reference, " ")
    with pytest.raises(Forbidden):
        services.record_refund_sent(other_clerk, by_bank.reference, "HX20261205001")
    sent = services.record_refund_sent(clerk, by_bank.reference, "HX20261205001")
    assert (sent.refund_sent_reference, sent.refund_sent_by) == ("HX20261205001", clerk)
    assert services.refunds_owed(clerk) == []
    with pytest.raises(Conflict) as twice:
        services.record_refund_sent(clerk, by_bank.reference, "HX20261205002")
    assert twice.value.code == "refund_not_owed"
    with pytest.raises(Conflict):  # nothing refunded, nothing owed
        services.record_refund_sent(clerk, make_order().reference, "HX1")
    (event,) = events("payments.order.refund_sent")
    assert event.after == {
        "amount": "300.00",
        "method": "bank_transfer",
        "reference": "HX20261205001",
    }
    assert len(events("payments.order.refund_sent", "refused")) == 4


def test_refund_permissions(
    clock: Any, clerk: User, applicant: User, other_clerk: User, order: Order
) -> None:
    _pay(clerk, order)
    for actor in (applicant, other_clerk):
        with pytest.raises(Forbidden):
            services.refund(actor, order, "想退款")
    order.refresh_from_db()
    assert order.status == Status.PAID


def test_cancel_by_the_organisation_or_the_counter(
    clock: Any,
    applicant: User,
    other_applicant: User,
    make_order: Callable[..., Order],
) -> None:
    order = make_order()
    with pytest.raises(Forbidden):
        services.cancel_order(other_applicant, order, "不是我的")
    services.cancel_order(applicant, order, "申请已撤回")
    assert order.status == Status.CANCELLED and order.cancelled_at is not None
    assert events("payments.order.cancel")[0].after["reason"] == "申请已撤回"


def test_an_over_long_cancellation_reason_is_refused_not_cut(
    clock: Any, applicant: User, make_order: Callable[..., Order]
) -> None:
    """The reason was cut to 200 characters and the order cancelled with the cut text."""
    order = make_order()
    with pytest.raises(InvalidInput) as refused:
        services.cancel_order(applicant, order, "撤" * 201)
    assert refused.value.message == "取消原因不能超过200个字，请核对后重新填写。"
    order.refresh_from_db()
    assert order.status == Status.PENDING and order.cancelled_at is None
    services.cancel_order(applicant, order, "撤" * 200)
    assert events("payments.order.cancel")[-1].after["reason"] == "撤" * 200


# --- visibility ---------------------------------------------------------------------------


def test_each_sees_only_their_own_orders(
    clock: Any,
    applicant: User,
    other_applicant: User,
    clerk: User,
    other_clerk: User,
    make_order: Callable[..., Order],
    other_organization: Organization,
) -> None:
    mine = make_order()
    theirs = make_order(actor=other_applicant, organization=other_organization)
    counter = make_order(actor=other_clerk, organization=other_organization)
    assert services.list_orders(applicant) == [mine]
    assert services.list_orders(other_applicant) == [counter, theirs]
    assert services.list_orders(clerk) == [theirs, mine]  # the home provider's
    assert services.list_orders(other_clerk) == [counter]
    assert services.list_orders(applicant, status="paid") == []
    with pytest.raises(NotFound):  # as an order that does not exist (no 403 oracle)
        services.get_order(applicant, theirs.reference)
    with pytest.raises(Forbidden):
        services.get_order(other_clerk, mine.reference)
    assert services.get_order(applicant, mine.reference.replace("-", "").lower()) == mine


def test_order_numbers_are_normalised_or_refused() -> None:
    assert services.normalise_reference(" zf20261120 000123 ") == "ZF20261120-000123"
    # a Chinese input method's full-width letters, digits and hyphen: the same order, in ASCII
    # (\d took them and the reference kept them: another order, not found)
    assert services.normalise_reference("ＺＦ２０２６１１２０－０００１２３") == "ZF20261120-000123"
    with pytest.raises(InvalidInput, match="不是订单号"):
        services.normalise_reference("ZF٢٠٢٦١١٢٠-000123")  # Arabic-Indic digits
    with pytest.raises(InvalidInput, match="不是订单号"):
        services.normalise_reference("ZF2026112-000123")


# --- invisible characters in finance's texts (docs/security.md) -----------------------------

TYPED: dict[str, tuple[str, Callable[[User, Order, str], object]]] = {
    "refund reason": (
        "退款原因",
        lambda clerk, order, x: services.refund(clerk, order, f"客户{x}"),
    ),
    "cancellation reason": (
        "取消原因",
        lambda clerk, order, x: services.cancel_order(clerk, order, f"改为{x}柜台缴费"),
    ),
    "counter voucher": (
        "凭证号",
        lambda clerk, order, x: services.record_counter_payment(
            clerk, order, method="pos", amount=order.amount, voucher=f"POS{x}0001"
        ),
    ),
}


@pytest.mark.parametrize("name", TYPED)
@pytest.mark.parametrize("char", ["\u202e", "\u200b", "\x00"], ids=["rlo", "zwsp", "nul"])
def test_finances_texts_refuse_an_invisible_character(
    clock: Any, clerk: User, order: Order, name: str, char: str
) -> None:
    """A refund's or a cancellation's reason (the customer's order page), a POS slip's number
    (the receipt, the daily bill's matching): bounded only, they took direction, zero-width and
    control characters. Every text finance gives is ``services.order_text``'s (the 处理说明,
    停止原因 and 退回流水号 of test_refund_guard, test_gateway_bills and test_surplus too)."""
    what, call = TYPED[name]
    if name == "refund reason":
        order = _in_state(order, Status.PAID)
    with pytest.raises(InvalidInput) as refused:
        call(clerk, order, char)
    assert refused.value.code == "text_chars"
    assert refused.value.message.startswith(f"{what}的第")
    status = Order.objects.get(pk=order.pk).status
    assert status == (Status.PAID if name == "refund reason" else Status.PENDING)
