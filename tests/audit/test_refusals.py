"""``refusals_recorded`` never writes a refusal event inside a transaction: the event would roll
back with the refused action. Inside one, a block keeps its refusal for the enclosing block
entered outside any, which writes it once the transaction has ended (docs/security.md)."""

from __future__ import annotations

import pytest
from django.db import transaction

from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, TooManyRequests

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


def test_a_block_inside_another_outside_any_transaction_leaves_the_writing_to_it(
    admin: User,
) -> None:
    """Both blocks met the error: it is one refusal, written once, as the outer block's."""
    with (
        pytest.raises(Conflict),
        audit.refusals_recorded(admin, "test.outer"),
        audit.refusals_recorded(admin, "test.inner"),
    ):
        raise Conflict(code="already_revoked", serial="ab", reason="x", at="y")
    assert _refused() == [("test.outer", "already_revoked")]
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


def test_what_the_block_read_is_asked_for_at_the_refusal(admin: User) -> None:
    """A payment notification's fields are known only once its body is read, inside the block:
    ``refused`` is asked when the action is refused, after the rollback's block ended."""
    read: dict[str, str] = {}

    def said() -> audit.Refused:
        return audit.Refused(object_id=read.get("number"), after={"seen": read.get("seen", "")})

    with (
        pytest.raises(Conflict),
        audit.refusals_recorded(admin, "test.read", object_type="order", refused=said),
        transaction.atomic(),
    ):
        read.update(number="ZF1", seen="body")
        raise Conflict(code="already_revoked", serial="ab", reason="x", at="y")
    [event] = AuditEvent.objects.all()
    assert (event.action, event.object_type, event.object_id) == ("test.read", "order", "ZF1")
    assert event.after["error"] == "already_revoked" and event.after["seen"] == "body"


def test_a_rate_limit_is_recorded_once_per_window_not_per_request(admin: User) -> None:
    """Only the window's first refusal (``first_refusal``) is worth an event; the error's
    ``for_audit`` (a login refusal's operator note) goes into the event beside its code."""
    for first in (True, False, False):
        with pytest.raises(TooManyRequests), audit.refusals_recorded(admin, "test.limited"):
            raise TooManyRequests(retry_after=30, first_refusal=first, scope="test_per_client")
    conflict = Conflict(code="already_revoked", serial="ab", reason="x", at="y")
    conflict.for_audit = {"detail": "on the CRL of X"}
    with pytest.raises(Conflict), audit.refusals_recorded(admin, "test.noted"):
        raise conflict
    assert _refused() == [("test.limited", "rate_limited"), ("test.noted", "already_revoked")]
    noted = AuditEvent.objects.get(action="test.noted")
    assert noted.after["detail"] == "on the CRL of X"
    # which of a step's limits refused it (per phone, per address ...): the limit's scope
    assert AuditEvent.objects.get(action="test.limited").after["limit"] == "test_per_client"


def test_an_actor_given_as_a_callable_is_asked_only_for_an_event(admin: User) -> None:
    """An anonymous step's system actor costs a look-up: not on every request let through."""
    asked: list[int] = []

    def recorder() -> User:
        asked.append(1)
        return admin

    with audit.refusals_recorded(recorder, "test.lazy"):
        pass
    with pytest.raises(TooManyRequests), audit.refusals_recorded(recorder, "test.lazy"):
        raise TooManyRequests(retry_after=30, first_refusal=False)
    assert asked == []
    with pytest.raises(Conflict), audit.refusals_recorded(recorder, "test.lazy"):
        raise Conflict(code="already_revoked", serial="ab", reason="x", at="y")
    assert asked == [1]
    [event] = AuditEvent.objects.filter(action="test.lazy")
    assert event.actor == admin.label() and event.result == audit.REFUSED


def test_an_unauthenticated_refusal_is_recorded_once_per_source_and_window(
    admin: User,
) -> None:
    """Anyone can send it as often as they like: the throttled recorder, per source."""

    def said() -> audit.Refused:
        return audit.Refused(after={"gateway": "x"}, unauthenticated=True, source="203.0.113.7")

    for _ in range(3):
        with (
            pytest.raises(Conflict),
            audit.refusals_recorded(admin, "payments.notify", object_id="ZF2", refused=said),
        ):
            raise Conflict(code="already_revoked", serial="ab", reason="x", at="y")
    [event] = AuditEvent.objects.all()
    assert (event.object_id, event.result) == ("ZF2", audit.REFUSED)
    assert event.after["source"] == "203.0.113.7" and event.after["gateway"] == "x"
    assert event.after["error"] == "already_revoked" and event.after["earlier_refusals"] == 0
