"""Masking filters for the account pages: ID numbers and phones are never shown in full."""

from __future__ import annotations

from django import template

from certhall.accounts.profile import mask_id_number
from certhall.notify.models import mask_phone

register = template.Library()


@register.filter
def masked_id(value: str) -> str:
    return mask_id_number(str(value or ""))


@register.filter
def masked_phone(value: str) -> str:
    return mask_phone(str(value or ""))
