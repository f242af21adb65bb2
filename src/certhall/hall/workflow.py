"""The one place an application changes state, plus numbering and deadlines.

:func:`move` checks the transition table, changes the state with a conditional UPDATE (only if
the state is still the one read: two clerks acting at once get one change and one Conflict) and
records actor, time and reason in the audit chain. The caller holds the transaction, so the
state change, its side effects and its audit event commit together.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import transaction

from certhall import clock
from certhall.accounts.models import User
from certhall.accounts.services import system_actor
from certhall.audit import services as audit
from certhall.errors import CerthallError, Conflict
from certhall.hall import states
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.rules import Channel as RuleChannel
from certhall.rules import default_catalog, local
from certhall.rules.workdays import Deadline, working_deadline

#: The actor of what the hall does by itself (auto-approval of a paid online renewal).
SYSTEM_NAME = "hall"


def hall_system() -> User:
    return system_actor(SYSTEM_NAME)


def snapshot(application: Application) -> dict[str, Any]:
    return {
        "state": application.state,
        "fee_total": str(application.fee_total),
        "postage": str(application.postage),
        "due_date": application.due_date.isoformat() if application.due_date else None,
        "due_provisional": application.due_provisional,
        "payment_reference": application.payment_reference,
    }


def move(
    actor: User,
    application: Application,
    target: State,
    *,
    action: str,
    reason: str = "",
    fields: Mapping[str, object] | None = None,
    extra: Mapping[str, object] | None = None,
) -> Application:
    """Move ``application`` to ``target`` if the table allows it; caller is in a transaction.

    Conflict ``application_state`` when the table forbids it, ``application_changed`` when
    someone else changed the state since it was read. Nothing is changed in either case.
    """
    current = application.state
    if not states.allowed(current, target):
        raise Conflict(
            states.refusal(application.number, current, target), code="application_state"
        )
    before = snapshot(application)
    now = clock.now()
    changed = Application.objects.filter(pk=application.pk, state=current).update(
        state=target, updated_at=now, **(fields or {})
    )
    if not changed:
        application.refresh_from_db()
        raise Conflict(
            f"申请 {application.number} 刚被他人处理，现为“{states.describe(application.state)}”，"
            "请刷新后再试。",
            code="application_changed",
        )
    application.refresh_from_db()
    audit.record(
        actor,
        action,
        object_type="application",
        object_id=application.number,
        before=before,
        after={**snapshot(application), "reason": reason, **(extra or {})},
    )
    return application


def back_to_approved(actor: User, application: Application, error: Exception, what: str) -> None:
    """``issuing -> approved`` after a failed issuance, with the error as the reason; lines
    already done stay done. Never hides the original error (a failure here is swallowed)."""
    message = error.message if isinstance(error, CerthallError) else type(error).__name__
    with contextlib.suppress(CerthallError), transaction.atomic():
        application.refresh_from_db()
        move(
            actor,
            application,
            State.APPROVED,
            action="hall.application.issue_failed",
            reason=f"{what}：{message}"[:200],
        )


def number_for(pk: int, created: datetime) -> str:
    """SQ<Shanghai date>-<row id, six digits or more>: unique because the row id is."""
    return f"SQ{local(created):%Y%m%d}-{pk:06d}"


def deadline(application: Application, at: datetime) -> Deadline:
    """The processing deadline of an application whose documents are complete at ``at``.

    On site: that day ("现场办理:当天办结"). Online: the catalog's working days (3) from that
    day on the working-day calendar (the start day never counts); provisional (预计) when it
    counts days of a year whose official holiday arrangement is not known yet.
    """
    day = local(at).date()
    spec = default_catalog().processing[RuleChannel(application.channel)]
    if spec.working_days is None:
        return Deadline(day, provisional=False)
    return working_deadline(day, spec.working_days)


def queue_entry_fields(application: Application, at: datetime) -> dict[str, object]:
    """What entering the review queue sets: the clock start and the deadline."""
    due = deadline(application, at)
    return {"complete_at": at, "due_date": due.due, "due_provisional": due.provisional}
