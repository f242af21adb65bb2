"""The sandbox gateway end to end over real HTTP: a buyer confirms, the sandbox POSTs its
signed notification from a background thread to the live platform, the order is paid.

And, on PostgreSQL, two simultaneous notifications of one payment give one payment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict
from certhall.payments import sandbox
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order, Payment, SandboxTrade
from certhall.payments.signals import order_paid
from tests.support.threads import together

from .conftest import notification_params, signed_body


@pytest.fixture
def live_url(
    audit_flushable: None, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The platform's base URL is the live server's (CERTHALL_BASE_URL in production)."""
    monkeypatch.setattr(
        sandbox, "notify_url", lambda gateway: f"{live_server.url}/payments/notify/{gateway}"
    )
    monkeypatch.setattr(sandbox, "RETRY_DELAYS", (0.0, 0.2, 0.2))
    yield live_server.url
    for thread in sandbox.deliveries():
        thread.join(timeout=10)


def _wait_for_deliveries() -> None:
    for thread in sandbox.deliveries():
        thread.join(timeout=20)
        assert not thread.is_alive(), "the sandbox kept retrying"


@pytest.mark.parametrize("gateway", ["alipay", "wechat"])
def test_confirm_then_asynchronous_notification_pays_the_order(
    live_url: str, applicant: User, make_order: Callable[..., Order], gateway: str
) -> None:
    order = make_order()
    client = Client()
    client.force_login(applicant)
    response = client.post(
        f"/payments/sandbox/{order.reference}?gateway={gateway}", {"action": "pay"}
    )
    assert response.status_code == 302
    _wait_for_deliveries()
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert order.method == f"{gateway}_online"
    trade = SandboxTrade.objects.get()
    assert trade.notified_at is not None and trade.notify_attempts == 1
    payment = Payment.objects.get()
    assert (payment.channel, payment.transaction_id) == (gateway, trade.trade_no)
    assert client.get(f"/payments/receipt/{order.reference}.pdf").status_code == 200


@pytest.fixture
def refuse_first_time() -> Iterator[list[str]]:
    calls: list[str] = []

    def receiver(sender: type, order: Order, **kwargs: Any) -> None:
        calls.append(order.reference)
        if len(calls) == 1:
            raise Conflict("the application is busy, try again")

    order_paid.connect(receiver, dispatch_uid="test-refuse-first")
    yield calls
    order_paid.disconnect(dispatch_uid="test-refuse-first")


def test_the_sandbox_retries_until_the_platform_says_success(
    live_url: str,
    applicant: User,
    make_order: Callable[..., Order],
    refuse_first_time: list[str],
) -> None:
    order = make_order()
    trade = sandbox.pay(applicant, order.reference, "alipay")
    sandbox.deliver_in_background(trade.pk)
    _wait_for_deliveries()
    trade.refresh_from_db()
    assert trade.notify_attempts == 2
    assert trade.notified_at is not None and trade.last_error == ""
    assert len(refuse_first_time) == 2
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert Payment.objects.count() == 1
    # the first, refused attempt is in the audit chain
    assert AuditEvent.objects.filter(action="payments.notify", result="refused").count() == 1


def test_the_jobs_deliver_what_a_killed_process_never_sent(
    live_url: str, applicant: User, make_order: Callable[..., Order]
) -> None:
    """The buyer paid (the trade is committed) and the process died before its delivery
    thread posted the notification: the jobs post it, as the real gateway would retry."""
    order = make_order()
    trade = sandbox.pay(applicant, order.reference, "alipay")  # no delivery thread: killed
    paid = trade.paid_at
    assert sandbox.redeliver_due(paid + timedelta(minutes=4)) == 0  # the thread's time yet
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert sandbox.redeliver_due(paid + sandbox.REDELIVER_AFTER) == 1
    order.refresh_from_db()
    trade.refresh_from_db()
    assert order.status == Status.PAID and trade.notified_at is not None
    assert Payment.objects.count() == 1
    assert sandbox.redeliver_due(paid + timedelta(hours=1)) == 0  # confirmed: not again


def test_the_jobs_stop_at_an_unreachable_platform_and_give_up_in_the_end(
    audit_flushable: None, applicant: User, make_order: Callable[..., Order], monkeypatch: Any
) -> None:
    monkeypatch.setattr(sandbox, "notify_url", lambda gateway: "http://127.0.0.1:9/nobody")
    trades = [sandbox.pay(applicant, make_order().reference, "alipay") for _ in range(2)]
    later = max(t.paid_at for t in trades) + sandbox.REDELIVER_AFTER
    assert sandbox.redeliver_due(later) == 0
    attempts = sorted(SandboxTrade.objects.values_list("notify_attempts", flat=True))
    assert attempts == [0, 1]  # the first refusal ends the round
    SandboxTrade.objects.update(notify_attempts=sandbox.REDELIVER_ATTEMPTS)
    assert sandbox.redeliver_due(later) == 0
    assert sorted(SandboxTrade.objects.values_list("notify_attempts", flat=True)) == [20, 20]


def test_redelivery_of_a_delivered_notification_changes_nothing(
    live_url: str, applicant: User, make_order: Callable[..., Order]
) -> None:
    order = make_order()
    trade = sandbox.pay(applicant, order.reference, "alipay")
    assert sandbox.deliver_once(trade.pk)
    assert sandbox.deliver_once(trade.pk)  # answered "success" again
    assert Payment.objects.count() == 1
    assert AuditEvent.objects.filter(action="payments.order.paid").count() == 1


def test_an_unreachable_platform_is_retried_then_given_up(
    audit_flushable: None, applicant: User, make_order: Callable[..., Order], monkeypatch: Any
) -> None:
    monkeypatch.setattr(sandbox, "RETRY_DELAYS", (0.0, 0.05))
    order = make_order()
    trade = sandbox.pay(applicant, order.reference, "alipay")
    assert not sandbox.deliver(trade.pk, "http://127.0.0.1:9/payments/notify/alipay")
    trade.refresh_from_db()
    assert trade.notify_attempts == 2 and trade.notified_at is None
    assert "ConnectionRefusedError" in trade.last_error or "URLError" in trade.last_error
    order.refresh_from_db()
    assert order.status == Status.PENDING


def test_two_simultaneous_notifications_give_one_payment(
    audit_flushable: None, make_order: Callable[..., Order]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    order = make_order()
    body = signed_body(notification_params(order))

    def gateway_server() -> tuple[int, bytes]:
        response = Client().post(
            "/payments/notify/alipay", data=body, content_type="application/x-www-form-urlencoded"
        )
        return response.status_code, response.content

    assert together(*[gateway_server] * 4) == [(200, b"success")] * 4
    assert Payment.objects.count() == 1
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert AuditEvent.objects.filter(action="payments.order.paid").count() == 1
    assert not AuditEvent.objects.filter(action="payments.notify", result="refused").exists()
