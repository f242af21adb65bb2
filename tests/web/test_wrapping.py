"""The ``bracket_whole`` filter: each short bracket of a value kept on one line."""

from __future__ import annotations

from django.template import Context, Template

PAGE = Template("{% load wrapping %}{{ name|bracket_whole }}")


def render(name: str) -> str:
    return PAGE.render(Context({"name": name}))


def test_a_short_closing_bracket_is_kept_whole() -> None:
    assert render("广东数字证书认证中心有限公司（网证通）") == (
        '广东数字证书认证中心有限公司<span class="nowrap">（网证通）</span>'
    )


def test_an_inner_bracket_is_kept_whole_too() -> None:
    """A company's name has them inside as well (华润（深圳）有限公司, 某某（集团）…（第一分公司）):
    left to wrap until 12-06, 某某（集|团） could break inside one in a card at 360 px."""
    assert render("某（网证通）公司") == '某<span class="nowrap">（网证通）</span>公司'
    assert render("某某（集团）医疗有限公司（第一分公司）") == (
        '某某<span class="nowrap">（集团）</span>医疗有限公司'
        '<span class="nowrap">（第一分公司）</span>'
    )


def test_a_long_bracket_and_no_bracket_are_left_to_wrap() -> None:
    assert render("某公司（2026-01-10 起使用）") == "某公司（2026-01-10 起使用）"
    assert render("深圳市电子商务安全证书管理有限公司") == "深圳市电子商务安全证书管理有限公司"


def test_the_value_is_escaped() -> None:
    assert render("<b>某</b>（网证通）<i>") == (
        '&lt;b&gt;某&lt;/b&gt;<span class="nowrap">（网证通）</span>&lt;i&gt;'
    )
    assert render("<b>（某）</b>") == '&lt;b&gt;<span class="nowrap">（某）</span>&lt;/b&gt;'
    assert render("<b>某</b>") == "&lt;b&gt;某&lt;/b&gt;"


def test_safe_html_keeps_its_markup_and_its_brackets_whole() -> None:
    """A programme's announcement after ``|linebreaks``, a notice's body: the text between the
    tags is looked at, the tags kept (12-07, late: the check now measures every text)."""
    page = Template("{% load wrapping %}{{ text|linebreaks|bracket_whole }}")
    assert page.render(Context({"text": "第三方电子认证服务（数字证书）费用\n<b>（某）</b>"})) == (
        '<p>第三方电子认证服务<span class="nowrap">（数字证书）</span>费用<br>'
        '&lt;b&gt;<span class="nowrap">（某）</span>&lt;/b&gt;</p>'
    )
    attribute = Template("{% load wrapping %}{{ html|safe|bracket_whole }}")
    assert attribute.render(Context({"html": '<a title="（网证通）">（网证通）</a>'})) == (
        '<a title="（网证通）"><span class="nowrap">（网证通）</span></a>'
    )


REFS = Template("{% load wrapping %}{{ text|refs_whole }}")


def test_a_reference_number_is_kept_whole_as_the_text_it_is() -> None:
    """The orders' cards broke 申请 SQ20261120-|000016 at its hyphen at 360 px: the number is one
    unit, its ASCII hyphen kept (what is copied is the number)."""
    text = "深圳医保在线签约 新办（申请 SQ20261120-000016）"
    assert REFS.render(Context({"text": text})) == (
        '深圳医保在线签约 新办（申请 <span class="ref nowrap">SQ20261120-000016</span>）'
    )
    assert REFS.render(Context({"text": "ZF20261120-000003与TK20261120-000003"})) == (
        '<span class="ref nowrap">ZF20261120-000003</span>与'
        '<span class="ref nowrap">TK20261120-000003</span>'
    )


def test_text_without_a_reference_is_only_escaped() -> None:
    assert REFS.render(Context({"text": "<b>SQ2026-1</b> 新办"})) == (
        "&lt;b&gt;SQ2026-1&lt;/b&gt; 新办"
    )
    assert REFS.render(Context({"text": "<i>SQ20261120-000016"})) == (
        '&lt;i&gt;<span class="ref nowrap">SQ20261120-000016</span>'
    )


NUMBERS = Template("{% load wrapping %}{{ text|numbers_whole }}")


def test_a_number_is_kept_with_its_unit() -> None:
    """The status page's hint broke 至多40|位 at 360 px (12-07): a number and the unit after it
    are one unit, a range with its unit too; a date's, a telephone's or a code's digits are not
    (their own checks), and the text is escaped."""
    hint = "至多40位（40位时首位为0-7），可办理1-5年期，（2021年12月公告）"
    assert NUMBERS.render(Context({"text": hint})) == (
        '至多<span class="nowrap">40位</span>（<span class="nowrap">40位</span>时首位为'
        '<span class="nowrap">0-7</span>），可办理<span class="nowrap">1-5年</span>期，'
        '（<span class="nowrap">2021年</span>12月公告）'
    )
    left = "2026-11-20，0755-12345678，v2位，SQ20261120-000016，<b>3</b>"
    assert NUMBERS.render(Context({"text": left})) == (
        "2026-11-20，0755-12345678，v2位，SQ20261120-000016，&lt;b&gt;3&lt;/b&gt;"
    )
