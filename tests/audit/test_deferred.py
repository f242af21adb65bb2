"""``audit.deferred``: the events of a long operation written at its end, under one lock of the
head, so that the rest of the platform's audited operations do not wait for the whole of it."""

from __future__ import annotations

import contextvars
import threading

import pytest
import time_machine
from django.db import connection, transaction

from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent


def _actions() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))


@pytest.mark.django_db
def test_kept_events_are_written_at_the_end_in_order_and_chain(admin: User) -> None:
    audit.record(admin, "test.before")
    with transaction.atomic(), audit.deferred():
        for i in range(3):
            audit.record(admin, "test.kept", object_id=i, after={"i": i})
        assert _actions() == ["test.before"]  # nothing written yet, the head not locked
    assert _actions() == ["test.before", "test.kept", "test.kept", "test.kept"]
    kept = AuditEvent.objects.filter(action="test.kept").order_by("seq")
    assert [e.after for e in kept] == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert audit.verify() == audit.Verification(True, 4)


@pytest.mark.django_db
def test_a_kept_event_is_never_timed_before_the_one_written_before_it(admin: User) -> None:
    """Kept at 10:00, written after an event of 10:05 (another process's): it says 10:05."""
    with time_machine.travel("2026-12-07T10:00:00+08:00", tick=False) as clock:
        with transaction.atomic(), audit.deferred():
            audit.record(admin, "test.kept")
            clock.move_to("2026-12-07T10:05:00+08:00")
            # written at once, as another writer's would be (a context without the block)
            contextvars.Context().run(audit.record, admin, "test.other")
            clock.move_to("2026-12-07T10:00:00+08:00")
        [kept] = AuditEvent.objects.filter(action="test.kept")
        other = AuditEvent.objects.get(action="test.other")
    assert kept.seq > other.seq and kept.at == other.at
    assert audit.verify().ok


@pytest.mark.django_db
def test_a_block_that_fails_writes_none_of_its_events(admin: User) -> None:
    with pytest.raises(ZeroDivisionError), transaction.atomic(), audit.deferred():
        audit.record(admin, "test.kept")
        _ = 1 / 0
    assert _actions() == []
    audit.record(admin, "test.after")
    assert audit.verify() == audit.Verification(True, 1)


@pytest.mark.django_db
def test_an_event_inside_a_savepoint_is_refused(admin: User) -> None:
    """Its savepoint could roll back alone and leave a kept event for a change that never was."""
    with pytest.raises(RuntimeError), transaction.atomic(), audit.deferred(), transaction.atomic():
        audit.record(admin, "test.inside")
    # no savepoint: it can only fail with the block
    with transaction.atomic(), audit.deferred(), transaction.atomic(savepoint=False):
        audit.record(admin, "test.joined")
    assert _actions() == ["test.joined"]


def test_other_operations_do_not_wait_for_a_deferred_block(
    audit_flushable: None, admin: User
) -> None:
    """The point of it: another connection records while the block is open and has kept
    events; without ``deferred`` it waits for the block's commit (here: its lock timeout)."""
    if connection.vendor != "postgresql":
        pytest.skip("a second writer at the same time needs PostgreSQL")
    outcome: list[object] = []

    def other() -> None:
        try:
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '2s'")
                audit.record(admin, "test.other")
            outcome.append("recorded")
        except Exception as error:  # reported below
            outcome.append(error)
        finally:
            connection.close()

    with transaction.atomic(), audit.deferred():
        audit.record(admin, "test.kept")
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert outcome == ["recorded"]
    assert _actions() == ["test.other", "test.kept"]
    assert audit.verify() == audit.Verification(True, 2)
