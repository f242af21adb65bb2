"""``{{ amount|yuan }}``: an amount as every page prints it (``1,234.50``), via certhall.money."""

from __future__ import annotations

from decimal import Decimal

from django import template

from certhall import money

register = template.Library()


@register.filter
def yuan(amount: object) -> str:
    """A Decimal, Money or decimal string (an order line's amount) as ``1,234.50``."""
    if isinstance(amount, money.Money | Decimal):
        return money.grouped(amount)  # a column or a sum: printed at any size
    return money.grouped(money.parse(amount, negative=True))
