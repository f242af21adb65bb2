"""Money: Decimal yuan with two places, and amounts in Chinese capital numerals (大写).

No floats anywhere: a float amount is refused, not rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from certhall.errors import InvalidInput

CENT = Decimal("0.01")
#: The largest amount an order may have (a certificate costs a few hundred yuan).
MAX_AMOUNT = Decimal("1000000.00")
#: What ``amount_in_words`` can write (up to 万亿).
MAX_WORDS = Decimal("999999999999.99")

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACES = ((1000, "仟"), (100, "佰"), (10, "拾"), (1, ""))
_GROUPS = ("", "万", "亿")


def to_amount(value: object, *, what: str = "金额") -> Decimal:
    """A money amount as Decimal yuan with exactly two places.

    Accepts ``Decimal``, ``int`` and strings such as ``"300"``, ``"300.00"`` or ``"1,200.50"``;
    refuses floats, more than two decimals, NaN and infinities (``InvalidInput``).
    """
    if isinstance(value, (bool, float)):
        raise InvalidInput(f"{what}必须是精确的十进制数，不能是浮点数")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip().replace(",", "").removeprefix("¥").removeprefix("￥")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidInput(f"{what}“{value}”不是有效的金额") from None
    else:
        raise InvalidInput(f"{what}必须是金额（元），不能是 {type(value).__name__}")
    if not number.is_finite():
        raise InvalidInput(f"{what}“{value}”不是有效的金额")
    quantized = number.quantize(CENT)
    if quantized != number:
        raise InvalidInput(f"{what}“{value}”最多只能有两位小数（精确到分）")
    return quantized


def order_amount(value: object) -> Decimal:
    """An order's amount: positive, two places, at most ``MAX_AMOUNT``."""
    amount = to_amount(value, what="订单金额")
    if amount <= 0:
        raise InvalidInput("免费业务无需支付，不能创建金额为零的订单", code="amount_not_positive")
    if amount > MAX_AMOUNT:
        raise InvalidInput(f"订单金额不能超过 {MAX_AMOUNT} 元")
    return amount


def yuan(amount: Decimal) -> str:
    """``Decimal("1200.5")`` -> ``"1,200.50"``."""
    return f"{amount.quantize(CENT):,}"


def _group(n: int) -> str:
    """1..9999 in capitals, with one 零 for each run of inner zeros (1009 -> 壹仟零玖)."""
    out = []
    zero = False
    started = False
    for value, unit in _PLACES:
        digit = n // value % 10
        if digit == 0:
            zero = zero or started
            continue
        if zero:
            out.append("零")
            zero = False
        out.append(_DIGITS[digit] + unit)
        started = True
    return "".join(out)


def _integer(n: int) -> str:
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out = ""
    zero_pending = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            zero_pending = zero_pending or bool(out)
            continue
        if out and (zero_pending or group < 1000):
            out += "零"
        out += _group(group) + _GROUPS[index]
        zero_pending = False
    return out


def amount_in_words(amount: Decimal) -> str:
    """The amount in capital numerals as written on Chinese receipts and cheques (大写金额).

    Following 《支付结算办法》 (附件一《正确填写票据和结算凭证的基本规定》): 元 then 角 and 分;
    整 after 元 or 角 when there is no 分; one 零 for a run of zeros; 零 between 元 and 角/分
    when the 元 digit or the 角 digit is zero (¥325.04 -> 叁佰贰拾伍元零肆分,
    ¥107000.53 -> 壹拾万柒仟元零伍角叁分); 壹拾 keeps its 壹. Examples: 300 -> 叁佰元整,
    150 -> 壹佰伍拾元整, 0.50 -> 伍角整, 0 -> 零元整.
    """
    value = to_amount(amount)
    if value < 0:
        raise InvalidInput("负数金额不能写成大写")
    if value > MAX_WORDS:
        raise InvalidInput(f"金额超过 {MAX_WORDS} 元，无法写成大写")
    fen_total = int(value * 100)
    integer, cents = divmod(fen_total, 100)
    jiao, fen = divmod(cents, 10)
    if integer == 0 and cents == 0:
        return "零元整"
    out = _integer(integer) + "元" if integer else ""
    if cents == 0:
        return out + "整"
    if jiao:
        if integer and integer % 10 == 0:
            out += "零"
        out += _DIGITS[jiao] + "角"
    elif integer:
        out += "零"
    if fen:
        out += _DIGITS[fen] + "分"
    else:
        out += "整"
    return out
