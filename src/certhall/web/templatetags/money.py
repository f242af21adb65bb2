"""``{{ amount|yuan }}``: an amount as every page prints it (``1,234.50``), via certhall.money."""

from __future__ import annotations

from django import template

from certhall import money

register = template.Library()


@register.filter
def yuan(amount: object) -> str:
    """A Decimal, Money or decimal string (an order line's amount) as ``1,234.50``."""
    return money.grouped(money.parse(amount, negative=True))
