"""The online gateways' asynchronous notification: RSA2 signatures and the notify endpoint.

Every test posts a real signed form body to the real view (``/payments/notify/<gateway>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden
from certhall.payments import keys, sandbox, services, signing
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order, Payment, SurplusPayment
from certhall.payments.signals import order_paid

from .conftest import notification_params, signed_body

URL = "/payments/notify/alipay"
FORM = "application/x-www-form-urlencoded"


def post(client: Client, body: bytes, url: str = URL) -> Any:
    return client.post(url, data=body, content_type=FORM)


def refused(error: str | None = None) -> list[AuditEvent]:
    query = AuditEvent.objects.filter(action="payments.notify", result="refused")
    if error:
        query = query.filter(after__error=error)
    return list(query)


# --- signing ------------------------------------------------------------------------------


def test_signing_string_is_sorted_without_sign_and_empty_values() -> None:
    params = {"b": "2", "a": "1", "sign": "x", "sign_type": "RSA2", "empty": "", "c": "三 &"}
    assert signing.signing_string(params) == "a=1&b=2&c=三 &"


def test_signature_verifies_and_any_change_breaks_it(stranger_key: rsa.RSAPrivateKey) -> None:
    key = sandbox.provision("alipay")
    params = signing.signed({"out_trade_no": "ZF20261120-000001", "total_amount": "300.00"}, key)
    assert params["sign_type"] == "RSA2"
    signing.verify(params, key.public_key())
    for tampered in (
        {**params, "total_amount": "3.00"},
        {**params, "extra": "1"},
        {**params, "sign": signing.sign(params, stranger_key)},
        {**params, "sign_type": "RSA"},
        {**params, "sign": "not base64!"},
        {**params, "sign": ""},
    ):
        with pytest.raises(Forbidden):
            signing.verify(tampered, key.public_key())
    with pytest.raises(Forbidden, match="验证失败"):
        signing.verify(params, stranger_key.public_key())


# --- keys ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sandbox_keeps_the_private_key_encrypted_and_gives_the_platform_the_public_one() -> None:
    key = sandbox.provision("wechat")
    private = sandbox.private_key_path("wechat")
    assert private.stat().st_mode & 0o777 == 0o600
    assert b"BEGIN ENCRYPTED PRIVATE KEY" in private.read_bytes()
    assert key.key_size == 2048
    public = keys.public_key_path("wechat")
    assert b"PRIVATE" not in public.read_bytes()
    assert keys.public_key("wechat").public_numbers() == key.public_key().public_numbers()
    assert sandbox.provision("wechat").private_numbers() == key.private_numbers()  # kept


def test_platform_without_sandbox_needs_a_configured_public_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from certhall import config
    from certhall.errors import ConfigurationError

    monkeypatch.setattr(keys, "payments_dir", lambda: tmp_path)
    monkeypatch.setattr(
        config, "get", lambda: type("C", (), {"payment_sandbox": False, "home": tmp_path})()
    )
    with pytest.raises(ConfigurationError, match="请把网关的RSA公钥"):
        keys.public_key("alipay")
    path = keys.public_key_path("alipay")
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    with pytest.raises(ConfigurationError, match="不是PEM格式的公钥"):
        keys.public_key("alipay")


# --- the endpoint -------------------------------------------------------------------------


@pytest.fixture
def csrf_client() -> Client:
    """The gateway has no session and no CSRF token: the endpoint must not need one."""
    return Client(enforce_csrf_checks=True)


@pytest.mark.django_db
def test_good_notification_pays_the_order(clock: Any, csrf_client: Client, order: Order) -> None:
    body = signed_body(notification_params(order))
    response = post(csrf_client, body)
    assert response.status_code == 200
    assert response.content == b"success"
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert order.method == "alipay_online"
    payment = Payment.objects.get(order=order)
    assert payment.channel == "alipay"
    assert payment.transaction_id == "2026112022001000000000000001"
    assert payment.amount == Decimal("300.00")
    assert payment.received_at.isoformat() == "2026-11-20T02:30:59+00:00"
    import hashlib

    assert payment.source_sha256 == hashlib.sha256(body).hexdigest()
    event = AuditEvent.objects.get(action="payments.order.paid")
    assert event.actor == "system:system-gateway-alipay"
    assert event.after["transaction_id"] == payment.transaction_id


@pytest.mark.django_db
def test_the_same_notification_twice_changes_nothing(
    clock: Any, csrf_client: Client, order: Order
) -> None:
    body = signed_body(notification_params(order))
    assert post(csrf_client, body).content == b"success"
    order.refresh_from_db()
    paid_at = order.paid_at
    # again, and once more re-sent later with a new notify_time (as gateways do)
    assert post(csrf_client, body).content == b"success"
    later = signed_body(notification_params(order, notify_time="2026-11-20 10:35:00"))
    response = post(csrf_client, later)
    assert (response.status_code, response.content) == (200, b"success")
    assert Payment.objects.count() == 1
    order.refresh_from_db()
    assert order.paid_at == paid_at
    assert AuditEvent.objects.filter(action="payments.order.paid").count() == 1
    assert not refused()


@pytest.mark.django_db
def test_tampered_amount_is_refused_audited_and_nothing_paid(
    clock: Any, csrf_client: Client, order: Order
) -> None:
    signed = signing.signed(notification_params(order), sandbox.provision("alipay"))
    signed["total_amount"] = "0.01"  # changed after signing
    response = post(csrf_client, urlencode(signed).encode())
    assert response.status_code == 403
    assert response.content == b"fail"
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert not Payment.objects.exists()
    (event,) = refused("bad_signature")
    assert event.object_id == order.reference
    assert event.after["total_amount"] == "0.01"
    assert event.after["gateway"] == "alipay"
    assert len(event.after["sha256"]) == 64


@pytest.mark.django_db
def test_signed_wrong_amount_is_refused_audited_and_nothing_paid(
    clock: Any, csrf_client: Client, order: Order
) -> None:
    response = post(csrf_client, signed_body(notification_params(order, total_amount="30.00")))
    assert (response.status_code, response.content) == (422, b"fail")
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert not Payment.objects.exists()
    (event,) = refused("amount_mismatch")
    assert "通知金额 30.00 元" in event.after["message"]


@pytest.mark.django_db
def test_signature_by_another_key_is_refused(
    clock: Any, csrf_client: Client, order: Order, stranger_key: rsa.RSAPrivateKey
) -> None:
    response = post(csrf_client, signed_body(notification_params(order), stranger_key))
    assert (response.status_code, response.content) == (403, b"fail")
    assert not Payment.objects.exists()
    assert len(refused("bad_signature")) == 1


@pytest.mark.django_db
def test_a_wechat_signature_is_not_an_alipay_one(
    clock: Any, csrf_client: Client, order: Order
) -> None:
    body = signed_body(notification_params(order), sandbox.provision("wechat"))
    assert post(csrf_client, body).status_code == 403
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "status", "error"),
    [
        ({"app_id": "2021000000000009"}, 403, "wrong_app"),
        ({"out_trade_no": "ZF20261120-999999"}, 404, "order_not_found"),
        ({"out_trade_no": "nonsense"}, 400, "bad_reference"),
        ({"trade_status": "TRADE_REFUNDED"}, 400, "notify_status"),
        ({"total_amount": "3e2"}, 400, "notify_amount"),
        ({"total_amount": "300.001"}, 400, "notify_amount"),
        ({"trade_no": ""}, 400, "notify_field"),
    ],
)
@pytest.mark.django_db
def test_bad_notifications_are_refused_and_audited(
    clock: Any,
    csrf_client: Client,
    order: Order,
    overrides: dict[str, str],
    status: int,
    error: str,
) -> None:
    response = post(csrf_client, signed_body(notification_params(order, **overrides)))
    assert (response.status_code, response.content) == (status, b"fail")
    assert not Payment.objects.exists()
    assert len(refused(error)) == 1


@pytest.mark.django_db
def test_malformed_bodies_are_refused_and_audited(clock: Any, csrf_client: Client) -> None:
    assert post(csrf_client, b"").status_code == 400
    assert post(csrf_client, b"a=1&a=2").status_code == 400
    assert post(csrf_client, "a=\xff".encode("latin-1")).status_code == 400
    assert post(csrf_client, b"x" * (17 * 1024)).status_code == 413
    # unsigned, from one address: one event, the next two only counted (throttled, issue 8)
    (event,) = refused()
    assert event.after["error"] == "notify_empty" and event.after["source"] == "127.0.0.1"
    assert csrf_client.get(URL).status_code == 405
    assert post(csrf_client, b"a=1", url="/payments/notify/paypal").status_code == 404


@pytest.mark.django_db
def test_waiting_and_closed_trades_are_acknowledged_without_change(
    clock: Any, csrf_client: Client, order: Order
) -> None:
    for status in ("WAIT_BUYER_PAY", "TRADE_CLOSED"):
        body = signed_body(notification_params(order, trade_status=status))
        assert post(csrf_client, body).content == b"success"
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert not Payment.objects.exists()


@pytest.mark.django_db
def test_money_for_an_order_no_longer_pending_is_kept_to_be_sent_back(
    clock: Any, csrf_client: Client, clerk: User, order: Order
) -> None:
    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    response = post(csrf_client, signed_body(notification_params(order)))
    assert (response.status_code, response.content) == (200, b"success")  # no retry storm
    assert Payment.objects.count() == 1
    assert not refused()
    (kept,) = SurplusPayment.objects.all()
    assert (kept.order_id, kept.trade_no) == (order.pk, "2026112022001000000000000001")
    (event,) = AuditEvent.objects.filter(action="payments.surplus.received", result="ok")
    assert event.after["trade_no"] == kept.trade_no and event.after["amount"] == "300.00"


@pytest.mark.django_db
def test_one_trade_number_cannot_pay_two_orders(
    clock: Any, csrf_client: Client, make_order: Callable[..., Order]
) -> None:
    first, second = make_order(), make_order()
    assert post(csrf_client, signed_body(notification_params(first))).content == b"success"
    response = post(csrf_client, signed_body(notification_params(second)))
    assert response.content == b"fail"
    second.refresh_from_db()
    assert second.status == Status.PENDING
    assert len(refused("trade_mismatch")) == 1


@pytest.fixture
def flaky_receiver() -> Iterator[list[str]]:
    calls: list[str] = []

    def receiver(sender: type, order: Order, **kwargs: Any) -> None:
        calls.append(order.reference)
        if len(calls) == 1:
            raise Conflict("申请状态不允许支付")
        if len(calls) == 2:
            raise RuntimeError("a bug in a receiver")

    order_paid.connect(receiver, dispatch_uid="test-flaky")
    yield calls
    order_paid.disconnect(dispatch_uid="test-flaky")


@pytest.mark.django_db
def test_a_failing_receiver_rolls_the_payment_back_and_the_gateway_retries(
    clock: Any, csrf_client: Client, order: Order, flaky_receiver: list[str]
) -> None:
    body = signed_body(notification_params(order))
    assert post(csrf_client, body).content == b"fail"  # a refusal (409)
    assert post(csrf_client, body).status_code == 500  # a bug: still nothing half-done
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert not Payment.objects.exists()
    assert not AuditEvent.objects.filter(action="payments.order.paid").exists()
    assert post(csrf_client, body).content == b"success"  # the retry goes through
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert Payment.objects.count() == 1


# --- forged notifications cannot flood the audit log (issue 8) ------------------------------


def _forged(order: Order, stranger_key: rsa.RSAPrivateKey) -> bytes:
    return signed_body(notification_params(order), stranger_key)


@pytest.mark.django_db
def test_forged_notifications_are_one_audit_event_per_source_and_window(
    clock: Any, admin: User, order: Order, stranger_key: rsa.RSAPrivateKey
) -> None:
    from certhall.audit.services import UNAUTHENTICATED_WINDOW, record_counted_refusals, verify

    attacker = Client(REMOTE_ADDR="203.0.113.7")
    body = _forged(order, stranger_key)
    for _ in range(50):
        assert post(attacker, body).status_code == 403
    (first,) = refused("bad_signature")
    assert first.after["source"] == "203.0.113.7"
    assert first.after["earlier_refusals"] == 0
    # another address (an IPv6 /64 counts as one) has its own event
    other = Client(REMOTE_ADDR="2001:db8::1")
    assert post(other, body).status_code == 403
    assert post(Client(REMOTE_ADDR="2001:db8::2"), body).status_code == 403
    assert len(refused("bad_signature")) == 2
    # the next window: one event that carries the 49 refusals counted in between
    clock.shift(UNAUTHENTICATED_WINDOW + 1)
    assert post(attacker, body).status_code == 403
    events = refused("bad_signature")
    assert len(events) == 3 and events[-1].after["earlier_refusals"] == 49
    # a flood that stops: the jobs write what was only counted, once its window is over
    assert post(attacker, body).status_code == 403
    assert record_counted_refusals(admin) == 1  # the /64's second; the attacker's window is open
    clock.shift(UNAUTHENTICATED_WINDOW + 1)
    assert record_counted_refusals(admin) == 1  # now the attacker's
    summaries = [e for e in refused() if e.after.get("summary")]
    assert [e.after["refusals"] for e in summaries] == [1, 1]
    assert record_counted_refusals(admin) == 0
    assert len(refused()) == 5
    assert verify().ok


@pytest.mark.django_db
def test_notifications_the_gateway_signed_are_recorded_each_time(
    clock: Any, csrf_client: Client, order: Order
) -> None:
    body = signed_body(notification_params(order, total_amount="30.00"))
    for _ in range(3):
        assert post(csrf_client, body).status_code == 422
    assert len(refused("amount_mismatch")) == 3
