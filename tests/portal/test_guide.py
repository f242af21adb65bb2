"""办事指南: six public pages rendered from the rules catalog, linked from the home page."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from certhall.portal import guide, indexing, search
from certhall.portal.models import SearchDoc
from certhall.rules import Business, CertType, default_catalog
from certhall.web.templatetags.wrapping import bracket_whole, numbers_whole, ranges_whole

pytestmark = pytest.mark.django_db


def test_home_links_the_guide_of_every_business() -> None:
    page = Client().get("/").content.decode()
    assert 'href="/guide/"' in page
    for business in Business:
        assert f'href="/guide/{business.value}/"' in page


@pytest.mark.parametrize("business", list(Business))
def test_each_business_page_quotes_the_catalog(business: Business) -> None:
    catalog = default_catalog()
    response = Client().get(f"/guide/{business.value}/")
    assert response.status_code == 200
    page = response.content.decode()
    for cert in CertType:
        offer = catalog.offer(business, cert)
        assert numbers_whole(offer.fee_text) in page  # 1-5年, 1年 kept on one line
        for document in offer.documents:
            assert document.text in page
    for point in catalog.points:
        assert point.address in page and ranges_whole(point.hours_text) in page
        assert "uri.amap.com/search?keyword=" in page
    assert catalog.weekend_rule.text in page
    for text, _ in catalog.document_notes:
        assert text in page
    paid = any(catalog.offer(business, c).fee_yuan for c in CertType)
    assert (catalog.payee.account in page) == paid


def test_online_businesses_have_a_button_into_the_hall() -> None:
    new = Client().get("/guide/new/").content.decode()
    assert 'href="/hall/new/"' in new
    assert "注:仅支持机构个人证书网厅办理。" in new  # the ODC cannot be applied for online
    assert 'href="/hall/renew/"' in Client().get("/guide/renew/").content.decode()
    unlock = Client().get("/guide/unlock/").content.decode()
    assert "/hall/" not in unlock.split("<main")[1]
    assert "解锁 办理途径:现场办理" in unlock


@pytest.mark.parametrize("business", ["new", "renew"])
def test_the_online_steps_send_the_customer_to_this_hall(
    business: str, configure: Callable[..., object]
) -> None:
    """The seed's 登录深圳CA网上营业厅https://wt.szca.net/index named another site than this
    platform, which is the CA's online hall: the guide names this hall's own address (the
    platform's public origin), linked, and keeps the seed's words around it."""
    configure(base_url="https://ca.example.cn")
    page = Client().get(f"/guide/{business}/").content.decode()
    assert default_catalog().online_hall_url not in page
    assert "wt.szca.net" not in page
    assert (
        "通过注册账号或者短信验证码方式登录深圳CA网上营业厅"
        '<a href="/hall/" id="hall-address-personal">https://ca.example.cn/hall/</a>,点击'
    ) in page


def test_a_fee_change_in_the_catalog_is_a_change_of_the_guide(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace
    from decimal import Decimal

    from certhall.portal import guide

    catalog = default_catalog()
    offer = replace(
        catalog.offer(Business.REPLACE, CertType.ORG),
        fee_yuan=Decimal(130),
        fee_text="机构证书(ODC证书):130元/个",
    )
    spec = catalog.businesses[Business.REPLACE]
    changed_spec = replace(spec, offers={**spec.offers, CertType.ORG: offer})
    changed = replace(catalog, businesses={**catalog.businesses, Business.REPLACE: changed_spec})
    monkeypatch.setattr(guide, "default_catalog", lambda: changed)
    page = Client().get("/guide/replace/").content.decode()
    assert numbers_whole("机构证书(ODC证书):130元/个") in page  # 130元 kept whole


def test_unknown_business_is_404() -> None:
    response = Client().get("/guide/nothing/")
    assert response.status_code == 404
    assert "没有这项业务的办事指南" in response.content.decode()


def test_the_guide_index_names_each_fee_once() -> None:
    """解锁 and 吊销 are free for both certificate types: one 免费 on the card, not two."""
    page = Client().get("/guide/").content.decode()
    card = page[page.index('id="business-unlock"') :]
    assert card[: card.index("</section>")].count("<p>免费</p>") == 1


def test_the_online_renewal_says_it_takes_no_documents_and_when_it_is_open() -> None:
    """The hall asks no documents of an online renewal (signed with the certificate's own key):
    the guide says its 申请资料 are the counter's, and gives the online window's rules (they
    were only on the logged-in renewal page)."""
    window = default_catalog().online_renewal
    renew = Client().get("/guide/renew/").content.decode()
    assert renew.count("<h3>申请资料（现场办理）</h3>") == len(CertType)
    assert renew.count("无需提交资料：续期申请由原证书的私钥在证书助手中签名确认。") == len(
        CertType
    )
    assert f"{window.too_early_rule}；{window.expired_rule}。" in renew
    # not reviewed: paid, then updated at once (not the online review's working days)
    online = renew.split("<h4>网上办理</h4>")[1].split("</div>")[0]
    assert "付款成功后即可在线更新证书" in online and "办理时效" not in online
    assert "办理时效" in renew.split("<h4>现场办理</h4>")[1].split("</div>")[0]
    new = Client().get("/guide/new/").content.decode()  # the online 新办 takes documents
    assert "<h3>申请资料</h3>" in new and "无需提交资料" not in new


def test_the_guide_index_introduces_the_certificate() -> None:
    """The seed's 数字证书简介 (the CA's licence, the certificate as the one lawful identity)
    heads its guide: it was on no page."""
    page = Client().get("/guide/").content.decode()
    assert "<h2>数字证书简介</h2>" in page
    assert "《电子认证服务许可证》资质的电子认证服务商" in page
    assert "作为主体身份确认的唯一合法标识" in page


@pytest.mark.parametrize("business", list(Business))
def test_the_guide_is_found_by_the_words_it_shows_as_headings(
    business: Business, seeded: object
) -> None:
    """A visitor searching the seed's own headings (收费标准, 服务时间, 办理地址 …) found the
    two Jiangmen dental-implant price tables and no guide: the index held the guide's values
    but not the words the page puts above them (12-07, phone probe)."""
    page = Client().get(f"/guide/{business.value}/").content.decode().split("<main")[1]
    shown = re.findall(r"<h[23][^>]*>([^<]+)</h[23]>", page)
    shown += [*re.findall(r"<dt>([^<]+)</dt>", page), "地址", "服务时间", "办理时效"]
    assert {"收费标准", "办理途径", "受理点与服务时间"} <= set(shown)
    assert any(heading.startswith("申请资料") for heading in shown)
    for heading in {"办理流程", "收费标准", "资料说明", "受理点与服务时间", *shown}:
        if heading in {"其他业务"}:  # the page's own links, not the guide's content
            continue
        urls = {hit.url for hit in search.search(heading, per_page=50).hits}
        assert f"/guide/{business.value}/" in urls, heading
    fees = {hit.url for hit in search.search("收费", per_page=50).hits}
    assert {f"/guide/{b.value}/" for b in Business} <= fees


def test_the_home_pages_ca_cards_are_labelled_in_chinese(ca: object) -> None:
    """On a phone each CA row is a card whose labels are the cells' ``data-label``: the
    revocation list's read "CRL" alone where the table's heading says 证书吊销列表（CRL）
    (12-07, phone probe)."""
    page = Client().get("/").content.decode()
    labels = set(re.findall(r'<td data-label="([^"]+)"', page))
    assert labels == {"CA", "类型", "CA证书", "吊销列表"}


def test_the_home_pages_ca_card_is_searched(ca: object, seeded: object) -> None:
    """CRL, OCSP and 吊销列表 found nothing: the home page's 证书验证服务 card, where the CRLs and
    the OCSP address are, was not indexed (12-07). It is one search document holding the words
    the card shows."""
    indexing.reindex_all()
    page = Client().get("/").content.decode()
    card = page[page.index('<section class="card" id="ca-card">') :].split("</section>")[0]
    shown = [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", card)]
    shown += re.findall(r'data-label="([^"]+)"', card)  # the labels a phone shows
    shown += re.findall(r"<code>([^<]+)</code>", card)
    doc = SearchDoc.objects.get(url="/#ca-card")
    assert doc.title == "证书验证服务" and "<h2>证书验证服务</h2>" in card
    assert len(shown) > 6 and all(word in doc.body for word in shown), shown
    for query in ("CRL", "ocsp", "吊销列表", "证书验证", shown[-1]):
        hits = search.search(query).hits
        assert hits and (hits[0].url, hits[0].kind_label) == ("/#ca-card", "首页"), query


def test_the_guides_index_page_lists_the_fees_and_is_searched(seeded: object) -> None:
    """收费 listed the two Jiangmen dental-implant price notices first (收費 in their titles):
    the page listing every business's fees, 办事指南 (``/guide/``), was not a search document.
    Each business's card shows its fees under 收费标准, and the page is found first."""
    page = Client().get("/guide/").content.decode()
    guides = guide.all_guides()
    assert page.count("<h3>收费标准</h3>") == len(guides)
    doc = SearchDoc.objects.get(url="/guide/")
    for page_guide in guides:
        for offer in page_guide.offers:
            assert numbers_whole(offer.fee_text) in page and offer.fee_text in doc.body
    for query in ("收费", "收費", "收费标准"):
        hits = search.search(query).hits
        assert hits[0].url == "/guide/", query


@pytest.mark.parametrize(
    "query", ["数字证书简介", "电子认证服务许可证", "電子簽名法", "资质", "医保中心"]
)
def test_the_introduction_of_seed_001_is_searched(seeded: object, query: str) -> None:
    """Seed 001's 数字证书简介 (who 深圳CA is, its licence, the law it follows) is on the guide's
    index page, but no search found it: 电子认证服务许可证 found the refund notice, 资质 nothing
    (12-07, phone probe)."""
    hits = search.search(query, per_page=50).hits
    assert hits and (hits[0].url, hits[0].title) == ("/guide/#introduction", "数字证书简介")
    page = Client().get("/guide/").content.decode()
    shown = page[page.index('<section class="card" id="introduction">') :]
    assert shown.startswith('<section class="card" id="introduction">\n  <h2>数字证书简介</h2>')
    assert f"<p>{bracket_whole(guide.INTRODUCTION)}</p>" in shown  # （简称深圳CA） kept whole


@pytest.mark.parametrize(
    ("business", "first", "second"),
    [("new", "通过注册账号或者短信验证码方式登录", "使用微信扫码"),
     ("renew", "通过注册账号或者短信验证码方式登录", "根据提示填写续期信息")],
)  # fmt: skip
def test_the_online_steps_are_numbered_from_the_first(
    business: str, first: str, second: str
) -> None:
    """Seed 001 numbers the online steps 1-5 from 登录; the guide showed 登录 as a paragraph and
    numbered from the seed's second step, so a phone read "1. 使用微信扫码" as where to begin
    (12-07, phone probe). The first step is the list's first item."""
    page = Client().get(f"/guide/{business}/").content.decode()
    lists = page.split('<ol class="channel-steps">')[1:]
    assert lists, "the online channel's steps are one list"
    for steps in lists:
        items = re.findall(r"<li[^>]*>(.*?)</li>", steps.split("</ol>")[0], re.S)
        assert first in items[0] and '<a href="/hall/"' in items[0] and second in items[1]


def test_the_new_online_steps_keep_the_seeds_order() -> None:
    """Seed 001's 网上办理 for 新办: 4. the Ukey is mailed, 5. the PIN comes by SMS. The mailing
    line is the channel's delivery, which the guide printed after the list, so a phone read the
    PIN's SMS before the mailing. It is step 4 in the list, and not printed again below it."""
    page = Client().get("/guide/new/").content.decode()
    steps = page.split('<ol class="channel-steps">')[1].split("</ol>")[0]
    items = [re.sub(r"<[^>]+>", "", i) for i in re.findall(r"<li[^>]*>(.*?)</li>", steps, re.S)]
    assert [i[:4] for i in items] == ["通过注册", "使用微信", "在线支付", "深圳CA", "证书密码"]
    assert page.count("深圳CA审核通过后将证书Ukey邮寄给客户") == 1
