"""Review (审核): the queue ordered by deadline, approval, return with a reason per document.

Separation of duties: whoever entered an application (the clerk at the counter, a CA admin),
or received or checked one of its current documents at the counter, cannot approve or return
it. The queue shows each application's working-day deadline and flags the overdue ones; a
deadline the holiday calendar cannot compute yet is shown as unknown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.db import transaction
from django.db.models import F

from certhall import clock
from certhall.accounts import licence
from certhall.accounts.models import User
from certhall.accounts.permissions import require_different_person, require_role
from certhall.audit import services as audit
from certhall.errors import Forbidden, InvalidInput
from certhall.hall import access, documents, notices
from certhall.hall.models import Application, Document
from certhall.hall.services import with_lines
from certhall.hall.states import APPLICATIONS, IN_REVIEW, State
from certhall.lifecycle import transition
from certhall.pki import identity

QUEUE_LIMIT = 500
REASON_LIMIT = 200
NOTE_LIMIT = 500


@dataclass(frozen=True)
class QueueEntry:
    application: Application
    due_date: date | None
    overdue: bool
    due_today: bool


def entry(application: Application, today: date) -> QueueEntry:
    due = application.due_date
    return QueueEntry(
        application=application,
        due_date=due,
        overdue=due is not None and today > due,
        due_today=due is not None and today == due,
    )


def entered(actor: User, application: Application) -> bool:
    """Whether ``actor`` entered ``application`` or one of its current documents (a paper copy
    received, an original seen, a scan uploaded): what they did is not theirs to review."""
    if application.entered_by_id == actor.pk:
        return True
    return any(
        actor.pk in (document.uploaded_by_id, document.original_seen_by_id)
        for document in documents.current(application).values()
    )


def _require_another(actor: User, application: Application, what: str) -> None:
    require_different_person(actor, application.entered_by_id, what)
    if entered(actor, application):  # a document of it: a CA admin at the counter
        require_different_person(actor, actor.pk, what, did="录入或核验材料")


def review_queue(actor: User, *, limit: int = QUEUE_LIMIT) -> list[QueueEntry]:
    """Applications waiting for review at the actor's provider, the earliest deadline first
    (unknown deadlines last), then in the order they became complete."""
    require_role(actor, *access.REVIEW_ROLES)
    if actor.provider_id is None:
        raise Forbidden(code="review_staff_only")
    if not 1 <= limit <= QUEUE_LIMIT:
        raise InvalidInput(code="queue_limit", limit=QUEUE_LIMIT)
    today = clock.today()
    rows = list(
        Application.objects.visible_to(actor)
        .filter(state__in=list(IN_REVIEW))
        .select_related("organization", "handler", "entered_by")
        .order_by(F("due_date").asc(nulls_last=True), "complete_at", "pk")[:limit]
    )
    return [entry(application, today) for application in with_lines(rows)]


def approve(actor: User, number: str, *, note: str = "") -> Application:
    """审核通过: every current document is accepted and the application awaits issuance."""
    with access.locked(actor, number, "hall.application.approve") as application:
        access.require_staff(actor, application, *access.REVIEW_ROLES)
        _require_another(actor, application, "审核通过")
        note = identity.visible_text(note.strip(), NOTE_LIMIT, "审核意见", lines=True)
        now = clock.now()
        transition(
            actor,
            APPLICATIONS,
            application,
            State.APPROVED,
            action="hall.application.approve",
            reason=note,
            fields={"approved_at": now, "approved_by_id": actor.pk},
            only_from=IN_REVIEW,
        )
        application.documents.filter(superseded=False, status=Document.Status.PENDING).update(
            status=Document.Status.ACCEPTED, reviewed_by=actor, reviewed_at=now
        )
        notices.review_result(actor, application, approved=True, reason=note)
        licence.checked_by_review(actor, application.organization)
    return application


def return_application(
    actor: User, number: str, *, reasons: Mapping[int, str], note: str = ""
) -> Application:
    """退回补正: each document named in ``reasons`` (document id -> reason) is returned with
    its reason, the others are accepted; ``note`` is a general remark. At least one reason."""
    with audit.refusals_recorded(
        actor, "hall.application.return", object_type="application", object_id=number
    ):
        require_role(actor, *access.REVIEW_ROLES)
        note = identity.visible_text(note.strip(), NOTE_LIMIT, "退回说明", lines=True)
        cleaned = {int(k): str(v).strip() for k, v in reasons.items()}
        if any(not text or len(text) > REASON_LIMIT for text in cleaned.values()):
            raise InvalidInput(code="return_reason", limit=REASON_LIMIT)
        for reason in cleaned.values():
            identity.refuse_invisible(reason, "退回原因", lines=True)
        if not cleaned and not note:
            raise InvalidInput(code="reason_missing")
        with transaction.atomic():
            application = access.load(actor, number, lock=True)
            access.require_staff(actor, application, *access.REVIEW_ROLES)
            _require_another(actor, application, "审核")
            current = {d.pk: d for d in application.documents.filter(superseded=False)}
            unknown = sorted(set(cleaned) - set(current))
            if unknown:
                raise InvalidInput(
                    code="document_unknown", unknown=unknown, number=application.number
                )
            now = clock.now()
            returned = {}
            for document in current.values():
                if document.pk in cleaned:
                    document.status = Document.Status.RETURNED
                    document.review_reason = cleaned[document.pk]
                    returned[document.kind] = document.review_reason
                else:
                    document.status = Document.Status.ACCEPTED
                    document.review_reason = ""
                document.reviewed_by = actor
                document.reviewed_at = now
                document.save(
                    update_fields=["status", "review_reason", "reviewed_by", "reviewed_at"]
                )
            transition(
                actor,
                APPLICATIONS,
                application,
                State.RETURNED,
                action="hall.application.return",
                reason=note or "；".join(returned.values()),
                fields={"return_note": note},
                extra_after={"documents": returned},
            )
            notices.review_result(
                actor, application, approved=False, reason=note or "；".join(returned.values())
            )
    return application
