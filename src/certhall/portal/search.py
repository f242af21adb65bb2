"""One search across the guide, notices, FAQ, usage guides and published questions.

The index is two ordinary tables (``SearchDoc``, ``SearchGram``) written by the portal's
services whenever something public changes, and queried with plain equality on ``(head, tail)``
plus GROUP BY: no database-specific full-text feature, so SQLite and PostgreSQL return the
same hits in the same order. How text becomes grams: :mod:`certhall.portal.textindex`.

A document matches when it holds every gram of the query (in its title or its body). Ranking:
more of the query's grams in the title first, then the newer date, then the newer document.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import Case, Count, IntegerField, Q, When
from django.utils.safestring import SafeString, mark_safe

from certhall.errors import InvalidInput
from certhall.portal.models import SearchDoc, SearchGram
from certhall.portal.textindex import grams, hit_spans, query_grams

MAX_QUERY = 100
PER_PAGE = 10
SNIPPET = 90

KIND_LABELS = {
    "guide": "办事指南",
    "notice": "公告",
    "faq": "常见问题",
    "usage": "证书使用指引",
    "question": "咨询答复",
}

#: The date of documents that have none of their own (the guide): older than any notice.
UNDATED = date(2000, 1, 1)


def index(kind: str, key: str, *, title: str, body: str, url: str, day: date | None) -> None:
    """Put (or replace) one document in the index."""
    day = day or UNDATED
    title_grams = grams(title)
    body_grams = grams(body)
    with transaction.atomic():
        doc, _ = SearchDoc.objects.update_or_create(
            kind=kind,
            key=str(key),
            defaults={"title": title, "body": body, "url": url, "date": day},
        )
        SearchGram.objects.filter(doc=doc).delete()
        SearchGram.objects.bulk_create(
            SearchGram(
                doc=doc, head=head, tail=tail, in_title=(head, tail) in title_grams, date=day
            )
            for head, tail in sorted(title_grams | body_grams)
        )


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


def search(query: str, *, page: int = 1, per_page: int = PER_PAGE) -> Results:
    query = " ".join(query.split())
    if len(query) > MAX_QUERY:
        raise InvalidInput(code="search_query_too_long", limit=MAX_QUERY)
    wanted = query_grams(query)
    if not wanted:
        return Results(query, [], 0, 1, 1)
    conditions = [Q(head=g.head) if g.tail is None else Q(head=g.head, tail=g.tail) for g in wanted]
    which = Case(
        *(When(condition, then=i) for i, condition in enumerate(conditions)),
        output_field=IntegerField(),
    )
    in_title = Case(
        *(When(condition & Q(in_title=True), then=i) for i, condition in enumerate(conditions)),
        output_field=IntegerField(),
    )
    anywhere = Q()
    for condition in conditions:
        anywhere |= condition
    grouped = (
        SearchGram.objects.filter(anywhere)
        .values("doc_id", "date")
        .annotate(found=Count(which, distinct=True), titled=Count(in_title, distinct=True))
        .filter(found=len(wanted))
    )
    total = grouped.count()
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    rows = list(
        grouped.order_by("-titled", "-date", "-doc_id")[(page - 1) * per_page : page * per_page]
    )
    docs = SearchDoc.objects.in_bulk([row["doc_id"] for row in rows])
    hits = [_hit(docs[row["doc_id"]], query) for row in rows if row["doc_id"] in docs]
    return Results(query, hits, total, page, pages)


def _hit(doc: SearchDoc, query: str) -> Hit:
    return Hit(
        kind=doc.kind,
        title=doc.title,
        url=doc.url,
        date=None if doc.date == UNDATED else doc.date,
        title_html=highlight(doc.title, query),
        snippet_html=snippet(doc.body, query),
    )


def highlight(text: str, query: str) -> SafeString:
    """``text`` escaped, with the query's hits in ``<mark>``."""
    out: list[str] = []
    last = 0
    for start, end in hit_spans(text, query):
        out.append(html.escape(text[last:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        last = end
    out.append(html.escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


def snippet(body: str, query: str, width: int = SNIPPET) -> SafeString:
    """About ``width`` characters of ``body`` around its first hit, highlighted."""
    flat = " ".join(body.split())
    spans = hit_spans(flat, query)
    start = max(0, spans[0][0] - width // 3) if spans else 0
    piece = flat[start : start + width]
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + width < len(flat) else ""
    return mark_safe(prefix + highlight(piece, query) + suffix)  # noqa: S308 - escaped
