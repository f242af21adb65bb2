"""What a visitor probed on a phone (12-07, docs/portal.md "Probed as a visitor"), at 390 px:
订阅公告 leads to a page that says how to subscribe (it opened the Atom XML, raw text on a
phone), and the home page's CA card keeps 签发CA whole (it broke as 签发 | CA)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Browser, expect

from certhall import config
from certhall.accounts.models import User
from tests.browser.test_phones import DESKTOP_VIEWPORT, PHONE_VIEWPORT, session

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("db_from_the_test")]


def test_subscribing_to_the_notices_on_a_phone(
    live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """公告's 订阅公告 opens a page explaining, in Chinese, how to subscribe with a reader,
    with the feed's address to copy; the feed itself stays where it was."""
    for viewport in (PHONE_VIEWPORT, DESKTOP_VIEWPORT):
        page = session(browser, live_server.url, viewport, None)
        page.goto(live_server.url + "/notices/")
        page.get_by_role("link", name="订阅公告").click()
        page.wait_for_url("**/notices/subscribe/")
        expect(page.locator("h1")).to_have_text("订阅公告")
        expect(page.locator("#subscribe")).to_contain_text("RSS 阅读器")
        expect(page.locator("#subscribe ol li")).to_have_count(3)
        address = page.locator("#feed-url")
        expect(address).to_have_text(f"{config.get().base_url}/notices/feed.atom")
        assert address.locator("code").evaluate("c => getComputedStyle(c).userSelect") == "all"
        box, card = address.bounding_box(), page.locator("#subscribe").bounding_box()
        assert box and card and box["x"] + box["width"] <= card["x"] + card["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        page.screenshot(path=str(tmp_path / f"subscribe-{viewport['width']}.png"), full_page=True)
        feed = page.request.get(live_server.url + "/notices/feed.atom")
        assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
        page.context.close()


def test_the_home_pages_ca_card_keeps_its_words_whole(
    live_server: Any, browser: Browser, tmp_path: Path, admin: User, audit_flushable: None
) -> None:
    """At 390 px the CA card's 类型 broke as 签发 | CA (12-07 probe): each cell's value of the
    card stays on one line where it is this short."""
    from certhall.ca import ocsp, signers
    from certhall.ca.services import init_ca

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    signers.forget()
    ocsp.reset()
    init_ca(admin)
    page = session(browser, live_server.url, PHONE_VIEWPORT, None)
    page.goto(live_server.url + "/")
    cells = page.locator("#ca-card td[data-label='类型']")
    expect(cells).to_have_count(2)
    page.locator("#ca-card").scroll_into_view_if_needed()
    page.screenshot(path=str(tmp_path / "home-ca-card-390.png"), full_page=True)
    lines = page.evaluate(
        """() => [...document.querySelectorAll('#ca-card td')].map(td => {
             const range = document.createRange();
             range.selectNodeContents(td);
             const rects = [...range.getClientRects()].filter(r => r.width > 0);
             return [td.textContent.trim(), new Set(rects.map(r => Math.round(r.bottom))).size];
           })"""
    )
    assert ["签发CA", 1] in lines and ["根CA", 1] in lines
    # the issuing CA's name (深圳医保在线签约 演示签发CA) breaks at its space, not in 签发CA
    kinds = page.evaluate(
        """() => {
             const out = [];
             const walker = document.createTreeWalker(
               document.querySelector('#ca-card tbody'), NodeFilter.SHOW_TEXT);
             for (let node = walker.nextNode(); node; node = walker.nextNode()) {
               for (const m of node.textContent.matchAll(/(签发|根)CA/g)) {
                 const range = document.createRange();
                 range.setStart(node, m.index);
                 range.setEnd(node, m.index + m[0].length);
                 const rects = [...range.getClientRects()].filter(r => r.width > 0);
                 out.push([m[0], new Set(rects.map(r => Math.round(r.bottom))).size]);
               }
             }
             return out;
           }"""
    )
    assert len(kinds) == 4 and all(n == 1 for _, n in kinds), kinds
    short = [(text, n) for text, n in lines if len(text) <= 12 and n > 1]
    assert not short, f"broken over lines at 390 px: {short}"
    page.context.close()


def test_searches_that_found_nothing_on_a_phone(
    live_server: Any, browser: Browser, tmp_path: Path
) -> None:
    """退费 (the pages say 费用返还), 续期 吊销 (no page holds both) and uk (part of Ukey)
    found nothing; on a phone they now list pages, each with its line saying why (12-07
    probe)."""
    from certhall.portal import indexing
    from tests.refunds.conftest import announced

    announced()  # the data migration's programme, which an earlier test's flush may have removed
    indexing.reindex_all()
    page = session(browser, live_server.url, PHONE_VIEWPORT, None)
    for query, line, first in (
        ("退费", "#search-also", "费用返还"),
        ("续期 吊销", "#search-some", "办事指南"),
        ("uk", "#search-begun", "Ukey"),  # 12-07: part of a Latin word
    ):
        page.goto(f"{live_server.url}/search/?q={query}")
        expect(page.locator(line)).to_be_visible()
        expect(page.locator("#search-results li").first).to_contain_text(first)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
        page.screenshot(path=str(tmp_path / f"search-{query}-390.png"), full_page=True)
    page.context.close()


@pytest.mark.usefixtures("audit_flushable")
def test_questions_find_their_answers_on_a_phone(
    live_server: Any, browser: Browser, admin: User, tmp_path: Path
) -> None:
    """續期要多久 listed 续期要多少钱 first and 发票 found nothing (12-07): at 390 px the renewal
    guide comes first with its 办理时效 in the snippet, and 发票 the FAQ entry on invoices;
    no snippet starts at a closing or parting mark."""
    from certhall.portal import indexing, seed

    seed.seed_demo(admin)
    indexing.reindex_all()
    page = session(browser, live_server.url, PHONE_VIEWPORT, None)
    for query, first, snippet in (
        ("續期要多久", "续期办事指南", "办理时效"),
        ("发票", "怎样申请开具发票？", "发票"),
    ):
        page.goto(f"{live_server.url}/search/?q={query}")
        hit = page.locator("#search-results li").first
        expect(hit).to_contain_text(first)
        expect(hit.locator("div:last-child mark", has_text=snippet).first).to_be_visible()
        snippets = page.locator("#search-results li > div:last-child").all_inner_texts()
        starts = [text.lstrip("…")[:1] for text in snippets]
        assert starts and all(start and start not in "）)]，,：:。；;、" for start in starts), (
            starts
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_VIEWPORT["width"]
        page.screenshot(path=str(tmp_path / f"search-{query}-390.png"), full_page=True)
    page.context.close()
