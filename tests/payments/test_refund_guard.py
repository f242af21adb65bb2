"""One refund, never two: finance's hand record of an online refund waits for the gateway's
automatic refund (refused while it is pending or under way), finance stops the automatic refund
explicitly (audited), asks for a failed one again at once (立即重试), and a refund the gateway
still made for an order recorded by hand is raised as an alert. Frozen clock (NOW); the
simultaneous cases on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from certhall import clock as certhall_clock
from certhall.accounts.models import Role, User
from certhall.errors import CerthallError, Forbidden, InvalidInput, TooManyRequests
from certhall.payments import refund_state, refunding, sandbox, services
from certhall.payments.models import Order, SandboxRefund, SandboxTrade
from tests.support.threads import together

from .conftest import events, login, page, refused, refused_row


def fail_at_the_gateway(order: Order) -> None:
    """The gateway refuses the order's refunds (its trade is not found) until put back."""
    SandboxTrade.objects.filter(out_trade_no=order.reference).update(out_trade_no="ZF-gone")


def put_back(order: Order) -> None:
    SandboxTrade.objects.filter(out_trade_no="ZF-gone").update(out_trade_no=order.reference)


# --- finance's hand record waits for the gateway -------------------------------------------


def test_a_hand_record_is_refused_while_the_automatic_refund_is_pending(
    refunded_online: Callable[..., Order], clerk: User
) -> None:
    order = refunded_online()
    record = lambda: services.record_refund_sent(clerk, order.reference, "HAND-1")  # noqa: E731
    message = refused(record, "refund_gateway_pending")
    number = refund_state.refund_no(order)
    assert (
        f"订单 {order.reference} 的退款正由系统经支付宝原路自动退回（退款单号 {number}）" in message
    )
    assert "请先停止自动退款" in message
    # still pending after a refused call (attempts left)
    fail_at_the_gateway(order)
    assert refunding.send_due(certhall_clock.now()) == 0
    refused(record, "refund_gateway_pending")
    order.refresh_from_db()
    assert order.refund_sent_at is None and order.refund_attempts == 1
    audited = events("payments.order.refund_sent", "refused")
    assert [e.after["error"] for e in audited] == ["refund_gateway_pending"] * 2
    assert not events("payments.order.refund_sent")


def test_a_lost_call_is_asked_again_and_blocks_the_hand_until_then(
    refunded_online: Callable[..., Order], clerk: User
) -> None:
    """A call whose process died (its claim older than the lease), even the last attempt's:
    the hand waits, the next round asks with the same number and records the answer."""
    order = refunded_online()
    now = certhall_clock.now()
    lost = now - refund_state.CALL_LEASE - timedelta(seconds=1)
    Order.objects.filter(pk=order.pk).update(
        refund_attempts=refund_state.MAX_ATTEMPTS, refund_calling_at=lost
    )
    refused(
        lambda: services.record_refund_sent(clerk, order.reference, "HAND-1"),
        "refund_gateway_pending",
    )
    # a claim under the lease is a call under way: the round leaves it alone
    Order.objects.filter(pk=order.pk).update(refund_calling_at=now - timedelta(seconds=30))
    assert refunding.send_due(now) == 0
    refused(
        lambda: services.record_refund_sent(clerk, order.reference, "HAND-1"),
        "refund_gateway_calling",
    )
    Order.objects.filter(pk=order.pk).update(refund_calling_at=lost)
    assert refunding.send_due(now) == 1
    order.refresh_from_db()
    assert order.refund_sent_by is not None and order.refund_sent_by.is_system
    assert order.refund_calling_at is None
    assert order.refund_attempts == refund_state.MAX_ATTEMPTS + 1
    assert SandboxRefund.objects.count() == 1


def test_after_the_last_attempt_finance_records_by_hand(
    refunded_online: Callable[..., Order], clerk: User
) -> None:
    order = refunded_online()
    fail_at_the_gateway(order)
    Order.objects.filter(pk=order.pk).update(refund_attempts=refund_state.MAX_ATTEMPTS - 1)
    assert refunding.send_due(certhall_clock.now()) == 0
    assert Order.objects.get(pk=order.pk).refund_attempts == refund_state.MAX_ATTEMPTS
    services.record_refund_sent(clerk, order.reference, "2026112023001000000000000009")
    (sent,) = events("payments.order.refund_sent")
    assert sent.after["automatic"] == "exhausted"
    assert sent.actor == clerk.username or clerk.username in sent.actor


def test_bank_transfers_stay_manual(
    clock: Any, clerk: User, make_order: Callable[..., Order]
) -> None:
    from django.db import transaction

    from certhall.payments.lifecycle import Channel, Method

    order = make_order()
    with transaction.atomic():
        services.apply_payment(
            clerk, order, channel=Channel.BANK, method=Method.BANK_TRANSFER,
            transaction_id="bank-1", amount=order.amount, received_at=certhall_clock.now(),
        )  # fmt: skip
    services.refund(clerk, order, "客户撤回申请")
    refused(lambda: refunding.stop(clerk, order.reference, "x"), "refund_not_automatic")
    refused(lambda: refunding.retry_now(clerk, order.reference), "refund_not_automatic")
    services.record_refund_sent(clerk, order.reference, "BANK-R-1")
    (sent,) = events("payments.order.refund_sent")
    assert "automatic" not in sent.after


# --- stopping the automatic refund ---------------------------------------------------------


def test_finance_stops_the_automatic_refund_then_records_it_by_hand(
    refunded_online: Callable[..., Order], clerk: User
) -> None:
    order = refunded_online()
    refused(lambda: refunding.stop(clerk, order.reference, " "), "order_text_empty", InvalidInput)
    hidden = lambda: refunding.stop(clerk, order.reference, "账户\u202e已注销")  # noqa: E731
    refused(hidden, "text_chars", InvalidInput)
    stopped = refunding.stop(clerk, order.reference, "付款账户已注销，改为对公转账退回")
    assert stopped.refund_stopped_at == certhall_clock.now() and stopped.refund_stopped_by == clerk
    (event,) = events("payments.order.refund_auto_stop")
    assert event.after == {
        "reason": "付款账户已注销，改为对公转账退回",
        "refund_no": refund_state.refund_no(order),
        "attempts": 0,
        "last_error": "",
        "lost_call": False,
    }
    # the jobs no longer call; a second stop and a retry are refused
    assert refunding.send_due(certhall_clock.now() + timedelta(days=1)) == 0
    assert not SandboxRefund.objects.exists()
    refused(lambda: refunding.stop(clerk, order.reference, "again"), "refund_auto_stopped")
    refused(lambda: refunding.retry_now(clerk, order.reference), "refund_auto_stopped")
    hidden = lambda: services.record_refund_sent(clerk, order.reference, "BANK\u200b-R-2")  # noqa: E731
    refused(hidden, "text_chars", InvalidInput)
    services.record_refund_sent(clerk, order.reference, "BANK-R-2")
    (sent,) = events("payments.order.refund_sent")
    assert sent.after["automatic"] == "stopped"
    refused(lambda: refunding.stop(clerk, order.reference, "late"), "refund_not_owed")
    refusals = [e.after["error"] for e in events("payments.order.refund_auto_stop", "refused")]
    assert refusals == [
        "order_text_empty",
        "text_chars",
        "refund_auto_stopped",
        "refund_not_owed",
    ]


def test_a_call_under_way_cannot_be_stopped(
    refunded_online: Callable[..., Order], clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = refunded_online()
    real = sandbox.REFUNDS.refund
    during: list[str] = []

    def finance_meanwhile(*args: Any) -> Any:
        during.append(
            refused(lambda: refunding.stop(clerk, order.reference, "x"), "refund_gateway_calling")
        )
        refused(lambda: refunding.retry_now(clerk, order.reference), "refund_gateway_calling")
        return real(*args)

    monkeypatch.setattr(sandbox.REFUNDS, "refund", finance_meanwhile)
    assert refunding.send_due(certhall_clock.now()) == 1
    assert "系统正在向支付宝发起订单" in during[0] and "不要在支付宝商户后台重复退款" in during[0]
    order.refresh_from_db()
    assert order.refund_stopped_at is None and order.refund_sent_at is not None


def test_who_may_stop_and_retry(
    refunded_online: Callable[..., Order],
    applicant: User,
    other_clerk: User,
    make_user: Callable[..., User],
) -> None:
    order = refunded_online()
    for actor in (applicant, make_user(Role.REVIEWER), other_clerk):
        with pytest.raises(Forbidden):
            refunding.stop(actor, order.reference, "x")
        with pytest.raises(Forbidden):
            refunding.retry_now(actor, order.reference)
    order.refresh_from_db()
    assert order.refund_stopped_at is None and order.refund_attempts == 0
    # another provider's finance is refused and audited, like every refusal
    assert events("payments.order.refund_auto_stop", "refused")
    # the CA administrator of the order's provider may
    refunding.stop(make_user(Role.CA_ADMIN), order.reference, "改为人工退回")


# --- 立即重试 -------------------------------------------------------------------------------


def test_retry_now_asks_the_gateway_at_once(
    refunded_online: Callable[..., Order], clerk: User
) -> None:
    order = refunded_online()
    refused(lambda: refunding.retry_now(clerk, order.reference), "refund_retry_not_failed")
    fail_at_the_gateway(order)
    now = certhall_clock.now()
    assert refunding.send_due(now) == 0
    # refused again: the retry's own call is counted and shown, and the page says why
    message = refused(
        lambda: refunding.retry_now(clerk, order.reference), "gateway_refund_retry_failed"
    )
    assert "立即重试未成功" in message and "没有订单" in message
    assert Order.objects.get(pk=order.pk).refund_attempts == 2
    put_back(order)
    done = refunding.retry_now(clerk, order.reference)
    assert done.refund_sent_at == now and done.refund_attempts == 3
    refund = SandboxRefund.objects.get()
    assert done.refund_sent_reference == refund.refund_id
    retries = events("payments.gateway.refund_retry")
    assert [e.after["attempts"] for e in retries] == [1, 2]
    assert all(clerk.username in e.actor for e in retries)
    (sent,) = events("payments.order.refund_sent")
    assert "system-gateway-alipay" in sent.actor
    refused(lambda: refunding.retry_now(clerk, order.reference), "refund_not_owed")


def test_retry_now_goes_past_the_last_attempt_and_is_rate_limited(
    refunded_online: Callable[..., Order], clerk: User
) -> None:
    order = refunded_online()
    fail_at_the_gateway(order)
    Order.objects.filter(pk=order.pk).update(refund_attempts=refund_state.MAX_ATTEMPTS - 1)
    assert refunding.send_due(certhall_clock.now()) == 0
    for _ in range(refunding.RETRY_LIMIT.max_events):
        refused(lambda: refunding.retry_now(clerk, order.reference), "gateway_refund_retry_failed")
    message = refused(
        lambda: refunding.retry_now(clerk, order.reference), "rate_limited", TooManyRequests
    )
    assert "重试过于频繁" in message
    order.refresh_from_db()
    assert order.refund_attempts == refund_state.MAX_ATTEMPTS + refunding.RETRY_LIMIT.max_events
    # the jobs' schedule is over: a failed retry does not bring it back
    assert refunding.send_due(certhall_clock.now() + timedelta(days=1)) == 0
    assert not SandboxRefund.objects.exists()


# --- the alert -----------------------------------------------------------------------------


def test_a_gateway_refund_of_an_order_recorded_by_hand_raises_an_alert(
    refunded_online: Callable[..., Order],
    clerk: User,
    other_clerk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call slower than the lease: finance stopped the refund (a lost call, it seemed) and
    recorded it by hand; then the gateway's answer comes, a refund. Finance marks the alert
    handled with a note."""
    order = refunded_online()
    real = sandbox.REFUNDS.refund
    late = certhall_clock.now() - refund_state.CALL_LEASE - timedelta(seconds=1)

    def slow(*args: Any) -> Any:
        Order.objects.filter(pk=order.pk).update(refund_calling_at=late)
        refunding.stop(clerk, order.reference, "调用超时，改为人工退款")
        services.record_refund_sent(clerk, order.reference, "HAND-9")
        return real(*args)

    monkeypatch.setattr(sandbox.REFUNDS, "refund", slow)
    assert refunding.send_due(certhall_clock.now()) == 0
    order.refresh_from_db()
    refund = SandboxRefund.objects.get()
    assert order.refund_sent_reference == "HAND-9" and order.refund_sent_by == clerk
    assert order.refund_duplicate_reference == refund.refund_id
    assert order.refund_duplicate_at == certhall_clock.now()
    (stop,) = events("payments.order.refund_auto_stop")
    assert stop.after["lost_call"] is True
    (alert,) = events("payments.order.refund_duplicate")
    assert alert.after == {
        "amount": "300.00",
        "gateway_reference": refund.refund_id,
        "refund_no": refund_state.refund_no(order),
        "recorded_reference": "HAND-9",
        "recorded_by": clerk.username,
    }
    assert services.refund_alerts(clerk) == [order]
    queue = page(login(clerk).get("/payments/invoices/"))
    alerts = queue[queue.index('id="refund-alerts"') :]
    assert "重复退款告警（1）" in alerts and order.reference in alerts
    assert refund.refund_id in alerts and "HAND-9" in alerts

    # 已处理 with a note, as a daily bill's discrepancy: the alert leaves the page, audited.
    url = f"/payments/orders/{order.reference}/refund-alert-handled"
    assert login(other_clerk).post(url, {"note": "看看"}).status_code == 403
    empty = login(clerk).post(url, {"note": " "})
    alert = f'data-alert="{order.reference}"'
    assert "重复退款告警（1）" in refused_row(empty, alert, "处理说明不能为空", "note", "")
    # a direction override: refused in Chinese beside the row, the note kept as typed
    hidden = login(clerk).post(url, {"note": "已退回\u202e13800138000"})
    words = "处理说明的第4个字符（U+202E）是文字方向控制符，不能使用，请删除后重新输入。"
    refused_row(hidden, alert, words, "note", "已退回\u202e13800138000")
    done = page(login(clerk).post(url, {"note": "已联系客户退回重复款项"}, follow=True))
    assert f"已将订单 {order.reference} 的重复退款告警标记为已处理" in done
    assert "重复退款告警（" not in done and 'id="refund-alerts"' not in done
    order.refresh_from_db()
    assert (order.refund_duplicate_note, order.refund_duplicate_handled_by) == (
        "已联系客户退回重复款项",
        clerk,
    )
    (handled,) = events("payments.order.refund_duplicate_handled")
    assert handled.after["note"] == "已联系客户退回重复款项"
    assert services.refund_alerts(clerk) == []
    refused(lambda: refunding.alert_handled(clerk, order.reference, "再次"), "refund_alert_handled")


def test_another_round_recording_first_is_no_alert(
    refunded_online: Callable[..., Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = refunded_online()
    real = sandbox.REFUNDS.refund

    def other_round_first(*args: Any) -> Any:
        answer = real(*args)
        gateway = args[0]
        services.refund_sent_by_gateway(
            gateway.actor(), order, answer.reference, gateway="alipay", refund_no=args[2]
        )
        return answer

    monkeypatch.setattr(sandbox.REFUNDS, "refund", other_round_first)
    assert refunding.send_due(certhall_clock.now()) == 0
    order.refresh_from_db()
    assert order.refund_duplicate_at is None and not events("payments.order.refund_duplicate")


# --- the pages -----------------------------------------------------------------------------


def test_finance_page_offers_what_may_be_done(
    refunded_online: Callable[..., Order], clerk: User, other_clerk: User, applicant: User
) -> None:
    order = refunded_online()
    finance = login(clerk)
    queue = page(finance.get("/payments/invoices/"))
    row = queue[queue.index(f'data-order="{order.reference}"') :]
    row = row[: row.index("</tr>")]
    assert "自动退款进行中，不能人工登记" in row and "停止自动退款" in row
    assert "登记已退回" not in row and "立即重试" not in row
    # the hand form posted anyway: refused with the catalogue's words on the page
    hand = f"/payments/orders/{order.reference}/refund-sent"
    row = f'data-order="{order.reference}"'
    refused_row(
        finance.post(hand, {"sent_reference": "HAND-1"}),
        row,
        "正由系统经支付宝原路自动退回",
        status=409,
    )

    fail_at_the_gateway(order)
    refunding.send_due(certhall_clock.now())
    queue = page(finance.get("/payments/invoices/"))
    assert "立即重试" in queue and "最近一次失败" in queue
    retry = f"/payments/orders/{order.reference}/refund-retry"
    stop = f"/payments/orders/{order.reference}/refund-stop"
    # CSRF, role and provider: nothing changes
    assert login(clerk, csrf=True).post(retry).status_code == 403
    assert login(clerk, csrf=True).post(stop, {"reason": "x"}).status_code == 403
    assert login(other_clerk).post(retry).status_code == 403
    assert login(other_clerk).post(stop, {"reason": "x"}).status_code == 403
    assert login(applicant).post(retry).status_code == 403
    assert finance.get(retry).status_code == 405
    assert Order.objects.get(pk=order.pk).refund_attempts == 1

    put_back(order)
    done = page(finance.post(retry, follow=True))
    order.refresh_from_db()
    assert f"支付平台已受理订单 {order.reference} 的退款" in done
    assert order.refund_sent_reference in done

    second = refunded_online()
    stopped = page(finance.post(f"/payments/orders/{second.reference}/refund-stop",
                                {"reason": "改为人工退款"}, follow=True))  # fmt: skip
    assert f"已停止订单 {second.reference} 的自动退款" in stopped
    row = stopped[stopped.index(f'data-order="{second.reference}"') :]
    row = row[: row.index("</tr>")]
    assert "停止自动退款：改为人工退款" in row and "登记已退回" in row


def test_a_refused_stop_or_hand_record_shows_the_row_again_as_typed(
    refunded_online: Callable[..., Order], clerk: User
) -> None:
    """Before, the page came back by a redirect: the reason or the serial typed was lost behind
    a notice. Now the refusal stands beside that row's form, the text as typed, the other
    order's row as it was, and nothing is recorded."""
    order, other = refunded_online(), refunded_online()
    finance = login(clerk)
    stop = f"/payments/orders/{order.reference}/refund-stop"
    row = f'data-order="{order.reference}"'
    long = "停" * 201
    refused_row(
        finance.post(stop, {"reason": long}), row, "停止原因不能超过200个字", "reason", long
    )
    refused_row(finance.post(stop, {"reason": "  "}), row, "停止原因不能为空", "reason", "")
    assert Order.objects.get(pk=order.pk).refund_stopped_at is None
    assert not events("payments.order.refund_auto_stop")

    refunding.stop(clerk, order.reference, "改为人工退款")
    sent = f"/payments/orders/{order.reference}/refund-sent"
    serial = "H" * 65
    shown = refused_row(
        finance.post(sent, {"sent_reference": serial}),
        row,
        "退回流水号不能超过64个字",
        "sent_reference",
        serial,
    )
    assert f'data-order="{other.reference}"' in shown  # the other rows are shown as they are
    refused_row(
        finance.post(sent, {"sent_reference": " "}), row, "退回流水号不能为空", "sent_reference"
    )
    assert Order.objects.get(pk=order.pk).refund_sent_at is None
    # a refusal of a button without a text (立即重试 with nothing failed) stands there too
    retry = f"/payments/orders/{other.reference}/refund-retry"
    refused_row(finance.post(retry), f'data-order="{other.reference}"', "", status=409)
    assert Order.objects.get(pk=other.pk).refund_attempts == 0


def test_a_refused_alert_note_shows_the_alert_again_as_typed(
    refunded_online: Callable[..., Order], clerk: User
) -> None:
    order = refunded_online()
    now = certhall_clock.now()
    Order.objects.filter(pk=order.pk).update(
        refund_sent_at=now,
        refund_sent_by=clerk,
        refund_sent_reference="HAND-9",
        refund_duplicate_at=now,
        refund_duplicate_reference="2026112022001000000000000009",
    )
    url = f"/payments/orders/{order.reference}/refund-alert-handled"
    row = f'data-alert="{order.reference}"'
    long = "说" * 201
    finance = login(clerk)
    refused_row(finance.post(url, {"note": long}), row, "处理说明不能超过200个字", "note", long)
    refused_row(finance.post(url, {"note": " "}), row, "处理说明不能为空", "note", "")
    order.refresh_from_db()
    assert order.refund_duplicate_handled_at is None and order.refund_duplicate_note == ""


# --- at the same moment (PostgreSQL) -------------------------------------------------------


def test_retry_and_hand_at_once_give_one_refund(
    audit_flushable: None, refunded_online: Callable[..., Order], clerk: User
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    for _ in range(5):
        order = refunded_online()
        Order.objects.filter(pk=order.pk).update(
            refund_attempts=refund_state.MAX_ATTEMPTS, refund_last_error="余额不足"
        )
        retry, hand = together(
            lambda o=order: refunding.retry_now(clerk, o.reference),
            lambda o=order: services.record_refund_sent(clerk, o.reference, "HAND-X"),
        )
        order.refresh_from_db()
        at_gateway = SandboxRefund.objects.filter(trade__out_trade_no=order.reference).count()
        assert order.refund_sent_at is not None
        if isinstance(hand, Order):  # the hand first: the retry never called
            assert isinstance(retry, CerthallError) and at_gateway == 0, (retry, hand)
            assert order.refund_sent_reference == "HAND-X"
        else:  # the retry's claim first: the hand refused, the gateway's refund recorded
            assert hand.code in ("refund_gateway_calling", "refund_not_owed"), hand
            assert at_gateway == 1 and order.refund_sent_by is not None
            assert order.refund_sent_by.is_system
        assert order.refund_duplicate_at is None
