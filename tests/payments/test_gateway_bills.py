"""对账 of the online gateways: the sandbox's daily bill (its own trades and refunds) against
the platform's records. A payment whose notification never arrived is applied once (补单); a
refund made in the gateway's back office, an amount that differs and a recorded payment the
bill does not have become discrepancies that finance of the order's CA marks handled; reconciling
again changes nothing (the jobs, the command line and finance's page:
test_gateway_bills_jobs.py). Real sandbox gateway, real signed notifications, a frozen clock;
SQLite and PostgreSQL (``database``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine

from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.errors import ConfigurationError, Forbidden, InvalidInput, NotFound
from certhall.payments import gateway_bills, gateways, notify, sandbox, services, surplus
from certhall.payments.lifecycle import DiscrepancyStatus, Status, SurplusStatus
from certhall.payments.models import (
    GatewayBillRun,
    GatewayDiscrepancy,
    Order,
    Payment,
    SandboxRefund,
    SandboxTrade,
    SurplusPayment,
)

from .conftest import (
    NOW,
    back_office_refund,
    events,
    notification_params,
    refused,
    signed_body,
)

pytestmark = pytest.mark.django_db

TODAY = NOW.date()


def reconcile(admin: User, gateway: str = "alipay", day: date = TODAY) -> gateway_bills.Report:
    return gateway_bills.reconcile_day(admin, gateway, day)


def counts(report: gateway_bills.Report) -> dict[str, int]:
    return {k: v for k, v in report.counted().items() if v}


# --- the bill ----------------------------------------------------------------------------------


def test_the_sandbox_bill_is_the_days_trades_and_refunds(
    unnotified: Callable[..., tuple[Order, SandboxTrade]],
    clock: time_machine.Coordinates,
) -> None:
    order, trade = unnotified()
    refund = back_office_refund(trade, "100.00")
    _, other = unnotified("wechat")
    client = gateways.bill_client(gateways.ALIPAY)
    assert client is not None
    bill = gateways.read_bill(gateways.ALIPAY, TODAY, *client.bill(gateways.ALIPAY, TODAY))
    ((line,),) = [bill.trades]
    assert (line.out_trade_no, line.trade_no, str(line.amount.yuan)) == (
        order.reference,
        trade.trade_no,
        "300.00",
    )
    assert line.paid_at == NOW
    ((back,),) = [bill.refunds]
    assert (back.refund_id, back.refund_no, back.trade_no, back.out_trade_no) == (
        refund.refund_id,
        refund.out_request_no,
        trade.trade_no,
        order.reference,
    )
    assert str(back.amount.yuan) == "100.00"
    assert other.trade_no not in {t.trade_no for t in bill.trades}  # WeChat's own bill
    yesterday = client.bill(gateways.ALIPAY, TODAY - timedelta(days=1))
    assert yesterday == ([], [])


# --- a lost notification: 补单 -----------------------------------------------------------------


def test_a_lost_notification_is_applied_once_by_the_days_bill(
    admin: User, unnotified: Callable[..., tuple[Order, SandboxTrade]]
) -> None:
    order, trade = unnotified()
    assert not Payment.objects.exists()

    report = reconcile(admin)
    assert counts(report) == {"trades": 1, "supplemented": 1}
    assert report.supplemented == [order.reference]
    order.refresh_from_db()
    assert order.status == Status.PAID
    payment = Payment.objects.get()
    assert (payment.transaction_id, payment.amount, payment.received_at) == (
        trade.trade_no,
        order.amount,
        NOW,
    )
    assert payment.details == {"found_by": "gateway_bill", "bill_day": "2026-11-20"}
    (found,) = events("payments.gateway_bill.supplement")
    assert found.object_id == order.reference and found.after["trade_no"] == trade.trade_no
    (run,) = events(gateway_bills.ACTION)
    assert run.after["counts"]["supplemented"] == 1
    assert len(events("payments.order.paid")) == 1

    # Again: nothing changes, no duplicate; the notification arriving late changes nothing.
    assert counts(reconcile(admin)) == {"trades": 1, "matched": 1}
    body = signed_body({**sandbox.notification(trade)})
    assert notify.handle("alipay", body).result == "duplicate"
    assert Payment.objects.count() == 1 and not GatewayDiscrepancy.objects.exists()
    assert len(events("payments.gateway_bill.supplement")) == 1
    assert len(events("payments.order.paid")) == 1
    assert len(events(gateway_bills.ACTION)) == 2
    assert audit.verify().ok


def test_a_supplement_and_its_bill_event_commit_together(
    admin: User,
    unnotified: Callable[..., tuple[Order, SandboxTrade]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The bill's event failing to be written takes the payment with it: never a 补单 without
    the record of what found it. The next run applies the trade."""
    order, _ = unnotified()
    record = audit.record

    def failing(actor: User, action: str, **kwargs: Any) -> AuditEvent:
        if action == "payments.gateway_bill.supplement":
            raise RuntimeError("disk full")
        return record(actor, action, **kwargs)

    monkeypatch.setattr(gateway_bills.audit, "record", failing)
    with pytest.raises(RuntimeError):
        reconcile(admin)
    order.refresh_from_db()
    assert order.status == Status.PENDING
    assert not Payment.objects.exists() and not events("payments.order.paid")

    monkeypatch.setattr(gateway_bills.audit, "record", record)
    assert counts(reconcile(admin)) == {"trades": 1, "supplemented": 1}
    order.refresh_from_db()
    assert order.status == Status.PAID
    assert len(events("payments.order.paid")) == len(events("payments.gateway_bill.supplement"))
    assert audit.verify().ok


def test_a_trade_for_an_order_no_longer_pending_is_kept_as_surplus(
    admin: User, clerk: User, unnotified: Callable[..., tuple[Order, SandboxTrade]]
) -> None:
    order, trade = unnotified()
    services.cancel_order(clerk, order, "客户改为柜台缴费")
    assert counts(reconcile(admin)) == {"trades": 1, "surplus": 1}
    kept = SurplusPayment.objects.get()
    assert (kept.trade_no, kept.status, kept.order_id) == (
        trade.trade_no,
        SurplusStatus.RECEIVED,
        order.pk,
    )
    assert len(events("payments.gateway_bill.surplus")) == 1
    assert len(events("payments.surplus.received")) == 1
    assert counts(reconcile(admin)) == {"trades": 1, "matched": 1}
    assert SurplusPayment.objects.count() == 1 and not GatewayDiscrepancy.objects.exists()


# --- discrepancies -------------------------------------------------------------------------------


def test_a_back_office_refund_is_one_open_discrepancy_finance_marks_handled(
    admin: User,
    clerk: User,
    other_clerk: User,
    applicant: User,
    refunded_in_back_office: Callable[[], tuple[Order, SandboxRefund]],
) -> None:
    order, refund = refunded_in_back_office()

    assert counts(reconcile(admin)) == {
        "trades": 1,
        "refunds": 1,
        "matched": 1,
        "discrepancies": 1,
    }
    row = GatewayDiscrepancy.objects.get()
    assert (row.kind, row.reference, row.merchant_reference, row.order_id) == (
        "refund_unrecorded",
        refund.refund_id,
        refund.out_request_no,
        order.pk,
    )
    assert (row.status, str(row.bill_amount), row.recorded_amount) == ("open", "300.00", None)
    assert len(events("payments.gateway_bill.discrepancy")) == 1
    # Again: the same row, nothing added.
    assert counts(reconcile(admin))["known_discrepancies"] == 1
    assert GatewayDiscrepancy.objects.count() == 1
    assert len(events("payments.gateway_bill.discrepancy")) == 1

    # Finance of the order's CA sees it; another CA's staff and the enterprise do not.
    assert gateway_bills.open_discrepancies(clerk) == [row]
    assert gateway_bills.open_discrepancies(other_clerk) == []
    refused(lambda: gateway_bills.open_discrepancies(applicant), "role_required", Forbidden)
    refused(
        lambda: gateway_bills.mark_handled(other_clerk, row.pk, "看看"), "other_provider", Forbidden
    )
    refused(
        lambda: gateway_bills.mark_handled(clerk, row.pk, "  "), "order_text_empty", InvalidInput
    )
    refused(
        lambda: gateway_bills.mark_handled(clerk, row.pk, "已核实\x00"), "text_chars", InvalidInput
    )
    refused(
        lambda: gateway_bills.mark_handled(clerk, 999_999, "x"), "discrepancy_not_found", NotFound
    )

    handled = gateway_bills.mark_handled(
        clerk, row.pk, "已在商户后台核实，客户申请退款，财务已补登记"
    )
    assert (handled.status, handled.handled_by_id) == (DiscrepancyStatus.HANDLED, clerk.pk)
    assert handled.note == "已在商户后台核实，客户申请退款，财务已补登记"
    (event,) = events("payments.gateway_bill.handled")
    assert event.after["note"] == handled.note
    assert gateway_bills.open_discrepancies(clerk) == []
    refused(lambda: gateway_bills.mark_handled(clerk, row.pk, "再次"), "discrepancy_transition")
    # Handled stays handled: the next run finds the row and opens nothing.
    report = reconcile(admin)
    assert report.discrepancies == [] and GatewayDiscrepancy.objects.count() == 1
    assert audit.verify().ok


def test_an_amount_that_differs_and_a_payment_missing_from_the_bill(
    admin: User,
    applicant: User,
    make_order: Callable[..., Order],
    paid_online: Callable[..., Order],
) -> None:
    differs = paid_online()
    SandboxTrade.objects.filter(out_trade_no=differs.reference).update(total_amount="299.00")
    # A payment the platform recorded from a signed notification of a trade the gateway's
    # bill does not list.
    missing = make_order("450.00")
    params = notification_params(missing, trade_no="2026112022001000000000009999")
    assert notify.handle("alipay", signed_body(params)).result == "paid"

    report = reconcile(admin)
    assert counts(report) == {"trades": 1, "discrepancies": 2}
    rows = {row.kind: row for row in GatewayDiscrepancy.objects.all()}
    assert set(rows) == {"amount_differs", "payment_not_in_bill"}
    amount = rows["amount_differs"]
    assert (amount.order_id, str(amount.bill_amount), str(amount.recorded_amount)) == (
        differs.pk,
        "299.00",
        "300.00",
    )
    gone = rows["payment_not_in_bill"]
    assert (gone.reference, gone.order_id, gone.bill_amount, str(gone.recorded_amount)) == (
        "2026112022001000000000009999",
        missing.pk,
        None,
        "450.00",
    )
    assert counts(reconcile(admin)) == {"trades": 1, "known_discrepancies": 2}
    assert GatewayDiscrepancy.objects.count() == 2


def test_refunds_the_platform_made_agree_with_the_bill(
    admin: User, refunded_online: Callable[..., Order]
) -> None:
    """The jobs' refund through the gateway (the platform's own number) is in the bill and
    recorded: no discrepancy."""
    from certhall.payments import refunding

    order = refunded_online()
    assert refunding.send_due(NOW) == 1
    assert counts(reconcile(admin)) == {"trades": 1, "refunds": 1, "matched": 2}
    assert not GatewayDiscrepancy.objects.exists()
    # A refund recorded as made by the gateway that the bill does not have.
    SandboxRefund.objects.all().delete()
    report = reconcile(admin)
    (row,) = report.discrepancies
    assert (row.kind, row.order_id) == ("refund_not_in_bill", order.pk)


def test_a_surplus_sent_back_through_the_gateway_agrees_with_the_bill(
    admin: User, clerk: User, unnotified: Callable[..., tuple[Order, SandboxTrade]]
) -> None:
    """Paid at both cashiers, the second payment kept and sent back by 原路退回 (the platform's
    refund number ``TK…-D<row>``): the WeChat Pay bill's trade and refund both agree."""
    order, first = unnotified("alipay")
    second = sandbox.pay(first.buyer, order.reference, "wechat")
    outcomes = [
        notify.handle(t.gateway, signed_body(sandbox.notification(t), gateway=t.gateway)).result
        for t in (first, second)
    ]
    assert outcomes == ["paid", "unexpected"]
    surplus.send_back(clerk, SurplusPayment.objects.get().pk)
    assert counts(reconcile(admin, "wechat")) == {"trades": 1, "refunds": 1, "matched": 2}
    assert counts(reconcile(admin, "alipay")) == {"trades": 1, "matched": 1}
    assert not GatewayDiscrepancy.objects.exists()


def test_a_pending_orders_trade_of_another_amount_is_not_applied(
    admin: User, unnotified: Callable[..., tuple[Order, SandboxTrade]]
) -> None:
    order, trade = unnotified()
    SandboxTrade.objects.filter(pk=trade.pk).update(total_amount="30.00")
    (row,) = reconcile(admin).discrepancies
    assert (row.kind, row.order_id, str(row.bill_amount)) == ("trade_unmatched", order.pk, "30.00")
    assert row.detail.startswith("对账单金额 30.00 元与订单")
    order.refresh_from_db()
    assert order.status == Status.PENDING and not Payment.objects.exists()


def test_an_unknown_order_in_the_bill_is_a_discrepancy(
    admin: User, unnotified: Callable[..., tuple[Order, SandboxTrade]]
) -> None:
    _, trade = unnotified()
    SandboxTrade.objects.filter(pk=trade.pk).update(out_trade_no="ZF20261120-999999")
    report = reconcile(admin)
    (row,) = report.discrepancies
    assert (row.kind, row.order_id, row.merchant_reference) == (
        "trade_unmatched",
        None,
        "ZF20261120-999999",
    )
    assert "ZF20261120-999999" in row.detail and not Payment.objects.exists()


# --- bad input -------------------------------------------------------------------------------


def test_bad_input_is_refused_in_words_and_recorded(
    admin: User, clock: Any, clerk: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused(lambda: reconcile(admin, "paypal"), "gateway_unknown", NotFound)
    refused(
        lambda: reconcile(admin, day=TODAY + timedelta(days=1)), "gateway_bill_future", InvalidInput
    )
    refused(lambda: reconcile(clerk), "role_required", Forbidden)

    class Broken:
        def bill(
            self, gateway: Any, day: date
        ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
            line = {
                "out_trade_no": "ZF20261120-000001",
                "trade_no": "2026112022001000000000000001",
                "total_amount": "3O0.00",
                "gmt_payment": "2026-11-20 10:30:00",
                "trade_status": "TRADE_SUCCESS",
            }
            return [line], []

    monkeypatch.setattr(gateways, "bill_client", lambda gateway: Broken())
    message = refused(lambda: reconcile(admin), "gateway_bill_line", InvalidInput)
    assert "第1行" in message and "total_amount" in message
    monkeypatch.setattr(gateways, "bill_client", lambda gateway: None)
    refused(lambda: reconcile(admin), "gateway_bill_unavailable", ConfigurationError)
    recorded = [e.after["error"] for e in events(gateway_bills.ACTION, "refused")]
    assert recorded == [
        "gateway_unknown",
        "gateway_bill_future",
        "gateway_bill_line",
        "gateway_bill_unavailable",
    ]
    assert not GatewayBillRun.objects.exists()


TRADE = {
    "out_trade_no": "ZF20261120-000001",
    "trade_no": "2026112022001000000000000001",
    "total_amount": "300.00",
    "gmt_payment": "2026-11-20 10:30:00",
    "trade_status": "TRADE_SUCCESS",
}
REFUND = {
    "out_request_no": "HT20261120000001",
    "refund_id": "2026112023001999000000000001",
    "trade_no": "2026112022001000000000000001",
    "out_trade_no": "ZF20261120-000001",
    "refund_amount": "300.00",
    "gmt_refund": "2026-11-20 11:00:00",
}


@pytest.mark.parametrize(
    ("trades", "refunds", "said"),
    [
        # a trade number reversed for finance by an RLO in the discrepancy's row
        (
            [{**TRADE, "trade_no": "20261120\u202e22001"}],
            [],
            "第1行交易记录的字段 trade_no 的第9个",
        ),
        # TRADE_SUCCESS with a zero-width space was read as "not paid" and the line skipped
        ([{**TRADE, "trade_status": "TRADE_\u200bSUCCESS"}], [], "字段 trade_status 的第7个"),
        ([TRADE], [{**REFUND, "refund_id": "2026\ufffd"}], "第1行退款记录的字段 refund_id"),
    ],
)
def test_an_invisible_character_in_a_bill_refuses_the_whole_bill(
    admin: User,
    clock: Any,
    monkeypatch: pytest.MonkeyPatch,
    trades: list[dict[str, str]],
    refunds: list[dict[str, str]],
    said: str,
) -> None:
    class Bill:
        def bill(
            self, gateway: Any, day: date
        ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
            return trades, refunds

    monkeypatch.setattr(gateways, "bill_client", lambda gateway: Bill())
    message = refused(lambda: reconcile(admin), "gateway_bill_text_chars", InvalidInput)
    assert said in message and message.endswith("整份对账单未核对。")
    assert not GatewayBillRun.objects.exists() and not GatewayDiscrepancy.objects.exists()
    assert [e.after["error"] for e in events(gateway_bills.ACTION, "refused")] == [
        "gateway_bill_text_chars"
    ]
