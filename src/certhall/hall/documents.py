"""The documents of an application: uploads, the counter checklist, completeness.

Which documents a business needs comes from the rules catalog (``申请资料`` per business and
certificate type; the documents shared by both certificate types are needed once, 注3). Online
the Ukey is not handed in (``onsite_only``) and an online 新办 also needs the handler's ID
photos, front and back ("上传经办人身份证正面照、反面照"). At the counter the clerk ticks each
document received on paper and, for the licence and the handler's ID, that the original was
seen (注2).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable

from django.db import transaction

from certhall import clock
from certhall.accounts.models import Role, User
from certhall.audit import services as audit
from certhall.errors import Conflict, InvalidInput, NotFound, about, quoted
from certhall.hall import access, realname, storage
from certhall.hall.models import (
    Application,
    ApplicationItem,
    Business,
    Channel,
    Document,
)
from certhall.hall.states import EDITABLE
from certhall.messages import text
from certhall.rules import Business as RuleBusiness
from certhall.rules import CertType as RuleCertType
from certhall.rules import default_catalog

HANDLER_PHOTOS = {"handler_id_front": "经办人身份证正面照", "handler_id_back": "经办人身份证反面照"}
UKEY = "ukey"


def document_name(kind: str) -> str:
    if kind in HANDLER_PHOTOS:
        return HANDLER_PHOTOS[kind]
    spec = default_catalog().documents.get(kind)
    return spec.text if spec is not None else kind


def check_kind(kind: str, *, upload: bool) -> None:
    """A known document kind; the Ukey is handed over, never uploaded. Refused naming ``kind``
    (资料类型: the field of the upload forms, hidden in each row, and of the API)."""
    known = set(default_catalog().documents) | set(HANDLER_PHOTOS)
    if kind not in known:
        raise InvalidInput(
            code="document_kind",
            variant="unknown",
            kind=quoted(kind, 32),
            choices="、".join(sorted(known)),
        ).naming("kind")
    if upload and kind == UKEY:
        raise InvalidInput(code="document_kind").naming("kind")


def required(application: Application, items: Iterable[ApplicationItem]) -> list[str]:
    """The document kinds the application needs, in catalog order, each once."""
    catalog = default_catalog()
    online = application.channel == Channel.ONLINE
    kinds: list[str] = []
    for item in items:
        if item.is_online_renewal:
            continue  # the renewal is signed by the certificate's own key (docs/hall.md)
        offer = catalog.offer(RuleBusiness(item.business), RuleCertType(item.cert_type))
        for spec in offer.documents:
            if online and spec.onsite_only:
                continue
            if spec.id not in kinds:
                kinds.append(spec.id)
        if online and item.business == Business.NEW:
            kinds.extend(k for k in HANDLER_PHOTOS if k not in kinds)
    return kinds


def current(application: Application) -> dict[str, Document]:
    """The current (not superseded) document of each kind: from every document the caller
    prefetched, else one query."""
    cache = getattr(application, "_prefetched_objects_cache", {})
    if "documents" in cache:
        return {d.kind: d for d in cache["documents"] if not d.superseded}
    return {d.kind: d for d in application.documents.filter(superseded=False)}


def missing(
    application: Application, items: Iterable[ApplicationItem], *, with_identity: bool = True
) -> list[str]:
    """What is still missing, as sentences a person understands (empty when complete);
    without ``with_identity``, not the handler's ID photos and real-name check when the phone
    provides them in the step after the documents (``hall.identity``)."""
    items = list(items)
    by_phone = realname.needed(application, items)
    catalog = default_catalog()
    have = current(application)
    problems: list[str] = []
    for kind in required(application, items):
        if by_phone and not with_identity and kind in HANDLER_PHOTOS:
            continue
        document = have.get(kind)
        if document is None:
            problems.append(f"缺少：{document_name(kind)}")
        elif document.status == Document.Status.RETURNED:
            problems.append(f"须重新提交：{document_name(kind)}（{document.review_reason}）")
        elif application.channel == Channel.ONSITE:
            spec = catalog.documents.get(kind)
            if spec is not None and spec.original_checked_onsite and not document.original_seen:
                problems.append(f"须核验原件：{document_name(kind)}")
    if by_phone and with_identity and not realname.verified(application, have):
        problems.append(text("identity_missing"))
    return problems


def _filename(name: str) -> str:
    base = os.path.basename((name or "").replace("\\", "/"))
    cleaned = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    return cleaned[:120]


def _supersede(application: Application, kind: str) -> None:
    application.documents.filter(kind=kind, superseded=False).update(superseded=True)


def upload(
    actor: User, number: str, kind: str, *, filename: str, chunks: Iterable[bytes]
) -> Document:
    """Store an uploaded document (type sniffed, size-limited) for an application being
    prepared or corrected; a newer upload of the same kind replaces the previous one."""
    with audit.refusals_recorded(
        actor, "hall.document.upload", object_type="application", object_id=number
    ):
        application = access.load(actor, number)
        access.require_editor(actor, application)
        check_kind(kind, upload=True)
        _check_editable(application)
        # outside the transaction: a file system write
        with about("file"):  # the upload forms' file field (web.refused)
            blob = storage.store(chunks, pdf=storage.SCAN_PDF)
        with transaction.atomic():
            application = access.load(actor, number, lock=True)
            _check_editable(application)
            _supersede(application, kind)
            document = Document.objects.create(
                application=application,
                kind=kind,
                medium=Document.Medium.UPLOAD,
                filename=_filename(filename),
                sha256=blob.sha256,
                size=blob.size,
                content_type=blob.content_type,
                uploaded_by=actor,
                uploaded_at=clock.now(),
            )
            audit.record(
                actor,
                "hall.document.upload",
                object_type="application",
                object_id=application.number,
                after={
                    "document": document.pk,
                    "kind": kind,
                    "sha256": blob.sha256,
                    "size": blob.size,
                    "content_type": blob.content_type,
                },
            )
    return document


def check_at_counter(
    actor: User, number: str, kind: str, *, original_seen: bool = False
) -> Document:
    """Counter checklist: the paper copy of ``kind`` was received (and, where 注2 asks for it,
    the original seen). Ticking a received document again records the original."""
    with access.locked(actor, number, "hall.document.check", editor=True) as application:
        if application.channel != Channel.ONSITE:
            raise Conflict(code="not_onsite")
        check_kind(kind, upload=False)
        if kind in HANDLER_PHOTOS:
            raise InvalidInput(code="document_kind", variant="handler_photo")
        _check_editable(application)
        document = application.documents.filter(kind=kind, superseded=False).first()
        now = clock.now()
        if document is None or document.status == Document.Status.RETURNED:
            _supersede(application, kind)
            document = Document.objects.create(
                application=application,
                kind=kind,
                medium=Document.Medium.PAPER,
                uploaded_by=actor,
                uploaded_at=now,
            )
        if original_seen and not document.original_seen:
            document.original_seen = True
            document.original_seen_by = actor
            document.save(update_fields=["original_seen", "original_seen_by"])
        audit.record(
            actor,
            "hall.document.check",
            object_type="application",
            object_id=application.number,
            after={
                "document": document.pk,
                "kind": kind,
                "medium": document.medium,
                "original_seen": document.original_seen,
            },
        )
    return document


def _check_editable(application: Application) -> None:
    if application.state not in EDITABLE:
        raise Conflict(
            code="application_state",
            variant="documents",
            number=application.number,
            state=application.get_state_display(),
        )


def open_document(actor: User, number: str, document_id: int) -> tuple[Document, bytes]:
    """An uploaded document's record and content, for whoever may see the application."""
    application = access.load(actor, number)
    document = application.documents.filter(pk=document_id).first()
    if document is None:
        raise NotFound(code="document_not_found", number=application.number, id=document_id)
    if document.medium != Document.Medium.UPLOAD:
        raise NotFound(code="document_paper")
    content = storage.read(document.sha256)
    if actor.role != Role.APPLICANT:  # staff reading an enterprise's ID and licence copies
        audit.record(
            actor,
            "hall.document.read",
            object_type="document",
            object_id=document.pk,
            after={"application": application.number, "kind": document.kind},
        )
    return document, content
