"""``{{ name|bracket_whole }}``: a short bracket closing a value kept on one line, so that a
narrow cell breaks before it, not inside it (广东数字证书认证中心有限公司（网|证通） in the
refund records at 360 px). "Short" is what tests/browser/phone_checks.js's ``units`` measures
(up to six characters); a bracket written in a template is wrapped in ``.nowrap`` there."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape, format_html

register = template.Library()

#: A closing full-width bracket of one to six characters (（网证通）, （演示）).
TRAILING_BRACKET = re.compile(r"（[^（）]{1,6}）$")


@register.filter
def bracket_whole(value: object) -> str:
    """``value`` escaped, its closing short bracket in ``<span class="nowrap">``."""
    text = str(value)
    found = TRAILING_BRACKET.search(text)
    if found is None:
        return conditional_escape(text)
    return format_html('{}<span class="nowrap">{}</span>', text[: found.start()], found[0])
