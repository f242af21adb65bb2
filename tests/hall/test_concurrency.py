"""On PostgreSQL: two issuers issuing the same application at the same moment give one
certificate (real SoftHSM2 Ukeys, real CA)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection

from certhall.accounts.models import Handler, Role, User
from certhall.ca.models import Certificate
from certhall.errors import Conflict
from certhall.hall import issuance, review, services
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.hall.conftest import FRIDAY, at, online_draft, pay_online
from tests.support.threads import together

pytestmark = pytest.mark.softhsm


def test_simultaneous_issuances_give_one_certificate(
    audit_flushable: None,
    hall_ca: object,
    applicant: User,
    handler: Handler,
    reviewer: User,
    make_user,  # type: ignore[no-untyped-def]
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    issuers = [make_user(Role.ISSUER), make_user(Role.ISSUER)]
    tokens = [stock("ukey-a"), stock("ukey-b")]
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
        review.approve(reviewer, draft.number)
    line = draft.items.get()
    issued_before = Certificate.objects.filter(person_name="王五").count()

    def issue(actor: User, token: Ukey) -> Callable[[], object]:
        return lambda: issuance.issue_application(
            actor, draft.number, tokens={line.pk: token.serial}, store=ukey_store
        )

    with at(FRIDAY):
        results = together(*(issue(a, t) for a, t in zip(issuers, tokens, strict=True)))
    outcomes = [r.code if isinstance(r, Conflict) else "issued" for r in results]
    assert sorted(outcomes) in (
        ["application_changed", "issued"],
        ["application_state", "issued"],
    )
    assert Certificate.objects.filter(person_name="王五").count() == issued_before + 1
    assert Application.objects.get(pk=draft.pk).state == State.ISSUED
    assert sorted(
        Ukey.objects.filter(pk__in=[t.pk for t in tokens]).values_list("status", flat=True)
    ) == [
        "in_stock",
        "issued",
    ]
