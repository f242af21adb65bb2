"""联系我们: where every 联系客服 leads (docs/portal.md, 12-06). Before, the order page's long
wait, a refund after payment, a disabled account and a Ukey failure said 请联系客服 with no
number, page or link anywhere on the platform."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from django.test import Client

from certhall.messages import CATALOGUE
from certhall.messages.common import CONTACT_US
from certhall.portal import guide, indexing, search
from certhall.portal.web import guide_views
from certhall.rules import default_catalog
from certhall.rules.catalog import Contact
from certhall.web.templatetags.wrapping import ranges_whole

pytestmark = pytest.mark.django_db

SRC = Path(__file__).resolve().parents[2] / "src" / "certhall"


def test_the_contact_page_names_the_points_and_the_online_questions() -> None:
    response = Client().get("/contact/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>联系我们</h1>" in page
    for point in default_catalog().points:
        assert point.name in page and point.address in page
        assert ranges_whole(point.hours_text) in page
    assert 'href="/questions/" id="to-ask"' in page
    # under the hours, the seed's rule the guide says there too: 科技园 is open 周一至周日 but
    # not for a 机构证书 at weekends (12-07: a clinic read the hours here and came on a Saturday)
    rule = default_catalog().weekend_rule.text
    assert f'<p class="rule weekend-rule">{rule}</p>' in page
    assert page.index(rule) > page.index(default_catalog().points[-1].address)


def test_no_service_phone_is_invented() -> None:
    """Neither seed gives the CA a service phone: with the seed-derived catalog the page names
    none (no 客服电话, no tel: link)."""
    page = Client().get("/contact/").content.decode()
    assert "客服电话" not in page and "tel:" not in page


def test_the_operators_service_line_is_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    line = Contact(phone="0755-26588399", hours="周一至周五 9:00-18:00")
    monkeypatch.setattr(
        guide_views, "default_catalog", lambda: replace(default_catalog(), contact=line)
    )
    page = Client().get("/contact/").content.decode()
    assert '<a href="tel:0755-26588399" class="nowrap" id="service-phone">' in page
    assert "周一至周五 9:00-18:00" in page


@pytest.mark.parametrize("url", ["/", "/guide/", "/hall/", "/refunds/", "/status/"])
def test_every_page_links_it_from_the_footer(url: str) -> None:
    page = Client().get(url, follow=True).content.decode()
    footer = page[page.index('<footer class="site-footer">') :]
    assert '<a href="/contact/" id="footer-contact">联系我们</a>' in footer


def test_every_message_that_says_contact_says_where() -> None:
    """One wording in the one catalogue: plain text names the page (联系我们)."""
    saying = {code: text for code, text in CATALOGUE.items() if "客服" in text}
    assert saying  # the order page's, a refund's, a disabled account's, a Ukey failure's
    assert [code for code, text in saying.items() if CONTACT_US not in text] == []


def test_every_page_that_says_contact_links_it() -> None:
    """In HTML, 联系客服 is a link to 联系我们 (the order page's long wait, a refund after
    payment); a template or script saying it without the link is a dead end."""
    dead = []
    for path in [*SRC.rglob("*.html"), *SRC.rglob("*.js")]:
        text = path.read_text("utf-8")
        bare = re.sub(r"<a href=\"\{% url 'portal:contact' %\}\"[^>]*>联系客服</a>", "", text)
        if "联系客服" in bare:
            dead.append(str(path.relative_to(SRC)))
    assert dead == []


def test_the_search_finds_the_contact_page(seeded: object, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every message sends a customer to 联系客服（见“联系我们”）, yet the search knew no such
    page: 客服, 联系我们 or 在线咨询 found nothing (12-07, phone probe). The page is indexed under
    the words that lead to it, with its points, and the operator's service line when the
    catalog names one."""
    for query in ("客服", "聯繫客服", "联系我们", "在线咨询", "科技园文化广场"):
        hits = search.search(query, per_page=50).hits
        assert ("/contact/", "联系我们") in {(h.url, h.kind_label) for h in hits}, query
    assert not search.search("客服电话").hits  # none is invented
    line = Contact(phone="0755-26588399", hours="周一至周五 9:00-18:00")
    monkeypatch.setattr(guide, "default_catalog", lambda: replace(default_catalog(), contact=line))
    indexing.reindex_all()
    assert [h.url for h in search.search("0755-26588399").hits] == ["/contact/"]
    assert "/contact/" in {h.url for h in search.search("客服电话").hits}


@pytest.mark.parametrize("query", ["周末", "星期六", "星期天", "週末", "机构证书 周末"])
def test_the_contact_page_is_found_by_its_weekend_rule(seeded: object, query: str) -> None:
    """联系我们 shows the seed's weekend rule under the points' hours (_points.html), but its
    search text left it out: 周末 and 星期六 did not find it (12-07)."""
    rule = default_catalog().weekend_rule.text
    assert rule in Client().get("/contact/").content.decode()
    assert rule in guide.contact_text()
    hits = search.search(query, per_page=50).hits
    assert "/contact/" in [h.url for h in hits], query
