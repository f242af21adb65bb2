"""``{{ name|bracket_whole }}``: each short bracket of a value kept on one line, so that a
narrow cell breaks before it or after it, not inside it (广东数字证书认证中心有限公司（网|证通）
in the refund records, 某某（集团）…有限公司（第一分|公司） in 我的证书's and the orders' cards at
360 px); the rest of a Chinese name still breaks between any two characters. "Short" is what
tests/browser/phone_checks.js's ``units`` measures (up to six characters); a bracket written
in a template is wrapped in ``.nowrap`` there.

``{{ text|refs_whole }}``: each reference number of a text (申请 SQ20261120-000016 in an order's
说明, ZF…, TK…) kept on one line: a customer reads it out on the phone, and the orders' cards broke
it at its hyphen (SQ20261120-|000016). The number stays the ASCII text it is (what is copied is
the number); ``phone_checks.js``'s ``refs`` measures ``.ref``."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

#: A full-width bracket of one to six characters (（网证通）, （演示）, （集团）).
SHORT_BRACKET = re.compile(r"（[^（）]{1,6}）")
#: A reference number of the platform: two letters, the day, a hyphen, six digits (an
#: application's SQ…, an order's ZF…, its refund's TK…, its receipt's SJ…).
REFERENCE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{8}-\d{6}(?!\d)")


@register.filter
def bracket_whole(value: object) -> SafeString:
    """``value`` escaped, each of its short brackets in ``<span class="nowrap">``."""
    return _whole(str(value), SHORT_BRACKET, "nowrap")


@register.filter
def refs_whole(value: object) -> SafeString:
    """``value`` escaped, each of its reference numbers in ``<span class="ref nowrap">``."""
    return _whole(str(value), REFERENCE, "ref nowrap")


def _whole(text: str, pattern: re.Pattern[str], kind: str) -> SafeString:
    """``text`` escaped, each match of ``pattern`` in a ``<span class="{kind}">``."""
    parts: list[tuple[str, str, str]] = []
    at = 0
    for found in pattern.finditer(text):
        parts.append((text[at : found.start()], kind, found[0]))
        at = found.end()
    if not parts:
        return conditional_escape(text)
    joined = format_html_join("", '{}<span class="{}">{}</span>', parts)
    return format_html("{}{}", joined, text[at:])
