"""``{{ application.state|application_tone }}``, ``{{ ukey.status|ukey_tone }}``: the level of a
state's pill (``<span class="state {{ ...|application_tone }}">``), from its machine's
``TONES``: one colour for a state wherever it is shown (docs/architecture.md, "one look")."""

from __future__ import annotations

from django import template

from certhall.hall.states import TONES as APPLICATION_TONES
from certhall.ukeys.lifecycle import TONES as UKEY_TONES

register = template.Library()


@register.filter
def application_tone(state: str) -> str:
    return APPLICATION_TONES.get(state, "")


@register.filter
def ukey_tone(status: str) -> str:
    return UKEY_TONES.get(status, "")
