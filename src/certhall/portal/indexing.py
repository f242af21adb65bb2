"""Building the search index from scratch: the guide (from the rules catalog) and everything
published (answered questions are searched as the FAQ entries they were published as).
Services keep it current one document at a time; this rebuilds it all
(``certhall portal reindex``, and ``certhall setup``, which also picks up a changed catalog)."""

from __future__ import annotations

from django.db import transaction

from certhall.portal import entries, guide, notices, search
from certhall.portal.models import SearchDoc


def index_guides() -> int:
    pages = guide.all_guides()
    for page in pages:
        search.index(
            "guide", page.key, title=page.title, body=page.plain_text(), url=page.url, day=None
        )
    return len(pages)


def reindex_all() -> int:
    """Rebuild the whole index; the number of documents indexed."""
    with transaction.atomic():
        SearchDoc.objects.all().delete()
        count = index_guides()
        for notice in notices.published():
            notices.index_notice(notice)
            count += 1
        for entry in entries.published_entries():
            entries.index_entry(entry)
            count += 1
    return count
