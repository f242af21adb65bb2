"""Amounts in yuan as printed on Chinese forms: ``¥300.00`` and 人民币叁佰元整."""

from __future__ import annotations

from decimal import Decimal

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def yuan(amount: Decimal) -> str:
    """``¥1,234.50``."""
    return f"¥{amount.quantize(Decimal('0.01')):,}"


def _group(value: int) -> str:
    """0-9999 in capital numerals, with inner zeros collapsed (1005 -> 壹仟零伍)."""
    out: list[str] = []
    zero = False
    for position in range(3, -1, -1):
        digit = value // 10**position % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_DIGITS[digit] + _SMALL_UNITS[position])
    return "".join(out)


def rmb_upper(amount: Decimal) -> str:
    """The amount in capital numerals (大写金额), as banks and invoices write it.

    ``Decimal("300")`` -> 人民币叁佰元整; ``Decimal("1005.05")`` -> 人民币壹仟零伍元零伍分;
    ``Decimal("0")`` -> 人民币零元整. Non-negative, at most two decimals, below 10^16 yuan.
    """
    cents = amount.quantize(Decimal("0.01"))
    if cents != amount or cents < 0 or cents >= Decimal(10) ** 16:
        raise ValueError("amount must be non-negative with at most two decimals")
    fen_total = int(cents * 100)
    whole, fraction = divmod(fen_total, 100)
    jiao, fen = divmod(fraction, 10)
    parts: list[str] = []
    groups: list[int] = []
    rest = whole
    while rest:
        groups.append(rest % 10000)
        rest //= 10000
    pending_zero = False
    for index in range(len(groups) - 1, -1, -1):
        value = groups[index]
        if value == 0:
            pending_zero = bool(parts)
            continue
        if parts and (pending_zero or value < 1000):
            parts.append("零")
        pending_zero = False
        parts.append(_group(value) + _BIG_UNITS[index])
    text = "".join(parts)
    if whole:
        text += "元"
    if jiao == 0 and fen == 0:
        return "人民币" + (text or "零元") + "整"
    if jiao:
        text += _DIGITS[jiao] + "角"
    elif whole:
        text += "零"
    if fen:
        text += _DIGITS[fen] + "分"
    else:
        text += "整"
    return "人民币" + text
