"""``{{ name|bracket_whole }}``: each short bracket of a value kept on one line, so that a
narrow cell breaks before it or after it, not inside it (广东数字证书认证中心有限公司（网|证通）
in the refund records, 某某（集团）…有限公司（第一分|公司） in 我的证书's and the orders' cards at
360 px); the rest of a Chinese name still breaks between any two characters. "Short" is what
tests/browser/phone_checks.js's ``units`` measures (up to six characters); a bracket written
in a template is wrapped in ``.nowrap`` there."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

#: A full-width bracket of one to six characters (（网证通）, （演示）, （集团）).
SHORT_BRACKET = re.compile(r"（[^（）]{1,6}）")


@register.filter
def bracket_whole(value: object) -> SafeString:
    """``value`` escaped, each of its short brackets in ``<span class="nowrap">``."""
    text = str(value)
    parts: list[tuple[str, str]] = []
    at = 0
    for found in SHORT_BRACKET.finditer(text):
        parts.append((text[at : found.start()], found[0]))
        at = found.end()
    if not parts:
        return conditional_escape(text)
    joined = format_html_join("", '{}<span class="nowrap">{}</span>', parts)
    return format_html("{}{}", joined, text[at:])
