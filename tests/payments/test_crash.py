"""Kill it mid-step: money. A real process SIGKILLed between two effects of a payment, a bank
statement's lines and a refund (``certhall.crashpoints``), in the shared demo home; then the
order, its payments, the application and the audit chain (``certhall audit verify``'s check, in
the process that looks), and the retry that finishes the work (the gateway's redelivery, the
statement imported again, the clerk's second try).

Points: ``payments.recorded`` (the payment row and the order ``paid`` written, the application
not yet moved on), ``payments.reconciled_line`` (a statement's first line committed, the second
not yet looked at), ``payments.refunded`` (the application and the order refunded, the
application's signal not yet run), ``payments.gateway_refunded`` (an online payment refunded at
the gateway by the jobs, the order not yet recorded as sent back), ``payments.surplus_refunded``
(a second payment of an order sent back at the gateway by finance's 原路退回, not yet recorded),
``payments.gateway_bill_applied`` (the daily bill's reconciliation killed after its first 补单
committed, the rest of the bill not yet looked at)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from certhall.rules import SHANGHAI
from tests.support.crash import Home

pytestmark = [pytest.mark.slow, pytest.mark.softhsm]


def _seen(home: Home, *numbers: str, audit: bool = False) -> dict[str, dict[str, object]]:
    """Each application, its order and its payments; with ``audit``, the audit chain is then
    verified in the same process (``certhall audit verify``'s check)."""
    seen: dict[str, dict[str, object]] = home.json("pay-inspect", *numbers, audit=audit)
    return seen


def _statement(path: Path, *paid: dict[str, str]) -> Path:
    rows = ["date,amount,payer,note,serial"] + [
        f"2026-12-05,{p['amount']},深圳市演示医疗科技有限公司,{p['reference']} 证书费,BK{i}"
        for i, p in enumerate(paid)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_payments_killed_mid_step_count_once(demo_home: Home, tmp_path: Path) -> None:
    home = demo_home
    online, bank_a, bank_b = home.json("pay-prepare", "3")
    numbers = [p["number"] for p in (online, bank_a, bank_b)]
    waiting = {"state": "awaiting_payment", "order": "pending", "payments": []}

    # The gateway's notification, killed once the payment is written but before the
    # application moved on: one transaction, so nothing of it is left.
    home.kill_at("payments.recorded", "notify", str(online["trade"]))
    assert _seen(home, online["number"], audit=True)[online["number"]] == waiting
    # The gateway posts it again (the sandbox's jobs do after 5 minutes): paid once; the next
    # redelivery changes nothing.
    assert home.scenario("notify", str(online["trade"])).strip() == "paid"
    assert home.scenario("notify", str(online["trade"])).strip() == "duplicate"
    paid = _seen(home, online["number"])[online["number"]]
    assert paid["state"] == "paid" and paid["order"] == "paid", paid
    assert [p[:2] for p in paid["payments"]] == [["alipay", online["amount"]]]  # type: ignore[attr-defined]

    # A bank statement of two transfers, killed after the first line's payment committed.
    statement = str(_statement(tmp_path / "statement.csv", bank_a, bank_b))
    home.kill_cli_at("payments.reconciled_line", "payments", "reconcile", "--statement", statement)
    seen = _seen(home, bank_a["number"], bank_b["number"], audit=True)
    assert seen[bank_a["number"]]["order"] == "paid"
    assert seen[bank_a["number"]]["state"] == "paid"
    assert seen[bank_b["number"]] == waiting
    # Imported again: the first line is recognised, the second recorded; each money once.
    again = home.cli("payments", "reconcile", "--statement", statement)
    assert "already_recorded" in again and "matched" in again, again
    assert "matched 1" in again and "already_recorded 1" in again, again
    seen = _seen(home, *numbers, audit=True)
    for number in numbers:
        assert seen[number]["order"] == "paid" and seen[number]["state"] == "paid", seen
        assert len(seen[number]["payments"]) == 1, seen  # type: ignore[arg-type]

    # 退款, killed with the order refunded but before the application's own signal ran: the
    # clerk's one transaction, undone whole; the second try refunds both once.
    home.kill_at("payments.refunded", "refund", online["number"])
    assert _seen(home, online["number"], audit=True)[online["number"]] == paid
    home.scenario("refund", online["number"])
    refunded = _seen(home, online["number"], audit=True)[online["number"]]
    assert refunded["state"] == "refunded" and refunded["order"] == "refunded", refunded
    assert refunded["payments"] == paid["payments"]


def test_a_gateway_refund_killed_before_its_record_is_made_once(demo_home: Home) -> None:
    """The jobs' refund of an online payment, killed after the gateway refunded it and before
    the order recorded it: nothing on the platform's side, one refund at the gateway; the next
    round asks again with the same refund number, gets the same refund and records it."""
    home = demo_home
    (online,) = home.json("pay-prepare", "1")
    assert home.scenario("notify", str(online["trade"])).strip() == "paid"
    home.scenario("refund", online["number"])
    reference = online["reference"]
    refund_no = "TK" + reference.removeprefix("ZF")

    home.kill_at("payments.gateway_refunded", "refund-send", reference)
    seen = home.json("refund-sent-inspect", reference, audit=True)
    assert seen["status"] == "refunded" and not seen["sent"], seen
    assert seen["sent_reference"] == "" and seen["attempts"] == 1, seen
    ((number, amount, gateway_id),) = seen["gateway_refunds"]
    assert (number, amount) == (refund_no, online["amount"]), seen
    # The call's claim is left on the order: finance can neither record the refund by hand
    # (the money went back already) nor stop it; the next round leaves it alone (under way).
    assert home.scenario("refund-hand", reference).strip() == "refund_gateway_calling"
    assert home.scenario("refund-stop", reference).strip() == "refund_gateway_calling"
    # (this order only: the demo home is shared, other orders of it may be due)
    assert home.scenario("refund-send", reference).strip() == "0"
    assert home.json("refund-sent-inspect", reference)["attempts"] == 1

    # The first round after the claim's lease (the whole job): the same number, the same
    # refund, recorded once.
    home.scenario("refund-send-later")
    seen = home.json("refund-sent-inspect", reference, audit=True)
    assert seen["sent"] and seen["sent_reference"] == gateway_id, seen
    assert seen["sent_by"] == "system-gateway-alipay" and seen["attempts"] == 2, seen
    assert seen["gateway_refunds"] == [[refund_no, online["amount"], gateway_id]], seen
    assert home.scenario("refund-send", reference).strip() == "0"  # no longer owed: no call
    assert home.json("refund-sent-inspect", reference)["attempts"] == 2
    assert home.json("refund-sent-inspect", reference)["gateway_refunds"] == [
        [refund_no, online["amount"], gateway_id]
    ]


def test_a_retry_now_killed_before_its_record_is_made_once(demo_home: Home) -> None:
    """立即重试 (finance's, after a refused call), killed after the gateway refunded: finance's
    hand record is refused, the jobs' round after the lease records the one refund."""
    home = demo_home
    (online,) = home.json("pay-prepare", "1")
    assert home.scenario("notify", str(online["trade"])).strip() == "paid"
    home.scenario("refund", online["number"])
    reference = online["reference"]
    home.scenario("refund-failed", reference)

    home.kill_at("payments.gateway_refunded", "refund-retry", reference)
    seen = home.json("refund-sent-inspect", reference, audit=True)
    assert not seen["sent"] and seen["attempts"] == 2, seen
    ((_number, _amount, gateway_id),) = seen["gateway_refunds"]
    assert home.scenario("refund-hand", reference).strip() == "refund_gateway_calling"
    assert home.scenario("refund-retry", reference).strip() == "refund_gateway_calling"
    home.scenario("refund-send-later")
    seen = home.json("refund-sent-inspect", reference)
    assert seen["sent"] and seen["sent_reference"] == gateway_id, seen
    assert seen["sent_by"] == "system-gateway-alipay" and len(seen["gateway_refunds"]) == 1
    assert home.scenario("refund-hand", reference, audit=True).strip() == "refund_not_owed"


def test_a_surplus_return_killed_before_its_record_is_made_once(demo_home: Home) -> None:
    """多余到账: paid at both cashiers, the second payment kept; finance's 原路退回 killed after
    the gateway refunded it and before the row recorded it. The row stays claimed (the hand and
    a second press refused), the audit chain verifies, the jobs' round after the lease asks
    again with the same refund number and records the one refund."""
    home = demo_home
    (online,) = home.json("pay-prepare", "1")
    reference = online["reference"]
    second = home.scenario("pay-also", reference, "wechat").strip()
    assert home.scenario("notify", str(online["trade"])).strip() == "paid"
    assert home.scenario("notify", second).strip() == "unexpected"
    assert home.scenario("notify", second).strip() == "unexpected"  # again: nothing changes
    (row,) = home.json("surplus-inspect", reference)["rows"]
    assert (row["gateway"], row["status"], row["amount"]) == (
        "wechat",
        "received",
        online["amount"],
    )

    home.kill_at("payments.surplus_refunded", "surplus-return", reference)
    seen = home.json("surplus-inspect", reference, audit=True)
    (row,) = seen["rows"]
    assert row["status"] == "returning" and row["returned_reference"] == "", seen
    ((number, amount, gateway_id),) = seen["gateway_refunds"]
    assert number.startswith("TK" + reference.removeprefix("ZF") + "-D") and amount == row["amount"]
    assert home.scenario("surplus-hand", reference).strip() == "surplus_return_calling"
    assert home.scenario("surplus-return", reference).strip() == "surplus_return_calling"

    assert home.scenario("surplus-resume-later").strip() == "1"
    seen = home.json("surplus-inspect", reference, audit=True)
    (row,) = seen["rows"]
    assert row["status"] == "returned" and row["returned_reference"] == gateway_id, seen
    assert seen["gateway_refunds"] == [[number, amount, gateway_id]]
    assert home.scenario("surplus-resume-later").strip() == "0"
    assert home.scenario("surplus-hand", reference).strip() == "surplus_returned"
    assert home.json("surplus-inspect", reference)["gateway_refunds"] == [
        [number, amount, gateway_id]
    ]


def test_a_gateway_bill_reconciliation_killed_mid_way_applies_each_trade_once(
    demo_home: Home,
) -> None:
    """Two orders paid at the sandbox's cashier whose notifications never came; the day's
    reconciliation (``certhall payments reconcile-gateway``) killed after the first 补单: that
    payment committed and audited, the chain verifies; the next run applies the other one only,
    and a third changes nothing."""
    home = demo_home
    first, second = home.json("pay-prepare", "2")
    numbers = [first["number"], second["number"]]
    day = datetime.now(SHANGHAI).date().isoformat()
    command = ("payments", "reconcile-gateway", "--gateway", "alipay", "--day", day)
    before = int(home.scenario("events", "payments.gateway_bill.supplement"))

    home.kill_cli_at("payments.gateway_bill_applied", *command)
    seen = _seen(home, *numbers)
    paid = [n for n in numbers if seen[n]["order"] == "paid"]
    assert len(paid) == 1, seen  # the first trade of the bill; the other still waits
    (waiting,) = set(numbers) - set(paid)
    assert seen[waiting] == {"state": "awaiting_payment", "order": "pending", "payments": []}
    assert seen[paid[0]]["state"] == "paid" and len(seen[paid[0]]["payments"]) == 1  # type: ignore[arg-type]
    supplements = home.scenario("events", "payments.gateway_bill.supplement", audit=True)
    assert int(supplements) == before + 1

    # The next run (the jobs' next try, or finance's by hand): the rest, each trade once.
    home.cli(*command, status=None)  # (other tests' days in the shared home may disagree)
    seen = _seen(home, *numbers)
    for number, prepared in zip(numbers, (first, second), strict=True):
        assert seen[number]["order"] == "paid" and seen[number]["state"] == "paid", seen
        assert [p[:2] for p in seen[number]["payments"]] == [["alipay", prepared["amount"]]]  # type: ignore[attr-defined]
    supplements = home.scenario("events", "payments.gateway_bill.supplement", audit=True)
    assert int(supplements) == before + 2
    home.cli(*command, status=None)
    assert _seen(home, *numbers) == seen
    supplements = home.scenario("events", "payments.gateway_bill.supplement", audit=True)
    assert int(supplements) == before + 2
