"""Bank transfer reconciliation: a statement CSV against pending orders, and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import Forbidden, InvalidInput
from certhall.payments import reconcile, services
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order, Payment

pytestmark = pytest.mark.django_db

PAYER = "深圳市演示医疗科技有限公司"


def statement(*lines: str, header: str = "date,amount,payer,note") -> bytes:
    return ("\n".join((header, *lines)) + "\n").encode("utf-8")


@pytest.fixture
def orders(clock: Any, make_order: Callable[..., Order], clerk: User) -> dict[str, Order]:
    made = {
        "a": make_order("300.00"),  # ZF20261120-000001
        "b": make_order("450.00"),  # -000002
        "c": make_order("150.00"),  # -000003
        "paid": make_order("50.00"),  # -000004, paid at the counter
        "cancelled": make_order("120.00"),  # -000005
        "d": make_order("300.00"),  # -000006
    }
    services.record_counter_payment(clerk, made["paid"], method="cash", amount=Decimal("50"))
    services.cancel_order(clerk, made["cancelled"], "客户放弃")
    return made


def outcomes(report: reconcile.Report) -> list[tuple[int, str]]:
    return [(r.line, r.outcome) for r in report.results]


def test_statement_is_matched_by_reference_and_amount(
    admin: User, orders: dict[str, Order]
) -> None:
    data = statement(
        f"2026-11-18,300.00,{PAYER},ZF20261120-000001 证书费",  # 2 matched
        f'2026/11/18,"1,000.00",{PAYER},货款',  # 3 no order number
        f"20261119,450.00,{PAYER},zf 20261120 000002",  # 4 matched (forgiving format)
        f"2026-11-19,200.00,{PAYER},ZF20261120-000003",  # 5 wrong amount
        f"2026-11-19,50.00,{PAYER},ZF20261120-000004",  # 6 already paid at the counter
        f"2026-11-19,120.00,{PAYER},ZF20261120-000005",  # 7 cancelled order
        f"2026-11-19,300.00,{PAYER},ZF20261120-999999",  # 8 unknown order
        f"2026-11-19,-300.00,{PAYER},ZF20261120-000006",  # 9 a debit
        "2026-13-01,300.00,x,ZF20261120-000006",  # 10 unreadable date
        f"2026-11-19,300.00,{PAYER},ZF20261120-000001",  # 11 second transfer for order a
        f"2026-11-18,300.00,{PAYER},ZF20261120-000001 证书费",  # 12 same line as line 2
        f"2026-11-19,300.00,{PAYER},ZF20261120-000006 ZF20261120-000001",  # 13 two numbers
    )
    report = reconcile.reconcile(admin, data, source="stmt.csv")
    assert outcomes(report) == [
        (2, "matched"),
        (3, "unmatched"),
        (4, "matched"),
        (5, "unmatched"),
        (6, "duplicate"),
        (7, "unmatched"),
        (8, "unmatched"),
        (9, "unmatched"),
        (10, "invalid"),
        (11, "duplicate"),
        (12, "duplicate"),
        (13, "unmatched"),
    ]
    reasons = {r.line: r.reason for r in report.results}
    assert reasons[3] == "附言中没有订单号"
    assert "到账 200.00 元与订单金额 150.00 元不符" in reasons[5]
    assert "需退回" in reasons[6] and "需退回" in reasons[7]
    assert reasons[8] == "订单 ZF20261120-999999 不存在"
    assert "与第 2 行完全相同" in reasons[12]
    assert "多个订单号" in reasons[13]
    assert report.counts() == {
        "matched": 2,
        "already_recorded": 0,
        "duplicate": 3,
        "unmatched": 6,
        "invalid": 1,
        "error": 0,
    }
    assert report.needs_attention
    for key in ("a", "b"):
        orders[key].refresh_from_db()
        assert orders[key].status == Status.PAID
        assert orders[key].method == "bank_transfer"
    for key in ("c", "d"):
        orders[key].refresh_from_db()
        assert orders[key].status == Status.PENDING
    payment = Payment.objects.get(order=orders["a"])
    assert payment.channel == "bank"
    assert payment.details["payer"] == PAYER
    assert payment.received_at.date().isoformat() == "2026-11-17"  # 00:00 Shanghai in UTC
    summary = AuditEvent.objects.get(action="payments.reconcile")
    assert summary.after["counts"]["matched"] == 2
    assert summary.after["source"] == "stmt.csv"
    assert summary.after["unmatched_lines"] == [3, 5, 6, 7, 8, 9, 10, 11, 12, 13]


def test_importing_a_statement_again_changes_nothing(admin: User, orders: dict[str, Order]) -> None:
    data = statement(
        f"2026-11-18,300.00,{PAYER},ZF20261120-000001",
        f"2026-11-18,450.00,{PAYER},ZF20261120-000002",
    )
    assert [o for _, o in outcomes(reconcile.reconcile(admin, data))] == ["matched"] * 2
    again = reconcile.reconcile(admin, data)
    assert [o for _, o in outcomes(again)] == ["already_recorded"] * 2
    assert not again.needs_attention
    assert Payment.objects.filter(channel="bank").count() == 2
    assert AuditEvent.objects.filter(action="payments.order.paid").count() == 3  # 2 + counter


def test_bank_serials_identify_transfers(admin: User, orders: dict[str, Order]) -> None:
    header = "日期,金额,付款人,附言,流水号"
    data = statement(
        f"2026-11-18,300.00,{PAYER},ZF20261120-000001,B0001",
        f"2026-11-18,300.00,{PAYER},ZF20261120-000001,B0002",  # really paid twice
        header=header,
    )
    assert outcomes(reconcile.reconcile(admin, data)) == [(2, "matched"), (3, "duplicate")]
    assert Payment.objects.get(order=orders["a"]).transaction_id == "serial:B0001"


def test_an_over_long_cell_makes_its_line_invalid_not_cut(
    admin: User, orders: dict[str, Order]
) -> None:
    """The serial was cut to 48 characters, the note to 200: a second transfer whose serial
    began as an earlier one's was already_recorded (needing nobody) and its order stayed
    unpaid; an order number after the 200th character of a note was not seen."""
    header = "日期,金额,付款人,附言,流水号"
    first = statement(f"2026-11-18,300.00,{PAYER},ZF20261120-000001,{'B' * 48}", header=header)
    assert outcomes(reconcile.reconcile(admin, first)) == [(2, "matched")]
    later = statement(
        f"2026-11-19,300.00,{PAYER},ZF20261120-000006,{'B' * 48}7",
        f"2026-11-19,450.00,{PAYER},{'证书费' * 67}ZF20261120-000002,B0003",
        f"2026-11-19,150.00,{'深' * 101},ZF20261120-000003,B0004",
        header=header,
    )
    report = reconcile.reconcile(admin, later)
    assert outcomes(report) == [(2, "invalid"), (3, "invalid"), (4, "invalid")]
    assert [r.reason for r in report.results] == [
        "流水号不能超过48个字，请核对后重新填写。",
        "附言不能超过200个字，请核对后重新填写。",
        "付款人不能超过100个字，请核对后重新填写。",
    ]
    assert report.needs_attention
    assert Payment.objects.filter(channel="bank").count() == 1


def test_gb18030_statements_are_read(admin: User, orders: dict[str, Order]) -> None:
    data = statement(f"2026-11-18,300.00,{PAYER},订单ZF20261120-000001").decode().encode("gb18030")
    assert outcomes(reconcile.reconcile(admin, data)) == [(2, "matched")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空的"),
        (b"when,how much,who,why\n", "表头"),
        ("日期,金额\n".encode(), "表头"),
    ],
)
def test_unreadable_statements_are_refused_whole(admin: User, data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        reconcile.reconcile(admin, data)
    assert AuditEvent.objects.filter(action="payments.reconcile", result="refused").count() == 1


def test_a_statement_that_is_not_csv_is_refused_before_any_line(
    admin: User, orders: dict[str, Order]
) -> None:
    """A field over the csv module's limit (131,072 characters) was a 500 (csv.Error)."""
    data = statement(
        f"2026-11-18,300.00,{PAYER},ZF20261120-000001", f"2026-11-18,1.00,x,{'长' * 131_073}"
    )
    with pytest.raises(InvalidInput, match="对账单第3行不是有效的CSV") as refused:
        reconcile.reconcile(admin, data)
    assert refused.value.code == "statement_malformed"
    assert not Payment.objects.filter(order=orders["a"]).exists()
    orders["a"].refresh_from_db()
    assert orders["a"].status == Status.PENDING
    assert AuditEvent.objects.filter(action="payments.reconcile", result="refused").count() == 1


@pytest.mark.parametrize(
    ("line", "header", "said"),
    [
        # an RLO in the payer: finance reads what follows it reversed
        (
            "2026-11-18,1.00,深圳市演示\u202e医疗,ZF20261120-000002",
            "date,amount,payer,note",
            "付款人的第6个字符（U+202E）",
        ),
        (
            "2026-11-18,1.00,x,ZF20261120\u200b-000002",
            "date,amount,payer,note",
            "附言的第11个字符（U+200B）",
        ),
        (
            "2026-11-18,1.00,x,y,SN\ufffd1",
            "date,amount,payer,note,serial",
            "流水号的第3个字符（U+FFFD）",
        ),
    ],
)
def test_an_invisible_character_makes_its_line_invalid(
    admin: User, orders: dict[str, Order], line: str, header: str, said: str
) -> None:
    """Payer, note and serial are read by finance (the report, the payment's details); they
    were only bounded, and the line was matched or reported as it was. The line goes to a
    person; the statement's other lines are matched (the 附言 is what a payer typed: one
    transfer's note must not stop the rest)."""
    ok = f"2026-11-18,300.00,{PAYER},ZF20261120-000001" + (",SN1" if "serial" in header else "")
    report = reconcile.reconcile(admin, statement(ok, line, header=header))
    assert outcomes(report) == [(2, "matched"), (3, "invalid")]
    assert said in report.results[1].reason
    # the line's text in the report shows the character's code point, not its effect
    char = said.split("（")[1].split("）")[0]
    assert f"⟨{char}⟩" in report.results[1].note
    assert not any(ch in report.results[1].note for ch in "\u202e\u200b\ufffd")
    assert Payment.objects.filter(order=orders["a"]).count() == 1
    assert not Payment.objects.filter(order=orders["b"]).exists()


def test_a_notes_line_break_is_not_refused(admin: User, orders: dict[str, Order]) -> None:
    data = statement(f'2026-11-18,300.00,{PAYER},"ZF20261120-000001\n证书费"')
    assert outcomes(reconcile.reconcile(admin, data)) == [(2, "matched")]


def test_bad_lines_are_reported_not_fatal(admin: User, orders: dict[str, Order]) -> None:
    data = statement(
        "2026-11-18,300.00,only three",
        "2026-11-18,3.001,x,ZF20261120-000001",
        "",
        f"2026-11-18,300.00,{PAYER},ZF20261120-000001",
    )
    report = reconcile.reconcile(admin, data)
    assert outcomes(report) == [(2, "invalid"), (3, "invalid"), (5, "matched")]
    assert "应有 4 列" in report.results[0].reason


def test_only_ca_administrators_reconcile(make_user: Callable[..., User]) -> None:
    for role in (Role.CLERK, Role.APPLICANT, Role.AUDITOR):
        with pytest.raises(Forbidden):
            reconcile.reconcile(make_user(role), statement())


def test_orders_of_another_provider_are_not_matched(
    clock: Any, admin: User, make_order: Callable[..., Order], other_clerk: User
) -> None:
    theirs = make_order(actor=other_clerk)
    data = statement(f"2026-11-18,300.00,{PAYER},{theirs.reference}")
    assert outcomes(reconcile.reconcile(admin, data)) == [(2, "unmatched")]
    theirs.refresh_from_db()
    assert theirs.status == Status.PENDING


# --- the command line ---------------------------------------------------------------------


def test_cli_reconciles_and_reports(
    cli: Callable[..., int],
    orders: dict[str, Order],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "statement.csv"
    path.write_bytes(
        statement(
            f"2026-11-18,300.00,{PAYER},ZF20261120-000001",
            f"2026-11-18,99.00,{PAYER},no reference",
        )
    )
    assert cli("payments", "reconcile", "--statement", str(path)) == 1
    out = capsys.readouterr().out
    assert "matched" in out and "ZF20261120-000001" in out
    assert "unmatched" in out and "附言中没有订单号" in out
    assert cli("payments", "reconcile", "--statement", str(path), "--json") == 1
    report = json.loads(capsys.readouterr().out)
    assert [line["outcome"] for line in report["lines"]] == ["already_recorded", "unmatched"]
    path.write_bytes(statement(f"2026-11-18,450.00,{PAYER},ZF20261120-000002"))
    assert cli("payments", "reconcile", "--statement", str(path)) == 0
    event = AuditEvent.objects.filter(action="payments.reconcile").last()
    assert event is not None and event.actor.startswith("system:system-")


def test_cli_errors_are_one_line(
    cli: Callable[..., int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("payments", "reconcile", "--statement", str(tmp_path / "missing.csv")) == 2
    assert capsys.readouterr().err.count("\n") == 1
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a,b\n")
    assert cli("payments", "reconcile", "--statement", str(bad)) == 2
    err = capsys.readouterr().err
    assert err.startswith("certhall: error:") and "表头" in err
    # an invisible character is its line's: reported for a person (exit 1), no error
    bad.write_bytes(statement("2026-11-18,1.00,演示\u202e医疗,ZF20261120-000001"))
    assert cli("payments", "reconcile", "--statement", str(bad)) == 1
    out = capsys.readouterr()
    assert out.err == "" and "付款人的第3个字符（U+202E）是文字方向控制符" in out.out
