"""Amounts as printed: ¥ with two decimals and 人民币 in capital numerals (大写金额)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certhall.forms.money import rmb_upper, yuan


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "人民币零元整"),
        ("0.50", "人民币伍角整"),
        ("0.05", "人民币伍分"),
        ("1.01", "人民币壹元零壹分"),
        ("10", "人民币壹拾元整"),
        ("50", "人民币伍拾元整"),
        ("110", "人民币壹佰壹拾元整"),
        ("120", "人民币壹佰贰拾元整"),
        ("150", "人民币壹佰伍拾元整"),
        ("300", "人民币叁佰元整"),
        ("750", "人民币柒佰伍拾元整"),
        ("1005.05", "人民币壹仟零伍元零伍分"),
        ("1010", "人民币壹仟零壹拾元整"),
        ("1000.10", "人民币壹仟元壹角整"),
        ("10000", "人民币壹万元整"),
        ("10500", "人民币壹万零伍佰元整"),
        ("100010000", "人民币壹亿零壹万元整"),
        ("120000000.3", "人民币壹亿贰仟万元叁角整"),
        ("1000000000000", "人民币壹万亿元整"),
    ],
)
def test_capital_numerals(amount: str, words: str) -> None:
    assert rmb_upper(Decimal(amount)) == words


@pytest.mark.parametrize("amount", ["-1", "0.001", "10000000000000000"])
def test_capital_numerals_refuse(amount: str) -> None:
    with pytest.raises(ValueError, match="non-negative"):
        rmb_upper(Decimal(amount))


def test_yuan() -> None:
    assert yuan(Decimal("300")) == "¥300.00"
    assert yuan(Decimal("1234.5")) == "¥1,234.50"


DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL = {"拾": 10, "佰": 100, "仟": 1000}
BIG = {"兆": 10**12, "亿": 10**8, "万": 10**4}


def decode(words: str) -> int:
    """An independent reader of capital numerals, in fen."""
    text = words.removeprefix("人民币").removesuffix("整").replace("万亿", "兆")
    whole, _, fraction = text.partition("元")
    if not _:  # no 元: only 角/分
        whole, fraction = "", text
    total = section = number = 0
    for ch in whole:
        if ch in DIGITS:
            number = DIGITS.index(ch)
        elif ch in SMALL:
            section += number * SMALL[ch]
            number = 0
        else:
            total += (section + number) * BIG[ch]
            section = number = 0
    total += section + number
    fen = 0
    for index, ch in enumerate(fraction):
        next_ch = fraction[index + 1 : index + 2]
        if ch in DIGITS and next_ch and next_ch in "角分":
            fen += DIGITS.index(ch) * (10 if next_ch == "角" else 1)
    return total * 100 + fen


@given(st.integers(min_value=0, max_value=10**18 - 1))
def test_capital_numerals_read_back(fen: int) -> None:
    words = rmb_upper(Decimal(fen) / 100)
    assert decode(words) == fen
    assert "零零" not in words
    if fen:
        assert not words.removeprefix("人民币").startswith("零")
