"""Pages and JSON API: what an organisation sees, the sandbox cashier, and that another
enterprise (or another provider's staff) gets 403/404 on every route, with nothing changed."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.payments import sandbox, services
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order, Payment, SandboxTrade
from certhall.rules import default_catalog
from tests.support.openapi import documented_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_order(clock: Any, clerk: User, make_order: Callable[..., Order]) -> Order:
    order = make_order("150.00")
    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    return order


@pytest.fixture
def deliveries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Capture the sandbox's background deliveries instead of starting threads."""
    started: list[int] = []
    monkeypatch.setattr(sandbox, "deliver_in_background", lambda pk, url=None: started.append(pk))
    return started


# --- every route, tried by the wrong people -------------------------------------------------

ROUTES = [
    ("get", "/payments/orders/{ref}"),
    ("get", "/payments/sandbox/{ref}?gateway=alipay"),
    ("post", "/payments/sandbox/{ref}?gateway=alipay"),
    ("get", "/payments/receipt/{ref}.pdf"),
    ("get", "/api/payments/orders/{ref}"),
    ("get", "/api/payments/orders/{ref}/receipt"),
]


@pytest.mark.parametrize(("method", "route"), ROUTES)
@pytest.mark.parametrize("who", ["other_applicant", "other_clerk"])
def test_other_enterprises_and_providers_get_nothing(
    request: pytest.FixtureRequest,
    client: Client,
    order: Order,
    paid_order: Order,
    deliveries: list[int],
    method: str,
    route: str,
    who: str,
) -> None:
    client.force_login(request.getfixturevalue(who))
    before = (
        list(Order.objects.values().order_by("pk")),
        Payment.objects.count(),
        SandboxTrade.objects.count(),
    )
    for target in (order, paid_order):  # pending and paid
        url = route.format(ref=target.reference)
        data = {"action": "pay"} if method == "post" else None
        response = getattr(client, method)(url, data)
        assert response.status_code in (403, 404), (url, response.status_code)
        assert target.organization.name not in response.content.decode("utf-8", "replace")
    after = (
        list(Order.objects.values().order_by("pk")),
        Payment.objects.count(),
        SandboxTrade.objects.count(),
    )
    assert after == before
    assert deliveries == []


@pytest.mark.parametrize(("method", "route"), [*ROUTES, ("get", "/payments/orders/")])
def test_anonymous_visitors_are_sent_to_log_in(
    client: Client, order: Order, method: str, route: str
) -> None:
    response = getattr(client, method)(route.format(ref=order.reference))
    if route.startswith("/api/"):
        assert response.status_code == 401
    else:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    assert not SandboxTrade.objects.exists()


def test_lists_show_only_own_orders(
    clock: Any,
    client: Client,
    applicant: User,
    other_applicant: User,
    make_order: Callable[..., Order],
    other_organization: Any,
) -> None:
    mine = make_order()
    theirs = make_order(actor=other_applicant, organization=other_organization)
    client.force_login(applicant)
    page = client.get("/payments/orders/").content.decode()
    assert mine.reference in page and theirs.reference not in page
    listed = client.get("/api/payments/orders").json()
    assert [o["reference"] for o in listed] == [mine.reference]


# --- the order page and the API -------------------------------------------------------------


def test_order_page_offers_the_ways_to_pay(
    clock: Any, client: Client, applicant: User, order: Order
) -> None:
    client.force_login(applicant)
    page = client.get(f"/payments/orders/{order.reference}").content.decode()
    assert "¥300.00" in page and "人民币叁佰元整" in page
    assert f"/payments/sandbox/{order.reference}?gateway=alipay" in page
    assert f"/payments/sandbox/{order.reference}?gateway=wechat" in page
    # bank transfer: the seed's payee, and the order number as the transfer note
    for text in (
        "深圳市电子商务安全证书管理有限公司",
        "平安银行深圳高新技术区支行",
        "154 739 697 600 74",
    ):
        assert text in page
    assert "转账附言" in page
    assert "receipt-link" not in page
    # at a counter: which points and when they are open, a tap away (it said 在受理点办理时于柜台
    # 缴费 and named none, 12-06)
    counter = re.search(r'data-gateway="counter">.*?</div>', page, re.S)
    assert counter is not None
    link = re.search(r'<a href="([^"]+)"[^>]*>受理点地址与服务时间</a>', counter.group(0))
    assert link is not None, counter.group(0)
    points = client.get(link.group(1).split("#")[0]).content.decode()
    assert link.group(1).endswith("#points") and 'id="points"' in points
    for point in default_catalog().points:
        assert point.name in points and point.address in points


def test_api_order_status_and_receipt_link(
    clock: Any, client: Client, applicant: User, clerk: User, order: Order
) -> None:
    client.force_login(applicant)
    data = client.get(f"/api/payments/orders/{order.reference}").json()
    assert data["status"] == "pending" and data["status_label"] == "待支付"
    assert data["amount"] == "300.00"  # a string: never a float
    assert data["amount_in_words"] == "叁佰元整"
    assert data["organization"] == {
        "name": "深圳市演示医疗科技有限公司",
        "uscc": "91350100M000100Y43",
    }
    assert data["receipt_url"] is None
    # as documented (the hall's OrganizationOut and ItemOut had taken these names)
    path = "/api/payments/orders/{reference}"
    assert set(data["organization"]) == documented_fields("GET", path, 200, "organization")
    assert set(data["items"][0]) == documented_fields("GET", path, 200, "items")
    options = {o["gateway"]: o for o in data["payment_options"]}
    assert set(options) == {"alipay", "wechat", "bank", "counter"}
    assert options["bank"]["fields"]["转账附言"] == order.reference
    assert options["bank"]["fields"]["账号"] == "154 739 697 600 74"
    response = client.get(f"/api/payments/orders/{order.reference}/receipt")
    assert response.status_code == 409
    assert response.json()["error"] == "order_not_paid"

    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    data = client.get(f"/api/payments/orders/{order.reference}").json()
    assert data["status"] == "paid" and data["method"] == "cash"
    assert data["receipt_url"] == f"/payments/receipt/{order.reference}.pdf"
    assert data["payment_options"] == []
    link = client.get(f"/api/payments/orders/{order.reference}/receipt").json()
    assert link == {
        "reference": order.reference,
        "receipt_number": "SJ20261120-000001",
        "url": f"/payments/receipt/{order.reference}.pdf",
    }
    assert client.get("/api/payments/orders?status=paid").json()[0]["reference"] == order.reference
    assert client.get("/api/payments/orders?status=nonsense").status_code == 400


def test_openapi_lists_the_payment_routes(client: Client) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert "/api/payments/orders" in paths
    assert "/api/payments/orders/{reference}/receipt" in paths


# --- the sandbox cashier --------------------------------------------------------------------


def test_cashier_page_shows_amount_payee_and_the_two_buttons(
    clock: Any, client: Client, applicant: User, order: Order
) -> None:
    client.force_login(applicant)
    page = client.get(f"/payments/sandbox/{order.reference}?gateway=wechat").content.decode()
    assert "微信支付" in page and "沙箱" in page
    assert "¥300.00" in page
    assert "深圳市电子商务安全证书管理有限公司" in page
    assert "确认支付" in page and "取消" in page
    assert "csrfmiddlewaretoken" in page


def test_confirming_records_a_trade_once_and_delivers_after_commit(
    clock: Any,
    client: Client,
    applicant: User,
    order: Order,
    deliveries: list[int],
    django_capture_on_commit_callbacks: Any,
) -> None:
    client.force_login(applicant)
    url = f"/payments/sandbox/{order.reference}?gateway=alipay"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "pay"})
    assert response.status_code == 302
    assert response["Location"] == f"/payments/orders/{order.reference}?paid=alipay"
    trade = SandboxTrade.objects.get()
    assert deliveries == [trade.pk]
    assert trade.out_trade_no == order.reference and trade.total_amount == order.amount
    assert trade.trade_no.startswith("2026112022001") and len(trade.trade_no) == 28
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "pay"})  # pressed twice: the same trade, notified again
    assert SandboxTrade.objects.count() == 1
    assert deliveries == [trade.pk, trade.pk]
    order.refresh_from_db()
    assert order.status == Status.PENDING  # paid only when the notification arrives
    back = client.get(response["Location"])
    waiting = back.content.decode()
    assert "支付结果确认中" in waiting
    # no second 去支付 beside the first payment; the page looks again by itself, then stops
    assert 'id="pay-options"' not in waiting and 'id="pay-again"' in waiting
    # web/watch.js looks again in the background (no Refresh, which moved a screen reader to
    # the top every 3 s: WCAG 2.2.1), a minute, then opens the page that says the wait is long
    assert "Refresh" not in back and "/static/web/watch.js" in waiting
    assert 'data-watch="pending" data-watch-looks="12"' in waiting
    long_wait = f"/payments/orders/{order.reference}?paid=alipay&amp;waited=long"
    assert f'data-watch-then="{long_wait}"' in waiting
    last = client.get(f"/payments/orders/{order.reference}?paid=alipay&waited=long")
    assert "仍未收到支付网关的到账通知" in last.content.decode()
    assert "data-watch-looks" not in last.content.decode()  # it still looks, without an end
    # the long wait's 联系客服 is a way out, not a dead end
    assert '<a href="/contact/" id="contact-us">联系客服</a>' in last.content.decode()
    assert 'id="pay-options"' in client.get(f"/payments/orders/{order.reference}").content.decode()
    assert AuditEvent.objects.filter(action="payments.sandbox.pay").count() == 1


def test_cancel_goes_back_without_paying(
    clock: Any, client: Client, applicant: User, order: Order, deliveries: list[int]
) -> None:
    client.force_login(applicant)
    response = client.post(
        f"/payments/sandbox/{order.reference}?gateway=alipay", {"action": "cancel"}
    )
    assert response["Location"] == f"/payments/orders/{order.reference}"
    assert not SandboxTrade.objects.exists()
    assert deliveries == []


def test_cashier_refuses_what_cannot_be_paid(
    clock: Any, client: Client, applicant: User, paid_order: Order, order: Order
) -> None:
    client.force_login(applicant)
    page = client.get(f"/payments/sandbox/{paid_order.reference}?gateway=alipay").content.decode()
    assert "无需支付" in page and "确认支付" not in page
    response = client.post(
        f"/payments/sandbox/{paid_order.reference}?gateway=alipay", {"action": "pay"}
    )
    assert response.status_code == 409
    assert client.get(f"/payments/sandbox/{order.reference}?gateway=paypal").status_code == 404
    assert not SandboxTrade.objects.exists()


def test_cashier_is_csrf_protected(clock: Any, applicant: User, order: Order) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant)
    response = client.post(f"/payments/sandbox/{order.reference}?gateway=alipay", {"action": "pay"})
    assert response.status_code == 403
    assert not SandboxTrade.objects.exists()


def test_sandbox_can_be_switched_off(
    clock: Any, client: Client, applicant: User, order: Order, monkeypatch: pytest.MonkeyPatch
) -> None:
    import dataclasses

    from certhall import config

    off = dataclasses.replace(config.get(), payment_sandbox=False)
    monkeypatch.setattr(config, "get", lambda: off)
    client.force_login(applicant)
    assert client.get(f"/payments/sandbox/{order.reference}?gateway=alipay").status_code == 404
    page = client.get(f"/payments/orders/{order.reference}").content.decode()
    assert "/payments/sandbox/" not in page and "154 739 697 600 74" in page
