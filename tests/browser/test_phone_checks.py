"""phone_checks.js held to failing: a page of each fault the customer pages were found with
(tests/browser/test_phones.py runs the checks on every page), found when broken and not once
kept whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from certhall.web.templatetags.wrapping import bracket_whole, numbers_whole, ranges_whole
from tests.browser.conftest import chromium
from tests.browser.test_phones import NARROW_VIEWPORT, measure, phone_problems

pytestmark = [pytest.mark.browser]


@pytest.fixture
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


#: The one site stylesheet (what the fixture pages wear).
SITE_CSS = Path(__file__).parents[2] / "src/certhall/web/static/web/site.css"

#: A customer's page at 360 px in site.css, each of three faults phone_checks.js must report,
#: or its fix (``{}``): a · line's last short part (新办 · 网上营业|厅 under a progress page's
#: heading), an application's number in an order's 说明 (its card broke SQ20261120-|000016 at
#: the hyphen) and a card's value kept whole wider than its card (cut at the card's edge, the
#: table's box scrolling it where ``spill`` does not look), and a range of numbers where a line
#: may break at its hyphen (可办理1-|5年期; a date's, a month-day's and a telephone's hyphens are
#: not ranges), and a range of days (周一至周|五 in a service point's hours at 360 px), and a
#: CA's short bracket outside a table (广东数字证书认证中心有限公司（网|证通） in a heading; the
#: check looked in a dd or td only until 12-07, late), and a number split from its unit (the
#: status page's hint: 至多40|位 at 360 px) and the footer's （演|示） (the footer is below main:
#: the check looked in main only until 12-07, late).
FAULTS = """<main class="wrap">
<section class="hero"><p id="line" style="width: 11em">一二三四五六七八 · {channel}</p>
<p>150元/个/年(可办理{range}年期)，2026-11-20 起，电话 0755-12345678，12-07 01:20</p>
<p>服务时间：{days}</p>
<h3 style="width: 16em">{ca}</h3>
<p style="width: 8.6em">{hint}</p>
</section>
<section class="card"><table class="plain cards"><tbody><tr>
<td data-label="说明">深圳医保在线签约 新办（申请 {number}）</td>
<td data-label="序列号"><code style="white-space: {serial}">{SERIAL}</code></td>
</tr></tbody></table></section></main>
<footer class="site-footer">
<div class="wrap" style="width: 19.5em; padding: 0">{footer}</div></footer>"""
SERIAL = "444884cb76fc642fc22e74355ea0a410"
HINT = "一二三四五至多40位"
OPERATOR = "深圳市电子商务安全证书管理有限公司（演示）"
BROKEN = {
    "channel": "网上营业厅",
    "number": "SQ20261120-000016",
    "serial": "nowrap",
    "range": "1-5",
    "days": "周一至周五",
    "ca": "广东数字证书认证中心有限公司（网证通）",  # （网|证通） in a heading
    "hint": HINT,  # 至多40|位
    "footer": OPERATOR,  # （演|示）
}
WHOLE = {
    "channel": '<span class="nowrap">网上营业厅</span>',
    "number": '<span class="ref nowrap">SQ20261120-000016</span>',  # |refs_whole
    "serial": "normal",
    "range": ranges_whole("1-5"),  # <span class="nowrap">1-5</span>
    "days": ranges_whole("周一至周五"),
    "ca": bracket_whole("广东数字证书认证中心有限公司（网证通）"),
    "hint": numbers_whole(HINT),  # <span class="nowrap">40位</span>
    "footer": bracket_whole(OPERATOR),
}


@pytest.mark.parametrize("fixed", [False, True], ids=["broken", "whole"])
def test_the_checks_find_a_broken_unit_a_broken_number_and_a_value_out_of_its_card(
    browser: Browser, tmp_path: Path, fixed: bool
) -> None:
    """phone_checks.js's ``units``, ``refs`` and ``outOfSight`` on a page of each fault: found
    when broken (``spill`` does not see the card's value: the table's box scrolls it), nothing
    found once each is kept whole as the customer pages now keep them."""
    page = browser.new_page(viewport=NARROW_VIEWPORT, device_scale_factor=1, locale="zh-CN")
    page.set_content(FAULTS.format(SERIAL=SERIAL, **(WHOLE if fixed else BROKEN)))
    page.add_style_tag(path=str(SITE_CSS))
    got = measure(page, tmp_path, "fixed" if fixed else "broken")
    found = {key: got[key] for key in ("units", "refs", "outOfSight", "spill", "ranges")}
    if fixed:
        assert found == {"units": [], "refs": [], "outOfSight": [], "spill": [], "ranges": []}
        assert phone_problems(got, NARROW_VIEWPORT["width"]) == {}
    else:
        assert found == {
            "units": ["网上营业厅", "（网证通）", "40位", "（演示）"],
            "refs": ["SQ20261120-000016"],
            "outOfSight": ["TD 序列号 444884cb76fc642fc22e"],
            "spill": [],
            "ranges": [
                "1-5 in 150元/个/年(可办理1-5年期)，2026-",
                "周一至周五 in 服务时间：周一至周五",
            ],
        }


#: The hall's head (hall/applicant/_head.html): the way back above the heading, then the
#: messages (已创建申请…, 申请当前为“待付款”，不能再修改。), then the heading.
HALL_HEAD = """<main class="wrap"><p class="crumbs"><a href="/hall/">网上营业厅</a> › 申请进度</p>
{messages}<section class="hero"><h1>申请 SQ20261206-000001</h1></section></main>"""
MESSAGE = '<p class="notice" role="status">申请当前为“待付款”，不能再修改。</p>'


@pytest.mark.parametrize(
    ("messages", "found"),
    [
        # the messages as the hall's pages show them: the box 4 px over the crumbs' line before
        (f'<div class="messages">{MESSAGE}</div>', []),
        # a box straight after the crumbs, not in .messages: what the check finds
        (MESSAGE, ["网上营业厅 › 申请进度 under notice by 4"]),
    ],
    ids=["messages", "bare-box"],
)
def test_a_message_under_the_way_back_is_below_its_line(
    browser: Browser, tmp_path: Path, messages: str, found: list[str]
) -> None:
    """phone_checks.js's ``overlaps``: the hall's message box starts below the line of
    网上营业厅 › …, not over it (the crumbs pull the hero up by 16 px; a message's box there
    was drawn 4 px over the way back)."""
    page = browser.new_page(viewport=NARROW_VIEWPORT, device_scale_factor=1, locale="zh-CN")
    page.set_content(HALL_HEAD.format(messages=messages))
    page.add_style_tag(path=str(SITE_CSS))
    got = measure(page, tmp_path, "messages" if not found else "bare")
    assert got["overlaps"] == found
    if not found:
        assert phone_problems(got, NARROW_VIEWPORT["width"]) == {}
