"""The Ukey transition table, tested exhaustively: every (from, to) pair."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput
from certhall.ukeys import lifecycle
from certhall.ukeys.lifecycle import TRANSITIONS, Status
from certhall.ukeys.models import Ukey
from certhall.ukeys.services import report_status

ALLOWED = {
    (Status.IN_STOCK, Status.ISSUED),
    (Status.IN_STOCK, Status.DAMAGED),
    (Status.ISSUED, Status.LOCKED),
    (Status.ISSUED, Status.LOST),
    (Status.ISSUED, Status.DAMAGED),
    (Status.LOCKED, Status.ISSUED),
    (Status.LOCKED, Status.LOST),
    (Status.LOCKED, Status.DAMAGED),
    (Status.LOST, Status.RETIRED),
    (Status.DAMAGED, Status.RETIRED),
}
PAIRS = list(itertools.product(Status, Status))


def test_the_table_is_the_documented_one() -> None:
    assert set(TRANSITIONS) == set(Status)
    assert {(a, b) for a, targets in TRANSITIONS.items() for b in targets} == ALLOWED
    assert TRANSITIONS[Status.RETIRED] == frozenset()


def test_every_state_is_reachable_from_stock_and_ends_retired() -> None:
    seen, todo = {Status.IN_STOCK}, [Status.IN_STOCK]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(Status)
    for state in Status:  # retired is reachable from every state but itself
        reach, todo = set(), [state]
        while todo:
            for nxt in TRANSITIONS[todo.pop()]:
                if nxt not in reach:
                    reach.add(nxt)
                    todo.append(nxt)
        assert state == Status.RETIRED or Status.RETIRED in reach


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition(
    current: Status, target: Status, clerk: User, make_ukey: Callable[..., Ukey]
) -> None:
    ukey = make_ukey(current)
    events = AuditEvent.objects.count()
    if (current, target) in ALLOWED:
        report_status(clerk, ukey, target)
        ukey.refresh_from_db()
        assert ukey.status == target
        event = AuditEvent.objects.order_by("seq").last()
        assert event is not None
        assert (event.action, event.result, event.object_id) == (
            lifecycle.ACTIONS[target],
            "ok",
            ukey.serial,
        )
        assert event.before["status"] == current
        assert event.after["status"] == target
        assert (ukey.retired_at is not None) == (target == Status.RETIRED)
    else:
        with pytest.raises(Conflict) as err:
            report_status(clerk, ukey, target)
        message = str(err.value)
        assert f"Ukey {ukey.serial} 当前为“{current.label}”" in message
        assert f"不能变为“{target.label}”" in message
        assert "\n" not in message
        ukey.refresh_from_db()
        assert ukey.status == current
        assert ukey.retired_at is None
        (refusal,) = AuditEvent.objects.order_by("seq")[events:]
        assert refusal.result == "refused"
        assert refusal.after["error"] == "ukey_transition"


def test_a_stale_copy_cannot_transition_twice(clerk: User, make_ukey: Callable[..., Ukey]) -> None:
    ukey = make_ukey(Status.ISSUED)
    stale = Ukey.objects.get(pk=ukey.pk)
    report_status(clerk, ukey, Status.LOST)
    with pytest.raises(Conflict):
        report_status(clerk, stale, Status.LOCKED)  # re-read: lost -> locked is not allowed
    ukey.refresh_from_db()
    assert ukey.status == Status.LOST


def test_unknown_status_and_roles(
    clerk: User, make_user: Callable[..., User], make_ukey: Callable[..., Ukey]
) -> None:
    ukey = make_ukey(Status.ISSUED)
    with pytest.raises(InvalidInput):
        report_status(clerk, ukey, "stolen")
    for role in (Role.APPLICANT, Role.REVIEWER, Role.AUDITOR, Role.REFUND_OFFICER):
        with pytest.raises(Forbidden):
            report_status(make_user(role), ukey, Status.LOCKED)
    ukey.refresh_from_db()
    assert ukey.status == Status.ISSUED


def test_other_providers_clerk_is_refused(
    make_user: Callable[..., User], other_provider: object, make_ukey: Callable[..., Ukey]
) -> None:
    ukey = make_ukey(Status.ISSUED)
    outsider = make_user(Role.CLERK, provider=other_provider)
    with pytest.raises(Forbidden):
        report_status(outsider, ukey, Status.LOCKED)
    ukey.refresh_from_db()
    assert ukey.status == Status.ISSUED
    refusal = AuditEvent.objects.order_by("seq").last()
    assert refusal is not None and refusal.result == "refused"
