"""Paying online in Debian's headless Chromium (Playwright) against pytest-django's live server:
the order page, the sandbox cashier, 确认支付, the asynchronous notification over HTTP, the
paid order with its receipt. Screenshots are saved under the test's tmp_path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect

from certhall.accounts.models import User
from certhall.payments import sandbox
from certhall.payments.models import Order
from tests.browser.conftest import chromium, new_page
from tests.support import images
from tests.support.payments import refunded_twice

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(autouse=True)
def db_from_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in this thread; the test still uses the ORM
    (the live server answers from its own thread), which Django would refuse otherwise."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield new_page(browser)


def test_pay_online_through_the_sandbox(
    audit_flushable: None,
    live_server: Any,
    page: Page,
    applicant: User,
    make_order: Callable[..., Order],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    url = live_server.url
    monkeypatch.setattr(sandbox, "notify_url", lambda gateway: f"{url}/payments/notify/{gateway}")
    print(f"screenshots in {tmp_path}")
    order = make_order("150.00", description="机构个人证书（法人证书）新办 1年")
    client = Client()
    client.force_login(applicant)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": url,
            }
        ]
    )

    page.goto(f"{url}/payments/orders/{order.reference}")
    expect(page.locator("#order-status")).to_have_text("待支付")
    expect(page.locator("#pay-options")).to_contain_text("154 739 697 600 74")
    page.screenshot(path=str(tmp_path / "1-order.png"), full_page=True)

    page.locator('[data-gateway="alipay"] a.btn').click()
    expect(page.locator("#cashier-amount")).to_have_text("¥150.00")
    expect(page.locator("#cashier-payee")).to_have_text("深圳市电子商务安全证书管理有限公司")
    page.screenshot(path=str(tmp_path / "2-cashier.png"), full_page=True)

    page.locator("#confirm-pay").click()
    expect(page.locator("#order-reference")).to_have_text(order.reference)
    for thread in sandbox.deliveries():
        thread.join(timeout=20)
    page.reload()
    expect(page.locator("#order-status")).to_have_text("已支付")
    page.screenshot(path=str(tmp_path / "3-paid.png"), full_page=True)
    receipt = page.request.get(url + (page.locator("#receipt-link").get_attribute("href") or ""))
    assert receipt.status == 200
    assert receipt.body().startswith(b"%PDF-")


def _log_in(page: Page, url: str, user: User) -> None:
    client = Client()
    client.force_login(user)
    page.context.clear_cookies()
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": url}])


def test_a_refunded_orders_invoice_is_reversed_by_finance(
    audit_flushable: None,
    live_server: Any,
    page: Page,
    applicant: User,
    clerk: User,
    make_order: Callable[..., Order],
    tmp_path: Path,
) -> None:
    """Finance's queue of red-letter invoices, and the customer's order on a phone."""
    from certhall.payments import invoices, services

    url = live_server.url
    print(f"screenshots in {tmp_path}")
    order = make_order("300.00", description="机构证书（ODC证书）新办 1年")
    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    invoice = invoices.request_invoice(
        applicant, order.reference, kind="normal", email="finance@example.cn"
    )
    pdf = images.pdf()
    invoices.issue_invoice(clerk, invoice.pk, "26442000000012345678", [pdf])
    services.refund(clerk, order, "客户放弃办理")

    _log_in(page, url, clerk)
    page.goto(f"{url}/payments/invoices/")
    row = page.locator(f'#reversal-queue tr[data-invoice="{invoice.pk}"]')
    expect(row).to_contain_text("26442000000012345678")
    page.screenshot(path=str(tmp_path / "4-reversal-queue.png"), full_page=True)
    row.locator('input[name="number"]').fill("04403190011187654321")
    (tmp_path / "red.pdf").write_bytes(pdf)
    row.locator('input[name="pdf"]').set_input_files(str(tmp_path / "red.pdf"))
    row.locator("button").click()
    expect(page.locator("body")).to_contain_text("已登记红字发票 04403190011187654321")
    expect(page.locator("#reversal-queue")).to_have_count(0)

    _log_in(page, url, applicant)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/payments/orders/{order.reference}")
    expect(page.locator("#invoice-status")).to_have_text("已开具红字发票冲销")
    expect(page.locator("#invoice-reversal-number")).to_have_text("04403190011187654321")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "5-order-reversed-phone.png"), full_page=True)


def test_finance_stops_and_retries_online_refunds_and_sees_the_alert(
    audit_flushable: None,
    live_server: Any,
    page: Page,
    applicant: User,
    clerk: User,
    make_order: Callable[..., Order],
    tmp_path: Path,
) -> None:
    """Finance's page of refunds owed: one pending at the gateway (no hand record, 停止自动退款),
    one the gateway refused (立即重试), and the alert of a refund made twice."""
    from urllib.parse import urlencode

    from certhall import clock
    from certhall.payments import notify, refunding, services
    from certhall.payments.models import SandboxTrade

    url = live_server.url
    print(f"screenshots in {tmp_path}")

    def refunded() -> Order:
        order = make_order("300.00", description="机构证书（ODC证书）新办 1年")
        trade = sandbox.pay(applicant, order.reference, "alipay")
        body = urlencode(sandbox.notification(trade)).encode("utf-8")
        assert notify.handle("alipay", body, source="127.0.0.1").result == "paid"
        return services.refund(clerk, order, "客户撤回申请")

    pending, refused, twice = refunded(), refunded(), refunded()
    # the gateway refuses the second's refund (its trade not found)
    SandboxTrade.objects.filter(out_trade_no=refused.reference).update(out_trade_no="ZF-gone")
    assert refunding.send(refused, clock.now()) is False
    # the third: recorded by hand and by the gateway's late answer
    refunded_twice(
        clerk, twice, by_hand="2026120623001HAND", by_gateway="2026120623001000000000000042"
    )

    _log_in(page, url, clerk)
    page.goto(f"{url}/payments/invoices/")
    expect(page.locator("#refund-alerts")).to_contain_text("重复退款告警（1）")
    expect(page.locator("#refund-alerts")).to_contain_text(twice.reference)
    row = page.locator(f'#refunds-owed tr[data-order="{pending.reference}"]')
    expect(row).to_contain_text("自动退款进行中，不能人工登记")
    expect(row.locator('input[name="sent_reference"]')).to_have_count(0)
    failed = page.locator(f'#refunds-owed tr[data-order="{refused.reference}"]')
    expect(failed).to_contain_text("最近一次失败")
    page.screenshot(path=str(tmp_path / "6-refunds-owed.png"), full_page=True)

    SandboxTrade.objects.filter(out_trade_no="ZF-gone").update(out_trade_no=refused.reference)
    failed.locator("form.refund-retry button").click()
    expect(page.locator("body")).to_contain_text(f"支付平台已受理订单 {refused.reference} 的退款")
    expect(page.locator(f'#refunds-owed tr[data-order="{refused.reference}"]')).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    row.locator('input[name="reason"]').fill("付款账户已注销，改为对公转账")
    row.locator("form.refund-stop button").click()
    expect(page.locator("body")).to_contain_text(f"已停止订单 {pending.reference} 的自动退款")
    row = page.locator(f'#refunds-owed tr[data-order="{pending.reference}"]')
    expect(row).to_contain_text("停止自动退款：付款账户已注销，改为对公转账")
    expect(row.locator('input[name="sent_reference"]')).to_have_count(1)
    page.screenshot(path=str(tmp_path / "7-stopped.png"), full_page=True)


def test_finance_sends_a_second_payment_back_and_the_customer_reads_it(
    audit_flushable: None,
    live_server: Any,
    page: Page,
    applicant: User,
    clerk: User,
    make_order: Callable[..., Order],
    tmp_path: Path,
) -> None:
    """多余到账: paid at both cashiers; finance's page lists the second payment, 原路退回 sends it
    back; the customer's order page, on a phone, says it arrived and that it went back."""
    from urllib.parse import urlencode

    from certhall.payments import notify

    url = live_server.url
    print(f"screenshots in {tmp_path}")
    order = make_order("300.00", description="机构证书（ODC证书）新办 1年")
    trades = [sandbox.pay(applicant, order.reference, g) for g in ("alipay", "wechat")]
    outcomes = [
        notify.handle(t.gateway, urlencode(sandbox.notification(t)).encode(), source="127.0.0.1")
        for t in trades
    ]
    assert [o.result for o in outcomes] == ["paid", "unexpected"]

    _log_in(page, url, applicant)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/payments/orders/{order.reference}")
    expect(page.locator("#surplus-payments")).to_contain_text("将原路退回付款账户")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "8-order-surplus-phone.png"), full_page=True)

    _log_in(page, url, clerk)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(f"{url}/payments/invoices/")
    section = page.locator("#surplus-payments")
    expect(section).to_contain_text("多余到账，待退回（1）")
    expect(section).to_contain_text(trades[1].trade_no)
    expect(section).to_contain_text("微信支付")
    page.screenshot(path=str(tmp_path / "9-surplus-finance.png"), full_page=True)

    page.once("dialog", lambda dialog: dialog.accept())
    section.locator("form.surplus-return button").click()
    expect(page.locator("body")).to_contain_text(f"已经微信支付原路退回订单 {order.reference}")
    expect(page.locator("#surplus-payments")).to_have_count(0)

    _log_in(page, url, applicant)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{url}/payments/orders/{order.reference}")
    expect(page.locator("#surplus-payments")).to_contain_text("原路退回付款账户（退款单号")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "10-order-surplus-returned-phone.png"), full_page=True)


def test_finance_sees_the_daily_bills_discrepancies_and_marks_one_handled(
    audit_flushable: None,
    live_server: Any,
    page: Page,
    admin: User,
    applicant: User,
    clerk: User,
    make_order: Callable[..., Order],
    tmp_path: Path,
) -> None:
    """对账差异: a refund made in the gateway's back office and an amount that differs, found by
    the day's reconciliation; finance's page lists them (alert count), 已处理 with a note."""
    from certhall import clock
    from certhall.payments import gateway_bills, notify
    from certhall.payments.models import SandboxRefund, SandboxTrade

    url = live_server.url
    print(f"screenshots in {tmp_path}")
    paid = []
    for amount in ("300.00", "150.00"):
        order = make_order(amount, description="机构证书（ODC证书）新办 1年")
        trade = sandbox.pay(applicant, order.reference, "alipay")
        body = urlencode(sandbox.notification(trade)).encode()
        assert notify.handle("alipay", body, source="127.0.0.1").result == "paid"
        paid.append((order, trade))
    (_, trade), (second, _) = paid
    SandboxRefund.objects.create(
        gateway="alipay",
        trade=trade,
        out_request_no="HT20261205000001",
        refund_id="2026120523001999000000000001",
        refund_amount="300.00",
        refunded_at=clock.now(),
    )
    SandboxTrade.objects.filter(out_trade_no=second.reference).update(total_amount="105.00")
    report = gateway_bills.reconcile_day(admin, "alipay", clock.today())
    assert len(report.discrepancies) == 2

    _log_in(page, url, clerk)
    page.goto(f"{url}/payments/invoices/")
    section = page.locator("#gateway-discrepancies")
    expect(section).to_contain_text("对账差异，待处理（2）")
    expect(section).to_contain_text("支付平台有退款，本平台未登记")
    expect(section).to_contain_text("金额不符")
    expect(section).to_contain_text("2026120523001999000000000001")
    page.screenshot(path=str(tmp_path / "11-discrepancies.png"), full_page=True)
    for width in (1366, 390):  # the wide tables scroll inside themselves, never the page
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        page.screenshot(path=str(tmp_path / f"11-discrepancies-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1100, "height": 900})

    row = section.locator("tr", has_text="2026120523001999000000000001")
    row.locator('input[name="note"]').fill("已在支付宝商户后台核实：客户申请退款，财务已补登记")
    row.locator("form.discrepancy-handled button").click()
    expect(page.locator("body")).to_contain_text(
        "已将支付宝对账差异 2026120523001999000000000001 标记为已处理"
    )
    expect(page.locator("#gateway-discrepancies")).to_contain_text("对账差异，待处理（1）")
    page.screenshot(path=str(tmp_path / "12-discrepancy-handled.png"), full_page=True)


def test_back_from_the_cashier_the_order_page_updates_itself(
    audit_flushable: None,
    live_server: Any,
    page: Page,
    applicant: User,
    clerk: User,
    make_order: Callable[..., Order],
    tmp_path: Path,
) -> None:
    """Waiting for the gateway's notification, the page looks again in the background
    (web/watch.js) and shows the payment when it is recorded, with no reload in between: a
    Refresh header reloaded it every 3 s and moved a screen reader to the top (WCAG 2.2.1)."""
    from django.db import transaction

    from certhall.payments import services
    from certhall.payments.lifecycle import Channel, Method

    order = make_order("150.00")
    _log_in(page, live_server.url, applicant)
    page.goto(f"{live_server.url}/payments/orders/{order.reference}?paid=alipay")
    expect(page.locator("#waiting")).to_contain_text("支付结果确认中")
    page.evaluate("window.notReloaded = true")
    page.wait_for_timeout(6_000)  # a look that finds nothing new leaves the page as it is
    assert page.evaluate("window.notReloaded === true")
    page.screenshot(path=str(tmp_path / "1-waiting.png"), full_page=True)
    with transaction.atomic():
        services.apply_payment(
            clerk, order, channel=Channel.ALIPAY, method=Method.ALIPAY_ONLINE,
            transaction_id="2026112022001000000000000001", amount=order.amount,
            received_at=order.created_at,
        )  # fmt: skip
    expect(page.locator("#order-status")).to_have_text("已支付", timeout=12_000)
    expect(page.locator("#waiting")).to_have_count(0)
    page.screenshot(path=str(tmp_path / "2-paid.png"), full_page=True)
