"""The console's application page, its parts: the counter checklist, which forms the actor
sees (the flags: the services check again), the issue form's words."""

from __future__ import annotations

from typing import Any

from certhall.accounts.models import Role, User
from certhall.hall import access, documents, payment, review
from certhall.hall.models import Application, Business, Channel
from certhall.hall.states import EDITABLE, FINAL, IN_REVIEW, State, done_words
from certhall.rules import default_catalog


def checklist(application: Application, detail: dict[str, Any]) -> list[dict[str, Any]]:
    catalog = default_catalog()
    have = {d["kind"]: d for d in detail["documents"] if not d["superseded"]}
    rows = []
    for kind in detail["required_documents"]:
        spec = catalog.documents.get(kind)
        document = have.get(kind)
        rows.append(
            {
                "kind": kind,
                "name": documents.document_name(kind),
                "original_required": bool(spec and spec.original_checked_onsite),
                "document": document,
                # a copy the reviewer returned is received again (check_at_counter records a
                # new one): its boxes are offered empty, not shown ticked from the first time
                "returned": bool(document and document["status"] == "returned"),
            }
        )
    return rows


def flags(actor: User, application: Application, lines: list[Any]) -> dict[str, bool]:
    """Which actions the page offers (display only: the services decide)."""
    role, state = actor.role, application.state
    onsite = application.channel == Channel.ONSITE
    counter_role = role in access.COUNTER_ROLES and onsite
    online_renewal = application.is_online_renewal
    pending = {line.business for line in lines if line.done_at is None}
    issue_roles = access.issue_roles(application.channel, pending)
    return {
        "can_edit_items": counter_role and state == State.DRAFT,
        "can_check": counter_role and state in EDITABLE,
        # a draft without lines is refused at submission (no_items): its card says to add one
        "can_submit": counter_role and state == State.DRAFT and bool(lines),
        "submit_needs_items": counter_role and state == State.DRAFT and not lines,
        "can_resubmit": counter_role and state == State.RETURNED,
        "can_pay": counter_role and state == State.AWAITING_PAYMENT,
        "can_review": role in access.REVIEW_ROLES and state in IN_REVIEW,
        "self_entered": role in access.REVIEW_ROLES
        and state in IN_REVIEW
        and review.entered(actor, application),
        "can_issue": role in issue_roles
        and state == State.APPROVED
        and not online_renewal
        and application.approved_by_id != actor.pk,
        "self_approved": role in issue_roles
        and state == State.APPROVED
        and application.approved_by_id == actor.pk,
        "can_deliver": role in access.DELIVERY_ROLES
        and state == State.ISSUED
        and not online_renewal,
        "can_cancel": (counter_role or role == Role.CA_ADMIN)
        and application.paid_at is None
        and state not in FINAL | {State.ISSUING, State.ISSUED},
        "can_refund": role in access.REFUND_ROLES and state in payment.REFUNDABLE,
        "can_print": onsite and bool(lines) and application.handler_id is not None,
    }


def issue_words(application: Application, pending: list[Any]) -> dict[str, str]:
    """The issue form's title and button in the words of what it does: 制证 when a certificate
    is made, otherwise 解锁 / 吊销 (nothing is 制证 then)."""
    if done_words(line.business for line in pending) is None:
        onsite = application.channel == Channel.ONSITE
        return {"title": "制证", "button": "制证并当场交付" if onsite else "制证"}
    names = "、".join(dict.fromkeys(Business(line.business).label for line in pending))
    return {"title": names, "button": f"确认{names}"}
