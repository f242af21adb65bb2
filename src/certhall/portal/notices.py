"""公告: notices with sanitised rich text, attachments, drafts, publication and withdrawal.

Every change is one transaction with its audit event (create/edit/attach here, publish/withdraw
/redraft through the lifecycle). Only published notices are public and searchable.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import QuerySet

from certhall import clock
from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.errors import InvalidInput, NotFound, RuleViolation, about
from certhall.lifecycle import transition
from certhall.pki import identity
from certhall.portal import files, sanitize, search
from certhall.portal.access import require_editor, save_edit
from certhall.portal.models import Attachment, Notice, NoticeCategory, Region
from certhall.portal.states import NOTICES, NoticeState

PER_PAGE = 15
TITLE_MAX = 200
SUMMARY_MAX = 1000
BODY_MAX = 200_000

#: What a notice may carry: documents people open with office software.
ATTACHMENT_TYPES = files.OFFICE_TYPES
ATTACHMENT_MAX = 20 * 1024 * 1024


@dataclass(frozen=True)
class NoticeInput:
    title: str
    body_html: str
    region: str
    category: str
    published_on: date
    summary: str = ""
    pinned: bool = False

    def __post_init__(self) -> None:
        # each refusal names the editor's field, by the attribute's name (web.refused)
        title = " ".join(self.title.split())
        if not title:
            raise InvalidInput(code="notice_field_missing", what="标题").naming("title")
        for name, text, limit, what in (
            ("title", title, TITLE_MAX, "标题"),
            ("summary", self.summary, SUMMARY_MAX, "摘要"),
            ("body_html", self.body_html, BODY_MAX, "正文"),
        ):
            with about(name):
                identity.visible_text(text, limit, what, lines=True)
        if self.region not in Region.values:
            raise InvalidInput(code="notice_region", value=self.region).naming("region")
        if self.category not in NoticeCategory.values:
            raise InvalidInput(code="notice_category", value=self.category).naming("category")
        object.__setattr__(self, "title", title)
        object.__setattr__(self, "summary", self.summary.strip())
        body = sanitize.clean(self.body_html)
        with about("body_html"):  # an entity (&#x202e;) decoded
            identity.refuse_invisible(body, "正文", lines=True)
        object.__setattr__(self, "body_html", body)


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(code="notice_date").naming("published_on") from None


# --- public -------------------------------------------------------------------------------


def published() -> QuerySet[Notice]:
    return Notice.objects.filter(state=NoticeState.PUBLISHED)


#: The portal's order: pinned (置顶) first, then the newest.
PORTAL_ORDER = ("-pinned", "-published_on", "-pk")


def latest(n: int) -> list[Notice]:
    """The ``n`` newest, by date alone (the Atom feed)."""
    return list(published().order_by("-published_on", "-pk")[:n])


def front(n: int) -> list[Notice]:
    """The home page's ``n``: the pinned first, as the list shows them (the refund programme's
    notice, pinned, was not among the five newest)."""
    return list(published().order_by(*PORTAL_ORDER)[:n])


@dataclass(frozen=True)
class Filters:
    region: str = ""
    category: str = ""
    year: int | None = None

    @classmethod
    def parse(cls, region: str, category: str, year: int | None) -> Filters:
        """Unknown values are ignored (a stale link shows everything rather than an error)."""
        return cls(
            region=region if region in Region.values else "",
            category=category if category in NoticeCategory.values else "",
            year=year if year is not None and 2000 <= year <= 2099 else None,
        )


def listing(filters: Filters, page: int | str = 1) -> Page[Notice]:
    notices = published()
    if filters.region:
        notices = notices.filter(region=filters.region)
    if filters.category:
        notices = notices.filter(category=filters.category)
    if filters.year:
        notices = notices.filter(published_on__year=filters.year)
    ordered = notices.order_by(*PORTAL_ORDER)
    return Paginator(ordered, PER_PAGE).get_page(page)


def years() -> list[int]:
    dates = published().dates("published_on", "year", order="DESC")
    return [d.year for d in dates]


def get_public(pk: int) -> Notice:
    try:
        return published().get(pk=pk)
    except Notice.DoesNotExist:
        raise NotFound(code="notice_not_found") from None


def attachment(notice_pk: int, attachment_pk: int, *, actor: User | None = None) -> Attachment:
    """An attachment of a published notice (editors also reach those of drafts)."""
    found = Attachment.objects.select_related("notice").filter(
        pk=attachment_pk, notice_id=notice_pk
    )
    item = found.first()
    if item is None:
        raise NotFound(code="download_not_found")
    if item.notice.state != NoticeState.PUBLISHED:
        if actor is None:
            raise NotFound(code="download_not_found")
        require_editor(actor)
    return item


# --- staff --------------------------------------------------------------------------------


def all_for_staff(actor: User) -> QuerySet[Notice]:
    require_editor(actor)
    return Notice.objects.order_by("-updated_at", "-pk")


def get_for_staff(actor: User, pk: int) -> Notice:
    require_editor(actor)
    try:
        return Notice.objects.get(pk=pk)
    except Notice.DoesNotExist:
        raise NotFound(code="notice_not_found") from None


def create(actor: User, data: NoticeInput, *, seed_key: str | None = None) -> Notice:
    require_editor(actor)
    now = clock.now()
    with transaction.atomic():
        notice = Notice.objects.create(
            title=data.title,
            summary=data.summary,
            body_html=data.body_html,
            region=data.region,
            category=data.category,
            published_on=data.published_on,
            pinned=data.pinned,
            seed_key=seed_key,
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        audit.record(
            actor,
            "portal.notice.create",
            object_type="notice",
            object_id=notice.number,
            after=notice.snapshot(),
        )
    return notice


def edit(actor: User, notice: Notice, data: NoticeInput) -> Notice:
    """Change a draft or a withdrawn notice (a published one is withdrawn first)."""
    require_editor(actor)
    with transaction.atomic():
        notice = Notice.objects.select_for_update().get(pk=notice.pk)
        if notice.state == NoticeState.PUBLISHED:
            raise NOTICES.refusal(notice, NoticeState.DRAFT, code="notice_not_editable")
        fields = ("title", "summary", "body_html", "region", "category", "published_on", "pinned")
        save_edit(
            actor,
            notice,
            {name: getattr(data, name) for name in fields},
            action="portal.notice.edit",
            object_type="notice",
            object_id=notice.number,
        )
    return notice


def publish(actor: User, notice: Notice) -> Notice:
    """Publish a draft or withdrawn notice; not one dated after today (Shanghai): the list is
    newest first, and a mistyped year would stand first for years."""
    require_editor(actor)
    if notice.published_on > clock.today():
        raise RuleViolation(code="notice_date_future", date=notice.published_on.isoformat())
    with transaction.atomic():
        notice = transition(actor, NOTICES, notice, NoticeState.PUBLISHED)
        index_notice(notice)
    return notice


def withdraw(actor: User, notice: Notice) -> Notice:
    require_editor(actor)
    with transaction.atomic():
        notice = transition(actor, NOTICES, notice, NoticeState.WITHDRAWN)
        search.remove("notice", str(notice.pk))
    return notice


def redraft(actor: User, notice: Notice) -> Notice:
    require_editor(actor)
    with transaction.atomic():
        return transition(actor, NOTICES, notice, NoticeState.DRAFT)


def attach(actor: User, notice: Notice, name: str, chunks: Iterable[bytes]) -> Attachment:
    """Store an uploaded attachment (type by content, size-limited, a broken file or a PDF out of
    ``files.PUBLISHED_PDF`` refused: ``files.store``) and record it; a refusal stores nothing
    and is audited (``portal.notice.attach``, the file's name)."""
    refused = audit.Refused(after={"name": name[:200]})
    with audit.refusals_recorded(
        actor,
        "portal.notice.attach",
        object_type="notice",
        object_id=notice.number,
        refused=refused,
    ):
        require_editor(actor)
        blob = files.store(chunks, accept=ATTACHMENT_TYPES, limit=ATTACHMENT_MAX)
        with transaction.atomic():
            item = Attachment.objects.create(
                notice=notice,
                name=files.safe_name(name, blob.content_type),
                sha256=blob.sha256,
                size=blob.size,
                content_type=blob.content_type,
                created_at=clock.now(),
            )
            audit.record(
                actor,
                "portal.notice.attach",
                object_type="notice",
                object_id=notice.number,
                after={"name": item.name, "sha256": item.sha256, "size": item.size},
            )
        return item


def index_notice(notice: Notice) -> None:
    search.put(notice_document(notice))


def notice_document(notice: Notice) -> search.Document:
    body = "\n".join(filter(None, [notice.summary, sanitize.to_plain(notice.body_html)]))
    return search.Document(
        "notice",
        str(notice.pk),
        title=notice.title,
        body=body,
        url=f"/notices/{notice.pk}/",
        day=notice.published_on,
    )
