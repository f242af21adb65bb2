"""``{{ name|bracket_whole }}``: each short bracket of a value kept on one line, so that a
narrow cell breaks before it or after it, not inside it (广东数字证书认证中心有限公司（网|证通）
in the refund records, 某某（集团）…有限公司（第一分|公司） in 我的证书's and the orders' cards at
360 px); the rest of a Chinese name still breaks between any two characters. Since 12-07, late,
``phone_checks.js`` measures brackets in every text a customer reads (a heading, a paragraph, a
link), not only a dd's or a cell's. "Short" is what
tests/browser/phone_checks.js's ``units`` measures (up to six characters); a bracket written
in a template is wrapped in ``.nowrap`` there.

``{{ name|words_whole }}``: as ``|bracket_whole``, and each short word of a name written with
spaces (up to eight characters) kept on one line: the home page's CA card broke the issuing
CA's 深圳医保在线签约 演示签发CA as 演示签发|CA at 390 px (12-07); it now breaks at the space.

``{{ text|refs_whole }}``: each reference number of a text (申请 SQ20261120-000016 in an order's
说明, ZF…, TK…) kept on one line: a customer reads it out on the phone, and the orders' cards broke
it at its hyphen (SQ20261120-|000016). The number stays the ASCII text it is (what is copied is
the number); ``phone_checks.js``'s ``refs`` measures ``.ref``.

``{{ text|ranges_whole }}``: each range of numbers of a text (机构个人证书…(可办理1-5年期), a
service point's 9:00-12:00,13:30-18:00, a refusal's 可续期1-5年) or of days (周一至周五) kept on one
line: a phone broke it at its hyphen (可办理1-|5年期 at 390 px, 12-06), or between the days
(周一至周|五 at 360 px, 12-06 evening). The hyphen stays the ASCII one (what is copied or
read out is the text as the catalogue has it; a U+2011 would also be missing from some fonts);
``phone_checks.js``'s ``ranges`` finds a range on a customer page outside a ``nowrap``. It
follows ``|refs_whole`` on a refusal or a message (``{{ error|refs_whole|ranges_whole }}``): on
safe HTML it looks only at the text between the tags.

``{{ text|numbers_whole }}``: as ``|ranges_whole``, and each number with the unit after it (40位,
2021年, 60秒; a range with its unit, 1-5年) kept on one line: the status page's hint broke
证书序列号…至多40|位 at 360 px, a refund programme's name （2021|年12月公告） in its crumbs (12-07,
late). ``phone_checks.js``'s ``units`` measures a number split from its unit. A filter of its
own, on the texts found split, rather than ``|ranges_whole`` made wider: the refusals and
messages that filter wraps are read as text by many tests, and were not each looked at."""

from __future__ import annotations

import re

from django import template
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

#: A full-width bracket of one to six characters (（网证通）, （演示）, （集团）).
SHORT_BRACKET = re.compile(r"（[^（）]{1,6}）")
#: A word of a name between spaces (or its ends) of up to eight characters, or a short bracket.
SHORT_WORD = re.compile(r"(?<!\S)\S{1,8}(?!\S)|" + SHORT_BRACKET.pattern)
#: A reference number of the platform: two letters, the day, a hyphen, six digits (an
#: application's SQ…, an order's ZF…, its refund's TK…, its receipt's SJ…).
REFERENCE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{8}-\d{6}(?!\d)")
#: A range of small numbers or of times, joined by a hyphen (1-5, 0-9, 1-20, 9:00-12:00): not
#: part of a longer number or word (a date's 2026-11-20, a telephone's 0755-…, an address's
#: 8033-1, a link's token …a1-82x…) nor
#: a month and day (12-07, 12-10 01:20: two digits with a leading zero, or a time after it).
_END = r"(?:\d{1,2}:\d{2}|[1-9]\d?|0)"  # a time, or a count without a leading zero
#: Or a range of days (周一至周五, 周一至周日 of a service point's hours: 周一至周|五 at 360 px).
_DAYS = "周[一二三四五六日]至周[一二三四五六日]"
RANGE = re.compile(rf"(?<![\w.\-]){_END}-{_END}(?![\w:\-]| \d{{1,2}}:\d{{2}})|{_DAYS}", re.ASCII)
#: A unit or a measure word after a number (至多40位, 5分钟, 20个, 3年), the longer first.
UNIT = "小时|分钟|字节|个月|位|个|次|年|天|秒|元|字|张|页|项|条|份|行|人|家|周"
#: What ``|numbers_whole`` keeps whole: a range (its unit with it: 1-5年), a range of days, or a
#: number and its unit (至多40|位 in the status page's hint at 360 px, 12-07 late).
NUMBER = re.compile(
    rf"(?<![\w.\-]){_END}-{_END}(?:{UNIT})?(?![\w:\-]| \d{{1,2}}:\d{{2}})|{_DAYS}"
    rf"|(?<![\w.\-])\d+(?:\.\d+)?(?:{UNIT})",
    re.ASCII,
)


@register.filter
def bracket_whole(value: object) -> SafeString:
    """``value`` escaped, each of its short brackets in ``<span class="nowrap">``. HTML already
    safe (a programme's announcement after ``|linebreaks``) keeps its markup, as with
    :func:`ranges_whole`."""
    if isinstance(value, SafeString):
        return _in_text(value, SHORT_BRACKET)
    return _whole(str(value), SHORT_BRACKET, "nowrap")


@register.filter
def words_whole(value: object) -> SafeString:
    """``value`` escaped, each of its short words and short brackets in ``.nowrap``."""
    return _whole(str(value), SHORT_WORD, "nowrap")


@register.filter
def refs_whole(value: object) -> SafeString:
    """``value`` escaped, each of its reference numbers in ``<span class="ref nowrap">``."""
    return _whole(str(value), REFERENCE, "ref nowrap")


@register.filter
def ranges_whole(value: object) -> SafeString:
    """``value`` escaped, each of its ranges (1-5, 9:00-12:00) in ``<span class="nowrap">``.
    HTML already safe (a portal entry's sanitised body, ``{{ body|safe|ranges_whole }}``) keeps
    its markup: only the text between its tags is looked at."""
    if isinstance(value, SafeString):
        return _in_text(value, RANGE)
    return _whole(str(value), RANGE, "nowrap")


@register.filter
def numbers_whole(value: object) -> SafeString:
    """As :func:`ranges_whole`, and each number with its unit (40位, 2021年, 1-5年) in
    ``<span class="nowrap">`` too: for the texts where one was found split (the status page's
    hint, a refund programme's name), not yet everywhere ``|ranges_whole`` is (the refusals and
    messages its tests read as text)."""
    if isinstance(value, SafeString):
        return _in_text(value, NUMBER)
    return _whole(str(value), NUMBER, "nowrap")


#: A tag of safe HTML (sanitised: no ``>`` inside an attribute's value unescaped).
_TAG = re.compile(r"(<[^>]*>)")


def _in_text(html: SafeString, pattern: re.Pattern[str]) -> SafeString:
    """Safe ``html`` with each match of ``pattern`` in the text between its tags in a
    ``<span class="nowrap">`` (the text is escaped already: a match holds no markup)."""
    parts = _TAG.split(html)
    return mark_safe(  # noqa: S308 - safe HTML, the text between its tags already escaped
        "".join(
            part
            if part.startswith("<")
            else pattern.sub(lambda found: f'<span class="nowrap">{found[0]}</span>', part)
            for part in parts
        )
    )


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
