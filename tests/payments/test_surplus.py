"""多余到账: money a gateway notifies for an order no longer waiting for it is kept (one row per
trade, the same notification again changes nothing), finance of the order's CA sees it and sends
it back, through the gateway's refund (原路退回, once) or by hand (已手工退回, not while a call is
under way), and the customer is told. Real signed notifications to the real view, the sandbox
gateway's refunds, a frozen clock; the simultaneous deliveries on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client

from certhall import clock as certhall_clock
from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.config import SmtpConfig
from certhall.errors import CerthallError, Forbidden, InvalidInput, NotFound
from certhall.notify.models import OutgoingEmail, SmsMessage
from certhall.payments import refund_state, sandbox, services, surplus
from certhall.payments.lifecycle import Status, SurplusStatus
from certhall.payments.models import Order, Payment, SandboxRefund, SandboxTrade, SurplusPayment
from tests.support.threads import together

from .conftest import (
    events,
    login,
    notification_params,
    page,
    refused,
    refused_row,
    signed_body,
)

FORM = "application/x-www-form-urlencoded"


def deliver(client: Client, trade: SandboxTrade) -> bytes:
    """The sandbox's signed notification of ``trade``, posted to the platform's notify view."""
    body = urlencode(sandbox.notification(trade)).encode("utf-8")
    response = client.post(f"/payments/notify/{trade.gateway}", data=body, content_type=FORM)
    assert response.status_code == 200, response.content
    return bytes(response.content)


@pytest.fixture
def csrf_client() -> Client:
    """The gateway has no session and no CSRF token."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def paid_twice(
    clock: Any, csrf_client: Client, applicant: User, make_order: Callable[..., Order]
) -> Callable[..., tuple[Order, SurplusPayment]]:
    """The customer opened both cashiers while the order was pending and paid at both: the
    first notification pays the order, the second is kept."""

    def make(first: str = "alipay", second: str = "wechat") -> tuple[Order, SurplusPayment]:
        order = make_order()
        one = sandbox.pay(applicant, order.reference, first)
        two = sandbox.pay(applicant, order.reference, second)
        assert deliver(csrf_client, one) == b"success"
        assert deliver(csrf_client, two) == b"success"
        order.refresh_from_db()
        return order, SurplusPayment.objects.get(trade_no=two.trade_no)

    return make


# --- kept, once -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_paid_at_both_cashiers_the_second_is_kept_once(
    csrf_client: Client, paid_twice: Callable[..., tuple[Order, SurplusPayment]]
) -> None:
    order, kept = paid_twice()
    assert order.status == Status.PAID and order.method == "alipay_online"
    assert Payment.objects.filter(order=order).count() == 1
    assert (kept.gateway, kept.amount, kept.status) == ("wechat", order.amount, "received")
    assert (kept.organization_id, kept.provider_id) == (order.organization_id, order.provider_id)
    trade = SandboxTrade.objects.get(trade_no=kept.trade_no)
    assert kept.paid_at == trade.paid_at.replace(microsecond=0)
    (event,) = events("payments.surplus.received")
    assert event.object_id == f"{order.reference}/{kept.trade_no}"
    assert event.after["refund_no"] == f"TK{order.reference.removeprefix('ZF')}-D{kept.pk}"
    assert event.after["order_status"] == "paid"
    # delivered again (and again): nothing changes, still success
    for _ in range(2):
        assert deliver(csrf_client, trade) == b"success"
    assert SurplusPayment.objects.count() == 1
    assert len(events("payments.surplus.received")) == 1
    assert not events("payments.notify", "refused")


@pytest.mark.django_db
def test_paid_at_the_counter_then_online(
    clock: Any, csrf_client: Client, clerk: User, order: Order
) -> None:
    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    body = signed_body(notification_params(order))
    for _ in range(3):
        response = csrf_client.post("/payments/notify/alipay", data=body, content_type=FORM)
        assert response.content == b"success"
    (kept,) = SurplusPayment.objects.all()
    assert (kept.gateway, kept.trade_no) == ("alipay", "2026112022001000000000000001")
    order.refresh_from_db()
    assert order.status == Status.PAID and order.method == "cash"
    assert len(events("payments.surplus.received")) == 1


@pytest.mark.django_db
def test_a_notification_after_cancellation_is_kept_whatever_its_amount(
    clock: Any, csrf_client: Client, applicant: User, make_order: Callable[..., Order]
) -> None:
    order = make_order()
    services.cancel_order(applicant, order, "重新下单")
    params = notification_params(
        order, total_amount="299.50", trade_no="2026112022001000000000000077"
    )
    response = csrf_client.post(
        "/payments/notify/alipay", data=signed_body(params), content_type=FORM
    )
    assert response.content == b"success"
    (kept,) = SurplusPayment.objects.all()
    assert str(kept.amount) == "299.50" and kept.order_id == order.pk
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    # the same trade for another order is refused (answered fail, audited), nothing kept
    other = make_order()
    services.cancel_order(applicant, other, "重新下单")
    again = notification_params(other, total_amount="299.50", trade_no=kept.trade_no)
    response = csrf_client.post(
        "/payments/notify/alipay", data=signed_body(again), content_type=FORM
    )
    assert response.content == b"fail"
    assert SurplusPayment.objects.count() == 1
    (event,) = events("payments.notify", "refused")
    assert event.after["error"] == "trade_mismatch"


# --- who sees them -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_finance_of_the_ca_sees_them_nobody_else(
    paid_twice: Callable[..., tuple[Order, SurplusPayment]],
    clerk: User,
    other_clerk: User,
    applicant: User,
    other_applicant: User,
) -> None:
    order, kept = paid_twice()
    seen = page(login(clerk).get("/payments/invoices/"))
    assert "多余到账，待退回（1）" in seen
    row = seen[seen.index(f'data-surplus="{kept.pk}"') :]
    row = row[: row.index("</tr>")]
    assert order.reference in row and kept.trade_no in row and "微信支付" in row
    assert "300.00" in row and "原路退回" in row and "已手工退回" in row
    assert surplus.owed(clerk) == [kept]
    # another CA's staff: not on their page, refused the row
    assert "多余到账" not in page(login(other_clerk).get("/payments/invoices/"))
    assert surplus.owed(other_clerk) == []
    refused(lambda: surplus.send_back(other_clerk, kept.pk), "other_provider", Forbidden)
    for action in ("return", "returned-by-hand"):
        url = f"/payments/surplus/{kept.pk}/{action}"
        assert login(other_clerk).post(url, {"sent_reference": "X"}).status_code == 403
        # the customer itself cannot act, nor another enterprise
        assert login(applicant).post(url, {"sent_reference": "X"}).status_code == 403
        assert login(other_applicant).post(url, {"sent_reference": "X"}).status_code == 403
        assert login(clerk, csrf=True).post(url, {"sent_reference": "X"}).status_code == 403
    assert login(applicant).get("/payments/invoices/").status_code == 403
    refused(lambda: surplus.owed(applicant), "role_required", Forbidden)
    refused(lambda: surplus.get(clerk, 999_999), "surplus_not_found", NotFound)
    kept.refresh_from_db()
    assert kept.status == SurplusStatus.RECEIVED
    # the customer reads on its order page that the second payment will be sent back
    mine = page(login(applicant).get(f"/payments/orders/{order.reference}"))
    assert "多付款项" in mine
    assert f"又收到一笔微信支付付款 300.00 元（交易号 {kept.trade_no}）" in mine
    assert "将原路退回付款账户" in mine
    assert login(other_applicant).get(f"/payments/orders/{order.reference}").status_code == 404


# --- 原路退回 ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_returned_through_the_gateway_once_and_the_customer_told(
    paid_twice: Callable[..., tuple[Order, SurplusPayment]],
    clerk: User,
    applicant: User,
    configure: Callable[..., Any],
) -> None:
    configure(smtp=SmtpConfig(host="127.0.0.1", port=9))  # queued only: never sent here
    User.objects.filter(pk=applicant.pk).update(phone="13800138000", email="cw@example.cn")
    order, kept = paid_twice()
    finance = login(clerk)
    done = page(finance.post(f"/payments/surplus/{kept.pk}/return", follow=True))
    kept.refresh_from_db()
    assert kept.status == SurplusStatus.RETURNED and kept.returned_by is not None
    assert kept.returned_by.username == "system-gateway-wechat"
    (refund,) = SandboxRefund.objects.all()
    assert refund.out_request_no == surplus.refund_no(kept) != refund_state.refund_no(order)
    assert refund.trade.trade_no == kept.trade_no and refund.refund_amount == kept.amount
    assert kept.returned_reference == refund.refund_id
    assert f"已经微信支付原路退回订单 {order.reference} 多付的 300.00 元" in done
    assert "多余到账，待退回" not in done
    started, returned = events("payments.surplus.return_start"), events("payments.surplus.returned")
    assert len(started) == 1 and len(returned) == 1
    assert returned[0].after["amount"] == "300.00" and returned[0].after["by"] == "gateway"
    # the order's own payment is untouched; pressing again, or by hand, is refused
    order.refresh_from_db()
    assert order.status == Status.PAID
    refused(lambda: surplus.send_back(clerk, kept.pk), "surplus_returned")
    refused(lambda: surplus.record_by_hand(clerk, kept.pk, "HAND-1"), "surplus_returned")
    hidden = lambda: surplus.record_by_hand(clerk, kept.pk, "HAND\u202e-1")  # noqa: E731
    refused(hidden, "text_chars", InvalidInput)  # refused as typed, before the state
    assert SandboxRefund.objects.count() == 1
    # told by SMS and email
    (sms,) = SmsMessage.objects.filter(kind="surplus_returned")
    assert sms.phone == "13800138000"
    assert (
        f"多付的一笔微信支付付款300.00元已于2026-11-20原路退回付款账户（退款单号{refund.refund_id}）"
        in sms.text
    )
    mail = OutgoingEmail.objects.get(kind="surplus_returned")
    assert mail.to == "cw@example.cn" and order.reference in mail.subject
    mine = page(login(applicant).get(f"/payments/orders/{order.reference}"))
    assert f"已于 2026-11-20 原路退回付款账户（退款单号 {refund.refund_id}）" in mine


@pytest.mark.django_db
def test_a_refused_return_is_put_back_then_recorded_by_hand(
    paid_twice: Callable[..., tuple[Order, SurplusPayment]], clerk: User
) -> None:
    order, kept = paid_twice()
    SandboxTrade.objects.filter(trade_no=kept.trade_no).update(out_trade_no="ZF-gone")
    message = refused(lambda: surplus.send_back(clerk, kept.pk), "surplus_return_failed")
    assert f"经微信支付退回订单 {order.reference} 多付的 300.00 元未成功" in message
    kept.refresh_from_db()
    assert kept.status == SurplusStatus.RECEIVED and kept.return_calling_at is None
    assert "没有订单" in kept.return_last_error and kept.return_attempts == 1
    assert [e.after["error"] for e in events("payments.surplus.return", "refused")] == [
        "surplus_return_failed"
    ]
    assert len(events("payments.surplus.return_failed")) == 1
    shown = page(login(clerk).get("/payments/invoices/"))
    assert "上次退回未成功" in shown
    # too long a reference: refused beside the form, nothing recorded
    finance = login(clerk)
    # (shown again beside that row's form as typed: a redirect lost it behind a notice)
    hand, row = f"/payments/surplus/{kept.pk}/returned-by-hand", f'data-surplus="{kept.pk}"'
    long = finance.post(hand, {"sent_reference": "9" * 65})
    # named by the service, the one bound
    refused_row(long, row, "退回流水号不能超过64个字", "sent_reference", "9" * 65)
    assert SurplusPayment.objects.get(pk=kept.pk).status == SurplusStatus.RECEIVED
    empty = finance.post(hand, {"sent_reference": "  "})
    refused_row(empty, row, "退回流水号不能为空", "sent_reference", "")
    assert SurplusPayment.objects.get(pk=kept.pk).returned_reference == ""
    done = page(finance.post(f"/payments/surplus/{kept.pk}/returned-by-hand",
                             {"sent_reference": "HX20261120001"}, follow=True))  # fmt: skip
    assert f"已登记订单 {order.reference} 多付的 300.00 元已手工退回（HX20261120001）" in done
    kept.refresh_from_db()
    assert (kept.status, kept.returned_reference, kept.returned_by) == (
        "returned",
        "HX20261120001",
        clerk,
    )
    (hand,) = events("payments.surplus.return_hand")
    assert hand.after["amount"] == "300.00" and hand.after["by"] == "hand"
    assert not SandboxRefund.objects.exists()


@pytest.mark.django_db
def test_the_hand_is_refused_while_a_call_is_under_way(
    paid_twice: Callable[..., tuple[Order, SurplusPayment]],
    clerk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order, kept = paid_twice()
    real = sandbox.REFUNDS.refund
    during: list[str] = []

    def finance_meanwhile(*args: Any) -> Any:
        record = lambda: surplus.record_by_hand(clerk, kept.pk, "HAND-1")  # noqa: E731
        during.append(refused(record, "surplus_return_calling"))
        refused(lambda: surplus.send_back(clerk, kept.pk), "surplus_return_calling")
        return real(*args)

    monkeypatch.setattr(sandbox.REFUNDS, "refund", finance_meanwhile)
    surplus.send_back(clerk, kept.pk)
    assert f"系统正在经微信支付退回订单 {order.reference} 多付的 300.00 元" in during[0]
    assert surplus.refund_no(kept) in during[0]
    kept.refresh_from_db()
    assert kept.status == SurplusStatus.RETURNED and kept.returned_by != clerk
    assert SandboxRefund.objects.count() == 1
    errors = [e.after["error"] for e in events("payments.surplus.return_hand", "refused")]
    assert errors == ["surplus_return_calling"]


@pytest.mark.django_db
def test_a_lost_call_is_asked_again_by_the_jobs_with_the_same_number(
    paid_twice: Callable[..., tuple[Order, SurplusPayment]],
    clerk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process died after the gateway refunded (the answer never recorded): the row stays
    claimed, the hand is refused, the jobs' round after the lease records the one refund."""
    _order, kept = paid_twice()

    def dies(*args: Any) -> Any:
        sandbox.SandboxRefunds().refund(*args)
        raise SystemExit("killed")  # not a CerthallError nor an Exception: nothing put back

    monkeypatch.setattr(sandbox.REFUNDS, "refund", dies)
    with pytest.raises(SystemExit):
        surplus.send_back(clerk, kept.pk)
    monkeypatch.undo()
    kept.refresh_from_db()
    assert kept.status == SurplusStatus.RETURNING and kept.return_calling_at is not None
    (first,) = SandboxRefund.objects.all()
    refused(lambda: surplus.record_by_hand(clerk, kept.pk, "HAND-1"), "surplus_return_calling")
    now = certhall_clock.now()
    assert surplus.resume_due(now) == 0  # under the lease: a call under way
    assert surplus.resume_due(now + refund_state.CALL_LEASE + timedelta(seconds=1)) == 1
    kept.refresh_from_db()
    assert kept.status == SurplusStatus.RETURNED and kept.returned_reference == first.refund_id
    assert kept.return_attempts == 2
    assert list(SandboxRefund.objects.all()) == [first]
    assert surplus.resume_due(now + timedelta(hours=1)) == 0


# --- at the same moment (PostgreSQL) ------------------------------------------------------------


def test_four_simultaneous_deliveries_keep_one_row(
    audit_flushable: None, applicant: User, make_order: Callable[..., Order]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    order = make_order()
    first = sandbox.pay(applicant, order.reference, "alipay")
    second = sandbox.pay(applicant, order.reference, "wechat")
    assert deliver(Client(), first) == b"success"
    body = urlencode(sandbox.notification(second)).encode("utf-8")

    def gateway_server() -> bytes:
        return Client().post("/payments/notify/wechat", data=body, content_type=FORM).content

    assert together(*[gateway_server] * 4) == [b"success"] * 4
    assert SurplusPayment.objects.filter(order=order).count() == 1
    assert AuditEvent.objects.filter(action="payments.surplus.received").count() == 1
    assert Payment.objects.filter(order=order).count() == 1


def test_return_and_hand_at_once_give_one_way_back(
    audit_flushable: None, applicant: User, clerk: User, make_order: Callable[..., Order]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    for _ in range(5):
        order = make_order()
        first = sandbox.pay(applicant, order.reference, "alipay")
        second = sandbox.pay(applicant, order.reference, "wechat")
        assert deliver(Client(), first) == deliver(Client(), second) == b"success"
        kept = SurplusPayment.objects.get(trade_no=second.trade_no)
        by_gateway, by_hand = together(
            lambda k=kept: surplus.send_back(clerk, k.pk),
            lambda k=kept: surplus.record_by_hand(clerk, k.pk, "HAND-X"),
        )
        kept.refresh_from_db()
        at_gateway = SandboxRefund.objects.filter(trade__trade_no=kept.trade_no).count()
        assert kept.status == SurplusStatus.RETURNED
        if isinstance(by_hand, SurplusPayment):  # the hand first: the gateway never called
            assert isinstance(by_gateway, CerthallError) and at_gateway == 0
            assert by_gateway.code == "surplus_returned" and kept.returned_reference == "HAND-X"
        else:  # the claim first: the hand refused, the gateway's refund recorded
            assert by_hand.code in ("surplus_return_calling", "surplus_returned"), by_hand
            assert at_gateway == 1 and kept.returned_by is not None and kept.returned_by.is_system
