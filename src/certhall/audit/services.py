"""Writing and verifying the audit chain. Services call ``record`` inside their transaction."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from certhall import clock
from certhall.accounts.models import User
from certhall.audit.chain import GENESIS, event_hash
from certhall.audit.models import AuditEvent, AuditHead
from certhall.errors import CerthallError

OK = "ok"
REFUSED = "refused"


def _jsonable(value: Any) -> Any:
    """Round-trip through JSON so what we hash is exactly what the database returns."""
    if value is None:
        return None
    return json.loads(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))


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
    its event. The head row is locked, so concurrent writers form one chain."""
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS}
        )
        fields = {
            "seq": head.seq + 1,
            # The platform clock (to the second): the event shows the same moment as the row
            # it changed, and survives every backend, so the hash is reproducible.
            "at": clock.now(),
            "actor": actor.label(),
            "actor_id": actor.pk,
            "action": action,
            "object_type": object_type,
            "object_id": str(object_id),
            "before": _jsonable(before),
            "after": _jsonable(after),
            "result": result,
        }
        digest = event_hash(head.hash, **fields)
        event = AuditEvent.objects.create(prev_hash=head.hash, hash=digest, **fields)
        head.seq, head.hash = event.seq, digest
        head.save(update_fields=["seq", "hash"])
        return event


@contextmanager
def refusals_recorded(
    actor: User, action: str, *, object_type: str = "", object_id: object = ""
) -> Iterator[None]:
    """Record a refused action in its own transaction, after the action's one rolled back.

    Wrap the service's ``transaction.atomic()`` block with this, not the other way round.
    """
    try:
        yield
    except CerthallError as error:
        record(
            actor,
            action,
            object_type=object_type,
            object_id=object_id,
            after={"error": error.code, "message": error.message},
            result=REFUSED,
        )
        raise


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    problem: str | None = None
    seq: int | None = None


def verify() -> Verification:
    """Walk the chain in order and report the first row that was modified, deleted or moved."""
    prev = GENESIS
    expected_seq = 1
    checked = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return Verification(
                False,
                checked,
                f"row {expected_seq} is missing (deleted), the next row is {event.seq}",
                expected_seq,
            )
        if event.prev_hash != prev:
            return Verification(
                False,
                checked,
                f"row {event.seq} does not follow row {event.seq - 1} (deleted or reordered)",
                event.seq,
            )
        digest = event_hash(
            event.prev_hash,
            seq=event.seq,
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
            return Verification(False, checked, f"row {event.seq} was modified", event.seq)
        prev = digest
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    if head_seq != checked or head_hash != prev:
        return Verification(
            False,
            checked,
            f"the log ends at row {checked} but {head_seq} rows were written "
            "(rows at the end were deleted)",
            checked + 1,
        )
    return Verification(True, checked)
