"""On PostgreSQL: two issuers issuing the same application at the same moment give one
certificate (real SoftHSM2 Ukeys, real CA); two rounds of the jobs refund an online renewal
whose certificate ended, or was revoked, once (and the round with a clerk's refund); a revocation
is not overtaken by the helper's renewal in flight."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

import pytest
from django.db import connection

from certhall.accounts.models import Handler, Organization, Role, User
from certhall.audit.models import AuditEvent
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.errors import Conflict
from certhall.hall import issuance, payment, renewal, review, services
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.notify.models import SmsMessage
from certhall.payments.models import Order
from certhall.rules import SHANGHAI
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.hall.conftest import FRIDAY, at, online_draft, pay_online
from tests.hall.test_renewal import signed
from tests.hall.test_year_end import (
    JUST_AFTER_MIDNIGHT,
    ending_at,
    keyed_ending_at,
    paid_at_the_cashier,
)
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


@pytest.mark.parametrize("revoked", [False, True], ids=["ended", "revoked"])
def test_two_rounds_of_the_jobs_at_once_refund_an_ended_online_renewal_once(
    audit_flushable: None,
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    ca_admin: User,
    revoked: bool,
) -> None:
    """Two processes' rounds (``renewal.close_ended``) at the same moment on a paid online
    renewal whose certificate ended (or was revoked by the CA before its end, 12-06 h1): one
    refund, one audit event, one SMS; the other round finds it refunded under the lock and
    leaves it."""
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    end = datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI) if revoked else JUST_AFTER_MIDNIGHT
    old = ending_at(admin, organization, end)
    with at(datetime(2026, 12, 31, 23, 50, tzinfo=SHANGHAI)):
        number = renewal.start(applicant, old.serial, 1).number
        paid_at_the_cashier(number, applicant)
        if revoked:
            ca_services.revoke(ca_admin, old.serial, "keyCompromise")
    after = datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)
    with at(after):
        results = together(lambda: renewal.close_ended(after), lambda: renewal.close_ended(after))
    assert sorted(results) == [[], [number]]
    application = Application.objects.get(number=number)
    assert application.state == State.REFUNDED
    assert Order.objects.get(reference=application.payment_reference).status == "refunded"
    for action in ("hall.application.refund", "payments.order.refund"):
        assert AuditEvent.objects.filter(action=action).count() == 1, action
    assert not AuditEvent.objects.filter(result="refused").exists()
    told = SmsMessage.objects.filter(kind="application_status", text__contains=number)
    assert told.count() == 1
    assert ("吊销" in told.get().text) is revoked


def test_the_round_and_a_clerks_refund_at_once_refund_a_revoked_renewal_once(
    audit_flushable: None,
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    ca_admin: User,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    """A clerk refunds a paid online renewal whose certificate the CA revoked while the jobs'
    round (``renewal.close_ended``) closes it: one refund of the order, one audit event each;
    the one that comes second finds it refunded under the application's lock (the round leaves
    it, the clerk is told its state)."""
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    clerk = make_user(Role.CLERK)
    old = ending_at(admin, organization, datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI))
    with at(datetime(2026, 12, 31, 23, 50, tzinfo=SHANGHAI)):
        number = renewal.start(applicant, old.serial, 1).number
        paid_at_the_cashier(number, applicant)
        ca_services.revoke(ca_admin, old.serial, "keyCompromise")
    after = datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI)
    with at(after):
        results = together(
            lambda: renewal.close_ended(after),
            lambda: payment.refund_application(clerk, number, "证书已吊销，退款"),
        )
    round_closed, clerk_result = results
    if round_closed == [number]:  # the round first: the clerk is told it is refunded
        assert isinstance(clerk_result, Conflict) and clerk_result.code == "application_state"
    else:
        assert round_closed == [] and isinstance(clerk_result, Application)
    application = Application.objects.get(number=number)
    assert application.state == State.REFUNDED
    assert Order.objects.get(reference=application.payment_reference).status == "refunded"
    for action in ("hall.application.refund", "payments.order.refund"):
        refunds = AuditEvent.objects.filter(action=action, result="ok")
        assert refunds.count() == 1, action


def test_a_revocation_during_the_helpers_renewal_is_not_overtaken_by_it(
    audit_flushable: None,
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    ca_admin: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CA revokes a certificate (keyCompromise) while the helper's request to renew it is
    between its check that the certificate is valid and the signing. Before (12-07, h5) the
    revocation committed, then the renewal signed by the compromised key was issued anyway.
    Now the issuance reads the certificate again once it holds the audit chain's head: refused
    (``certificate_revoked``), nothing issued, the application back to approved for the round
    to refund. (A revocation still uncommitted then comes after the issuance.)"""
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    key, old = keyed_ending_at(admin, organization, datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI))
    with at(FRIDAY):
        number = renewal.start(applicant, old.serial, 1).number
        pay_online(number, applicant)
    real_issue = ca_services.issue
    revoking: list[threading.Thread] = []

    def revoke() -> None:
        try:
            with at(FRIDAY):
                ca_services.revoke(ca_admin, old.serial, "keyCompromise")
        finally:
            connection.close()

    def issue_while_revoked(*args: object, **kwargs: object) -> Certificate:
        thread = threading.Thread(target=revoke)
        thread.start()
        thread.join(timeout=30)  # committed: nothing of this issuance was written yet
        revoking.append(thread)
        return real_issue(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ca_services, "issue", issue_while_revoked)
    subscribers = Certificate.objects.filter(profile=old.profile)  # not an OCSP responder's
    issued_before = subscribers.count()
    with at(FRIDAY), pytest.raises(Conflict) as refused:
        renewal.request_renewal(applicant, number, **signed(key, old.serial, 1))  # type: ignore[arg-type]
    assert not revoking[0].is_alive()
    assert refused.value.code == "certificate_revoked"
    assert subscribers.count() == issued_before  # the signed one rolled back
    assert Certificate.objects.get(pk=old.pk).status == Certificate.Status.REVOKED
    assert Application.objects.get(number=number).state == State.APPROVED
