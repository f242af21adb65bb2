"""The application state machine: the table, and every transition it forbids refused with
nothing changed."""

from __future__ import annotations

import pytest

from certhall.accounts.models import Organization, User
from certhall.accounts.services import home_provider
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict
from certhall.hall import states, workflow
from certhall.hall.models import Application, Channel
from certhall.hall.states import FINAL, IN_REVIEW, TRANSITIONS, State
from tests.hall.conftest import FRIDAY, at

pytestmark = pytest.mark.django_db

#: The table as the seed's order says it (docs/hall.md); a change to it must change this too.
EXPECTED = {
    ("draft", "awaiting_payment"),
    ("draft", "submitted"),
    ("draft", "cancelled"),
    ("awaiting_payment", "paid"),
    ("awaiting_payment", "cancelled"),
    ("submitted", "approved"),
    ("submitted", "returned"),
    ("submitted", "cancelled"),
    ("paid", "approved"),
    ("paid", "returned"),
    ("paid", "refunded"),
    ("returned", "resubmitted"),
    ("returned", "cancelled"),
    ("returned", "refunded"),
    ("resubmitted", "approved"),
    ("resubmitted", "returned"),
    ("resubmitted", "cancelled"),
    ("resubmitted", "refunded"),
    ("approved", "issuing"),
    ("approved", "cancelled"),
    ("approved", "refunded"),
    ("issuing", "issued"),
    ("issuing", "approved"),
    ("issued", "delivered"),
}


def make(organization: Organization, actor: User, state: str, n: int) -> Application:
    with at(FRIDAY):
        return Application.objects.create(
            number=f"SQ20261120-{n:06d}",
            provider=home_provider(),
            organization=organization,
            channel=Channel.ONLINE,
            entered_by=actor,
            state=state,
            created_at=FRIDAY,
            updated_at=FRIDAY,
        )


def test_the_table_is_the_documented_one() -> None:
    assert set(TRANSITIONS) == set(State)
    table = {(a.value, b.value) for a, targets in TRANSITIONS.items() for b in targets}
    assert table == EXPECTED
    for final in FINAL:
        assert TRANSITIONS[final] == frozenset()
    assert {State.SUBMITTED, State.PAID, State.RESUBMITTED} == IN_REVIEW
    # pay first, then review (the seed's order), and nothing is issued without approval
    assert State.APPROVED not in TRANSITIONS[State.AWAITING_PAYMENT]
    assert {s for s, targets in TRANSITIONS.items() if State.ISSUING in targets} == {State.APPROVED}


def test_every_forbidden_transition_is_refused_and_changes_nothing(
    organization: Organization, admin: User
) -> None:
    n = 0
    for current in State:
        for target in State:
            if (current.value, target.value) in EXPECTED:
                continue
            n += 1
            application = make(organization, admin, current, n)
            events = AuditEvent.objects.count()
            with pytest.raises(Conflict) as refused:
                workflow.move(admin, application, target, action="test.move")
            assert refused.value.code == "application_state"
            assert application.number in refused.value.message
            application.refresh_from_db()
            assert application.state == current
            assert AuditEvent.objects.count() == events
    assert n == len(State) ** 2 - len(EXPECTED)


def test_every_allowed_transition_is_made_and_audited(
    organization: Organization, admin: User
) -> None:
    for n, (current, target) in enumerate(sorted(EXPECTED), start=1000):
        application = make(organization, admin, current, n)
        workflow.move(admin, application, State(target), action="test.move", reason="why")
        application.refresh_from_db()
        assert application.state == target
        event = AuditEvent.objects.order_by("seq").last()
        assert event is not None
        assert (event.action, event.object_id, event.actor) == (
            "test.move",
            application.number,
            admin.label(),
        )
        assert event.before["state"] == current and event.after["state"] == target
        assert event.after["reason"] == "why"


def test_a_stale_state_is_refused(organization: Organization, admin: User) -> None:
    """Two people acting on what they read: the second finds the state changed."""
    application = make(organization, admin, State.APPROVED, 1)
    stale = Application.objects.get(pk=application.pk)
    workflow.move(admin, application, State.ISSUING, action="test.move")
    with pytest.raises(Conflict) as refused:
        workflow.move(admin, stale, State.ISSUING, action="test.move")
    assert refused.value.code == "application_changed"
    assert Application.objects.get(pk=application.pk).state == State.ISSUING


def test_refusal_message_names_the_way_out() -> None:
    text = states.refusal("SQ1", State.PAID, State.ISSUING)
    assert "已付款，待审核" in text and "制证中" in text and "审核通过，待制证" in text
    assert "已结束" in states.refusal("SQ1", State.DELIVERED, State.DRAFT)
