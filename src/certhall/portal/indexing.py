"""Building the search index from scratch: the guide (from the rules catalog) and everything
published (answered questions are searched as the FAQ entries they were published as).
Services keep it current one document at a time; this rebuilds it all
(``certhall portal reindex``, and ``certhall setup``, which also picks up a changed catalog)."""

from __future__ import annotations

from collections.abc import Iterator

from certhall.portal import cacard, downloads, entries, guide, notices, search
from certhall.refunds import programmes
from certhall.refunds.models import Programme


def _guide_document(page: guide.BusinessGuide) -> search.Document:
    return search.Document(
        "guide", page.key, page.title, page.plain_text(), page.url, search.CURRENT
    )


def contact_document() -> search.Document:
    """联系我们 (``/contact/``): where every 联系客服 leads."""
    text = guide.contact_text()
    return search.Document("contact", "contact", "联系我们", text, "/contact/", search.CURRENT)


def guide_index_document() -> search.Document:
    """办事指南's index page: every business's fees on one page. Indexed after the business
    pages, so it ranks first among them on equal matches (the newer document: 收费标准)."""
    text = guide.index_text(guide.all_guides())
    return search.Document("guide", "index", "办事指南", text, "/guide/", search.CURRENT)


def introduction_document() -> search.Document:
    """Seed 001's 数字证书简介, on the guide's index page."""
    url = "/guide/#introduction"
    return search.Document(
        "guide", "introduction", "数字证书简介", guide.INTRODUCTION, url, search.CURRENT
    )


def documents() -> Iterator[search.Document]:
    """Everything public: the guide, its index page and its introduction, 联系我们, the home
    page's 证书验证服务 card, published notices,
    published FAQ and usage entries, downloads, the refund programmes (``/refunds/``). Rows in
    the order they were made: equal matches rank the newer document first, and PostgreSQL
    returns an unordered query's rows as they lie on disk (an edited row moves)."""
    yield introduction_document()
    for page in guide.all_guides():
        yield _guide_document(page)
    yield guide_index_document()
    yield contact_document()
    yield cacard.document()
    for notice in notices.published().order_by("pk"):
        yield notices.notice_document(notice)
    for entry in entries.published_entries().order_by("pk"):
        yield entries.entry_document(entry)
    for row in downloads.public():
        yield downloads.download_document(row)
    for programme in Programme.objects.order_by("pk"):
        yield programmes.programme_document(programme)


def reindex_all() -> int:
    """Rebuild the whole index; the number of documents indexed."""
    return search.rebuild(documents())
