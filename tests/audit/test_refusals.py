"""``refusals_recorded`` never writes a refusal event inside a transaction: the event would roll
back with the refused action. Inside one, a block keeps its refusal for the enclosing block
entered outside any, which writes it once the transaction has ended (docs/security.md)."""

from __future__ import annotations

import pytest
from django.db import transaction

from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict

pytestmark = pytest.mark.django_db


def _refused() -> list[tuple[str, str]]:
    return [
        (e.action, e.after["error"])
        for e in AuditEvent.objects.filter(result=audit.REFUSED).order_by("seq")
    ]


def test_a_block_inside_a_transaction_with_no_block_outside_is_an_error(admin: User) -> None:
    """Its event would have been written inside the caller's transaction and rolled back."""
    with (
        pytest.raises(RuntimeError, match="inside a transaction"),
        transaction.atomic(),
        audit.refusals_recorded(admin, "test.inner"),
    ):
        pass
    assert not AuditEvent.objects.exists()


def test_a_refusal_that_rolls_back_a_transaction_is_recorded_once_by_the_outer_block(
    admin: User,
) -> None:
    with (
        pytest.raises(Conflict),
        audit.refusals_recorded(admin, "test.outer", object_type="thing", object_id="7"),
        transaction.atomic(),
    ):
        audit.record(admin, "test.step")  # rolled back with the refusal
        with audit.refusals_recorded(admin, "test.inner"):
            raise Conflict(code="already_revoked", serial="ab", reason="x", at="y")
    [event] = AuditEvent.objects.all()
    assert (event.action, event.object_type, event.object_id) == ("test.outer", "thing", "7")
    assert event.result == audit.REFUSED and event.after["error"] == "already_revoked"
    assert audit.verify().ok


def test_a_refusal_caught_inside_the_transaction_is_still_recorded(admin: User) -> None:
    """The savepoint rolls back, the transaction goes on and commits: the inner block's event
    is written after it, where it was written inside the savepoint and rolled back with it."""
    with audit.refusals_recorded(admin, "test.outer"), transaction.atomic():
        try:
            # a service called inside the caller's savepoint (ca.issue in sign_and_write's)
            with transaction.atomic(), audit.refusals_recorded(admin, "test.inner"):
                audit.record(admin, "test.step")
                raise Conflict(code="already_revoked", serial="ab", reason="x", at="y")
        except Conflict:
            pass
        audit.record(admin, "test.done")
    assert [e.action for e in AuditEvent.objects.order_by("seq")] == ["test.done", "test.inner"]
    assert _refused() == [("test.inner", "already_revoked")]
    assert audit.verify().ok
