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
