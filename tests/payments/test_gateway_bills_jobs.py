"""对账 of the online gateways, run by the jobs once a day (a failed day tried again an hour
later, one not reconciled shown to finance in Chinese), by the command line, and finance's page
of the discrepancies (tests/payments/test_gateway_bills.py: the bill against the records)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
import time_machine

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import InvalidInput
from certhall.payments import gateway_bills, sandbox
from certhall.payments.lifecycle import Status
from certhall.payments.models import (
    GatewayBillRun,
    GatewayDiscrepancy,
    Order,
    SandboxRefund,
    SandboxTrade,
)

from .conftest import (
    NOW,
    SHANGHAI,
    back_office_refund,
    events,
    login,
    page,
    refused_row,
)

pytestmark = pytest.mark.django_db


# --- the jobs and the command line ------------------------------------------------------------


def test_the_jobs_reconcile_yesterdays_bill_once_a_day(
    applicant: User, make_order: Callable[..., Order]
) -> None:
    with time_machine.travel(NOW, tick=False):
        order = make_order()
        sandbox.pay(applicant, order.reference, "alipay")
    next_morning = datetime(2026, 11, 21, 9, 0, tzinfo=SHANGHAI)
    with time_machine.travel(next_morning, tick=False):
        assert gateway_bills.reconcile_due(next_morning) == 0  # the bill is not out yet
    later = datetime(2026, 11, 21, 10, 31, tzinfo=SHANGHAI)
    with time_machine.travel(later, tick=False):
        assert gateway_bills.reconcile_due(later) == 2  # Alipay's and WeChat Pay's
        assert gateway_bills.reconcile_due(later + timedelta(minutes=1)) == 0
    with time_machine.travel(later + timedelta(hours=5), tick=False):
        from certhall.jobs import run_due_jobs

        run_due_jobs()  # the whole round: nothing more
    order.refresh_from_db()
    assert order.status == Status.PAID
    runs = {(r.gateway, r.day, r.attempts) for r in GatewayBillRun.objects.all()}
    assert runs == {("alipay", date(2026, 11, 20), 1), ("wechat", date(2026, 11, 20), 1)}
    assert len(events(gateway_bills.ACTION)) == 2
    assert len(events("payments.gateway_bill.supplement")) == 1


def test_a_failed_day_is_tried_again_an_hour_later(
    monkeypatch: pytest.MonkeyPatch, db: None
) -> None:
    later = datetime(2026, 11, 21, 10, 31, tzinfo=SHANGHAI)
    calls: list[str] = []

    def broken(actor: User, gateway: str, day: date) -> None:
        calls.append(gateway)
        raise InvalidInput(code="gateway_bill_line", what="交易", line=3, field="trade_no")

    monkeypatch.setattr(gateway_bills, "reconcile_day", broken)
    with time_machine.travel(later, tick=False):
        assert gateway_bills.reconcile_due(later) == 0
        assert gateway_bills.reconcile_due(later + timedelta(minutes=30)) == 0
        assert gateway_bills.reconcile_due(later + timedelta(minutes=61)) == 0
    assert calls == ["alipay", "wechat", "alipay", "wechat"]
    run = GatewayBillRun.objects.get(gateway="alipay")
    assert run.attempts == 2 and run.finished_at is None and "第3行" in run.last_error


def test_a_day_not_reconciled_is_shown_to_finance_in_chinese(
    monkeypatch: pytest.MonkeyPatch, clerk: User, other_clerk: User
) -> None:
    """A bill the jobs cannot reconcile is not only a log line: finance's page says which day
    and why, in Chinese even when the failure was a program's (its repr went to the page)."""
    later = datetime(2026, 11, 21, 10, 31, tzinfo=SHANGHAI)

    def broken(actor: User, gateway: str, day: date) -> None:
        raise ConnectionResetError("Connection reset by peer")

    monkeypatch.setattr(gateway_bills, "reconcile_day", broken)
    with time_machine.travel(later, tick=False):
        assert gateway_bills.reconcile_due(later) == 0
    run = GatewayBillRun.objects.get(gateway="alipay")
    assert run.last_error == "系统内部错误（详情已记入服务器日志）。"
    shown = page(login(clerk).get("/payments/invoices/"))
    assert "对账单未能核对（2）" in shown
    assert "支付宝 2026-11-20 的对账单：已尝试 1 次，最近一次失败：系统内部错误" in shown
    assert "Connection reset" not in shown
    assert "对账单未能核对" not in page(login(other_clerk).get("/payments/invoices/"))


def test_the_command_line(
    cli: Callable[..., int],
    unnotified: Callable[..., tuple[Order, SandboxTrade]],
    paid_online: Callable[..., Order],
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    order, _ = unnotified()
    assert cli("payments", "reconcile-gateway", "--gateway", "alipay", "--day", "2026-11-20") == 0
    out = capsys.readouterr().out
    assert "alipay bill of 2026-11-20: trades 1, refunds 0, matched 0, supplemented 1" in out
    order.refresh_from_db()
    assert order.status == Status.PAID
    back_office_refund(SandboxTrade.objects.get(out_trade_no=order.reference))
    argv = ("payments", "reconcile-gateway", "--gateway", "alipay", "--day", "2026-11-20")
    assert cli(*argv, "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["discrepancies"] == 1
    assert [d["kind"] for d in report["discrepancies"]] == ["refund_unrecorded"]
    assert cli(*argv) == 1
    out = capsys.readouterr().out
    assert "refund_unrecorded" in out and "known_discrepancies 1" in out
    assert cli("payments", "reconcile-gateway", "--gateway", "paypal") == 4
    assert "paypal" in capsys.readouterr().err
    assert cli("payments", "reconcile-gateway", "--gateway", "alipay", "--day", "2026-13-01") == 2
    assert cli("payments", "reconcile-gateway", "--gateway", "alipay", "--day", "2026-11-21") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "YYYY-MM-DD" in err
    event = AuditEvent.objects.filter(action=gateway_bills.ACTION, result="ok").last()
    assert event is not None and event.actor.startswith("system:system-")


# --- finance's page ---------------------------------------------------------------------------


def test_finances_page_lists_them_and_marks_one_handled(
    admin: User,
    clerk: User,
    other_clerk: User,
    applicant: User,
    refunded_in_back_office: Callable[[], tuple[Order, SandboxRefund]],
) -> None:
    order, refund = refunded_in_back_office()
    gateway_bills.reconcile_day(admin, "alipay", NOW.date())
    row = GatewayDiscrepancy.objects.get()
    text = page(login(clerk).get("/payments/invoices/"))
    assert "对账差异，待处理（1）" in text and refund.refund_id in text
    assert order.reference in text and "支付平台有退款，本平台未登记" in text
    assert "对账差异" not in page(login(other_clerk).get("/payments/invoices/"))
    assert login(applicant).get("/payments/invoices/").status_code == 403
    url = f"/payments/discrepancies/{row.pk}/handled"
    assert login(other_clerk).post(url, {"note": "看看"}).status_code == 403
    assert login(applicant).post(url, {"note": "看看"}).status_code == 403
    assert login(clerk, csrf=True).post(url, {"note": "x"}).status_code == 403  # no CSRF token
    # refused beside the row's form, the note as typed (a redirect lost it), nothing changed
    mine = f'data-discrepancy="{row.pk}"'
    too_long = login(clerk).post(url, {"note": "长" * 201})
    shown = refused_row(too_long, mine, "处理说明不能超过200个字", "note", "长" * 201)
    assert "对账差异，待处理（1）" in shown
    refused_row(login(clerk).post(url, {"note": " "}), mine, "处理说明不能为空", "note", "")
    assert GatewayDiscrepancy.objects.get(pk=row.pk).status == row.status
    done = page(login(clerk).post(url, {"note": "已核实，退款属实"}, follow=True))
    assert f"已将支付宝对账差异 {refund.refund_id} 标记为已处理" in done
    assert "对账差异，待处理" not in done
    row.refresh_from_db()
    assert (row.status, row.note, row.handled_by_id) == ("handled", "已核实，退款属实", clerk.pk)
