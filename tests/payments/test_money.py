"""Amounts as Decimal yuan, and 大写 (Chinese capital numerals) as on receipts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certhall.errors import InvalidInput
from certhall.payments.money import amount_in_words, order_amount, to_amount, yuan


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("300", "叁佰元整"),  # 新办 ODC
        ("150", "壹佰伍拾元整"),  # personal, 1 year
        ("750", "柒佰伍拾元整"),  # personal, 5 years
        ("120", "壹佰贰拾元整"),  # 介质补办 ODC
        ("50", "伍拾元整"),
        ("10", "壹拾元整"),
        ("0", "零元整"),
        ("0.50", "伍角整"),
        ("0.05", "伍分"),
        ("1.05", "壹元零伍分"),
        ("325.04", "叁佰贰拾伍元零肆分"),  # 《支付结算办法》 example
        ("1409.50", "壹仟肆佰零玖元伍角整"),  # idem
        ("6007.14", "陆仟零柒元壹角肆分"),  # idem
        ("1680.32", "壹仟陆佰捌拾元零叁角贰分"),  # idem (the form with 零)
        ("107000.53", "壹拾万柒仟元零伍角叁分"),  # idem
        ("100010", "壹拾万零壹拾元整"),
        ("10001000", "壹仟万壹仟元整"),
        ("100000001", "壹亿零壹元整"),
        ("1000000", "壹佰万元整"),
        ("20.30", "贰拾元零叁角整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amount_in_words(amount: str, words: str) -> None:
    assert amount_in_words(Decimal(amount)) == words


_DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def _parse_words(words: str) -> Decimal:
    """An independent reader of 大写 amounts, to check ``amount_in_words`` round-trips."""
    integer_part, _, rest = words.partition("元") if "元" in words else ("", "", words)
    total = 0
    section = 0
    digit = 0
    for char in integer_part:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            section += digit * _UNITS[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif char == "亿":
            total = (total + section + digit) * 100_000_000
            section = digit = 0
    total += section + digit
    cents = 0
    digit = 0
    for char in rest:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char == "角":
            cents += digit * 10
            digit = 0
        elif char == "分":
            cents += digit
            digit = 0
    return Decimal(total) + Decimal(cents) / 100


@given(st.integers(min_value=0, max_value=99_999_999_999_999))
def test_words_round_trip_and_follow_the_writing_rules(fen: int) -> None:
    amount = (Decimal(fen) / 100).quantize(Decimal("0.01"))
    words = amount_in_words(amount)
    assert _parse_words(words) == amount
    assert "零零" not in words
    assert not words.startswith("零") or amount == 0
    assert words.endswith("整") == (fen % 10 == 0)
    assert not words.endswith("零")
    assert "零元" not in words[1:] and "零万" not in words and "零亿" not in words


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("300"), Decimal("300.00")),
        (300, Decimal("300.00")),
        ("300", Decimal("300.00")),
        (" 1,200.5 ", Decimal("1200.50")),
        ("¥150.00", Decimal("150.00")),
    ],
)
def test_amounts_are_exact_decimals(value: object, expected: Decimal) -> None:
    amount = to_amount(value)
    assert amount == expected
    assert amount.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (300.0, "浮点数"),
        (True, "浮点数"),
        ("300.001", "两位小数"),
        (Decimal("0.005"), "两位小数"),
        ("三百", "不是有效的金额"),
        ("NaN", "不是有效的金额"),
        ("Infinity", "不是有效的金额"),
        (None, "不能是 NoneType"),
    ],
)
def test_bad_amounts_are_refused(value: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        to_amount(value)


@pytest.mark.parametrize(
    ("value", "message"), [("0", "免费业务"), ("-1", "免费业务"), ("1000000.01", "不能超过")]
)
def test_order_amounts_are_positive_and_bounded(value: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        order_amount(value)


def test_yuan_formats_with_separators() -> None:
    assert yuan(Decimal("1200.5")) == "1,200.50"
    assert yuan(Decimal("300")) == "300.00"
