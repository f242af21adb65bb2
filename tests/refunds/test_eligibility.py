"""Eligibility at the announcement's boundaries: every record counted or excluded with its
reason, the amount the sum of the counted ones (SQLite and PostgreSQL: the query is set-based)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from certhall import messages
from certhall.refunds.eligibility import REASONS, Line, amounts_by_enterprise, explain
from certhall.refunds.models import Programme, Provider
from tests.refunds.conftest import OTHER_USCC, USCC

pytestmark = pytest.mark.django_db

IN = date(2019, 6, 1)

# (case, paid_on, amount, business, used_on list, expected reason or "" when counted)
CASES: list[tuple[str, date, str, str, list[date], str]] = [
    ("paid the day before the window", date(2017, 12, 30), "300.00", "new", [IN], "outside_window"),
    ("paid on the first day", date(2017, 12, 31), "300.00", "new", [IN], ""),
    ("paid on the last day", date(2020, 12, 31), "300.00", "renew", [IN], ""),
    ("paid the day after the window", date(2021, 1, 1), "300.00", "new", [IN], "outside_window"),
    ("used on the first day", IN, "150.00", "change", [date(2017, 12, 31)], ""),
    ("used on the last day", IN, "150.00", "replace", [date(2020, 12, 31)], ""),
    ("used the day before", IN, "150.00", "new", [date(2017, 12, 30)], "used_outside_window"),
    ("used the day after", IN, "150.00", "new", [date(2021, 1, 1)], "used_outside_window"),
    ("used only outside", IN, "150.00", "new", [date(2017, 1, 1), date(2022, 1, 1)],
     "used_outside_window"),
    ("never used", IN, "150.00", "new", [], "never_used"),
    ("unpaid", IN, "0.00", "new", [IN], "unpaid"),
    ("unlock not covered", IN, "50.00", "unlock", [IN], "business_not_covered"),
    ("revoke not covered", IN, "50.00", "revoke", [IN], "business_not_covered"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "paid_on", "amount", "business", "uses", "reason"), CASES)
def test_one_record(
    programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
    case: str,
    paid_on: date,
    amount: str,
    business: str,
    uses: list[date],
    reason: str,
) -> None:
    fee("abc1", paid_on, amount, business=business)
    for day in uses:
        use("abc1", day)
    result = explain(programme, USCC)
    (line,) = result.lines
    assert line.reason == reason, case
    assert result.eligible is (reason == "")
    assert str(result.amount) == (amount if reason == "" else "0.00")
    data = result.as_json()
    if reason:
        assert data["excluded"][0]["reason"] == reason and data["counted"] == []
        assert data["excluded"][0]["reason_text"] == messages.text(
            f"refund_reason.{reason}", business=line.business_label
        )
    else:
        assert data["counted"][0]["serial"] == "abc1" and data["excluded"] == []


def test_two_certificates_of_one_enterprise_add_up(
    programme: Programme, fee: Callable[..., Any], use: Callable[..., Any]
) -> None:
    fee("a1", date(2018, 3, 1), "300.00")
    fee("a1", date(2019, 3, 1), "300.00", business="renew")
    fee("b2", date(2020, 2, 1), "150.00")
    fee("b2", date(2020, 3, 1), "50.00", business="unlock")
    use("a1", date(2018, 5, 1))
    use("b2", date(2020, 4, 1))
    result = explain(programme, USCC)
    assert [(line.serial, line.business, line.counted) for line in result.lines] == [
        ("a1", "new", True),
        ("a1", "renew", True),
        ("b2", "new", True),
        ("b2", "unlock", False),
    ]
    assert result.amount.yuan == Decimal("750.00")
    assert result.as_json()["amount_yuan"] == "750.00"


def test_a_certificate_of_a_non_participating_ca(
    programme: Programme, fee: Callable[..., Any], use: Callable[..., Any], outsider: Provider
) -> None:
    fee("c3", IN, "300.00", provider=outsider)
    use("c3", IN, provider=outsider)
    fee("c4", IN, "150.00")
    use("c4", IN)
    result = explain(programme, USCC)
    assert {line.serial: line.reason for line in result.lines} == {
        "c3": "ca_not_participating",
        "c4": "",
    }
    assert result.amount.yuan == Decimal("150.00")


def test_usage_of_the_same_serial_at_another_ca_does_not_count(
    programme: Programme, fee: Callable[..., Any], use: Callable[..., Any]
) -> None:
    fee("d4", IN, "300.00", ca="szca")
    use("d4", IN, ca="netca")
    (line,) = explain(programme, USCC).lines
    assert line.reason == "never_used"


def test_another_enterprise_records_are_not_listed(
    programme: Programme, fee: Callable[..., Any], use: Callable[..., Any]
) -> None:
    fee("e5", IN, "300.00", uscc=OTHER_USCC, name="别家")
    use("e5", IN)
    assert explain(programme, USCC).lines == ()
    assert explain(programme, OTHER_USCC).amount.yuan == Decimal("300.00")


def test_amounts_of_every_enterprise_at_once(
    programme: Programme, fee: Callable[..., Any], use: Callable[..., Any]
) -> None:
    fee("f1", IN, "300.00")
    fee("f2", IN, "200.00", uscc=OTHER_USCC, name="别家")
    fee("f3", date(2021, 2, 1), "99.00", uscc=OTHER_USCC, name="别家")
    use("f1", IN)
    use("f2", IN)
    use("f3", IN)
    rows = {r["uscc"]: r["eligible_amount"] for r in amounts_by_enterprise(programme)}
    assert rows == {USCC: Decimal("300.00"), OTHER_USCC: Decimal("200.00")}


def test_the_explanation_follows_the_programme_as_an_officer_edits_it(
    programme: Programme, fee: Callable[..., Any], use: Callable[..., Any]
) -> None:
    fee("f6", date(2020, 6, 1), "300.00")
    use("f6", date(2020, 7, 1))
    use("f6", date(2020, 8, 1))
    (line,) = explain(programme, USCC).lines
    assert (line.reason, line.first_use) == ("", date(2020, 7, 1))
    # The business window shortened: the fee now falls after it.
    programme.business_to = date(2020, 5, 31)
    programme.save()
    assert explain(programme, USCC).lines[0].reason == "outside_window"
    programme.business_to = date(2020, 12, 31)
    programme.save()
    assert explain(programme, USCC).lines[0].reason == ""
    # The issuing CA withdrawn from the programme.
    programme.cas.filter(provider__slug="szca").delete()
    assert explain(programme, USCC).lines[0].reason == "ca_not_participating"


def test_the_reasons_words_are_the_catalogues() -> None:
    """Each reason's words are a catalogue entry (they were a dict in eligibility.py until
    12-07, late), the one with a parameter filled with the record's own business."""
    entries = {c for c in messages.CATALOGUE if c.startswith("refund_reason.")}
    assert entries == {f"refund_reason.{code}" for code in REASONS}
    for code in REASONS:
        allowed = {"business"} if code == "business_not_covered" else set()
        assert messages.placeholders(f"refund_reason.{code}") == allowed, code

    def line(reason: str, business: str = "unlock") -> Line:
        return Line(1, "szca", "深圳CA", "ab", business, IN, Decimal(1), "某公司", reason, None)

    assert line("business_not_covered").reason_text == "解锁业务不在本项目返还范围内"
    assert line("outside_window").reason_text == "缴费日期不在业务期间内"
    assert line("").reason_text == ""  # counted
