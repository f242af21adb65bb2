"""Refunds of online payments through the gateway: the interface (``OnlineGateway.refund``),
the sandbox's refund API, the jobs' ``refunding.send_due`` (success, refusal, retry with
backoff), and what finance and the customer read. Frozen clock (``clock``: NOW)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from certhall import clock as certhall_clock
from certhall import money
from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation
from certhall.payments import gateways, refund_state, refunding, sandbox, services
from certhall.payments.gateways import ALIPAY, WECHAT
from certhall.payments.models import Order, SandboxRefund
from tests.payments.conftest import NOW


def events(action: str, result: str = "ok") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, result=result).order_by("seq"))


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    # the words as read: white space folded, a date's <time> (kept on one line) left out
    return re.sub(r"\s+", " ", re.sub(r"</?time>", "", response.content.decode()))


# --- the interface and the sandbox ---------------------------------------------------------


def test_the_same_refund_number_gives_the_same_refund(paid_online: Callable[..., Order]) -> None:
    order = paid_online()
    first = ALIPAY.refund(order, "TK20261120-000001", 30000)
    again = ALIPAY.refund(order, "TK20261120-000001", 30000)
    assert again == first
    assert (first.refund_no, first.amount.fen) == ("TK20261120-000001", 30000)
    assert SandboxRefund.objects.count() == 1
    # the whole amount is refunded: another number finds nothing left
    with pytest.raises(RuleViolation) as exceeded:
        ALIPAY.refund(order, "TK-other", 1)
    assert exceeded.value.code == "sandbox_refund_exceeds"
    # the same number for another amount is not the same refund
    with pytest.raises(Conflict) as reused:
        ALIPAY.refund(order, "TK20261120-000001", 100)
    assert reused.value.code == "sandbox_refund_no_reused"
    assert SandboxRefund.objects.count() == 1


def test_partial_refunds_never_add_up_to_more_than_was_paid(
    paid_online: Callable[..., Order],
) -> None:
    order = paid_online("wechat")
    WECHAT.refund(order, "TK-a", 20000)
    with pytest.raises(RuleViolation, match=r"可退金额 100\.00 元"):
        WECHAT.refund(order, "TK-b", 10001)
    WECHAT.refund(order, "TK-b", 10000)
    assert sorted(SandboxRefund.objects.values_list("refund_amount", flat=True)) == [
        100,
        200,
    ]


def test_the_platform_refuses_before_calling_the_gateway(
    paid_online: Callable[..., Order], make_order: Callable[..., Order]
) -> None:
    order = paid_online()
    with pytest.raises(RuleViolation) as over:
        ALIPAY.refund(order, "TK1", 30001)
    assert over.value.code == "gateway_refund_exceeds"
    assert "超过订单" in str(over.value) and "300.00" in str(over.value)
    with pytest.raises(InvalidInput):
        ALIPAY.refund(order, "TK1", 0)
    with pytest.raises(Conflict) as wrong:
        WECHAT.refund(order, "TK1", 100)  # paid through Alipay
    assert wrong.value.code == "gateway_refund_method"
    assert not SandboxRefund.objects.exists()


def test_the_sandbox_stands_in_for_the_gateways_only_while_it_is_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Registered at start-up (``PaymentsConfig.ready``), reached through ``gateways``; with
    ``CERTHALL_PAYMENT_SANDBOX`` off the gateways' own side is not configured here."""
    import dataclasses

    from certhall import config

    assert gateways.stand_in() is sandbox.STAND_IN
    assert gateways.refund_client(ALIPAY) is sandbox.REFUNDS
    assert gateways.bill_client(WECHAT) is sandbox.BILLS
    off = dataclasses.replace(config.get(), payment_sandbox=False)
    monkeypatch.setattr(config, "get", lambda: off)
    assert gateways.stand_in() is None
    assert gateways.refund_client(ALIPAY) is None and gateways.bill_client(WECHAT) is None
    assert refund_state.automatic_methods() == []


def test_a_trade_the_gateway_does_not_know_is_refused(
    paid_online: Callable[..., Order],
) -> None:
    order = paid_online()
    client = gateways.refund_client(ALIPAY)
    assert client is not None
    with pytest.raises(NotFound) as unknown:
        client.refund(ALIPAY, "ZF20261120-999999", "TK1", money.Money(100))
    assert unknown.value.code == "sandbox_trade_unknown"
    with pytest.raises(NotFound):  # the order's trade is Alipay's, not WeChat's
        client.refund(WECHAT, order.reference, "TK1", money.Money(100))


# --- the job -------------------------------------------------------------------------------


def test_the_job_refunds_online_orders_through_their_gateway_once(
    refunded_online: Callable[..., Order], clerk: User, make_order: Callable[..., Order]
) -> None:
    order = refunded_online()
    assert refund_state.refund_no(order) == "TK" + order.reference.removeprefix("ZF")
    assert services.refunds_owed(clerk) == [order]
    assert refunding.send_due(certhall_clock.now()) == 1
    order.refresh_from_db()
    refund = SandboxRefund.objects.get()
    assert refund.out_request_no == refund_state.refund_no(order)
    assert refund.refund_amount == order.amount
    assert order.refund_sent_reference == refund.refund_id
    assert order.refund_sent_at == NOW
    assert order.refund_sent_by is not None
    assert order.refund_sent_by.username == "system-gateway-alipay"
    assert (order.refund_attempts, order.refund_last_error) == (1, "")
    assert services.refunds_owed(clerk) == []
    (event,) = events("payments.order.refund_sent")
    assert event.after == {
        "amount": "300.00",
        "method": "alipay_online",
        "reference": refund.refund_id,
        "gateway": "alipay",
        "refund_no": refund_state.refund_no(order),
    }
    # the next rounds find nothing: one refund at the gateway
    assert refunding.send_due(certhall_clock.now() + timedelta(days=1)) == 0
    assert SandboxRefund.objects.count() == 1


def test_bank_transfers_and_counter_payments_stay_out_of_the_job(
    clock: Any, clerk: User, make_order: Callable[..., Order]
) -> None:
    from django.db import transaction

    from certhall.payments.lifecycle import Channel, Method

    order = make_order()
    with transaction.atomic():
        services.apply_payment(
            clerk, order, channel=Channel.BANK, method=Method.BANK_TRANSFER,
            transaction_id="bank-1", amount=order.amount, received_at=NOW,
        )  # fmt: skip
    services.refund(clerk, order, "客户撤回申请")
    assert refunding.send_due(certhall_clock.now()) == 0
    order.refresh_from_db()
    assert order.refund_attempts == 0 and order.refund_sent_at is None


def test_a_refusal_is_shown_retried_with_backoff_and_stops(
    refunded_online: Callable[..., Order], clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = refunded_online()
    SandboxRefund.objects.all().delete()
    # the gateway refuses (its trade lost): counted, shown, retried after the delay
    order.refresh_from_db()
    from certhall.payments.models import SandboxTrade

    SandboxTrade.objects.filter(out_trade_no=order.reference).update(out_trade_no="ZF-gone")
    now = certhall_clock.now()
    assert refunding.send_due(now) == 0
    order.refresh_from_db()
    assert order.refund_attempts == 1
    assert "没有订单" in order.refund_last_error
    assert order.refund_retry_at == now + refunding.RETRY_DELAYS[0]
    (refused,) = events("payments.gateway.refund", "refused")
    assert refused.after["error"] == "sandbox_trade_unknown"
    assert refunding.send_due(now + timedelta(seconds=59)) == 0  # not yet due
    assert Order.objects.get(pk=order.pk).refund_attempts == 1
    assert refunding.send_due(now + timedelta(minutes=1)) == 0
    order.refresh_from_db()
    assert order.refund_attempts == 2
    assert order.refund_retry_at == now + timedelta(minutes=1) + refunding.RETRY_DELAYS[1]

    # finance's page shows the attempts and the refusal
    queue = page(login(clerk).get("/payments/invoices/"))
    assert "已尝试 2 次" in queue and "最近一次失败" in queue and "没有订单" in queue

    # a failure that is not a refusal (the network) is retried the same way
    SandboxTrade.objects.filter(out_trade_no="ZF-gone").update(out_trade_no=order.reference)

    def unreachable(*args: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(sandbox.REFUNDS, "refund", unreachable)
    later = order.refund_retry_at
    assert later is not None
    assert refunding.send_due(later) == 0
    order.refresh_from_db()
    assert order.refund_attempts == 3
    assert order.refund_last_error == "支付平台暂时无法受理退款（OSError），将稍后重试。"
    monkeypatch.undo()

    # after MAX_ATTEMPTS calls the job leaves it to finance
    Order.objects.filter(pk=order.pk).update(refund_attempts=refund_state.MAX_ATTEMPTS)
    assert refunding.send_due(later + timedelta(days=1)) == 0
    assert not SandboxRefund.objects.exists()
    assert "已停止自动退款" in page(login(clerk).get("/payments/invoices/"))
    # finance refunds it in the gateway's back office and records it by hand
    services.record_refund_sent(clerk, order.reference, "2026112023001000000000000009")
    order.refresh_from_db()
    assert order.refund_sent_by == clerk and order.refund_last_error == ""


def test_the_job_recovers_once_the_gateway_takes_the_refund(
    refunded_online: Callable[..., Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = refunded_online("wechat")
    calls: list[str] = []
    real = sandbox.REFUNDS.refund

    def flaky(*args: Any) -> Any:
        calls.append(args[2])
        if len(calls) == 1:
            raise OSError("timed out")
        return real(*args)

    monkeypatch.setattr(sandbox.REFUNDS, "refund", flaky)
    now = certhall_clock.now()
    assert refunding.send_due(now) == 0
    assert refunding.send_due(now + refunding.RETRY_DELAYS[0]) == 1
    order.refresh_from_db()
    assert calls == [refund_state.refund_no(order)] * 2  # the same number each time
    assert order.refund_sent_at is not None and order.refund_retry_at is None
    assert (order.refund_attempts, order.refund_last_error) == (2, "")
    assert order.refund_sent_reference.startswith("50000")  # WeChat's refund_id shape


def test_a_call_that_failed_without_an_answer_is_audited(
    refunded_online: Callable[..., Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A call to the gateway's refund that ended without an answer (the network: it may have
    refunded all the same) left no audit event, where the gateway's refusal was one: the
    chain showed the money's refund made on the second attempt with no first. Now the failure
    is recorded as the refusal is, under the same action (``payments.gateway.refund``)."""
    order = refunded_online("wechat")

    def unreachable(*args: object) -> None:
        raise TimeoutError("timed out")

    monkeypatch.setattr(sandbox.REFUNDS, "refund", unreachable)
    assert refunding.send_due(certhall_clock.now()) == 0
    order.refresh_from_db()
    assert order.refund_attempts == 1 and "TimeoutError" in order.refund_last_error
    (failed,) = AuditEvent.objects.filter(action="payments.gateway.refund", result="refused")
    assert failed.object_id == order.reference
    assert failed.after["error"] == "gateway_refund_failed"
    assert failed.after["message"] == order.refund_last_error


def test_without_a_refund_client_finance_sends_them_by_hand(
    refunded_online: Callable[..., Order], clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = refunded_online()
    monkeypatch.setattr(gateways, "refund_client", lambda gateway: None)
    assert refunding.send_due(certhall_clock.now()) == 0
    order.refresh_from_db()
    assert order.refund_attempts == 0
    assert "人工退回" in page(login(clerk).get("/payments/invoices/"))
    with pytest.raises(Exception, match="未配置支付宝的退款接口"):
        ALIPAY.refund(order, "TK1", 100)


def test_a_refund_recorded_by_hand_meanwhile_is_not_recorded_twice(
    refunded_online: Callable[..., Order], clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finance's hand record while the jobs' call is under way is refused (the call is claimed
    on the order row): the gateway's refund is the one recorded."""
    order = refunded_online()
    real = sandbox.REFUNDS.refund
    refused: list[str] = []

    def finance_first(*args: Any) -> Any:
        with pytest.raises(Conflict) as during:
            services.record_refund_sent(clerk, order.reference, "HAND-1")
        refused.append(during.value.code)
        return real(*args)

    monkeypatch.setattr(sandbox.REFUNDS, "refund", finance_first)
    assert refunding.send_due(certhall_clock.now()) == 1
    order.refresh_from_db()
    assert refused == ["refund_gateway_calling"]
    assert order.refund_sent_reference == SandboxRefund.objects.get().refund_id
    assert order.refund_calling_at is None
    (sent,) = events("payments.order.refund_sent")
    assert sent.actor == "system:system-gateway-alipay"
    (hand,) = events("payments.order.refund_sent", "refused")
    assert hand.after["error"] == "refund_gateway_calling"


# --- pages and who sees what ---------------------------------------------------------------


def test_finance_and_the_customer_read_the_gateways_refund(
    refunded_online: Callable[..., Order], applicant: User, clerk: User
) -> None:
    order = refunded_online()
    customer = login(applicant)
    waiting = page(customer.get(f"/payments/orders/{order.reference}"))
    assert "待退回：已向支付宝申请原路退款，款项将退回付款账户" in waiting
    queue = page(login(clerk).get("/payments/invoices/"))
    assert f'data-order="{order.reference}"' in queue and "等待系统发起退款" in queue
    assert refunding.send_due(certhall_clock.now()) == 1
    order.refresh_from_db()
    reference = order.refund_sent_reference
    shown = page(customer.get(f"/payments/orders/{order.reference}"))
    assert "已于 2026-11-20 10:30 经支付宝原路退回付款账户" in shown
    assert f"（退款单号 {reference}）" in shown
    queue = page(login(clerk).get("/payments/invoices/"))
    assert 'id="refunds-owed"' not in queue
    sent = queue[queue.index('id="refunds-sent"') :]
    assert order.reference in sent and reference in sent and "支付平台自动退款" in sent


def test_only_the_providers_finance_sees_the_refunds(
    refunded_online: Callable[..., Order],
    applicant: User,
    other_applicant: User,
    clerk: User,
    other_clerk: User,
    make_user: Callable[..., User],
) -> None:
    from certhall.accounts.models import Role

    order = refunded_online()
    assert refunding.send_due(certhall_clock.now()) == 1
    assert services.refunds_sent(clerk) == [order]
    assert services.refunds_sent(make_user(Role.CA_ADMIN)) == [order]  # the provider's admin
    assert services.refunds_sent(other_clerk) == []  # another provider's finance
    for actor in (applicant, make_user(Role.REVIEWER)):
        with pytest.raises(Forbidden):
            services.refunds_sent(actor)
    with pytest.raises(Forbidden):  # the job's record is the gateway's system account's only
        services.refund_sent_by_gateway(clerk, order, "X", gateway="alipay", refund_no="TK1")
    assert login(applicant).get("/payments/invoices/").status_code == 403
    other_page = page(login(other_clerk).get("/payments/invoices/"))
    assert order.reference not in other_page
    # another enterprise never sees the order or its refund
    # another enterprise is answered as for an order that does not exist
    assert login(other_applicant).get(f"/payments/orders/{order.reference}").status_code == 404
    assert login(other_clerk).get(f"/payments/orders/{order.reference}").status_code == 403
