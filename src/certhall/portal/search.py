"""One search across the guide, notices, FAQ, usage guides, downloads and refund programmes.

The index is two ordinary tables, ``SearchDoc`` (what a hit shows) and ``SearchPosting`` (one
row per document and term: an inverted index), written by the portal's services whenever
something public changes. How text becomes terms: :mod:`certhall.portal.textindex`; how a
query finds and ranks documents with bounded work: :mod:`certhall.portal.matching`. No
database-specific full-text feature: SQLite and PostgreSQL return the same hits in the same
order.
"""

from __future__ import annotations

import html
import itertools
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.utils.safestring import SafeString, mark_safe

from certhall.bulk import insert_rows
from certhall.errors import InvalidInput
from certhall.portal import matching
from certhall.portal.models import SearchDoc, SearchPosting
from certhall.portal.textindex import PREFIX, fold, hit_spans, query_terms, query_words, terms

MAX_QUERY = 100
PER_PAGE = 10
SNIPPET = 90

KIND_LABELS = {
    "guide": "办事指南",
    "contact": "联系我们",
    "ca": "首页",
    "notice": "公告",
    "faq": "常见问题",
    "usage": "证书使用指引",
    "download": "下载",
    "refund": "费用返还",
    "question": "咨询答复",
}

#: The date of documents that have none of their own (downloads): older than any notice.
UNDATED = date(2000, 1, 1)
#: The date of the pages that are the current rules (the guide, 联系我们: the rules catalog's
#: words, in force today): newer than any notice, so they rank first on equal matches.
CURRENT = date(9999, 12, 31)


def index(kind: str, key: str, *, title: str, body: str, url: str, day: date | None) -> None:
    """Put (or replace) one document in the index."""
    day = day or UNDATED
    with transaction.atomic():
        doc, _ = SearchDoc.objects.update_or_create(
            kind=kind,
            key=str(key),
            defaults={"title": title, "body": body, "url": url, "date": day},
        )
        SearchPosting.objects.filter(doc=doc).delete()
        SearchPosting.objects.bulk_create(
            SearchPosting(doc=doc, term=term, in_title=titled, day=number)
            for _, term, titled, number in postings(doc.pk, title, body, day)
        )


def put(document: Document) -> None:
    """Put (or replace) one document in the index."""
    index(
        document.kind,
        document.key,
        title=document.title,
        body=document.body,
        url=document.url,
        day=document.day,
    )


def postings(doc_id: int, title: str, body: str, day: date) -> list[tuple[int, str, bool, int]]:
    """The index rows of one document: ``(doc_id, term, in_title, day number)``."""
    title_terms = terms(title)
    number = day.toordinal()
    return [
        (doc_id, term, term in title_terms, number) for term in sorted(title_terms | terms(body))
    ]


@dataclass(frozen=True)
class Document:
    kind: str
    key: str
    title: str
    body: str
    url: str
    day: date | None


RANK_INDEX = "portal_posting_rank"


def rebuild(documents: Iterable[Document]) -> int:
    """Replace the whole index with ``documents``, in one transaction. The ranking index is
    dropped for the load and built once at the end: one sort instead of a random B-tree
    insert per posting (a 100,000-document build takes minutes less)."""
    table = SearchPosting._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        SearchDoc.objects.all().delete()
        cursor.execute(f"DROP INDEX {RANK_INDEX}")
        count = index_many(documents)
        if connection.vendor == "postgresql":
            connection.check_constraints()  # CREATE INDEX refuses pending deferred checks
        cursor.execute(f"CREATE INDEX {RANK_INDEX} ON {table} (term, in_title, day, doc_id)")
    return count


def index_many(documents: Iterable[Document]) -> int:
    """Add many new documents at once (a rebuild, a benchmark): multi-row inserts, and
    PostgreSQL's COPY for the postings. The documents must not be in the index yet."""
    count = 0
    with transaction.atomic():
        batch: list[Document] = []
        for document in documents:
            batch.append(document)
            if len(batch) == 2000:
                count += _insert(batch)
                batch = []
        count += _insert(batch)
    return count


def _insert(batch: Sequence[Document]) -> int:
    docs = SearchDoc.objects.bulk_create(
        SearchDoc(kind=d.kind, key=d.key, title=d.title, body=d.body, url=d.url,
                  date=d.day or UNDATED)
        for d in batch
    )  # fmt: skip
    rows: list[tuple[Any, ...]] = []
    for doc in docs:
        rows += postings(doc.pk, doc.title, doc.body, doc.date)
    insert_rows(SearchPosting, ("doc_id", "term", "in_title", "day"), rows)
    return len(docs)


def remove(kind: str, key: str) -> None:
    SearchDoc.objects.filter(kind=kind, key=str(key)).delete()


@dataclass(frozen=True)
class Hit:
    kind: str
    title: str
    url: str
    date: date | None
    title_html: SafeString
    snippet_html: SafeString

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)

    def as_json(self) -> dict[str, object]:
        return {
            "title": self.title,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "url": self.url,
            "date": self.date.isoformat() if self.date else None,
        }


@dataclass(frozen=True)
class Results:
    query: str
    hits: list[Hit]
    total: int
    page: int
    pages: int
    #: False: more documents match than ``total`` (listing stops at ``matching.CAP``).
    complete: bool = True
    #: True: nothing held the whole query; these hold its words (``matching.relaxed``).
    loose: bool = False
    #: True: no page held all the query's words; these hold some of them, most first.
    some: bool = False
    #: The pages' own words searched as well (:data:`VOCABULARY`), in query order.
    also: tuple[str, ...] = ()
    #: The query's Latin words that no page holds whole, searched as the words they begin
    #: (``uk``: Ukey; ``matching.prefixed``), folded.
    begun: tuple[str, ...] = ()
    #: The words searched for the query's Latin words that no page holds, whole or as a
    #: beginning: one edit away (``ukye``: ``ukey``; ``matching.near``), folded.
    near: tuple[str, ...] = ()


#: Words visitors type that no page writes, and the pages' words for them: searched as well
#: (query side only; the index and the pages are unchanged). Keys folded (lower case,
#: Simplified); the pages' words as they write them (the page shows them: 已一并搜索).
#: Only words whose pages exist: no public page speaks of invoices, so 发票 is not here.
#: docs/portal.md, "Search vocabulary".
VOCABULARY: dict[str, tuple[str, ...]] = {
    "退费": ("费用返还",),
    "退款": ("费用返还",),
    "u盾": ("Ukey",),
    "usb key": ("Ukey",),
    "usbkey": ("Ukey",),
    "u key": ("Ukey",),
    "key": ("Ukey",),
    "材料": ("资料",),
    "多久": ("办理时效", "工作日"),
    "几天": ("办理时效", "工作日"),
    "营业时间": ("服务时间",),
    "办公时间": ("服务时间",),
    "上班时间": ("服务时间",),
    # 12-07: words the pages write of other things (收费 in the titles of two price notices,
    # 证书过期 in the refund notices), while this platform's pages name what a visitor asks
    # for otherwise: its fees under 收费标准, an expired certificate under 续期
    "收费": ("收费标准",),
    "过期": ("续期",),
    # the pages write the days 周六, 周日 (周一至周日, 周六日及法定节假日休息)
    "星期六": ("周六",),
    "星期日": ("周日",),
    "星期天": ("周日",),
}
#: At most this many words of a query are looked up one by one (:func:`_some_words`).
MAX_WORDS = 6

#: doc id -> (1 when found by the pages' words of :data:`VOCABULARY`, how much its title is
#: about the query (``matching._about``), day, doc id): larger ranks first.
Keys = dict[int, tuple[int, int, int, int]]

#: The vocabulary's words, longest first (``usb key`` before ``key`` where both would start).
_BY_LENGTH = sorted(VOCABULARY, key=len, reverse=True)
#: The pages' words of each vocabulary word, folded: a query already writing one where the
#: vocabulary word starts (收费标准 holds 收费) is not given it again.
_WRITTEN = {word: tuple(fold(a) for a in pages) for word, pages in VOCABULARY.items()}


def _word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _vocabulary_spans(folded: str) -> list[tuple[int, int, str]]:
    """Where ``folded`` holds words of :data:`VOCABULARY`: ``(start, end, word)``, apart,
    the longest at each place; a Latin word only whole (``key`` of ``Ukey`` is not ``key``)."""
    found: list[tuple[int, int, str]] = []
    i = 0
    while i < len(folded):
        for word in _BY_LENGTH:
            end = i + len(word)
            if not folded.startswith(word, i):
                continue
            if any(folded.startswith(written, i) for written in _WRITTEN[word]):
                continue
            if _word_char(word[0]) and i > 0 and _word_char(folded[i - 1]):
                continue
            if _word_char(word[-1]) and end < len(folded) and _word_char(folded[end]):
                continue
            found.append((i, end, word))
            i = end
            break
        else:
            i += 1
    return found


def variants(query: str) -> tuple[list[str], tuple[str, ...]]:
    """``query`` and, when it holds words of :data:`VOCABULARY`, the query with the pages'
    words in their place (each alternative); and those words. Each vocabulary word stands as
    a word of its own in every variant, the first (as typed) too: no bigram reaches across its
    edge (期要 of 续期要多久 is not asked). The first variant is the query as typed, the
    others name the pages' words (:func:`_matches` ranks them first)."""
    folded = " ".join(fold(query).split())
    spans = _vocabulary_spans(folded)
    if not spans:
        return [query], ()
    present = list(dict.fromkeys(word for _, _, word in spans))

    def written(words: dict[str, str]) -> str:
        text, last = [], 0
        for start, end, word in spans:
            text += [folded[last:start], f" {words[word]} "]
            last = end
        return " ".join("".join([*text, folded[last:]]).split())

    out = [written({word: word for word in present})]
    for choice in itertools.product(*(VOCABULARY[word] for word in present)):
        out.append(written(dict(zip(present, choice, strict=True))))
    also = tuple(dict.fromkeys(a for word in present for a in VOCABULARY[word]))
    return out, also


def _matches(term_lists: list[list[str]]) -> tuple[Keys, bool]:
    """The documents holding every term of any of ``term_lists`` (:func:`variants`' order:
    the query as typed, then those naming the pages' words), each with its best key; and
    whether every list was read completely. A document found by the pages' words ranks first
    (what the vocabulary names answers the question: 多久 is the guides' 办理时效); then as
    ``matching.rank`` ranks one list (how much of the title is the query's words)."""
    keys: Keys = {}
    complete = True
    for named, terms_ in enumerate(term_lists):
        if not terms_:
            continue
        ranked = matching.rank(terms_)
        complete = complete and ranked.complete
        for doc in ranked.doc_ids:
            about, day = ranked.scores[doc]
            key = (min(named, 1), about, day, doc)
            if key > keys.get(doc, (-1, -1, 0, 0)):
                keys[doc] = key
    return keys, complete


@dataclass(frozen=True)
class Found:
    keys: Keys
    complete: bool
    #: Loosened where the query's words meet (``matching.relaxed``).
    loose: bool = False
    #: The Latin words looked up as the words they begin (``matching.prefixed``).
    begun: tuple[str, ...] = ()
    #: The words one edit away searched for Latin words found nowhere (``matching.near``).
    near: tuple[str, ...] = ()


def _found(term_lists: list[list[str]]) -> Found:
    """:func:`_matches`, loosened when nothing held the whole query: once where the words meet
    (``matching.relaxed``), then with each Latin word that no page holds whole looked up as
    the words it begins (``matching.prefixed``: ``uk`` finds Ukey), then, when that too finds
    nothing, as the word one edit away (``matching.near``: ``ukye`` finds Ukey)."""
    keys, complete = _matches(term_lists)
    if keys:
        return Found(keys, complete)
    looser = [matching.relaxed(terms_) for terms_ in term_lists]
    loose = looser != term_lists
    if loose:
        keys, complete = _matches(looser)
        if keys:
            return Found(keys, complete, loose=True)
    by_prefix = [matching.prefixed(terms_) for terms_ in looser]
    if by_prefix != looser:
        keys, complete = _matches(by_prefix)
        if keys:
            words = [t[:-1] for terms_ in by_prefix for t in terms_ if t.endswith(PREFIX)]
            return Found(keys, complete, loose, tuple(dict.fromkeys(words)))
    nearer = [matching.near(terms_) for terms_ in looser]
    if any(replaced for _, replaced in nearer):
        keys, complete = _matches([terms_ for terms_, _ in nearer])
        if keys:
            words = [word for _, replaced in nearer for word in replaced.values()]
            return Found(keys, complete, loose, near=tuple(dict.fromkeys(words)))
    return Found({}, True)


def _some_words(words: list[str]) -> tuple[Keys, dict[int, int], bool]:
    """Each word of a query that found nothing, looked up alone: the documents holding some,
    with how many of the words each holds."""
    keys: Keys = {}
    counts: dict[int, int] = {}
    complete = True
    for word in words[:MAX_WORDS]:
        found = _found([query_terms(v) for v in variants(word)[0]])
        complete = complete and found.complete
        for doc, key in found.keys.items():
            counts[doc] = counts.get(doc, 0) + 1
            keys[doc] = max(key, keys.get(doc, key))
    return keys, counts, complete and len(words) <= MAX_WORDS


def search(query: str, *, page: int = 1, per_page: int = PER_PAGE) -> Results:
    with matching.one_search():
        return _search(query, page, per_page)


def _search(query: str, page: int, per_page: int) -> Results:
    query = " ".join(query.split())
    if len(query) > MAX_QUERY:
        raise InvalidInput(code="search_query_too_long", limit=MAX_QUERY)
    if not query_terms(query):  # nothing to search (punctuation, an emoji): say what to type
        return Results("", [], 0, 1, 1)
    texts, also = variants(query)
    found = _found([query_terms(text) for text in texts])
    keys, complete = found.keys, found.complete
    order = sorted(keys, key=keys.__getitem__, reverse=True)
    some = False
    words = query_words(query)
    if not keys and len(words) > 1:
        keys, counts, complete = _some_words(words)
        order = sorted(keys, key=lambda doc: (counts[doc], keys[doc]), reverse=True)
        some = bool(keys)
    total = len(order)
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ids = order[(page - 1) * per_page : page * per_page]
    docs = SearchDoc.objects.in_bulk(ids)
    also_words = " ".join([*also, *found.near])  # the pages' words, marked whole
    hits = [_hit(docs[doc_id], query, also_words) for doc_id in ids if doc_id in docs]
    also = also if keys else ()
    return Results(
        query, hits, total, page, pages, complete, found.loose, some, also, found.begun,
        found.near,
    )  # fmt: skip


def _hit(doc: SearchDoc, query: str, also: str) -> Hit:
    return Hit(
        kind=doc.kind,
        title=doc.title,
        url=doc.url,
        date=None if doc.date in (UNDATED, CURRENT) else doc.date,
        title_html=highlight(doc.title, query, also),
        snippet_html=snippet(doc.body, query, also=also),
    )


def highlight(text: str, query: str, also: str = "") -> SafeString:
    """``text`` escaped, with the query's hits in ``<mark>``, and the pages' words the
    vocabulary searched (``also``) where they are whole."""
    return _marked(text, hit_spans(text, query, also))


def _marked(text: str, spans: list[tuple[int, int]]) -> SafeString:
    out: list[str] = []
    last = 0
    for start, end in spans:
        out.append(html.escape(text[last:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        last = end
    out.append(html.escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


#: How far back a snippet reaches for the boundary before the place it would start at.
WORD_BACK = 16
#: How far back from its width a snippet reaches for a mark to end at (a third of the width).
END_BACK = SNIPPET // 3
#: Marks a snippet does not end with (its ellipsis stands for them): those that part a clause.
_TRAILING = " ，、：；,:;"
_DIGITS = "0123456789"


def _latin(char: str) -> bool:
    return char.isascii() and not char.isspace()


def _parts(char: str) -> bool:
    """A space or a mark that ends or parts (a closing bracket or quote, a comma, a stop)."""
    kind = unicodedata.category(char)
    return char.isspace() or (kind[0] in "PZ" and kind not in ("Ps", "Pi"))


def _splits(flat: str, at: int) -> bool:
    """Whether cutting ``flat`` before ``at`` splits a Latin run (a word, a number, an address,
    ``9:00-12:00,13:30``) or a number written in groups (the payee's account
    ``154 739 697 600 74``: a space between digits)."""
    if at <= 0 or at >= len(flat):
        return False
    before, char = flat[at - 1], flat[at]
    if _latin(before) and _latin(char):
        return True
    if before == " ":
        return char in _DIGITS and at >= 2 and flat[at - 2] in _DIGITS
    return char == " " and before in _DIGITS and at + 1 < len(flat) and flat[at + 1] in _DIGITS


def _boundary(flat: str, at: int) -> bool:
    """Whether a snippet may start at ``at``: the text's start, after a space or a mark, at an
    opening bracket or quote, or where a Latin run (a word, a number, an address) begins; never
    at a mark that closes or parts (``）``, ``,``), nor inside a Latin run (12-07:
    "…tp://127.0.0.1…" on a phone) or a number written in groups (:func:`_splits`)."""
    if at == 0:
        return True
    char, before = flat[at], flat[at - 1]
    if _parts(char) or _splits(flat, at):
        return False
    return _parts(before) or unicodedata.category(char) in ("Ps", "Pi") or _latin(char)


#: The marks a snippet may end before: one that parts (``，``, ``。``) or opens (``（``, ``“``).
_BEFORE = ("Po", "Ps", "Pi")


def _clause_end(flat: str, at: int) -> bool:
    """Whether a snippet may end before ``at`` at a mark: after a stop, a closing bracket or a
    parting mark (``。``, ``）``, ``，``), or before a space, a parting mark or an opening
    bracket or quote; never inside a Latin run or a grouped number (:func:`_splits`: the ``,``
    of ``12:00,13:30``)."""
    if at >= len(flat):
        return True
    if _splits(flat, at):
        return False
    return _parts(flat[at - 1]) or flat[at] == " " or unicodedata.category(flat[at]) in _BEFORE


def _snippet_start(flat: str, hit: int, width: int) -> int:
    """Where a snippet of ``width`` showing the hit at ``hit`` starts: a third of the width
    before it if that is a boundary (:func:`_boundary`); else the boundary before that place
    when it is at most ``WORD_BACK`` characters back; else the first boundary after it; else
    the hit itself."""
    start = max(0, hit - width // 3)
    behind = range(start, max(0, start - WORD_BACK) - 1, -1)
    return next(
        (at for at in [*behind, *range(start + 1, hit)] if _boundary(flat, at)),
        hit,
    )


def _snippet_end(flat: str, start: int, hit_end: int, width: int) -> int:
    """Where a snippet starting at ``start`` ends, the first hit (ending at ``hit_end``) whole:
    ``width`` on if that is the text's end or a mark (:func:`_clause_end`); else the last mark
    at most ``END_BACK`` characters before it; else the last place there that cuts no Latin
    run or number (:func:`_splits`); else just past the run, when it ends within ``END_BACK``
    (12-07: snippets ended in "…深圳市南山区科兴路1…", "…账号：154 739 6…", "…https://wt.sz…")."""
    aim = max(start + width, hit_end)
    if aim >= len(flat):
        return len(flat)
    back = range(aim, max(hit_end, aim - END_BACK) - 1, -1)
    ahead = range(aim + 1, min(len(flat), aim + END_BACK) + 1)
    for fits in (_clause_end, lambda text, at: not _splits(text, at)):
        for at in back:
            if fits(flat, at):
                return at
    return next((at for at in ahead if not _splits(flat, at)), aim)


def snippet(body: str, query: str, width: int = SNIPPET, *, also: str = "") -> SafeString:
    """About ``width`` characters of ``body`` around its first hit, highlighted as
    :func:`highlight` does: the first of ``also`` (the pages' words the vocabulary searched:
    the answer asked for) if it holds one whole, else of the query; starting and ending at a
    boundary (:func:`_snippet_start`, :func:`_snippet_end`), the marks that part a clause left
    off its end, with an ellipsis where the text goes on."""
    flat = " ".join(body.split())
    spans = hit_spans(flat, query, also)
    first = (hit_spans(flat, "", also) if also else []) or spans
    start = _snippet_start(flat, first[0][0], width) if first else 0
    end = _snippet_end(flat, start, first[0][1] if first else 0, width)
    piece = flat[start:end]
    if end < len(flat):
        piece = piece.rstrip(_TRAILING)
    inside = [
        (max(a, start) - start, min(b, end) - start) for a, b in spans if b > start and a < end
    ]
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(flat) else ""
    return mark_safe(prefix + _marked(piece, inside) + suffix)  # noqa: S308 - escaped
