"""Writing and verifying the audit chain. Services call ``record`` inside their transaction."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction

from certhall import clock, ratelimit
from certhall.accounts.models import User
from certhall.audit import checkpoints
from certhall.audit.chain import GENESIS, event_hash
from certhall.audit.models import OBJECT_ID_LENGTH, AuditEvent, AuditHead
from certhall.bulk import insert_row, insert_rows, insert_sql
from certhall.errors import CerthallError, TooManyRequests, quoted
from certhall.messages import text
from certhall.reads import prepared_cursor

log = logging.getLogger(__name__)

OK = "ok"
REFUSED = "refused"


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database returns."""
    if value is None:
        return None
    return _storable(json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)))


def _storable(value: Any) -> Any:
    """U+0000 as U+2400 (␀), in keys and values: PostgreSQL's jsonb cannot hold it, and a
    refusal's event records what was typed, a NUL the refusal names among it. The same on
    both databases, so the hash is of what is stored."""
    if isinstance(value, str):
        return value.replace("\x00", "\u2400")
    if isinstance(value, list):
        return [_storable(item) for item in value]
    if isinstance(value, dict):
        return {_storable(key): _storable(item) for key, item in value.items()}
    return value


def record(
    actor: User,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    before: Any = None,
    after: Any = None,
    result: str = OK,
) -> AuditEvent:
    """Append one event. Joins the caller's transaction: if the action rolls back, so does
    its event. The head row is locked, so concurrent writers form one chain. (No savepoint
    inside the caller's transaction: an event that fails to write fails the whole action.)
    Inside :func:`deferred`, the event is kept and written when the block ends."""
    fields = {
        # The platform clock: the event shows the same moment as the row it changed.
        "at": clock.now(),
        "actor": actor.label(),
        "actor_id": actor.pk,
        "action": action,
        "object_type": object_type,
        "object_id": quoted(object_id, OBJECT_ID_LENGTH - 1),
        "before": _jsonable(before),
        "after": _jsonable(after),
        "result": result,
    }
    kept = _kept.get()
    if kept is not None:
        kept.keep(fields)
        return AuditEvent(**fields)
    with transaction.atomic(savepoint=False):
        [event] = _chained([fields], _locked_head())
        return _append(event)


def _chained(
    pending: list[dict[str, Any]], head: tuple[int, str, datetime | None, int]
) -> list[AuditEvent]:
    """The events of ``pending`` (in order) chained after ``head``: numbered, each hashed over
    the one before, never timed before it (a clock set back writes that moment again)."""
    seq, prev_hash, last_at, keyed_from = head
    events = []
    for values in pending:
        seq += 1
        fields = {**values, "seq": seq, "at": _not_before(values["at"], last_at)}
        digest = event_hash(prev_hash, _key_for(seq, keyed_from), **fields)
        events.append(AuditEvent(prev_hash=prev_hash, hash=digest, **fields))
        prev_hash, last_at = digest, fields["at"]
    return events


@dataclass
class _Kept:
    """The events a :func:`deferred` block recorded, not yet written."""

    savepoints: int
    events: list[dict[str, Any]]

    def keep(self, fields: dict[str, Any]) -> None:
        # A savepoint rolled back alone would take its changes but not their kept events.
        if any(sid is not None for sid in connection.savepoint_ids[self.savepoints :]):
            raise RuntimeError("audit.deferred: an event recorded inside a savepoint")
        self.events.append(fields)


_kept: ContextVar[_Kept | None] = ContextVar("audit_kept", default=None)


@contextmanager
def deferred() -> Iterator[None]:
    """Inside the caller's transaction: the events recorded in the block are written when it
    ends, in their order, under one lock of the chain's head (nothing with the block's
    exception). A long operation (a bank return file of thousands of lines) then holds the
    lock, which every audited operation of the platform takes, for the time of one write
    instead of its whole length. Nothing inside may roll back a savepoint alone: ``record``
    refuses an event inside one."""
    if not connection.in_atomic_block or _kept.get() is not None:
        raise RuntimeError("audit.deferred: inside a transaction, and not twice")
    kept = _Kept(len(connection.savepoint_ids), [])
    token = _kept.set(kept)
    try:
        yield
    finally:
        _kept.reset(token)
    if kept.events:
        _append_all(_chained(kept.events, _locked_head()))


def _append_all(events: list[AuditEvent]) -> None:
    rows = (
        [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _EVENT_FIELDS]
        for event in events
    )
    insert_rows(AuditEvent, _EVENT_COLUMNS, rows)
    last = events[-1]
    at = AuditHead._meta.get_field("at").get_db_prep_save(last.at, connection)
    with prepared_cursor(connection) as cursor:
        cursor.execute(_sql(_HEAD_UPDATE), [last.seq, last.hash, at])


# Every operation of the platform writes an event, so the three statements are written out
# once (the head's here, the event's by ``bulk.insert_row``) rather than compiled by the ORM on
# each call (measured: 3 of the 4.7 ms of a single issuance on SQLite went to the ORM's audit
# write). Values still go through the fields' own conversion (``get_db_prep_save``), so rows
# are exactly what the ORM would write.
_EVENT_FIELDS = [f for f in AuditEvent._meta.concrete_fields if not f.primary_key]
_EVENT_COLUMNS = tuple(str(f.column) for f in _EVENT_FIELDS)


def _sql(template: str) -> str:
    return _compiled(template, connection.vendor)


@functools.cache
def _compiled(template: str, vendor: str) -> str:
    q = connection.ops.quote_name
    return template.format(
        head=q(AuditHead._meta.db_table),
        lock=" FOR UPDATE" if connection.features.has_select_for_update else "",
    )


def _locked_head() -> tuple[int, str, datetime | None, int]:
    """The head's seq, hash, time and keyed_from, locked until the transaction ends."""
    with prepared_cursor(connection) as cursor:
        cursor.execute(_sql('SELECT seq, hash, "at", keyed_from FROM {head} WHERE id = 1{lock}'))
        row = cursor.fetchone()
    if row is None:  # the first event of a new database
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS, "keyed_from": 0}
        )
        return head.seq, head.hash, head.at, head.keyed_from
    return row[0], row[1], _aware(row[2]), row[3]


def _aware(value: datetime | str | None) -> datetime | None:
    """A datetime as the ORM would return it (SQLite hands raw reads back naive, in UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _append(event: AuditEvent) -> AuditEvent:
    values = [f.get_db_prep_save(getattr(event, f.attname), connection) for f in _EVENT_FIELDS]
    at = AuditHead._meta.get_field("at").get_db_prep_save(event.at, connection)
    head = [event.seq, event.hash, at]
    if connection.vendor == "postgresql":
        # The event and the head in one statement: one round trip fewer for every audited
        # operation (a data-modifying WITH runs once, read or not).
        with prepared_cursor(connection) as cursor:
            cursor.execute(_append_sql(), [*values, *head])
            event.pk = cursor.fetchone()[0]
    else:
        event.pk = insert_row(AuditEvent, _EVENT_COLUMNS, values)
        with prepared_cursor(connection) as cursor:
            cursor.execute(_sql(_HEAD_UPDATE), head)
    event._state.adding = False
    return event


_HEAD_UPDATE = 'UPDATE {head} SET seq = %s, hash = %s, "at" = %s WHERE id = 1'


@functools.cache
def _append_sql() -> str:
    event = insert_sql(AuditEvent, _EVENT_COLUMNS)
    head = _sql(_HEAD_UPDATE)
    return f"WITH event AS ({event}), head AS ({head}) SELECT id FROM event"  # noqa: S608


def _not_before(now: datetime, last: datetime | None) -> datetime:
    if last is None or now >= last:
        return now
    log.warning("the clock is %s behind the audit log", last - now)
    return last


def _key_for(seq: int, keyed_from: int) -> bytes | None:
    return checkpoints.audit_key() if seq > keyed_from else None


def in_transaction() -> bool:
    """Inside a transaction that can still roll back. A test case's own wrapping block does not
    count: it stands for the autocommit a request, a command or a job runs in."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)


@dataclass(frozen=True)
class Refused:
    """What a refusal's event says that is known only when the action is refused (what a
    request carried, read inside the block): ``object_id`` in place of the block's (None: the
    block's), ``after`` beside the error's code and words, and ``source`` when nobody
    authenticated the request (``unauthenticated``): the event then goes through
    :func:`record_unauthenticated_refusal`, at most one per source and window."""

    object_id: object = None
    after: Mapping[str, object] = field(default_factory=dict)
    unauthenticated: bool = False
    source: str | None = None


@dataclass
class _Refusals:
    """The refusals met in the transactions inside one :func:`refusals_recorded` block entered
    outside any, written when the block ends: each error once, by the outermost block it
    reached (``(error, actor, fields)``, in the order they were met)."""

    kept: list[tuple[CerthallError, User | Callable[[], User], dict[str, Any]]]

    def keep(
        self, error: CerthallError, actor: User | Callable[[], User], fields: dict[str, Any]
    ) -> None:
        self.kept = [entry for entry in self.kept if entry[0] is not error]
        self.kept.append((error, actor, fields))


_refusals: ContextVar[_Refusals | None] = ContextVar("audit_refusals", default=None)


@contextmanager
def refusals_recorded(
    actor: User | Callable[[], User],
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    refused: Refused | Callable[[], Refused] | None = None,
) -> Iterator[None]:
    """Record a refused action in its own transaction, after the action's one rolled back.

    Wrap the service's ``transaction.atomic()`` block with this, not the other way round. A
    refusal event is never written inside a transaction (it would roll back with the action).
    Entered inside one (a service that another calls in its transaction, a command's), the
    block only keeps its refusal for the enclosing block entered outside any, which writes it
    when it ends: an error that reaches that block is recorded as that block's action (once),
    one caught on the way as the inner block's. Inside a transaction with no such block around
    it, a RuntimeError (as ``lifecycle.transition`` insists on the opposite).

    ``refused`` is what the event says beyond the block's own fields (:class:`Refused`), or a
    callable asked for it at the moment of the refusal (a payment notification's fields, read
    inside the block).
    A block inside another, with or without a transaction between them, also leaves the
    writing to the outer block.

    A rate limit's refusal (``TooManyRequests``) is recorded once per window, its
    ``first_refusal``: not every request of a flood. ``actor`` may be a callable, asked only
    when an event is written (an anonymous step's system actor, a query saved on every request
    that is not refused).
    """
    fields = {"action": action, "object_type": object_type, "object_id": object_id}
    outer = _refusals.get()
    if outer is None and in_transaction():
        raise RuntimeError(
            f"audit.refusals_recorded({action}): inside a transaction, and no block outside "
            "one to record its refusal after the rollback"
        )
    if outer is not None:
        # Nested (in a transaction or not): the outermost block writes, so each error once.
        try:
            yield
        except CerthallError as error:
            outer.keep(error, actor, _described(fields, refused))
            raise
        return
    refusals = _Refusals([])
    token = _refusals.set(refusals)
    try:
        yield
    except CerthallError as error:
        refusals.keep(error, actor, _described(fields, refused))
        raise
    finally:
        _refusals.reset(token)
        for refusal, by, kept in refusals.kept:
            _record_refusal(refusal, by, kept)


def _described(
    fields: dict[str, Any], refused: Refused | Callable[[], Refused] | None
) -> dict[str, Any]:
    said = refused() if callable(refused) else refused or Refused()
    object_id = fields["object_id"] if said.object_id is None else said.object_id
    return {**fields, "object_id": object_id, "said": said}


def _record_refusal(
    refusal: CerthallError, actor: User | Callable[[], User], kept: dict[str, Any]
) -> None:
    if isinstance(refusal, TooManyRequests) and not refusal.first_refusal:
        return
    by = actor if isinstance(actor, User) else actor()
    said: Refused = kept["said"]
    after = {
        "error": refusal.code,
        "message": refusal.message,
        **refusal.for_audit,
        **said.after,
    }
    where = {"object_type": kept["object_type"], "object_id": kept["object_id"]}
    if said.unauthenticated:
        record_unauthenticated_refusal(by, kept["action"], source=said.source, after=after, **where)
    else:
        record(by, kept["action"], after=after, result=REFUSED, **where)


#: Refusals of requests nobody authenticated, which anyone can send as often as they like
#: (a forged payment notification): at most one audit event per source and window, carrying
#: how many were refused since the last one (``ratelimit.tally``). Never one row each: the
#: audit chain is not a place to amplify a flood into.
UNAUTHENTICATED_WINDOW = 600
UNAUTHENTICATED_REFUSALS = {
    action: ratelimit.Limit(f"refused:{action}", 1, UNAUTHENTICATED_WINDOW)
    for action in ("payments.notify", "hall.identity.notify")
}


def record_unauthenticated_refusal(
    actor: User,
    action: str,
    *,
    source: str | None,
    object_type: str = "",
    object_id: object = "",
    after: dict[str, Any],
) -> AuditEvent | None:
    """Record the refusal of an unauthenticated request from ``source`` (the client address),
    or only count it when one from the same source was recorded within the window. The event
    says how many of the source's refusals before it were only counted (``earlier_refusals``).
    """
    counted = ratelimit.tally(UNAUTHENTICATED_REFUSALS[action], ratelimit.client_key(source))
    if not counted.report:
        return None
    return record(
        actor,
        action,
        object_type=object_type,
        object_id=object_id,
        after={
            **after,
            "source": source,
            "source_key": counted.key[:16],
            "earlier_refusals": counted.earlier,
            "window_seconds": UNAUTHENTICATED_WINDOW,
        },
        result=REFUSED,
    )


def record_counted_refusals(actor: User, *, now: datetime | None = None) -> int:
    """The jobs: one summary event per source whose counted refusals no later event carried
    (the flood stopped). Returns how many refusals were summarised."""
    total = 0
    for action, limit in UNAUTHENTICATED_REFUSALS.items():
        for counted in ratelimit.unreported(limit, now=now):
            record(
                actor,
                action,
                object_type="source",
                object_id=counted.key[:16],
                after={
                    "summary": True,
                    "refusals": counted.count,
                    "since": counted.since.isoformat(),
                    "source_key": counted.key[:16],
                    "window_seconds": UNAUTHENTICATED_WINDOW,
                },
                result=REFUSED,
            )
            total += counted.count
    return total


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None
    #: How many signed checkpoints outside the database were checked (0: truncation of the
    #: newest rows cannot be detected; write one with ``certhall audit checkpoint``).
    anchors: int = 0
    #: The problem's catalogue code and parameters (``messages/audit.py``), for the auditors'
    #: page: ``problem`` is the command line's English.
    code: str = ""
    params: dict[str, int] = field(default_factory=dict)

    def message(self) -> str:
        return text(f"audit_chain.{self.code}", **self.params) if self.code else ""


def verify() -> Verification:
    """Walk the chain and report the first problem: a row modified, deleted, moved or forged
    without the audit key, time running backwards, or a disagreement with a checkpoint (rows
    deleted from the end, the keyed boundary moved, the checkpoint file altered)."""
    marks = checkpoints.read()
    for number, mark in enumerate(marks, start=1):
        if mark is None or not mark.genuine():
            problem = f"checkpoint {number} of the anchor file was altered"
            return Verification(
                False, 0, problem, code="checkpoint_altered", params={"number": number}
            )
    head = AuditHead.objects.filter(pk=1).first()
    head_seq, head_hash, keyed_from = (
        (head.seq, head.hash, head.keyed_from) if head else (0, GENESIS, 0)
    )
    if any(mark.keyed_from != keyed_from for mark in marks if mark is not None):
        problem = "the keyed boundary differs from the checkpoints"
        return Verification(False, 0, problem, code="keyed_boundary")
    broken, checked, last_hash = _walk(keyed_from, {m.seq: m.hash for m in marks if m})
    if broken is not None:
        return broken
    beyond = [m.seq for m in marks if m is not None and m.seq > checked]
    if beyond:
        return Verification(
            False,
            checked,
            f"the log ends at row {checked} but a checkpoint recorded {max(beyond)} rows "
            "(rows at the end were deleted)",
            checked + 1,
            code="truncated_checkpoint",
            params={"checked": checked, "recorded": max(beyond)},
        )
    if head_seq != checked or head_hash != last_hash:
        return Verification(
            False,
            checked,
            f"the log ends at row {checked} but {head_seq} rows were written "
            "(rows at the end were deleted)",
            checked + 1,
            code="truncated_head",
            params={"checked": checked, "written": head_seq},
        )
    return Verification(True, checked, anchors=len(marks))


def _walk(keyed_from: int, marks: dict[int, str]) -> tuple[Verification | None, int, str]:
    """Every row in order: the first problem (or None), the rows checked, the last hash."""
    prev, previous_at = GENESIS, None
    expected_seq = 1
    key = checkpoints.audit_key()
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        seq = event.seq
        if seq != expected_seq:
            problem = f"row {expected_seq} is missing (deleted), the next row is {seq}"
            found = {"seq": expected_seq, "next": seq}
            broken = Verification(
                False, expected_seq - 1, problem, expected_seq, code="missing", params=found
            )
            return broken, seq, prev
        if event.prev_hash != prev:
            problem = f"row {seq} does not follow row {seq - 1} (deleted or reordered)"
            return _broken(seq, problem, "not_following"), seq, prev
        digest = event_hash(
            event.prev_hash,
            key if seq > keyed_from else None,
            seq=seq,
            at=event.at,
            actor=event.actor,
            actor_id=event.actor_id,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            before=event.before,
            after=event.after,
            result=event.result,
        )
        if digest != event.hash:
            return _broken(seq, f"row {seq} was modified", "modified"), seq, prev
        if seq in marks and marks[seq] != digest:
            problem = f"row {seq} differs from the checkpoint taken of it (the chain was rewritten)"
            return _broken(seq, problem, "rewritten"), seq, prev
        if previous_at is not None and event.at < previous_at:
            problem = f"row {seq} is dated before row {seq - 1} (time ran backwards)"
            return _broken(seq, problem, "time_backwards"), seq, prev
        prev, previous_at = digest, event.at
        expected_seq += 1
    return None, expected_seq - 1, prev


def _broken(seq: int, problem: str, code: str) -> Verification:
    """The chain broken at row ``seq`` (the rows before it checked)."""
    params = {"seq": seq, "previous": seq - 1}
    return Verification(False, seq - 1, problem, seq, code=code, params=params)
