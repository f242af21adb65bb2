"""enforce(), the one place services call, and the catalog's data: a fee change is a data
change, the weekend rule's flag, the quote's JSON (the rules one by one: test_quote.py)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from certhall.errors import InvalidInput, RuleViolation
from certhall.rules import (
    QuoteRefused,
    enforce,
    parse_catalog,
    quote,
)
from tests.rules.conftest import (
    MAKEUP_SATURDAY,
    MONDAY,
    ODC_NEW_FEE,
    ONLY_PERSONAL_ONLINE,
    SATURDAY,
    WEEKEND_WORDS,
    onsite,
    sh,
)

# --- enforce: the one place services call ----------------------------------------------------


def test_enforce_returns_the_quote_when_allowed() -> None:
    answer = enforce("new", "personal", years=5, channel="onsite", point="longgang", at=MONDAY)
    assert answer.allowed
    assert answer.fee_yuan == 750


def test_enforce_raises_with_every_rule_quoted() -> None:
    with pytest.raises(QuoteRefused) as caught:
        enforce("new", "org", years=2, channel="onsite", point="kejiyuan", at=SATURDAY)
    error = caught.value
    assert isinstance(error, RuleViolation)
    assert error.exit_code == 3
    assert error.code == "rule_violation"
    # a refusal about the day says which day (no form holds it to mark)
    assert str(error) == f"{ODC_NEW_FEE}；{WEEKEND_WORDS}（办理时间：2026-11-21 星期六 10:00）。"
    assert error.quote.reasons == (ODC_NEW_FEE, WEEKEND_WORDS)


def test_enforce_online_odc_new() -> None:
    with pytest.raises(RuleViolation, match=ONLY_PERSONAL_ONLINE):
        enforce("new", "org", channel="online", at=MONDAY)


@pytest.mark.parametrize(
    ("asked", "inputs"),
    [
        # 6 years of a 1-5 year certificate: the term
        (dict(business="new", cert_type="personal", years=6), ("years",)),
        # 变更 is done at a counter only: the business; an ODC is not issued online: the type
        (dict(business="change", cert_type="personal", channel="online"), ("channel", "business")),
        (dict(business="new", cert_type="org", channel="online"), ("channel", "cert_type")),
        # an ODC on a Saturday at the 科技园 point: the day and the type (a personal one is done)
        (dict(business="new", cert_type="org", at=SATURDAY), ("at", "cert_type")),
        # 龙岗 on a Saturday (not a service day), at 13:00 (its lunch break): the day, the point
        (
            dict(business="new", cert_type="personal", years=1, point="longgang", at=SATURDAY),
            ("at", "point"),
        ),
        (
            dict(
                business="new",
                cert_type="personal",
                years=1,
                point="longgang",
                at=sh(2026, 11, 23, 13),
            ),
            ("at", "point"),
        ),
        # the online renewal window: the day and the certificate's end
        (
            dict(
                business="renew",
                cert_type="org",
                channel="online",
                cert_expiry=MONDAY.date() + timedelta(days=120),
            ),
            ("at", "cert_expiry"),
        ),
        # several rules: each one's inputs, once
        (
            dict(business="new", cert_type="org", years=2, point="longgang", at=SATURDAY),
            ("years", "at", "point", "cert_type"),
        ),
    ],
)
def test_a_refusal_names_the_inputs_it_is_about(
    asked: dict[str, Any], inputs: tuple[str, ...]
) -> None:
    """What a form marks (``CerthallError.fields``), by quote()'s parameters: the caller
    renames them to its fields (hall.items: a line's certificate is its serial)."""
    asked.setdefault("channel", "onsite")
    if asked["channel"] == "onsite":
        asked.setdefault("point", "kejiyuan")
    asked.setdefault("at", MONDAY)
    with pytest.raises(QuoteRefused) as caught:
        enforce(**asked)
    assert caught.value.fields == inputs
    assert quote(**asked).refusals  # the same rules refuse the quote, naming the same inputs


def test_invalid_input_is_not_a_refusal() -> None:
    with pytest.raises(InvalidInput):
        enforce("new", "org", channel="onsite", point="futian", at=MONDAY)


# --- a fee change is a data change -----------------------------------------------------------


def test_fee_change_is_a_catalog_change(raw_catalog: dict[str, Any]) -> None:
    offer = raw_catalog["businesses"]["replace"]["cert_types"]["org"]
    offer["fee_yuan"] = "99.50"
    offer["fee_text"] = "机构证书(ODC证书):99.50元/个"
    raw_catalog["version"] = "test"
    changed = parse_catalog(raw_catalog)
    answer = quote("replace", "org", channel="onsite", point="kejiyuan", at=MONDAY, catalog=changed)
    assert answer.fee_yuan == Decimal("99.50")
    assert answer.as_json()["fee_yuan"] == 99.5
    assert answer.catalog_version == "test"


def test_weekend_rule_flag_for_makeup_days(raw_catalog: dict[str, Any]) -> None:
    raw_catalog["weekend_rule"]["applies_on_makeup_workdays"] = True
    strict = parse_catalog(raw_catalog)
    answer = quote(
        "new", "org", channel="onsite", point="kejiyuan", at=MAKEUP_SATURDAY, catalog=strict
    )
    assert answer.reasons == (WEEKEND_WORDS,)


def test_json_shape() -> None:
    data = onsite("new", "org", at=SATURDAY).as_json()
    assert data["allowed"] is False
    assert data["fee_yuan"] == 300
    assert data["reasons"] == [WEEKEND_WORDS]
    assert isinstance(data["documents"], list)
    assert data["documents"][0]["text"] == "《单位数字证书申请表》一份(含个人信息授权书)"
    assert data["point"] == "kejiyuan"
    assert data["at"] == "2026-11-21T10:00:00+08:00"
    assert data["processing"] == {
        "kind": "same_day",
        "working_days": None,
        "due": "2026-11-21",
        "text": "现场办理:当天办结(前提是资料无误)",
        "provisional": False,
    }
