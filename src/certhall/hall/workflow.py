"""Around the application lifecycle (``states.APPLICATIONS``, changed only through
``certhall.lifecycle.transition``): the hall's system actor, the changes of an issuance (the
claim, done, the way back after a failure or a crash) and the handing over, numbering and
deadlines.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime

from django.db import transaction

from certhall import crashpoints
from certhall.accounts.models import User
from certhall.accounts.services import system_actor
from certhall.errors import CerthallError
from certhall.hall import access
from certhall.hall.models import Application
from certhall.hall.states import APPLICATIONS, State
from certhall.lifecycle import transition
from certhall.messages import text
from certhall.rules import Channel as RuleChannel
from certhall.rules import default_catalog, local
from certhall.rules.workdays import Deadline, WorkCalendar, current
from certhall.ukeys import writes

#: The actor of what the hall does by itself (auto-approval of a paid online renewal).
SYSTEM_NAME = "hall"


def hall_system() -> User:
    return system_actor(SYSTEM_NAME)


@contextlib.contextmanager
def issuing(actor: User, number: str, crashpoint: str, what: str) -> Iterator[Application]:
    """Claim an approved application for issuance (``approved -> issuing``, owned by this
    process: recovery puts it back once the process is gone), then run the block; if the block
    fails, :func:`back_to_approved` with ``what`` (the catalogue code of the history's note,
    ``history_issue_failed``) and the error, which is raised again."""
    with transaction.atomic():
        application = access.load(actor, number, lock=True)
        transition(
            actor,
            APPLICATIONS,
            application,
            State.ISSUING,
            action="hall.application.issuing",
            fields={"issuing_owner": writes.owner()},
        )
    crashpoints.reached(crashpoint)
    try:
        yield application
    except Exception as error:
        back_to_approved(actor, application, error, what)
        raise


def issued(
    actor: User,
    application: Application,
    certificates: Sequence[str | None],
    at: datetime,
    **extra: object,
) -> None:
    """``issuing -> issued`` at ``at``, the serials of the new ``certificates`` (and ``extra``)
    in the audit event. Inside the caller's transaction."""
    transition(
        actor,
        APPLICATIONS,
        application,
        State.ISSUED,
        action="hall.application.issue",
        fields={"issued_at": at},
        extra_after={"certificates": certificates, **extra},
    )


def delivered(actor: User, application: Application, reason: str, **fields: object) -> None:
    """``issued -> delivered`` (``fields``: ``delivered_at`` and what the handing over
    recorded), ``reason`` says how. Inside the caller's transaction."""
    transition(
        actor,
        APPLICATIONS,
        application,
        State.DELIVERED,
        action="hall.application.deliver",
        reason=reason,
        fields=fields,
    )


def put_back(actor: User, application: Application, reason: str, **fields: object) -> None:
    """``issuing -> approved``: the issuance failed or was abandoned, ``reason`` says why; lines
    already done stay done. Inside the caller's transaction."""
    transition(
        actor,
        APPLICATIONS,
        application,
        State.APPROVED,
        action="hall.application.issue_failed",
        reason=reason,
        fields=fields,
        only_from={State.ISSUING},
    )


def back_to_approved(actor: User, application: Application, error: Exception, what: str) -> None:
    """:func:`put_back` after a failed issuance, with the error as the reason. Never hides the
    original error (a failure here is swallowed). An error that is not a refusal is told in the
    catalogue's words for a failure (the history is read by the customer too, never a Python
    class name); the error itself is raised again, and the boundary logs it."""
    if not isinstance(error, CerthallError):
        error = CerthallError(code="server_error")
    message = error.message
    with contextlib.suppress(CerthallError), transaction.atomic():
        application.refresh_from_db()
        put_back(actor, application, text(what, error=message)[:200])


def number_for(pk: int, created: datetime) -> str:
    """SQ<Shanghai date>-<row id, six digits or more>: unique because the row id is."""
    return f"SQ{local(created):%Y%m%d}-{pk:06d}"


def deadline(
    application: Application, at: datetime, calendar: WorkCalendar | None = None
) -> Deadline:
    """The processing deadline of an application whose documents are complete at ``at``.

    On site: that day ("现场办理:当天办结"). Online: the catalog's working days (3) from that
    day on the working-day calendar (the start day never counts); provisional (预计) when it
    counts days of a year whose official holiday arrangement is not known yet. ``calendar``:
    another than the current one (an import's preview: the deadlines it would move).
    """
    day = local(at).date()
    spec = default_catalog().processing[RuleChannel(application.channel)]
    if spec.working_days is None:
        return Deadline(day, provisional=False)
    return (calendar or current()).working_deadline(day, spec.working_days)


def queue_entry_fields(application: Application, at: datetime) -> dict[str, object]:
    """What entering the review queue sets: the clock start and the deadline. An online
    renewal is not reviewed (the hall approves it at once): it has no deadline."""
    if application.is_online_renewal:
        return {"complete_at": at}
    due = deadline(application, at)
    return {"complete_at": at, "due_date": due.due, "due_provisional": due.provisional}
