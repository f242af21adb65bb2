from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent, AuditHead
from certhall.cli.main import main
from certhall.errors import Conflict


def _record_three(actor: User) -> None:
    for i in range(3):
        audit.record(
            actor, "test.step", object_type="thing", object_id=i, after={"i": i, "名": "值"}
        )


def _drop_triggers() -> None:
    """What an attacker with schema rights does first; rolled back with the test."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER audit_event_no_update")
            cursor.execute("DROP TRIGGER audit_event_no_delete")
        else:
            cursor.execute("DROP TRIGGER audit_event_append_only ON audit_auditevent")


@pytest.mark.django_db
def test_events_form_a_chain_that_verifies(admin: User) -> None:
    _record_three(admin)
    events = list(AuditEvent.objects.order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash
    assert events[0].actor == "system:system-test"
    head = AuditHead.objects.get()
    assert (head.seq, head.hash) == (3, events[2].hash)
    assert audit.verify() == audit.Verification(True, 3)


@pytest.mark.django_db
def test_a_nul_in_what_an_event_records_is_kept_visibly_and_the_chain_verifies(
    admin: User,
) -> None:
    """A refused typed text with U+0000 in it (PostgreSQL's jsonb cannot hold one: the portal's
    refused upload title failed to be recorded there) is recorded as U+2400, on both databases."""
    audit.record(admin, "test.step", after={"title": "指引\x00", "名\x00": ["\x00"]})
    (event,) = AuditEvent.objects.all()
    assert event.after == {"title": "指引\u2400", "名\u2400": ["\u2400"]}
    assert audit.verify() == audit.Verification(True, 1)


@pytest.mark.django_db
def test_update_and_delete_are_refused_by_the_database(admin: User) -> None:
    _record_three(admin)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=2).update(result="refused")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(seq=2).delete()
    assert audit.verify().ok


@pytest.mark.django_db
def test_a_modified_row_is_reported(admin: User) -> None:
    _record_three(admin)
    _drop_triggers()
    AuditEvent.objects.filter(seq=2).update(after={"i": 99})
    result = audit.verify()
    assert not result.ok
    assert result.seq == 2
    assert result.problem == "row 2 was modified"


@pytest.mark.django_db
def test_a_deleted_row_is_reported(admin: User) -> None:
    _record_three(admin)
    _drop_triggers()
    AuditEvent.objects.filter(seq=2).delete()
    result = audit.verify()
    assert (result.ok, result.seq) == (False, 2)
    assert "missing" in (result.problem or "")


@pytest.mark.django_db
def test_deleting_the_last_rows_is_reported(admin: User) -> None:
    _record_three(admin)
    _drop_triggers()
    AuditEvent.objects.filter(seq=3).delete()
    result = audit.verify()
    assert (result.ok, result.seq) == (False, 3)
    assert "deleted" in (result.problem or "")


@pytest.mark.django_db
def test_reordered_rows_are_reported(admin: User) -> None:
    _record_three(admin)
    _drop_triggers()
    # Swap rows 2 and 3 wholesale, hashes included: each row is intact, the order is not.
    two, three = AuditEvent.objects.get(seq=2), AuditEvent.objects.get(seq=3)
    AuditEvent.objects.filter(pk=two.pk).update(seq=-2)
    AuditEvent.objects.filter(pk=three.pk).update(seq=2)
    AuditEvent.objects.filter(pk=two.pk).update(seq=3)
    result = audit.verify()
    assert (result.ok, result.seq) == (False, 2)


@pytest.mark.django_db
def test_refusals_are_recorded_even_though_the_action_rolls_back(admin: User) -> None:
    with (
        pytest.raises(Conflict),
        audit.refusals_recorded(admin, "test.act", object_id="x"),
        transaction.atomic(),
    ):
        audit.record(admin, "test.act", object_id="x")
        raise Conflict("no")
    events = list(AuditEvent.objects.values_list("action", "result", "after"))
    assert events == [("test.act", "refused", {"error": "conflict", "message": "no"})]
    assert audit.verify().ok


@pytest.mark.django_db
def test_cli_verify_exit_codes(admin: User, capsys: pytest.CaptureFixture[str]) -> None:
    _record_three(admin)
    assert main(["audit", "verify"]) == 0
    assert "3 events" in capsys.readouterr().out
    _drop_triggers()
    AuditEvent.objects.filter(seq=1).update(actor="someone-else")
    assert main(["audit", "verify"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "row 1" in err


def test_concurrent_writers_form_one_chain(audit_flushable: None, admin: User) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrent writers need PostgreSQL (SQLite serialises connections)")
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(10):
                audit.record(admin, "test.concurrent")
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    result = audit.verify()
    assert result.ok and result.checked == 40


# --- an attacker with write access to the database, but not the audit key --------------------


def _rechain_from(seq: int, *, keyed: bool = False) -> None:
    """Recompute every hash from ``seq`` on with the project's own function, without the key
    (the attacker does not have it) unless ``keyed``, and point the head at the result."""
    from certhall.audit import checkpoints
    from certhall.audit.chain import event_hash

    prev = AuditEvent.objects.get(seq=seq - 1).hash if seq > 1 else "0" * 64
    for event in AuditEvent.objects.filter(seq__gte=seq).order_by("seq"):
        digest = event_hash(
            prev,
            checkpoints.audit_key() if keyed else None,
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
        AuditEvent.objects.filter(pk=event.pk).update(prev_hash=prev, hash=digest)
        prev = digest
    AuditHead.objects.filter(pk=1).update(hash=prev)


@pytest.mark.django_db
def test_a_row_edited_and_the_chain_recomputed_is_reported(admin: User) -> None:
    _record_three(admin)
    _drop_triggers()
    AuditEvent.objects.filter(seq=2).update(after={"i": 99})
    _rechain_from(2)
    result = audit.verify()
    assert (result.ok, result.seq, result.problem) == (False, 2, "row 2 was modified")


@pytest.mark.django_db
def test_moving_the_keyed_boundary_is_reported(admin: User) -> None:
    """The attacker declares every row unkeyed, then rewrites and rechains: the checkpoints
    repeat the boundary."""
    from certhall.audit import checkpoints

    _record_three(admin)
    checkpoints.write()
    _drop_triggers()
    AuditEvent.objects.filter(seq=2).update(after={"i": 99})
    _rechain_from(1)
    AuditHead.objects.filter(pk=1).update(keyed_from=3)
    result = audit.verify()
    assert not result.ok and "keyed boundary" in (result.problem or "")


@pytest.mark.django_db
def test_truncation_with_a_rewritten_head_is_reported_by_the_checkpoint(admin: User) -> None:
    from certhall.audit import checkpoints

    _record_three(admin)
    checkpoints.write()
    assert audit.verify() == audit.Verification(True, 3, anchors=1)
    _drop_triggers()
    AuditEvent.objects.filter(seq=3).delete()
    last = AuditEvent.objects.get(seq=2)
    AuditHead.objects.filter(pk=1).update(seq=2, hash=last.hash)  # the head agrees now
    result = audit.verify()
    assert (result.ok, result.seq) == (False, 3)
    assert "checkpoint recorded 3 rows" in (result.problem or "")


@pytest.mark.django_db
def test_an_altered_checkpoint_file_is_reported(admin: User) -> None:
    from certhall import config
    from certhall.audit import checkpoints

    _record_three(admin)
    checkpoints.write()
    path = config.get().audit_checkpoints
    path.write_text(path.read_text().replace('"seq":3', '"seq":2'))
    result = audit.verify()
    assert not result.ok and "checkpoint 1" in (result.problem or "")


@pytest.mark.django_db
def test_a_clock_set_back_never_dates_an_event_before_the_last(admin: User) -> None:
    from datetime import UTC, datetime

    import time_machine

    ten = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    with time_machine.travel(ten, tick=False):
        audit.record(admin, "test.first")
    with time_machine.travel(datetime(2026, 12, 3, 9, 0, tzinfo=UTC), tick=False):
        second = audit.record(admin, "test.after_the_clock_went_back")
    assert second.at == ten
    assert audit.verify().ok


@pytest.mark.django_db
def test_time_running_backwards_in_the_table_is_reported(admin: User) -> None:
    """Rows dated out of order (forged by someone holding the key, or a bug) are reported."""
    from datetime import timedelta

    _record_three(admin)
    _drop_triggers()
    first = AuditEvent.objects.get(seq=1)
    AuditEvent.objects.filter(seq=2).update(at=first.at - timedelta(hours=1))
    _rechain_from(2, keyed=True)
    result = audit.verify()
    assert (result.ok, result.seq) == (False, 2)
    assert "time ran backwards" in (result.problem or "")


@pytest.mark.django_db
def test_the_jobs_checkpoint_when_the_chain_grew_and_an_hour_passed(admin: User) -> None:
    from datetime import timedelta

    from certhall import clock
    from certhall.audit import checkpoints

    _record_three(admin)
    first = checkpoints.write_if_due()
    assert first is not None and first.seq == 3
    assert checkpoints.write_if_due() is None  # nothing new
    audit.record(admin, "test.more")
    assert checkpoints.write_if_due() is None  # too soon
    later = checkpoints.write_if_due(clock.now() + timedelta(hours=1, seconds=1))
    assert later is not None and later.seq == 4
    assert audit.verify().anchors == 2
