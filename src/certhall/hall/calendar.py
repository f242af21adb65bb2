"""The working-day calendar as the operator's data (docs/rules.md, "Working-day calendar").

Imported years (the State Council's notice, loaded with ``certhall calendar import``) live in
:class:`CalendarYear` and override the packaged calendar; years nobody has published are counted
provisionally by :mod:`certhall.rules.workdays`. This module feeds the imported years to the
rules (:func:`provider`, installed at start-up), imports a year with its audit event, and
recomputes the deadlines of open applications when a year changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import QuerySet

from certhall import clock
from certhall.accounts.models import Provider, Role, User
from certhall.accounts.permissions import passes, require_provider, require_role
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.errors import Conflict
from certhall.hall import workflow
from certhall.hall.models import Application, CalendarYear
from certhall.hall.states import FINAL, snapshot
from certhall.messages import text
from certhall.pki import identity
from certhall.rules.workdays import Arrangement, Deadline, WorkCalendar, YearStatus

log = logging.getLogger(__name__)

#: How long a process trusts its copy of the imported years. An import invalidates the copy of
#: the importing process at once; other processes (app servers, jobs) follow within this time.
CACHE_SECONDS = 60.0

_lock = threading.Lock()
_cached: tuple[float, WorkCalendar] | None = None


def _arrangement(row: CalendarYear) -> Arrangement:
    return Arrangement.parse(
        {"year": row.year, "holidays": row.holidays, "workdays": row.workdays, "source": row.source}
    )


def load() -> WorkCalendar:
    """The calendar with every imported year, read from the database now."""
    return WorkCalendar(_arrangement(row) for row in CalendarYear.objects.all())


def provider() -> WorkCalendar:
    """The current calendar for :func:`certhall.rules.workdays.install`.

    Never stops the hall: if the imported years cannot be read (no table yet, database down), it
    logs and counts with the packaged calendar and the law until they can.
    """
    global _cached
    with _lock:
        if _cached is not None and time.monotonic() - _cached[0] < CACHE_SECONDS:
            return _cached[1]
    try:
        with transaction.atomic():  # a savepoint: a failure here must not poison the caller's
            calendar = load()
    except Exception:
        log.warning("imported holiday arrangements unreadable; counting without them")
        return WorkCalendar()
    with _lock:
        _cached = (time.monotonic(), calendar)
    return calendar


def invalidate() -> None:
    global _cached
    with _lock:
        _cached = None


@dataclass
class ImportResult:
    year: int
    created: bool
    changed: bool
    #: (application number, old due date, new due date) of every deadline that moved.
    recomputed: list[tuple[str, date | None, date | None]] = field(default_factory=list)
    #: The law's holidays the arrangement does not give off (probably a typo; not refused).
    missing_statutory_days: tuple[date, ...] = ()
    #: Days of a December that this file and the neighbouring year's import arrange otherwise
    #: (day, the year whose notice counts: the following year's), to be told, not refused.
    overridden: tuple[tuple[date, int], ...] = ()
    #: The year's stored arrangement the result was read against (:func:`preview`), for the
    #: confirmation to be refused if it changed since (a stale preview).
    basis: str = ""


def require_importer(actor: User) -> None:
    """Who may import a year: a CA administrator of this instance's CA (docs/rules.md: the
    calendar is national, one for every provider's deadlines; its operator is the home CA)."""
    require_role(actor, Role.CA_ADMIN)
    require_provider(actor, home_provider().pk)


def _basis(row: CalendarYear | None) -> str:
    """A short digest of a year's stored arrangement ("none" before any import)."""
    if row is None:
        return "none"
    data = json.dumps(_arrangement(row).as_json(), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()[:16]


def _moves(
    applications: QuerySet[Application], calendar: WorkCalendar | None = None
) -> list[tuple[Application, Deadline]]:
    """The applications whose deadline ``calendar`` (or the current one) counts otherwise than
    stored, with the deadline it counts. An online renewal has none (nobody reviews it:
    ``workflow.queue_entry_fields``); until 12-06 an import gave the approved ones one."""
    moved = []
    for application in applications:
        if application.is_online_renewal:
            continue
        due = workflow.deadline(application, application.complete_at or clock.now(), calendar)
        if (due.due, due.provisional) != (application.due_date, application.due_provisional):
            moved.append((application, due))
    return moved


def _open_with_clock(among: QuerySet[Application] | None = None) -> QuerySet[Application]:
    """The open applications (of ``among``, or all) whose review clock has started."""
    applications = Application.objects.all() if among is None else among
    open_ones = applications.exclude(state__in=FINAL).exclude(complete_at=None)
    return open_ones.prefetch_related("items")  # is_online_renewal


def _kind(arrangement: Arrangement, day: date) -> str:
    if day in arrangement.holidays:
        return "holiday"
    return "workday" if day in arrangement.workdays else "ordinary"


def _disagreements(arrangement: Arrangement) -> tuple[tuple[date, int], ...]:
    """The December days on which ``arrangement`` and the imports of the year before and the
    year after disagree: a year's notice arranges days of the December before (元旦's block),
    and those override that year's own arrangement (``WorkCalendar``)."""
    rows = CalendarYear.objects.filter(year__in=(arrangement.year - 1, arrangement.year + 1))
    others = {row.year: _arrangement(row) for row in rows}
    found: list[tuple[date, int]] = []
    before, after = others.get(arrangement.year - 1), others.get(arrangement.year + 1)
    if before is not None:  # this file's days of the December before count over its import
        own = sorted(d for d in arrangement.holidays | arrangement.workdays if d.month == 12)
        own = [d for d in own if d.year < arrangement.year]
        found += [(d, arrangement.year) for d in own if _kind(before, d) != _kind(arrangement, d)]
    if after is not None:  # the following year's notice counts over this file's December
        theirs = sorted(d for d in after.holidays | after.workdays if d.year == arrangement.year)
        found += [(d, after.year) for d in theirs if _kind(after, d) != _kind(arrangement, d)]
    return tuple(found)


def preview(actor: User, arrangement: Arrangement) -> ImportResult:
    """What :func:`import_year` would do, nothing written: whether the year changes, the law's
    days missing, the December days arranged otherwise, the deadlines it would move (number, old
    and new due date), and the stored version it was read against (``basis``)."""
    require_importer(actor)
    row = CalendarYear.objects.filter(year=arrangement.year).first()
    before = None if row is None else _arrangement(row).as_json()
    others = [a for year, a in load().imported.items() if year != arrangement.year]
    calendar = WorkCalendar([*others, arrangement])
    fields = ("pk", "number", "channel", "complete_at", "due_date", "due_provisional")
    moves = _moves(_open_with_clock().only(*fields).order_by("pk"), calendar)
    return ImportResult(
        arrangement.year,
        created=row is None,
        changed=before != arrangement.as_json(),
        recomputed=[(a.number, a.due_date, due.due) for a, due in moves],
        missing_statutory_days=arrangement.missing_statutory_days(),
        overridden=_disagreements(arrangement),
        basis=_basis(row),
    )


def import_year(actor: User, arrangement: Arrangement, *, basis: str | None = None) -> ImportResult:
    """Store ``arrangement`` (replacing an earlier import of its year) and recompute the
    deadlines of open applications, all in one transaction with its audit events.

    Its ``source`` is what staff read of where the year comes from: nothing invisible
    (``text_chars``) and at most the column's 200 characters (``field_too_long``), checked
    here, not in :meth:`Arrangement.parse`, which reads the stored years too (a row stored
    before is shown as it is, never made unreadable).

    Only a CA administrator of this instance's CA (:func:`require_importer`). Importing what is
    stored already changes nothing (a confirmation posted twice); ``basis`` (from
    :func:`preview`) refuses a year stored otherwise since the preview was read."""
    require_importer(actor)
    limit = CalendarYear._meta.get_field("source").max_length or 0
    identity.visible_text(arrangement.source, limit, "“source”")
    result = ImportResult(
        arrangement.year,
        created=False,
        changed=False,
        missing_statutory_days=arrangement.missing_statutory_days(),
        overridden=_disagreements(arrangement),
    )
    data = arrangement.as_json()
    with transaction.atomic():
        # Imports one after the other, the first of a year too (no row of its own to lock yet:
        # two confirmations at once both stored it, two audit events, until 12-06). The home
        # provider's row always exists; NO KEY: rows referring to it are still inserted.
        Provider.objects.select_for_update(no_key=True).filter(pk=home_provider().pk).get()
        row = CalendarYear.objects.select_for_update().filter(year=arrangement.year).first()
        before = None if row is None else _arrangement(row).as_json()
        if before == data:
            return result
        if basis is not None and basis != _basis(row):
            raise Conflict(code="calendar_stale", year=arrangement.year)
        fields = {
            "holidays": data["holidays"],
            "workdays": data["workdays"],
            "source": arrangement.source,
            "imported_at": clock.now(),
            "imported_by": actor,
        }
        CalendarYear.objects.update_or_create(year=arrangement.year, defaults=fields)
        result.created, result.changed = row is None, True
        audit.record(
            actor,
            "calendar.import",
            object_type="calendar_year",
            object_id=arrangement.year,
            before=before,
            after=data,
        )
        invalidate()
        transaction.on_commit(invalidate)
        result.recomputed = recompute_deadlines(actor)
    return result


def recompute_deadlines(
    actor: User, among: QuerySet[Application] | None = None
) -> list[tuple[str, date | None, date | None]]:
    """Recompute the deadline of every open application whose review clock has started (of
    ``among``, or all); each change is an audit event of that application. The caller holds the
    transaction."""
    changes: list[tuple[str, date | None, date | None]] = []
    open_apps = _open_with_clock(among)
    for application, due in _moves(open_apps.select_for_update().order_by("pk")):
        before, old_due = snapshot(application), application.due_date
        Application.objects.filter(pk=application.pk).update(
            due_date=due.due, due_provisional=due.provisional
        )
        application.due_date, application.due_provisional = due.due, due.provisional
        audit.record(
            actor,
            "hall.application.deadline_recomputed",
            object_type="application",
            object_id=application.number,
            before=before,
            after=snapshot(application),
        )
        changes.append((application.number, old_due, application.due_date))
    return changes


def refresh_estimates(actor: User) -> list[tuple[str, date | None, date | None]]:
    """The deadlines still stored as 预计 that the calendar now counts otherwise, recomputed (the
    jobs, every round). An import recomputes in its own transaction; this catches a year the
    calendar learned any other way (chinese-calendar upgraded to know it, a row written by
    hand), whose estimates stayed 预计 for good before (12-06). Reads without a lock and locks
    only what changes: the estimates are few, the round runs every minute."""
    estimates = (
        _open_with_clock()
        .filter(due_provisional=True)
        .only("pk", "channel", "complete_at", "due_date", "due_provisional")
    )
    stale = [application.pk for application, _ in _moves(estimates)]
    if not stale:
        return []
    with transaction.atomic():
        return recompute_deadlines(actor, Application.objects.filter(pk__in=stale))


def statuses(calendar: WorkCalendar, years: range) -> list[YearStatus]:
    return [calendar.status(year) for year in years]


def around(year: int) -> list[YearStatus]:
    """Last, this and next year: what the 节假日安排 page and a CA administrator's home show."""
    return statuses(provider(), range(year - 1, year + 2))


def may_import(actor: User) -> bool:
    return passes(require_importer, actor)


def next_year_warning(today: date, calendar: WorkCalendar | None = None) -> str | None:
    """The warning staff and the jobs see while this year is provisional, and from 1 November
    while next year is. Until 12-06 only the latter: on 1 January the unimported year became
    this year and the warning stopped, while every deadline went on being 预计."""
    calendar = calendar or provider()
    years = (today.year, today.year + 1) if today.month >= 11 else (today.year,)
    missing = next((year for year in years if calendar.status(year).provisional), None)
    if missing is None:
        return None
    return text("calendar_warning", year=missing)
