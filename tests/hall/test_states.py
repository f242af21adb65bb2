"""The application state machine: the table as documented (every pair is walked by
tests/test_lifecycle.py), a stale read, and the refusal's wording."""

from __future__ import annotations

import pytest
from django.db import transaction

from certhall.accounts.models import Organization, User
from certhall.accounts.services import home_provider
from certhall.errors import Conflict
from certhall.hall.models import Application, Channel
from certhall.hall.states import APPLICATIONS, FINAL, IN_REVIEW, TRANSITIONS, State
from certhall.lifecycle import transition
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


def test_a_stale_state_is_refused(organization: Organization, admin: User) -> None:
    """Two people acting on what they read: the second finds the state changed."""
    application = make(organization, admin, State.APPROVED, 3)
    stale = Application.objects.get(pk=application.pk)
    with transaction.atomic():
        transition(admin, APPLICATIONS, application, State.ISSUING, action="test.move")
    with pytest.raises(Conflict) as refused, transaction.atomic():
        transition(admin, APPLICATIONS, stale, State.ISSUING, action="test.move")
    assert refused.value.code == "application_changed"
    assert Application.objects.get(pk=application.pk).state == State.ISSUING


def test_refusal_message_names_the_way_out(organization: Organization, admin: User) -> None:
    paid = make(organization, admin, State.PAID, 1)
    text = APPLICATIONS.refusal(paid, State.ISSUING).message
    assert paid.number in text
    assert "已付款，待审核" in text and "制证中" in text and "审核通过，待制证" in text
    delivered = make(organization, admin, State.DELIVERED, 2)
    assert "（已是最终状态）" in APPLICATIONS.refusal(delivered, State.DRAFT).message
