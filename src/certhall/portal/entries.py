"""常见问题 and 证书使用指引: entries with a category and an order, edited by staff (audited)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from certhall import clock
from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.errors import InvalidInput, NotFound, about
from certhall.pki import identity
from certhall.portal import sanitize, search
from certhall.portal.access import require_editor, save_edit
from certhall.portal.models import Entry, EntryKind

TITLE_MAX = 200
CATEGORY_MAX = 40
BODY_MAX = 100_000

#: Search kind and public page of each entry kind.
PAGES = {EntryKind.FAQ: ("faq", "/faq/"), EntryKind.GUIDE: ("usage", "/usage/")}


#: An entry's order, either way: well within its column (a 32-bit integer on PostgreSQL, where
#: a larger one was an HTTP 500), and more than any list of entries needs.
ORDER_LIMIT = 999_999


@dataclass(frozen=True)
class EntryInput:
    kind: str
    category: str
    title: str
    body_html: str
    order: int = 0
    published: bool = True

    def __post_init__(self) -> None:
        # each refusal names the editor's field, by the attribute's name (web.refused)
        if self.kind not in EntryKind.values:
            raise InvalidInput(code="entry_kind", value=self.kind).naming("kind")
        if not -ORDER_LIMIT <= self.order <= ORDER_LIMIT:
            raise InvalidInput(code="entry_order_range", limit=ORDER_LIMIT).naming("order")
        for name, what, limit in (
            ("title", "标题", TITLE_MAX),
            ("category", "分类", CATEGORY_MAX),
        ):
            value = " ".join(str(getattr(self, name)).split())
            with about(name):
                if not value:
                    raise InvalidInput(code="notice_field_missing", what=what)
                object.__setattr__(self, name, identity.visible_text(value, limit, what))
        with about("body_html"):
            identity.visible_text(self.body_html, BODY_MAX, "内容", lines=True)
            body = sanitize.clean(self.body_html)
            identity.refuse_invisible(body, "内容", lines=True)  # an entity (&#x202e;) decoded
            if not sanitize.to_plain(body):
                raise InvalidInput(code="notice_field_missing", what="内容")
        object.__setattr__(self, "body_html", body)


def published_entries() -> QuerySet[Entry]:
    return Entry.objects.filter(published=True)


def grouped(kind: str) -> list[tuple[str, list[Entry]]]:
    """The published entries of ``kind`` by category: categories in the order of their first
    entry, entries by their order."""
    groups: dict[str, list[Entry]] = {}
    for entry in published_entries().filter(kind=kind).order_by("order", "pk"):
        groups.setdefault(entry.category, []).append(entry)
    return list(groups.items())


def get_for_staff(actor: User, pk: int) -> Entry:
    require_editor(actor)
    try:
        return Entry.objects.get(pk=pk)
    except Entry.DoesNotExist:
        raise NotFound(code="entry_not_found") from None


def all_for_staff(actor: User) -> QuerySet[Entry]:
    require_editor(actor)
    return Entry.objects.order_by("kind", "order", "pk")


def create(actor: User, data: EntryInput, *, seed_key: str | None = None) -> Entry:
    require_editor(actor)
    with transaction.atomic():
        entry = Entry.objects.create(
            kind=data.kind,
            category=data.category,
            order=data.order,
            title=data.title,
            body_html=data.body_html,
            published=data.published,
            seed_key=seed_key,
            updated_at=clock.now(),
        )
        audit.record(
            actor,
            "portal.entry.create",
            object_type="entry",
            object_id=entry.pk,
            after=entry.snapshot(),
        )
        sync_index(entry)
    return entry


def edit(actor: User, entry: Entry, data: EntryInput) -> Entry:
    require_editor(actor)
    with transaction.atomic():
        entry = Entry.objects.select_for_update().get(pk=entry.pk)
        if entry.kind != data.kind:
            search.remove(PAGES[EntryKind(entry.kind)][0], str(entry.pk))
        fields = ("kind", "category", "order", "title", "body_html", "published")
        save_edit(
            actor,
            entry,
            {name: getattr(data, name) for name in fields},
            action="portal.entry.edit",
            object_type="entry",
            object_id=entry.pk,
        )
        sync_index(entry)
    return entry


def sync_index(entry: Entry) -> None:
    if entry.published:
        index_entry(entry)
    else:
        search.remove(PAGES[EntryKind(entry.kind)][0], str(entry.pk))


def index_entry(entry: Entry) -> None:
    search.put(entry_document(entry))


def entry_document(entry: Entry) -> search.Document:
    kind, page = PAGES[EntryKind(entry.kind)]
    return search.Document(
        kind,
        str(entry.pk),
        title=entry.title,
        body=f"{entry.category}\n{sanitize.to_plain(entry.body_html)}",
        url=f"{page}#entry-{entry.pk}",
        day=timezone.localdate(entry.updated_at),
    )
