"""Search snippets: about 90 characters around the first hit, starting and ending at a
boundary (a mark, a whole Latin word, number or address), with an ellipsis where cut."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator

import pytest

from certhall.accounts.models import User
from certhall.portal import search
from certhall.portal.models import SearchDoc

pytestmark = pytest.mark.django_db


def _plain(snippet: str) -> str:
    return re.sub(r"</?mark>", "", html.unescape(snippet))


def test_a_snippet_does_not_start_inside_an_address_or_a_latin_word() -> None:
    """The 续期 guide's hit began "…tp://127.0.0.1:18404/hall/,点击“续期”" on a phone: a
    snippet cut into the hall's address (12-07, phone probe). It starts at the word's
    beginning when that is near, past the word otherwise."""
    before = "通过注册账号或者短信验证码方式登录深圳CA网上营业厅"
    body = f"{before}https://ca.example.cn/hall/,点击“续期”→阅读续期指南"
    text = str(search.snippet(body, "续期"))
    assert "https://ca.example.cn/hall/,点击“<mark>续期</mark>”" in text
    assert text.startswith("…") and not text.startswith("…ttps") and not text.startswith("…/")
    # a long token before the hit: shown from past it (and past the comma), never its middle
    long = "说明" * 20 + "x" * 60 + "，办理续期"
    assert str(search.snippet(long, "续期")).startswith("…办理<mark>续期</mark>")


def _mark(char: str) -> str:
    """``open`` for an opening bracket or quote, ``part`` for a space or any other mark, else
    ``""``."""
    kind = unicodedata.category(char)
    if kind in ("Ps", "Pi"):
        return "open"
    return "part" if char.isspace() or kind[0] in "PZ" else ""


def _seeded_snippets() -> Iterator[tuple[SearchDoc, str, str, str]]:
    """Every third place of every seeded page, searched for the two Chinese characters there:
    the page, its text on one line, the query and its snippet as plain text."""
    for doc in SearchDoc.objects.all():
        flat = " ".join(doc.body.split())
        for at in range(0, len(flat) - 1, 3):
            query = flat[at : at + 2]
            if all("\u4e00" <= char <= "\u9fff" for char in query):
                yield doc, flat, query, _plain(search.snippet(doc.body, query))


def test_a_snippet_starts_at_a_sentence_or_word_boundary(seeded: User) -> None:
    """Snippets began at a closing bracket or a stop (…):免费, …）办理; 12-07 probe). Every
    third place of every seeded page, searched for the two Chinese characters there: the
    snippet starts at the page's start, after a space or a mark, at an opening bracket or
    quote, or where a Latin word begins; never at a closing or parting mark (``）``, ``，``),
    nor inside a Latin run."""
    starts = 0
    for doc, flat, query, text in _seeded_snippets():
        if not text.startswith("…"):
            continue
        starts += 1
        piece = text[1:].removesuffix("…")
        first, before = piece[0], flat[flat.index(piece) - 1]
        assert _mark(first) != "part", (doc.title, query, text[:30])
        assert not (before.isascii() and first.isascii() and not before.isspace()), text
        latin_begins = first.isascii() and not before.isascii()
        assert _mark(before) == "part" or _mark(first) == "open" or latin_begins, (
            doc.title,
            query,
            text[:30],
        )
    assert starts > 200


def test_a_snippet_ends_at_a_mark_or_past_a_whole_word() -> None:
    """Snippets ended inside an address, a number or a word (12-07 probe: …科兴路1…,
    …154 739 6…, …https://wt.sz…). A snippet ends at a mark at most a third of its width
    before where it would end, the marks that part a clause left off (the ellipsis stands for
    them); else where it cuts no Latin run nor a number written in groups; else past the run."""
    account = "续期" + "甲" * 80 + "，账号：154 739 697 600 74，开户行"
    assert _plain(search.snippet(account, "续期")) == "续期" + "甲" * 80 + "，账号…"
    url = "续期" + "甲" * 60 + "网址https://wt.szca.net/index/renew/guide/page点击"
    assert _plain(search.snippet(url, "续期")) == "续期" + "甲" * 60 + "网址…"
    # the seed's address: it ends at the colon before it, not in 科兴路10号
    point = "1.科技园文化广场:深圳市南山区科兴路10号科技园文化广场深圳CA受理中心"
    address = "续期" + "甲" * 56 + "。" + point
    assert _plain(search.snippet(address, "续期")).endswith("1.科技园文化广场…")
    # a run longer than the reach back: shown whole when it ends soon after
    long = "续期" + "甲" * 50 + "https://ca.example.cn/hall/renew/guide/" + "乙" * 30
    assert _plain(search.snippet(long, "续期")).endswith("/hall/renew/guide/…")
    # the text's end: no ellipsis; a hit near the end is shown whole
    assert _plain(search.snippet("请办理续期。", "续期")) == "请办理续期。"


def test_a_snippet_ends_at_a_mark_or_a_word_boundary(seeded: User) -> None:
    """Every third place of every seeded page, searched for the two Chinese characters there:
    a snippet that is cut ends where it cuts no Latin run nor grouped number, and at a mark
    (after one, or before a space or one) unless the third of its width before the place its
    width ends holds no Chinese mark."""
    ends = 0
    for doc, flat, query, text in _seeded_snippets():
        if not text.endswith("…"):
            continue
        ends += 1
        piece = text.removeprefix("…")[:-1]
        cut = flat.index(piece) + len(piece)
        last, after = piece[-1], flat[cut]
        left_off = after in " ，、：；,:;"  # a mark that parts a clause, at the end
        assert left_off or not (last.isascii() and after.isascii() and last != " "), text
        assert not (last.isdigit() and after == " " and flat[cut + 1].isdigit()), text
        aim = flat.index(piece) + search.SNIPPET  # where its width ended
        reach = flat[max(aim - search.END_BACK, flat.index(query) + 2) : aim]
        at_mark = _mark(last) == "part" or _mark(after) in ("part", "open")
        marks = [char for char in reach if _mark(char) and not char.isascii()]
        assert at_mark or not marks, (doc.title, text[-30:])
    assert ends > 200
