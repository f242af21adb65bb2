"""Search relevance on the seeded content: either script, partial words, mixed scripts, no
hit, title above body, recent above old, highlighting, pages; the same on PostgreSQL (this
module runs again there under ``make test``)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from certhall.accounts.models import User
from certhall.errors import InvalidInput
from certhall.portal import indexing, search
from certhall.portal.models import Entry, Notice, SearchDoc, SearchPosting
from certhall.portal.textindex import (
    fold,
    grams,
    hit_spans,
    query_grams,
    query_terms,
    query_words,
    terms,
)

pytestmark = pytest.mark.django_db

REFUND = "廣東省深圳市電子政務平臺數字證書費用返還公告"


def _titles(query: str, **kw: int) -> list[str]:
    return [hit.title for hit in search.search(query, **kw).hits]


def test_folding_is_per_character_and_keeps_positions() -> None:
    assert fold("臺灣ＣＡ證書Ukey") == "台湾ca证书ukey"
    assert len(fold(REFUND)) == len(REFUND)
    assert grams("32位") == {("32", "位"), ("位", "")}
    assert [(g.head, g.tail) for g in query_grams("Ukey")] == [("ukey", None)]
    assert query_grams(" ，。! ") == []


@pytest.mark.parametrize(
    ("simplified", "traditional"),
    [("费用返还公告", "費用返還公告"), ("电子政务平台", "電子政務平臺"), ("数字证书", "數字證書")],
)
def test_traditional_and_simplified_find_the_same(
    seeded: User, simplified: str, traditional: str
) -> None:
    found = _titles(simplified, per_page=50)
    assert REFUND in found
    assert found == _titles(traditional, per_page=50)


def test_simplified_seed_001_found_by_traditional_query(seeded: User) -> None:
    # the FAQ (Simplified) and the guide, typed in Traditional
    assert "Ukey丢了或坏了怎么办？" in _titles("遺失", per_page=50) + _titles("補辦", per_page=50)
    hits = search.search("週末無法辦理", per_page=50).hits
    assert {"周末可以办理证书吗？"} <= {h.title for h in hits}
    assert any(h.kind == "guide" for h in hits)


@pytest.mark.parametrize("typed", ["帐号", "帳號", "帐户", "帳戶"])
def test_the_account_words_variant_character_finds_the_same(seeded: User, typed: str) -> None:
    """帐 is how Traditional writes an account (帳號, 帳戶) and how many Simplified writers
    still do; OpenCC folds 帳 to 帐, while the guide's payee says 账号 and seed 000 結算賬戶:
    帐号 and 帳號 found nothing, 账号 the guides (12-07, phone probe)."""
    assert fold(typed) == fold(typed.replace("帐", "账").replace("帳", "賬"))
    standard = _titles(fold(typed), per_page=50)
    assert standard and _titles(typed, per_page=50) == standard
    first = search.search(typed).hits[0]
    assert "<mark>" in first.title_html + first.snippet_html


def test_partial_words(seeded: User) -> None:
    assert "關于移出深圳市第六批醫用耗材價格優勢專區產品的通知" in _titles(
        "第六批 耗材", per_page=50
    )
    assert "關于移出深圳市第六批醫用耗材價格優勢專區產品的通知" in _titles("六批", per_page=50)
    assert REFUND in _titles("返还", per_page=50)


def test_mixed_scripts(seeded: User) -> None:
    ca = search.search("CA", per_page=50)
    assert ca.total > 0 and all("ca" in fold(h.title + h.snippet_html) for h in ca.hits)
    assert search.search("ca").total == ca.total == search.search("ＣＡ").total
    ukey = _titles("Ukey", per_page=50)
    assert "Ukey丢了或坏了怎么办？" in ukey and "Ukey使用注意事项" in ukey
    batch = _titles("20250714批次")
    assert batch == ["2025年廣州市關于待確認價格產品列表(20250714批次)"]


def test_no_hit(seeded: User) -> None:
    assert search.search("火星移民签证").total == 0
    assert search.search("   ").hits == []
    page = Client().get("/search/", {"q": "火星移民签证"}).content.decode()
    assert 'id="no-hit"' in page
    with pytest.raises(InvalidInput):
        search.search("长" * 101)


def test_words_that_meet_in_the_query_but_not_in_a_document(seeded: User) -> None:
    # 证书续期: no document writes the two words together, many hold both
    renew = search.search("证书续期", per_page=50)
    assert renew.loose and renew.total > 0
    assert "续期办事指南" in [h.title for h in renew.hits]
    for hit in renew.hits:
        doc = SearchDoc.objects.get(url=hit.url, title=hit.title)
        assert "证书" in fold(doc.title + doc.body) and "续期" in fold(doc.title + doc.body)
    assert not search.search("续期").loose  # a query found whole is not loosened
    # a Latin word stays required on its own (PIN码 -> PIN), a Chinese word still must match
    pin = search.search("PIN码", per_page=50)
    assert pin.loose and "Ukey使用注意事项" in [h.title for h in pin.hits]
    assert all("<mark>PIN</mark>" in h.snippet_html for h in pin.hits)
    assert "解锁办事指南" in _titles("Ukey解锁", per_page=50)
    assert search.search("火星移民签证").total == 0
    page = Client().get("/search/", {"q": "證書續期"}).content.decode()
    assert 'id="search-loose"' in page and "/guide/renew/" in page


def test_title_hits_above_body_hits(seeded: User) -> None:
    hits = search.search("续期", per_page=50).hits
    titled = [i for i, h in enumerate(hits) if "续期" in h.title]
    body_only = [i for i, h in enumerate(hits) if "续期" not in h.title]
    assert titled and body_only and max(titled) < min(body_only)


def test_recent_above_old(seeded: User) -> None:
    hits = search.search("價格聯動公示表", per_page=50).hits
    dates = [h.date for h in hits]
    assert dates == sorted(dates, reverse=True)  # type: ignore[type-var]
    assert dates[0] == date(2025, 7, 1) and dates[-1] == date(2024, 10, 1)


def test_highlighting_marks_the_original_script(seeded: User) -> None:
    hit = next(h for h in search.search("费用返还").hits if h.title == REFUND)
    assert "<mark>費用返還</mark>" in hit.title_html
    assert "<mark>" in hit.snippet_html
    page = Client().get("/search/", {"q": "费用返还"}).content.decode()
    assert "<mark>費用返還</mark>" in page


def test_highlighting_escapes(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    search.index("faq", "x", title="<script>证书</script>", body="", url="/faq/", day=None)
    hit = search.search("证书").hits[0]
    assert hit.title_html == "&lt;script&gt;<mark>证书</mark>&lt;/script&gt;"


def test_pagination(seeded: User) -> None:
    first = search.search("深圳", per_page=5)
    assert first.total > 10 and first.pages == -(-first.total // 5)
    second = search.search("深圳", page=2, per_page=5)
    assert not {h.url for h in first.hits} & {h.url for h in second.hits}
    last = search.search("深圳", page=999, per_page=5)
    assert last.page == first.pages
    page = Client().get("/search/", {"q": "深圳", "page": "2"}).content.decode()
    assert "第 2 / " in page and "q=%E6%B7%B1%E5%9C%B3&page=1" in page
    for stale in ("²", "0", "-1", "x"):  # "²".isdigit(), and int("²") raises (was a 500)
        page = Client().get("/search/", {"q": "深圳", "page": stale}).content.decode()
        assert "第 1 / " in page


CAP = 20


def _index_synthetic(n: int) -> None:
    words = ["深圳", "證書", "续期", "Ukey", "网上营业厅", "龙岗", "受理点"]
    for i in range(n):
        title = words[i % 7] + words[(i * 3) % 7]
        body = "".join(words[(i + k) % 7] for k in range(4)) + ("，火星" if i % 3 == 0 else "")
        day = date(2024, 1, 1 + i % 28)
        search.index("notice", str(i), title=title, body=body, url=f"/n/{i}/", day=day)


@pytest.mark.parametrize("query", ["深圳", "证书 深圳", "网上营业厅", "龙岗受理点", "Ukey 续期"])
def test_bounded_query_lists_the_exact_top(
    clock, editor: User, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:  # type: ignore[no-untyped-def]
    """The common-query path (every term in more than RARE documents) lists the same top hits
    as the exact path (no term has more than CAP title hits here), stops at CAP and says so.
    The terms weigh the same on both paths (``COMMON``: the common path counts a term's
    documents only up to RARE + 1)."""
    from certhall.portal import matching

    _index_synthetic(60)
    monkeypatch.setattr(matching, "COMMON", 4)
    exact = search.search(query, per_page=100)
    assert exact.complete and exact.total > CAP
    monkeypatch.setattr(matching, "RARE", 3)
    monkeypatch.setattr(matching, "CAP", CAP)
    monkeypatch.setattr(matching, "CHUNK", 3)
    bounded = search.search(query, per_page=100)
    assert not bounded.complete and bounded.total == CAP
    assert [h.url for h in bounded.hits] == [h.url for h in exact.hits][:CAP]
    monkeypatch.setattr(matching, "CAP", 1000)  # no cap: the walk reads everything
    monkeypatch.setattr(matching, "WALK", 10_000)
    whole = search.search(query, per_page=100)
    assert whole.complete and [h.url for h in whole.hits] == [h.url for h in exact.hits]
    monkeypatch.setattr(matching, "CAP", CAP)
    page = Client().get("/search/", {"q": query}).content.decode()
    assert f"找到 {CAP} 条以上结果" in page


@pytest.mark.parametrize("typed", ["？", "。。。", "😀", "——"])
def test_a_query_with_nothing_to_search_says_what_to_type(seeded: User, typed: str) -> None:
    """A query of punctuation or emoji only said "“？”共找到 0 条结果 … 请换个说法": it now says
    what to type, as an empty one does (12-07, phone probe)."""
    assert search.search(typed).query == ""
    page = Client().get("/search/", {"q": typed}).content.decode()
    assert 'id="search-hint"' in page and 'id="no-hit"' not in page
    assert f'value="{typed}"' in page  # kept in the box


def test_the_guide_ranks_as_current(seeded: User) -> None:
    """The guide is the current rules: on equal matches it ranks above notices and entries
    (it sorted as 2000-01-01: 续期 listed 续期办事指南 fourth, 营业时间 the 2022 refund notice
    first; 12-07 probe). Shown without a date."""
    hits = search.search("续期", per_page=50).hits
    assert hits[0].title == "续期办事指南" and hits[0].date is None
    # the current rules' pages: 联系我们 lists every service point's 服务时间 (vocabulary)
    assert search.search("营业时间").hits[0].kind in ("guide", "contact")
    # more of the query in a title still ranks first: the guide is first among equals only
    hits = search.search("续期要多少钱", per_page=50).hits
    assert hits[0].title == "续期要多少钱？"
    assert SearchDoc.objects.get(url="/guide/renew/").date == search.CURRENT
    assert search.search("续期").hits[0].as_json()["date"] is None


@pytest.mark.parametrize(
    ("typed", "written", "url"),
    [
        ("退费", "费用返还", "/notices/"),
        ("退款", "费用返还", "/notices/"),
        ("U盾", "Ukey", "/faq/"),
        ("USB Key", "Ukey", "/faq/"),
        ("材料", "资料", "/guide/new/"),
        ("多久", "办理时效", "/guide/renew/"),
        ("几天", "办理时效", "/guide/new/"),
        ("营业时间", "服务时间", "/contact/"),
        ("收费", "收费标准", "/guide/"),
        ("过期", "续期", "/guide/renew/"),
        ("星期六", "周六", "/contact/"),
        ("星期天", "周日", "/contact/"),
    ],
)
def test_words_no_page_writes_find_the_pages_words(
    seeded: User, typed: str, written: str, url: str
) -> None:
    """Visitors type 退费, U盾, 材料, 多久 where the pages write 费用返还, Ukey, 资料,
    办理时效/工作日: each found nothing (12-07 probe). The search vocabulary searches the
    pages' word as well, marks it, and the page says so."""
    assert fold(written) not in fold(typed)
    results = search.search(typed, per_page=50)
    assert written in results.also and results.total > 0
    assert any(h.url.startswith(url) for h in results.hits)
    assert all("<mark>" in h.title_html + h.snippet_html for h in results.hits)
    assert {h.url for h in results.hits} >= {h.url for h in search.search(written).hits}
    page = Client().get("/search/", {"q": typed}).content.decode()
    assert 'id="search-also"' in page and f"“{written}”" in page
    assert 'id="search-also"' not in Client().get("/search/", {"q": written}).content.decode()


def test_the_vocabulary_names_only_words_some_page_writes(seeded: User) -> None:
    """Small and honest: every alternative is found in the seeded pages (发票, which none
    writes, is not in it), and a query the vocabulary does not touch searches as typed."""
    for alternatives in search.VOCABULARY.values():
        for word in alternatives:
            assert search.search(word).total > 0, word
    # 发票 is written by the FAQ entry on invoices (12-07), not by the vocabulary
    assert "发票" not in search.VOCABULARY and search.search("发票").total > 0
    assert search.variants("续期") == (["续期"], ())
    # each vocabulary word stands as a word of its own, as typed too (no bigram across it)
    assert search.variants("我的U盾丢了") == (["我的 u盾 丢了", "我的 Ukey 丢了"], ("Ukey",))


def test_several_words_found_nowhere_together_list_pages_with_some(seeded: User) -> None:
    """续期 吊销 found nothing (no page holds both, and the words are an AND). AND first; when
    it finds nothing, the pages holding some of the words, those holding more first, with a
    line saying so."""
    assert search.search("续期 吊销").total > 0  # was 0
    results = search.search("续期 吊销", per_page=50)
    assert results.some and not results.loose
    titles = [h.title for h in results.hits]
    assert {"续期办事指南", "吊销办事指南"} <= set(titles)
    for hit in results.hits:
        doc = SearchDoc.objects.get(url=hit.url, title=hit.title)
        assert "续期" in fold(doc.title + doc.body) or "吊销" in fold(doc.title + doc.body)
    # ranked by how many of the words a page holds: 续期 网上营业厅 吊销
    three = search.search("续期 网上营业厅 吊销", per_page=50)
    assert three.some

    def held(hit: search.Hit) -> int:
        doc = SearchDoc.objects.get(url=hit.url, title=hit.title)
        text = fold(doc.title + doc.body)
        return sum(word in text for word in ("续期", "网上营业厅", "吊销"))

    counts = [held(h) for h in three.hits]
    assert counts == sorted(counts, reverse=True) and counts[0] == 2 and counts[-1] == 1
    # AND first: words found together are not widened
    assert not search.search("续期 网上营业厅").some
    assert search.search("火星 移民").total == 0  # no word found: nothing
    page = Client().get("/search/", {"q": "续期 吊销"}).content.decode()
    assert 'id="search-some"' in page and "全部词语" in page
    assert 'id="search-some"' not in Client().get("/search/", {"q": "续期"}).content.decode()


def test_a_rare_query_lists_every_hit_beyond_the_cap(
    clock, editor: User, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A rare query is exact and complete however many hits (the cap is the common query's),
    also when its words are looked up one by one (the bench's 费用返还 was cut at 500)."""
    from certhall.portal import matching

    _index_synthetic(60)
    search.index("faq", "refund", title="费用返还", body="", url="/faq/#r", day=None)
    monkeypatch.setattr(matching, "CAP", 5)
    whole = search.search("龙岗", per_page=100)
    assert whole.complete and whole.total > 5
    also = search.search("龙岗 费用返还", per_page=100)
    assert also.some and also.complete and also.total == whole.total + 1


#: What a visitor types -> the first hit it must list (the seeded portal), either script.
FIRST_HITS = [
    ("续期要多久", "续期办事指南"),  # 12-07: listed 续期要多少钱？ (期要, 要多 straddled 要)
    ("續期要多久", "续期办事指南"),
    ("续期多久", "续期办事指南"),
    ("新办要几天", "新办办事指南"),
    ("续期要多少钱", "续期要多少钱？"),
    ("續期要多少錢", "续期要多少钱？"),
    ("证书密码忘了怎么办", "证书密码被锁住或忘记了怎么办？"),
    ("證書密碼忘了怎麼辦", "证书密码被锁住或忘记了怎么办？"),
    ("证书密码怎么告知", "网上办理的证书密码怎么告知？"),
    ("周末可以办理吗", "周末可以办理证书吗？"),
    ("怎样在网上续期", "证书快到期了，怎样在网上续期？"),
    ("U盾丢了怎么办", "Ukey丢了或坏了怎么办？"),
    ("網上辦理的Ukey怎麼拿到", "网上办理的Ukey怎么拿到？"),
    ("Ukey解锁", "解锁办事指南"),
    ("key", "Ukey使用注意事项"),
    ("法人变更", "法人变更了，可以办理变更吗？"),
    ("发票", "怎样申请开具发票？"),  # 12-07: found nothing
    ("發票", "怎样申请开具发票？"),
    ("怎么开发票", "怎样申请开具发票？"),
    ("开票", "怎样申请开具发票？"),
    # 12-07: the usage guide 数字证书网厅续期操作指引 came first (证书 in its title, on most pages)
    ("证书续期", "续期办事指南"),
    ("證書續期", "续期办事指南"),
    ("证书解锁", "解锁办事指南"),
    ("证书补办", "介质补办办事指南"),
    ("證書吊銷", "吊销办事指南"),
    ("过期了怎么办", "续期办事指南"),
    # 12-07: 营业时间 found 营业执照 in the guides (loosened); the pages say 服务时间
    ("营业时间", "联系我们"),
    ("營業時間", "联系我们"),
    ("周六", "联系我们"),
    ("客服", "联系我们"),
    ("密码忘了", "证书密码被锁住或忘记了怎么办？"),
    ("uk", "Ukey使用注意事项"),  # 12-07: found nothing (part of a Latin word)
    ("uke丢了", "Ukey丢了或坏了怎么办？"),
    ("PI", "Ukey使用注意事项"),
    # 12-07: the home page's card (CRL, OCSP addresses) was not indexed: nothing
    ("CRL", "证书验证服务"),
    ("OCSP", "证书验证服务"),
    ("吊销列表", "证书验证服务"),
    ("弔銷列表", "证书验证服务"),
    # 12-07: the two Jiangmen dental-fee notices (收費 in their titles) came first
    ("收费", "办事指南"),
    ("收費", "办事指南"),
    ("收费标准", "办事指南"),
    # 12-07: the refund notices (which write 证书过期) came first, and no 续期 page
    ("证书过期", "续期办事指南"),
    ("證書過期了怎麼辦", "续期办事指南"),
    ("星期六", "联系我们"),  # 12-07: found nothing
    ("Ukye", "Ukey使用注意事项"),  # 12-07: found nothing (one letter swapped)
]


def test_a_title_about_the_query_ranks_first(seeded: User, clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """证书续期 listed 数字证书网厅续期操作指引 (and two FAQ entries) before 续期办事指南: the
    ranking counted the query's terms in a title, and their titles hold 证书 as well, a word
    on most pages. A title ranks by how much of it the query's words are, each weighing more
    the fewer pages hold it: the guide titled by the business comes first, on the same day
    too, and more of the query in a title of the same length still ranks first."""
    holding = {word: search.search(word).total for word in ("证书", "续期")}
    assert holding["证书"] > 2 * holding["续期"]
    titles = _titles("证书续期", per_page=50)
    assert titles[0] == "续期办事指南"
    assert titles.index("续期办事指南") < titles.index("数字证书网厅续期操作指引")
    day = date(2026, 11, 1)
    search.index("faq", "a", title="续期须知", body="证书", url="/faq/#a", day=day)
    search.index("faq", "b", title="数字证书网上续期操作指引", body="", url="/faq/#b", day=day)
    search.index("faq", "c", title="续期证书", body="", url="/faq/#c", day=day)
    urls = [h.url for h in search.search("证书续期", per_page=50).hits]
    assert urls.index("/faq/#c") < urls.index("/faq/#a") < urls.index("/faq/#b")


@pytest.mark.parametrize(("typed", "first"), FIRST_HITS)
def test_the_first_hit_answers_the_question_asked(seeded: User, typed: str, first: str) -> None:
    hits = search.search(typed).hits
    assert hits and hits[0].title == first, [h.title for h in hits]


def test_function_words_part_a_query_and_are_not_searched() -> None:
    """要, 的, 吗, 怎么, 多少 ... say how a question is put: a bigram across one (期要, 要多 of
    续期要多久) matched pages about another question. They part a query as a space does; a
    word that holds one of their characters and names a subject (要求) is kept; a query of
    function words only is searched as typed."""
    assert query_terms("续期要多久") == ["续 期", "多 久"]
    assert query_terms("续期要多少钱") == ["续 期", "钱"]
    assert query_words("周末可以办理证书吗") == ["周末", "办理证书"]
    assert query_terms("办理要求") == ["办 理", "理 要", "要 求"]
    assert query_terms("多少") == ["多 少"] and query_terms("吗") == ["吗"]
    assert query_terms("Ukey的PIN") == ["ukey", "pin"]
    assert hit_spans("续期要多少钱？", "续期要多久") == [(0, 2)]  # 要 is not marked


def test_a_vocabulary_word_stands_alone_and_ranks_what_it_names_first(seeded: User) -> None:
    """续期要多久: the vocabulary's 多久 is a word of its own (no bigram 期要 across its edge),
    and pages holding the pages' words (办理时效, 工作日) rank above those matching the query
    as typed; the snippet shows the pages' word (the answer), not the first 续期."""
    assert search.variants("续期要多久")[0] == ["续期要 多久", "续期要 办理时效", "续期要 工作日"]
    first, second = search.search("续期要多久").hits[:2]
    assert "<mark>办理时效</mark>：现场办理:当天办结" in first.snippet_html
    # the online hall's three working days; the pages' words marked whole only, never 办理
    assert "三个<mark>工作日</mark>" in second.snippet_html
    assert "<mark>办理</mark>" not in first.snippet_html + second.snippet_html + second.title_html


def test_pages_found_by_the_vocabulary_rank_first(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """A page holding the query as typed (续期多久 in its title, newer) ranks below one holding
    what the vocabulary names (办理时效), whatever their titles and dates."""
    day = date(2026, 11, 1)
    search.index("faq", "a", title="续期多久？", body="请看办事指南。", url="/faq/#a", day=day)
    search.index(
        "guide", "b", title="续期办事指南", body="办理时效：当天办结。", url="/guide/renew/",
        day=date(2020, 1, 1),
    )  # fmt: skip
    assert [h.url for h in search.search("续期多久").hits] == ["/guide/renew/", "/faq/#a"]
    assert [h.url for h in search.search("续期").hits] == ["/faq/#a", "/guide/renew/"]


def test_latin_words_match_whole_first(seeded: User) -> None:
    """A Latin word matches a whole Latin word (a unit) first: ``key`` is not the ``key`` of
    ``Ukey``. ``key`` finds the Ukey pages through the vocabulary (the page says
    本站页面的说法是“Ukey”), which matches a Latin word of the query only whole too: ``ukey``
    and ``usbkeys`` are not ``key``. A word no page holds whole is looked up as the start of
    one (``test_part_of_a_latin_word_finds_the_words_it_begins``), never its middle."""
    assert query_terms("key") == ["key"] and not SearchPosting.objects.filter(term="key")
    assert search.search("ey").total == 0 and search.search("ke").total == 0
    assert hit_spans("Ukey使用注意事项", "key") == []
    key = search.search("key", per_page=50)
    assert key.also == ("Ukey",) and key.total == search.search("Ukey").total
    assert not key.begun
    assert all("<mark>Ukey</mark>" in h.title_html + h.snippet_html for h in key.hits)
    assert search.variants("ukey") == (["ukey"], ())
    assert search.variants("usbkeys") == (["usbkeys"], ())
    assert search.variants("U key丢了")[0] == ["u key 丢了", "Ukey 丢了"]


def test_part_of_a_latin_word_finds_the_words_it_begins(seeded: User) -> None:
    """``uk`` and ``uke`` found nothing (12-07): customers type part of a word on a phone.
    A Latin word that no page holds whole is looked up as the start of the pages' words, from
    two letters (one would find every word with its first letter); the page says so and marks
    the whole words found. A word some page holds whole is not widened (``CA`` lists no
    ``CAB``); a number is never a prefix (``2025`` is not ``20250714``)."""
    assert {"uk*", "uke*"} <= terms("Ukey") and "ukey*" not in terms("Ukey")
    assert not {t for t in terms("u 2025 A4") if t.endswith("*")}
    ukey = {h.url for h in search.search("Ukey", per_page=50).hits}
    for typed in ("uk", "UKE", "ｕｋｅ"):
        results = search.search(typed, per_page=50)
        assert results.begun == (fold(typed),) and not results.loose
        assert {h.url for h in results.hits} == ukey
        assert all("<mark>Ukey</mark>" in h.title_html + h.snippet_html for h in results.hits)
    assert search.search("u").total == 0  # one letter: not a prefix
    ca = search.search("CA", per_page=50)
    assert not ca.begun and all("ca" in fold(h.title + h.snippet_html) for h in ca.hits)
    # with Chinese words: the part where the words meet is dropped, then the prefix looked up
    lost = search.search("uk丢了")
    assert lost.begun == ("uk",) and lost.hits[0].title == "Ukey丢了或坏了怎么办？"
    assert search.search("uk火星").total == 0  # every other word is still required
    page = Client().get("/search/", {"q": "uk"}).content.decode()
    assert 'id="search-begun"' in page and "以“uk”开头的词语" in page
    assert 'id="search-loose"' not in page
    assert 'id="search-begun"' not in Client().get("/search/", {"q": "Ukey"}).content.decode()


def test_a_prefix_finds_a_word_of_any_page(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """``ocs`` finds OCSP wherever a page writes it; highlighted whole."""
    search.index(
        "faq", "ocsp", title="证书状态怎么查？", body="在线证书状态查询（OCSP）：http://127.0.0.1:8001/",
        url="/faq/#ocsp", day=None,
    )  # fmt: skip
    results = search.search("ocs")
    assert results.begun == ("ocs",) and [h.url for h in results.hits] == ["/faq/#ocsp"]
    assert "（<mark>OCSP</mark>）" in results.hits[0].snippet_html
    assert search.search("o").total == 0 and search.search("csp").total == 0


def test_a_latin_word_found_nowhere_finds_the_word_one_edit_away(seeded: User) -> None:
    """``Ukye`` found nothing (12-07): a typing slip. A Latin word of four letters or more
    that no page holds, whole or as a beginning, is searched as the word one edit away that
    most pages hold; the page says so and marks the word found. A word some page holds is
    never replaced, a short one never (``pni`` is not PIN), and the query's other words are
    still required."""
    ukey = [h.url for h in search.search("Ukey", per_page=50).hits]
    for typed in ("Ukye", "ukeu", "Ukkey", "Uey", "ＵＫＹＥ"):
        results = search.search(typed, per_page=50)
        if len(fold(typed)) < 4:
            assert results.total == 0, typed
            continue
        assert results.near == ("ukey",) and not results.begun, typed
        assert [h.url for h in results.hits] == ukey
        assert all("<mark>Ukey</mark>" in h.title_html + h.snippet_html for h in results.hits)
    assert search.search("pni").total == 0
    assert not search.search("Ukey").near and not search.search("uk").near  # a beginning
    lost = search.search("Ukye丢了")
    assert lost.near == ("ukey",) and lost.hits[0].title == "Ukey丢了或坏了怎么办？"
    assert search.search("Ukye火星").total == 0
    assert search.search("qqqqzz").total == 0  # nothing one edit away
    page = Client().get("/search/", {"q": "Ukye"}).content.decode()
    assert 'id="search-near"' in page and "相近的“ukey”" in page
    assert 'id="search-loose"' not in page and 'id="search-begun"' not in page
    assert 'id="search-near"' not in Client().get("/search/", {"q": "Ukey"}).content.decode()


def test_one_edit_spellings() -> None:
    from certhall.portal.matching import edits

    near = edits("ukye")
    assert {"ukey", "uky", "ukyee", "ukya"} <= set(near) and "ukye" not in near
    assert len(near) == len(set(near)) and all(w[0].isalpha() for w in near)
    assert "1kye" not in near  # a word begins with a letter (a number is no word)


def test_a_query_writing_the_pages_word_is_not_given_it_again(seeded: User) -> None:
    """收费 is searched as 收费标准 as well; 收费标准 typed is searched as typed, and the page
    does not say it searched what was typed."""
    assert search.variants("收费标准") == (["收费标准"], ())
    assert search.variants("收费")[1] == ("收费标准",)
    assert 'id="search-also"' not in Client().get("/search/", {"q": "收費標準"}).content.decode()


def test_a_rebuild_indexes_rows_in_the_order_they_were_made(seeded: User) -> None:
    """Equal matches rank the newer document first (PI: two usage entries mention PIN in
    their text only). PostgreSQL returns an unordered query's rows as they lie on disk, where
    an edited row moves to the end: the rebuild read the entries in that order on CI, and the
    older entry came first."""
    for model in (Entry, Notice):
        oldest = model.objects.order_by("pk").first()
        assert oldest is not None
        model.objects.filter(pk=oldest.pk).update(title=oldest.title)  # moved, not changed
    indexing.reindex_all()
    for kind in ("faq", "usage", "notice"):
        docs = SearchDoc.objects.filter(kind=kind).order_by("pk")
        made = [int(doc.key) for doc in docs]
        assert len(made) > 1 and made == sorted(made), kind


def test_a_search_counts_each_term_once_in_few_statements(seeded: User) -> None:
    """续期要多久 went through every pass (as typed, loosened, by beginnings, each word alone)
    and counted 52 terms in 52 statements, most of them again and again: 48 ms of its p95 on
    PostgreSQL with 100,000 documents (12-07). A search counts a term once, the terms of a
    pass in one statement; the hits are the same."""
    from certhall.portal import matching

    with CaptureQueriesContext(connection) as queries:
        results = search.search("续期要多久")
    counted = [q["sql"] for q in queries.captured_queries if "COUNT(*)" in q["sql"]]
    terms = [term for sql in counted for term in re.findall(r"term = '([^']*)'", sql)]
    assert results.hits and len(terms) == len(set(terms)) > len(counted)
    assert len(counted) <= 4

    many = [f"w{i}" for i in range(matching.TERMS_PER_COUNT + 5)] + ["续 期", "ukey", "续 期"]
    with matching.one_search():
        together = matching._counts(many)
    one_by_one = {term: matching._counts([term])[term] for term in many}
    assert together == one_by_one and together["续 期"] > 0 and together["w1"] == 0
    assert matching._counts(term for term in many) == together  # a generator read once
