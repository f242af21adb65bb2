"""The one money module: exact amounts in fen, their printed forms, and 大写 by the rules of
《支付结算办法》 (附一《正确填写票据和结算凭证的基本规定》)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certhall import money
from certhall.errors import InvalidInput
from certhall.money import Money

NINES = "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖"


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        # The examples of the rules, with the choices the module docstring records.
        ("1680.32", "人民币壹仟陆佰捌拾元零叁角贰分"),
        ("107000.53", "人民币壹拾万柒仟元零伍角叁分"),
        ("1409.50", "人民币壹仟肆佰零玖元伍角整"),  # 整 after 角: our choice
        ("325.04", "人民币叁佰贰拾伍元零肆分"),
        ("6007.14", "人民币陆仟零柒元壹角肆分"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        # The catalog's fees and postage.
        ("300", "人民币叁佰元整"),
        ("150", "人民币壹佰伍拾元整"),
        ("750", "人民币柒佰伍拾元整"),
        ("120", "人民币壹佰贰拾元整"),
        ("50", "人民币伍拾元整"),
        ("12", "人民币壹拾贰元整"),
        ("312", "人民币叁佰壹拾贰元整"),
        # Zeros, 整 and 零 at the edges.
        ("0", "人民币零元整"),
        ("0.05", "人民币伍分"),
        ("0.50", "人民币伍角整"),
        ("0.55", "人民币伍角伍分"),
        ("1.05", "人民币壹元零伍分"),
        ("10", "人民币壹拾元整"),
        ("10.50", "人民币壹拾元零伍角整"),  # the application form printed 壹拾元伍角整
        ("1000.10", "人民币壹仟元零壹角整"),
        ("20.03", "人民币贰拾元零叁分"),
        ("1005.05", "人民币壹仟零伍元零伍分"),
        ("1010", "人民币壹仟零壹拾元整"),
        ("10500", "人民币壹万零伍佰元整"),
        ("100010", "人民币壹拾万零壹拾元整"),
        ("1000000", "人民币壹佰万元整"),
        ("10001000", "人民币壹仟万壹仟元整"),
        ("100000000", "人民币壹亿元整"),
        ("100000001", "人民币壹亿零壹元整"),
        ("100010000", "人民币壹亿零壹万元整"),
        ("120000000.30", "人民币壹亿贰仟万元零叁角整"),
        # Large amounts: the section above 亿 is read like any number below 亿.
        ("999999999999.99", "人民币玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        ("1000000000000", "人民币壹万亿元整"),
        ("1234560000000000", "人民币壹仟贰佰叁拾肆万伍仟陆佰亿元整"),
        ("9999999999999999.99", f"人民币{NINES}亿{NINES}元玖角玖分"),
    ],
)
def test_in_words(amount: str, words: str) -> None:
    assert "人民币" + money.in_words(Decimal(amount)) == words
    fen = Money(int(Decimal(amount) * 100))
    assert money.in_words(fen) == words.removeprefix("人民币")
    if fen <= money.MAX_STORED:
        assert money.parse(amount) == fen


@pytest.mark.parametrize(
    ("amount", "code"),
    [("-1", "amount_negative"), ("0.001", "amount_precision"), ("1e16", "amount_too_large")],
)
def test_in_words_refuses(amount: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        money.in_words(Decimal(amount))
    assert refused.value.code.startswith(code)


_DIGITS = {c: i for i, c in enumerate("零壹贰叁肆伍陆柒捌玖")}
_SMALL = {"拾": 10, "佰": 100, "仟": 1000}


def _read_integer(words: str) -> int:
    """A number of 仟佰拾 sections under 万 and 亿, where the part before 亿 is a number too."""
    if "亿" in words:
        high, _, low = words.partition("亿")
        return _read_integer(high) * 10**8 + _read_integer(low)
    if "万" in words:
        high, _, low = words.partition("万")
        return _read_integer(high) * 10**4 + _read_integer(low)
    total = digit = 0
    for char in words:
        if char in _DIGITS:
            digit = _DIGITS[char]
        else:
            total += digit * _SMALL[char]
            digit = 0
    return total + digit


def read_words(words: str) -> int:
    """An independent reader of 大写 amounts, in fen."""
    whole, has_yuan, fraction = words.removesuffix("整").partition("元")
    if not has_yuan:
        whole, fraction = "", words.removesuffix("整")
    fen = 0
    for index, char in enumerate(fraction):
        unit = fraction[index + 1 : index + 2]
        if char in _DIGITS and unit in ("角", "分"):
            fen += _DIGITS[char] * (10 if unit == "角" else 1)
    return _read_integer(whole) * 100 + fen


@given(st.integers(min_value=0, max_value=money.MAX_WORDS.fen))
def test_words_read_back_and_follow_the_rules(fen: int) -> None:
    words = money.in_words(Money(fen))
    assert read_words(words) == fen
    assert "零零" not in words
    assert not words.startswith("零") or fen == 0
    assert words.endswith("整") == (fen % 10 == 0)  # 整 after 元 and after 角, never after 分
    assert not words.endswith("零")
    whole, cents = divmod(fen, 100)
    if whole and cents and (cents < 10 or whole % 10 == 0):
        assert "元零" in words  # 角 0 before 分, or 元位 0 before the 角


@given(st.integers(min_value=-money.MAX_STORED.fen, max_value=money.MAX_STORED.fen))
def test_grouped_reads_back_as_the_same_amount(fen: int) -> None:
    text = money.grouped(Money(fen))
    assert money.parse(text, negative=True) == Money(fen)
    assert text.count(".") == 1 and len(text.rpartition(".")[2]) == 2


def test_printed_forms() -> None:
    assert money.grouped(Decimal("1234.5")) == "1,234.50"
    assert money.grouped(Money(30000)) == "300.00"
    assert money.with_symbol(Decimal("300")) == "¥300.00"
    assert money.with_symbol(Money(123450)) == "¥1,234.50"
    assert str(Money(123450)) == "1234.50"
    # sums are kept in wider columns than parse reads into: printed at any size
    assert money.grouped(Decimal("123456789012.34")) == "123,456,789,012.34"


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        (Decimal("300"), 30000),
        (300, 30000),
        ("300", 30000),
        (" 1,200.5 ", 120050),
        ("¥150.00", 15000),
        ("￥0.05", 5),
        (Money(7), 7),
        ("１２３４.５", 123450),  # full-width digits, as a Chinese input method types them
        (".5", 50),
        ("5.", 500),
        ("300.000", 30000),
        ("9,999,999,999.99", 999999999999),
        (Decimal("9999999999.99"), 999999999999),
    ],
)
def test_parse(value: object, fen: int) -> None:
    amount = money.parse(value)
    assert amount == Money(fen)
    assert amount.yuan.as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("value", "code", "message"),
    [
        (300.0, "amount_float", "浮点数"),
        (True, "amount_float", "浮点数"),
        ("300.001", "amount_precision", "最多只能有两位小数"),
        (Decimal("0.005"), "amount_precision", "两位小数"),
        ("三百", "amount_invalid", "不是有效的金额"),
        ("NaN", "amount_invalid", "不是有效的金额"),
        ("Infinity", "amount_invalid", "不是有效的金额"),
        (None, "amount_type", "不能是 NoneType"),
        ("-0.01", "amount_negative", "不能为负数"),
        ("-Infinity", "amount_invalid", "不是有效的金额"),
        # Only plain decimal notation: exponents, underscores, a plus sign and other scripts'
        # digits were read by Decimal() (1e308 was stored, and the row then failed to read).
        ("1e308", "amount_invalid", "不是有效的金额"),
        ("1E3", "amount_invalid", "不是有效的金额"),
        ("1_000", "amount_invalid", "不是有效的金额"),
        ("+5", "amount_invalid", "不是有效的金额"),
        ("١٢٣", "amount_invalid", "不是有效的金额"),
        ("1 000", "amount_invalid", "不是有效的金额"),
        # At most what the yuan columns hold (max_digits=12, decimal_places=2).
        ("10000000000", "amount_too_large", "不能超过 9,999,999,999.99 元"),
        ("9,999,999,999.999", "amount_too_large", "不能超过 9,999,999,999.99 元"),
        (Decimal("1e308"), "amount_too_large", "不能超过 9,999,999,999.99 元"),
        (10**10, "amount_too_large", "不能超过 9,999,999,999.99 元"),
    ],
)
def test_parse_refuses(value: object, code: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        money.parse(value, what="收款金额")
    assert refused.value.code == code
    assert refused.value.message.startswith("收款金额")


def test_negative_amounts_where_allowed() -> None:
    assert money.parse("-1.50", negative=True) == Money(-150)
    assert money.grouped(Money(-150)) == "-1.50"
    assert money.parse("-9999999999.99", negative=True) == Money(-money.MAX_STORED.fen)
    with pytest.raises(InvalidInput) as refused:
        money.parse("-10000000000", negative=True)
    assert refused.value.code == "amount_too_large"


def test_the_limit_is_what_the_yuan_columns_hold() -> None:
    from certhall.payments.models import Order
    from certhall.refunds.models import FeeRecord, Programme

    for field in (
        Programme._meta.get_field("second_review_above"),
        FeeRecord._meta.get_field("amount"),
        Order._meta.get_field("amount"),
    ):
        assert (field.max_digits, field.decimal_places) == (12, 2)
    assert money.MAX_STORED.yuan == Decimal("9999999999.99")


def test_arithmetic_is_exact() -> None:
    assert Money(10) + Money(20) == Money(30)
    assert Money(30) - Money(10) == Money(20)
    assert Money(15000) * 3 == Money(45000)
    assert not Money(0) and Money(1)
    assert sum((Money(1),) * 10, Money(0)) == Money(10)
    with pytest.raises(TypeError):
        Money(1.5)  # type: ignore[arg-type]
