"""Money, once: amounts as integer fen, parsed strictly, printed as ``1,234.50`` and in words.

Framework-free. :class:`Money` holds whole fen (分), so arithmetic is exact; the database keeps
``DecimalField`` yuan with two places, and :attr:`Money.yuan` is that Decimal. Every place that
turns a value into an amount goes through :func:`parse`; every place that prints an amount goes
through :func:`grouped` (``1,234.50``), :func:`with_symbol` (``¥1,234.50``) or
:func:`in_words` (大写金额, ``壹仟贰佰叁拾肆元伍角整``).

:func:`parse` reads text in plain decimal notation only (``1,234.50``, ``¥150``, ``-1.50``;
full-width digits as a Chinese input method types them) and refuses amounts beyond
:data:`MAX_STORED`, the most a yuan column (``max_digits=12, decimal_places=2``) holds: an
amount it gives can always be saved and read back. The printed forms take any amount (sums
are kept in wider columns).

The words follow 《支付结算办法》 附一《正确填写票据和结算凭证的基本规定》:

* 元 is followed by 整 when there are no 角 and 分 (¥300 -> 叁佰元整); nothing follows 分.
* A zero in the middle is written 零, one 零 for a run of zeros (¥6,007.14 -> 陆仟零柒元壹角
  肆分; ¥1,409.50 -> 壹仟肆佰零玖元伍角整).
* 角 is 0 and 分 is not: 零 after 元 (¥325.04 -> 叁佰贰拾伍元零肆分).
* 壹拾 keeps its 壹 (¥10 -> 壹拾元整), as the rules require of amounts on 票据.
* The caller writes 人民币 immediately before the words (the rules require it on 票据; the API
  field carries the words alone).

**Choices where the rules allow both** (written once, here):

* **整 after 角**: written (¥1,409.50 -> 壹仟肆佰零玖元伍角整). The rules allow it to be left out
  (their own example omits it); writing it leaves no room to add a 分 and is what both earlier
  copies of this function printed.
* **元位 0 and 角 not 0**: 零 after 元, as the rules' examples write it (¥1,680.32 -> 壹仟陆佰
  捌拾元零叁角贰分; ¥107,000.53 -> 壹拾万柒仟元零伍角叁分).
* **万位 (or 亿位) 0 and the 千 digit below it not 0**: no 零 (¥107,000.53 -> 壹拾万柒仟...,
  the rules' first form); a 零 only where the lower section starts with a zero digit
  (¥100,010 -> 壹拾万零壹拾元整; ¥100,000,001 -> 壹亿零壹元整).
* Amounts below one yuan start with their 角 or 分 (¥0.05 -> 伍分), zero is 零元整.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from certhall.errors import InvalidInput

__all__ = ["MAX_STORED", "MAX_WORDS", "Money", "grouped", "in_words", "parse", "with_symbol"]

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
_WAN = 10**4
_YI = 10**8


@dataclass(frozen=True, order=True, slots=True)
class Money:
    """An amount of Chinese yuan as whole fen (``Money(30000)`` is 300.00 yuan)."""

    fen: int

    def __post_init__(self) -> None:
        if isinstance(self.fen, bool) or not isinstance(self.fen, int):
            raise TypeError(f"Money counts whole fen, not {type(self.fen).__name__}")

    @property
    def yuan(self) -> Decimal:
        """The amount as Decimal yuan with exactly two places (``Decimal("300.00")``)."""
        return Decimal(self.fen).scaleb(-2)

    def __add__(self, other: Money) -> Money:
        return Money(self.fen + other.fen)

    def __sub__(self, other: Money) -> Money:
        return Money(self.fen - other.fen)

    def __mul__(self, times: int) -> Money:
        return Money(self.fen * times)

    def __bool__(self) -> bool:
        return self.fen != 0

    def __str__(self) -> str:
        """Plain yuan for machines and records (``1234.50``); people read :func:`grouped`."""
        return str(self.yuan)


#: The largest amount :func:`in_words` writes (just below 10^16 yuan: 玖仟玖佰...万亿).
MAX_WORDS = Money(10**18 - 1)
#: The largest amount :func:`parse` gives (either sign): what the yuan columns hold,
#: ``DecimalField(max_digits=12, decimal_places=2)``, 9,999,999,999.99 yuan.
MAX_STORED = Money(10**12 - 1)

#: Plain decimal notation, once blanks, thousands commas and a leading ¥ are gone.
_PLAIN = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def parse(value: object, *, what: str = "金额", negative: bool = False) -> Money:
    """``value`` as an exact amount; ``InvalidInput`` naming ``what`` otherwise.

    Accepts :class:`Money`, ``Decimal``, ``int`` (yuan) and strings in plain decimal notation
    such as ``"300"``, ``"300.00"``, ``"1,200.50"``, ``"¥150"`` or ``"１２０"`` (full-width
    digits). Refuses floats (and booleans), NaN and infinities, exponents and any other
    notation, more than two decimals (finer than a fen), amounts beyond :data:`MAX_STORED`
    and, unless ``negative``, amounts below zero.
    """
    number = value.yuan if isinstance(value, Money) else _decimal(value, what)
    if abs(number) > MAX_STORED.yuan:  # before the fen: no int of 10^308 is made
        raise InvalidInput(code="amount_too_large", what=what, limit=grouped(MAX_STORED))
    amount = value if isinstance(value, Money) else Money(_fen(number, value, what))
    if amount.fen < 0 and not negative:
        raise InvalidInput(code="amount_negative", what=what, value=value)
    return amount


def _decimal(value: object, what: str) -> Decimal:
    if isinstance(value, bool | float):
        raise InvalidInput(code="amount_float", what=what)
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").removeprefix("¥").removeprefix("￥")
        text = text.translate(_FULL_WIDTH_DIGITS)
        if not _PLAIN.fullmatch(text):
            raise InvalidInput(code="amount_invalid", what=what, value=value)
        number = Decimal(text)
    else:
        raise InvalidInput(code="amount_type", what=what, kind=type(value).__name__)
    if not number.is_finite():
        raise InvalidInput(code="amount_invalid", what=what, value=value)
    return number


def _fen(number: Decimal, value: object, what: str) -> int:
    scaled = number.scaleb(2)  # exact: only the exponent moves
    if scaled != scaled.to_integral_value():
        raise InvalidInput(code="amount_precision", what=what, value=value)
    return int(scaled)


def _printable(amount: Money | Decimal) -> Money:
    """An amount of the program's own (a column, a sum) for the printed forms: exact like
    :func:`parse`, of any size."""
    if isinstance(amount, Money):
        return amount
    return Money(_fen(_decimal(amount, "金额"), amount, "金额"))


def grouped(amount: Money | Decimal) -> str:
    """``1,234.50``: thousands separated, always two decimals (the unit is the caller's)."""
    return f"{_printable(amount).yuan:,}"


def with_symbol(amount: Money | Decimal) -> str:
    """``¥1,234.50``."""
    return f"¥{grouped(amount)}"


def in_words(amount: Money | Decimal) -> str:
    """The amount in capital numerals (大写金额), by the rules in the module docstring.

    ``叁佰元整``, ``壹拾元零伍角整``, ``伍分``, ``零元整``; the caller puts 人民币 before it.
    Refuses negative amounts and amounts above :data:`MAX_WORDS` (``InvalidInput``).
    """
    value = _printable(amount)
    if value.fen < 0:
        raise InvalidInput(code="amount_negative", what="金额", value=amount)
    if value > MAX_WORDS:
        raise InvalidInput(code="amount_too_large_for_words", limit=grouped(MAX_WORDS))
    whole, cents = divmod(value.fen, 100)
    jiao, fen = divmod(cents, 10)
    if not cents:
        return f"{_integer(whole) if whole else '零'}元整"
    out = f"{_integer(whole)}元" if whole else ""
    if whole and (whole % 10 == 0 or jiao == 0):
        out += "零"  # 元位 0 before a 角, or 角 0 before a 分 (one 零 for both)
    if jiao:
        out += f"{_DIGITS[jiao]}角"
    return out + (f"{_DIGITS[fen]}分" if fen else "整")


def _section(number: int) -> str:
    """1..9999 with one 零 for each run of inner zeros (1005 -> 壹仟零伍, 1010 -> 壹仟零壹拾)."""
    out = ""
    zero = False
    for place, unit in _PLACES:
        digit = number // place % 10
        if digit == 0:
            zero = zero or bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + unit
    return out


def _joined(high: str, unit: str, low: int, low_text: str, full: int) -> str:
    """``high`` + ``unit`` + the lower part, with 零 when the lower part starts with a zero."""
    if not low:
        return high + unit
    return high + unit + ("零" if low < full // 10 else "") + low_text


def _below_yi(number: int) -> str:
    high, low = divmod(number, _WAN)
    if not high:
        return _section(low)
    return _joined(_section(high), "万", low, _section(low) if low else "", _WAN)


def _integer(number: int) -> str:
    """1 .. 10^16-1 yuan: sections of four digits under 万 and 亿 (12,3456,0000,0000 ->
    壹拾贰万叁仟肆佰伍拾陆亿)."""
    high, low = divmod(number, _YI)
    if not high:
        return _below_yi(low)
    return _joined(_below_yi(high), "亿", low, _below_yi(low) if low else "", _YI)
