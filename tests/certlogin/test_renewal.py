"""Online renewal (certhall.ca.renewal): states, idempotent retries, interruptions, the rules.
Runs on SQLite and PostgreSQL; the Ukey test also on SoftHSM2."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from certhall.accounts.models import Organization, Role, User
from certhall.agent import protocol
from certhall.agent.ukey import Ukeys
from certhall.audit.models import AuditEvent
from certhall.audit.services import verify as verify_audit
from certhall.ca import renewal as renewals
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.ca.renewal import (
    RENEWALS,
    TRANSITIONS,
    RenewalRequest,
    confirm_installed,
    quote_renewal,
    renew,
)
from certhall.ca.services import IssueRequest, issue, revoke
from certhall.certlogin import conf
from certhall.certlogin.models import Renewal
from certhall.certlogin.services import LoginAttempt, certificate_login, issue_challenge
from certhall.errors import Conflict, Forbidden, InvalidInput, RuleViolation
from certhall.pki.keys import sign
from certhall.pki.profiles import add_years
from certhall.rules import SHANGHAI, QuoteRefused
from certhall.ukeys.models import Ukey
from certhall.ukeys.services import replace_medium
from tests.agent.support import (
    ORG,
    PERSON,
    PIN,
    fingerprint,
    new_ukey,
    put_certificate,
    ukey_csr,
)
from tests.certlogin.conftest import ISSUED_AT
from tests.certlogin.support import CLIENT, csr_for
from tests.certlogin.support import issue_ours as issue_now
from tests.conftest_softhsm import SoftHSMStore

pytestmark = pytest.mark.django_db

State = Renewal.State


@pytest.fixture
def applicant(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user(Role.APPLICANT)


def in_window(cert: x509.Certificate, days_before: int = 30) -> datetime:
    """Noon (Shanghai) ``days_before`` days before the certificate's expiry date."""
    expiry = cert.not_valid_after_utc.astimezone(SHANGHAI).date()
    return datetime.combine(expiry - timedelta(days=days_before), time(12), SHANGHAI)


def issue_ours(admin: User, *args: object):  # type: ignore[no-untyped-def]
    """A certificate of our CA issued on ISSUED_AT (it expires in December 2026)."""
    with time_machine.travel(ISSUED_AT, tick=False):
        return issue_now(admin, *args)  # type: ignore[arg-type]


def request_for(
    old_key: ec.EllipticCurvePrivateKey,
    old: x509.Certificate,
    new_key: ec.EllipticCurvePrivateKey | None = None,
    *,
    years: int = 1,
    origin: str | None = None,
    payment_ref: str = "",
    signer: ec.EllipticCurvePrivateKey | None = None,
) -> RenewalRequest:
    new_key = new_key or ec.generate_private_key(ec.SECP256R1())
    origin = origin or conf.get().origin
    serial = format(old.serial_number, "x")
    message = protocol.renewal_message(
        origin, serial, protocol.public_key_sha256(new_key.public_key()), years
    )
    return RenewalRequest(
        old_serial=serial,
        csr=csr_for(new_key),
        years=years,
        signature=sign(signer or old_key, message),
        origin=origin,
        payment_ref=payment_ref,
    )


def test_transitions_are_the_four_states_in_order_and_the_ukeys_replacement() -> None:
    order = [State.REQUESTED, State.ISSUED, State.INSTALLED, State.COMPLETED]
    assert set(TRANSITIONS) == {*order, State.REPLACED}
    for current in order:
        for new in order:
            expected = order.index(new) == order.index(current) + 1
            assert RENEWALS.allowed(current, new) is expected, (current, new)
    # issued, never written: a Ukey's 介质补办 ends it; nothing leaves replaced
    assert [s for s in State if RENEWALS.allowed(s, State.REPLACED)] == [State.ISSUED]
    assert not any(RENEWALS.allowed(State.REPLACED, s) for s in State)


@pytest.mark.softhsm
def test_renewal_on_a_ukey(
    admin: User,
    past_ca,
    applicant: User,
    organization: Organization,
    softhsm_store: SoftHSMStore,  # type: ignore[no-untyped-def]
) -> None:
    root, issuing = past_ca
    label = new_ukey(softhsm_store)
    with time_machine.travel(ISSUED_AT, tick=False):
        row = issue(
            admin,
            IssueRequest(
                csr=ukey_csr(softhsm_store, label), profile="org", years=1, subscriber=ORG
            ),
        )
    old = x509.load_der_x509_certificate(bytes(row.der))
    chain = [x509.load_der_x509_certificate(bytes(c.certificate_der)) for c in (issuing, root)]
    put_certificate(softhsm_store, label, old, chain)
    ukeys = Ukeys(softhsm_store.module, softhsm_store.conf)
    entry = ukeys.find(fingerprint(old))
    origin = conf.get().origin
    with time_machine.travel(in_window(old), tick=False), ukeys.login(entry, PIN) as session:
        prep = ukeys.prepare_renewal(session, entry, origin, 1)
        request = RenewalRequest(
            old_serial=prep.old.serial,
            csr=prep.csr_pem,
            years=1,
            signature=prep.signature,
            origin=prep.signed_origin,
        )
        renewal = renew(applicant, request)
        assert renewal.state == State.ISSUED
        new_row = renewal.new_certificate
        assert new_row is not None
        new = x509.load_der_x509_certificate(bytes(new_row.der))
        assert new.subject == old.subject
        assert new_row.profile == "org"
        assert new.public_key() != old.public_key()
        assert Certificate.objects.get(pk=row.pk).status == "valid"  # until installed

        installed = ukeys.install(session, entry, bytes(new_row.der), ())
        assert installed.serial == new_row.serial
        done = confirm_installed(applicant, renewal.pk)
        assert done.state == State.COMPLETED
        old_row = Certificate.objects.get(pk=row.pk)
        assert old_row.status == "revoked"
        assert old_row.revocation_reason == "superseded"
        ukeys.finish_renewal(session, entry)
    assert [c.serial for c in ukeys.list_certificates()] == [new_row.serial]
    # and the new certificate logs in
    new_entry = ukeys.find(fingerprint(new))
    with time_machine.travel(in_window(old), tick=False):
        challenge = issue_challenge(client=CLIENT)
        with ukeys.login(new_entry, PIN) as session:
            signed = ukeys.sign_login(session, new_entry, origin, challenge.nonce)
        result = certificate_login(
            LoginAttempt(challenge.nonce, signed.certificate.der, signed.signature, origin)
        )
    assert result.serial == new_row.serial
    actions = list(
        AuditEvent.objects.filter(action__startswith="ca.renewal").values_list("action", flat=True)
    )
    assert actions == [
        "ca.renewal.request",
        "ca.renewal.issue",
        "ca.renewal.install",
        "ca.renewal.complete",
    ]
    assert verify_audit().ok


def test_retry_after_issue_returns_the_same_certificate(
    admin: User, past_ca, applicant: User
) -> None:  # type: ignore[no-untyped-def]
    key, old, row = issue_ours(admin)
    new_key = ec.generate_private_key(ec.SECP256R1())
    with time_machine.travel(in_window(old), tick=False):
        first = renew(applicant, request_for(key, old, new_key))
        count = Certificate.objects.count()
        again = renew(applicant, request_for(key, old, new_key))  # a new signature, same key
    assert again.pk == first.pk
    assert again.new_certificate == first.new_certificate
    assert again.state == State.ISSUED
    assert Certificate.objects.count() == count
    assert Certificate.objects.get(pk=row.pk).status == "valid"


def test_interrupted_issuance_leaves_the_old_certificate_and_a_retry_issues(
    admin: User,
    past_ca,
    applicant: User,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    key, old, row = issue_ours(admin)
    new_key = ec.generate_private_key(ec.SECP256R1())
    real = renewals.transition

    def crash(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("power cut after signing, before the commit")

    certificates = Certificate.objects.count()
    with time_machine.travel(in_window(old), tick=False):
        monkeypatch.setattr(renewals, "transition", crash)
        with pytest.raises(RuntimeError):
            renew(applicant, request_for(key, old, new_key))
        record = Renewal.objects.get()
        assert record.state == State.REQUESTED
        assert record.new_certificate is None
        assert Certificate.objects.count() == certificates  # the signed certificate rolled back
        assert Certificate.objects.get(pk=row.pk).status == "valid"
        monkeypatch.setattr(renewals, "transition", real)
        retried = renew(applicant, request_for(key, old, new_key))
    assert retried.pk == record.pk
    assert retried.state == State.ISSUED
    assert Certificate.objects.count() == certificates + 1
    assert verify_audit().ok


def test_interrupted_completion_is_finished_by_a_retry(
    admin: User,
    past_ca,
    applicant: User,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    key, old, row = issue_ours(admin)
    moment = time_machine.travel(in_window(old), tick=False)
    moment.start()
    renewal = renew(applicant, request_for(key, old))

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("network gone after the install step")

    monkeypatch.setattr(renewals.ca_services, "revoke", crash)
    with pytest.raises(RuntimeError):
        confirm_installed(applicant, renewal.pk)
    renewal.refresh_from_db()
    assert renewal.state == State.INSTALLED
    # both certificates work: the customer is never left with neither
    assert Certificate.objects.get(pk=row.pk).status == "valid"
    assert renewal.new_certificate is not None and renewal.new_certificate.status == "valid"
    monkeypatch.undo()
    done = confirm_installed(applicant, renewal.pk)
    assert done.state == State.COMPLETED
    assert Certificate.objects.get(pk=row.pk).revocation_reason == "superseded"
    assert confirm_installed(applicant, renewal.pk).state == State.COMPLETED  # idempotent
    moment.stop()


def test_revoked_certificate_is_refused(admin: User, past_ca, applicant: User) -> None:  # type: ignore[no-untyped-def]
    key, old, row = issue_ours(admin)
    revoke(admin, row.serial, "keyCompromise")
    with time_machine.travel(in_window(old), tick=False), pytest.raises(Conflict) as caught:
        renew(applicant, request_for(key, old))
    assert caught.value.code == "certificate_revoked"
    assert "已吊销" in caught.value.message
    assert not Renewal.objects.exists()
    event = AuditEvent.objects.filter(action="ca.renewal.request").get()
    assert event.result == "refused" and event.after["error"] == "certificate_revoked"


def test_expired_certificate_is_refused(admin: User, past_ca, applicant: User) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin)
    after = old.not_valid_after_utc + timedelta(hours=1)
    with time_machine.travel(after, tick=False), pytest.raises(RuleViolation) as caught:
        renew(applicant, request_for(key, old))
    assert caught.value.code == "renewal_expired"
    assert caught.value.message == "证书已过期的,须至受理点现场办理续期"
    assert not Renewal.objects.exists()


def test_renewal_window(admin: User, past_ca, applicant: User) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin)
    with time_machine.travel(in_window(old, 91), tick=False):
        with pytest.raises(QuoteRefused) as caught:
            renew(applicant, request_for(key, old))
        assert caught.value.quote.refusals[0].rule == "renewal_too_early"
        assert caught.value.code == "renewal_too_early"
        assert "90天" in caught.value.message
        assert not quote_renewal(applicant, format(old.serial_number, "x"), 1).allowed
    with time_machine.travel(in_window(old, 90), tick=False):
        assert renew(applicant, request_for(key, old)).state == State.ISSUED


def test_chargeable_renewal_needs_a_payment(admin: User, past_ca, applicant: User) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin, PERSON, "personal", 1)
    with time_machine.travel(in_window(old), tick=False):
        with pytest.raises(RuleViolation) as caught:
            renew(applicant, request_for(key, old, years=3))
        assert caught.value.code == "payment_required"
        assert "450" in caught.value.message
        renewal = renew(applicant, request_for(key, old, years=3, payment_ref="PAY-2026-0001"))
    assert renewal.fee_yuan == Decimal("450")
    assert renewal.payment_ref == "PAY-2026-0001"
    new = renewal.new_certificate
    assert new is not None and new.person_name == "张三" and new.profile == "personal"
    # renewed before expiry: the days left are kept, the three paid years added to them
    old_row = Certificate.objects.get(serial=format(old.serial_number, "x"))
    assert new.not_after == add_years(old_row.not_after, 3)


def test_term_must_fit_the_profile(admin: User, past_ca, applicant: User) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin)
    with time_machine.travel(in_window(old), tick=False), pytest.raises(InvalidInput):
        renew(applicant, request_for(key, old, years=2))  # 机构证书 is 1 year only


def test_the_old_key_must_sign_for_this_hall(admin: User, past_ca, applicant: User) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin)
    with time_machine.travel(in_window(old), tick=False):
        stranger = ec.generate_private_key(ec.SECP256R1())
        with pytest.raises(Forbidden) as caught:
            renew(applicant, request_for(key, old, signer=stranger))
        assert caught.value.code == "bad_signature"
        with pytest.raises(Forbidden) as caught:
            renew(applicant, request_for(key, old, origin="http://evil.example"))
        assert caught.value.code == "origin_mismatch"
    assert not Renewal.objects.exists()


def test_another_organisation_cannot_renew(admin: User, past_ca, make_user) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin)
    stranger_org = Organization.objects.create(name="别家", uscc="91440300MA5DC6QW9B")
    stranger = make_user(Role.APPLICANT, organization=stranger_org)
    with time_machine.travel(in_window(old), tick=False), pytest.raises(Forbidden):
        renew(stranger, request_for(key, old))


def test_one_open_renewal_per_certificate(admin: User, past_ca, applicant: User) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin)
    with time_machine.travel(in_window(old), tick=False):
        renew(applicant, request_for(key, old))
        with pytest.raises(Conflict) as caught:
            renew(applicant, request_for(key, old))  # another new key
    assert caught.value.code == "renewal_in_progress"
    assert Renewal.objects.count() == 1


def test_a_new_key_is_required(admin: User, past_ca, applicant: User) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin)
    with time_machine.travel(in_window(old), tick=False), pytest.raises(InvalidInput) as caught:
        renew(applicant, request_for(key, old, new_key=key))
    assert caught.value.code == "same_key"


def test_new_certificate_comes_from_the_active_issuing_ca(
    admin: User, past_ca, applicant: User
) -> None:  # type: ignore[no-untyped-def]
    key, old, _ = issue_ours(admin)
    with time_machine.travel(in_window(old), tick=False):
        renewal = renew(applicant, request_for(key, old))
    assert renewal.new_certificate is not None
    assert renewal.new_certificate.ca == CertificateAuthority.objects.get(kind="issuing")
    assert renewal.new_certificate.organization is not None


def test_the_renewed_certificate_belongs_to_the_old_ones_ukey(
    admin: User,
    past_ca,
    applicant: User,
    make_user,
    provider,  # type: ignore[no-untyped-def]
) -> None:
    """The new key is generated on the Ukey of the old certificate: the inventory records the
    new certificate on that Ukey, so 介质补办 of a lost Ukey revokes the renewed one too."""
    key, old, row = issue_ours(admin)
    medium = Ukey.objects.create(
        serial="renewal00000001",
        model="SoftHSM v2",
        label="ukey-renewal",
        provider=provider,
        status=Ukey.Status.ISSUED,
        so_pin_sealed=b"",
    )
    medium.certificates.add(row)
    with time_machine.travel(in_window(old), tick=False):
        renewal = renew(applicant, request_for(key, old))
        new_row = renewal.new_certificate
        assert new_row is not None
        # recorded on the Ukey at issuance, before the helper wrote it (the key is there)
        assert set(medium.certificates.all()) == {row, new_row}
        issued = AuditEvent.objects.get(action="ca.renewal.issue")
        assert issued.after["ukeys"] == [medium.serial]
        confirm_installed(applicant, renewal.pk)
        revoked = replace_medium(make_user(Role.CLERK), medium, "lost")
    assert [c.serial for c in revoked] == [new_row.serial]
    new_row.refresh_from_db()
    assert (new_row.status, new_row.revocation_reason) == ("revoked", "keyCompromise")


def test_renewals_made_before_are_linked_to_their_ukey_by_the_migration(
    admin: User,
    past_ca,
    applicant: User,
    provider,  # type: ignore[no-untyped-def]
) -> None:
    from importlib import import_module

    from django.apps import apps

    migration = import_module("certhall.ukeys.migrations.0003_renewed_certificates_on_their_ukey")
    key, old, row = issue_ours(admin)
    with time_machine.travel(in_window(old), tick=False):
        renewal = renew(applicant, request_for(key, old))
    medium = Ukey.objects.create(
        serial="renewal00000002",
        model="SoftHSM v2",
        label="ukey-before",
        provider=provider,
        status=Ukey.Status.ISSUED,
        so_pin_sealed=b"",
    )
    medium.certificates.add(row)  # as the inventory was left by a renewal before the fix
    migration.link_renewed(apps, None)
    assert set(medium.certificates.all()) == {row, renewal.new_certificate}


def test_a_ukey_lost_before_the_renewal_was_written_revokes_both(
    admin: User,
    past_ca,
    applicant: User,
    make_user,
    provider,  # type: ignore[no-untyped-def]
) -> None:
    """The Ukey is lost after the new certificate was issued and before the helper wrote it:
    the old certificate is still valid (only installing revokes it) and both keys are on the
    lost Ukey. Its 介质补办 revokes both, so the way out is the counter's 介质补办 of the
    renewed certificate (the old one is busy in the open renewal)."""
    key, old, row = issue_ours(admin)
    medium = Ukey.objects.create(
        serial="renewal00000002",
        model="SoftHSM v2",
        label="ukey-renewal-lost",
        provider=provider,
        status=Ukey.Status.ISSUED,
        so_pin_sealed=b"",
    )
    medium.certificates.add(row)
    request = request_for(key, old)
    with time_machine.travel(in_window(old), tick=False):
        renewal = renew(applicant, request)
        new_row = renewal.new_certificate
        assert new_row is not None
        row.refresh_from_db()
        assert row.status == "valid"  # not installed: the old one is not revoked yet
        clerk = make_user(Role.CLERK)
        revoked = replace_medium(clerk, medium, "lost")
    assert sorted(c.serial for c in revoked) == sorted([row.serial, new_row.serial])
    assert set(
        Certificate.objects.filter(pk__in=[row.pk, new_row.pk]).values_list("status", flat=True)
    ) == {"revoked"}
    # the renewal the helper can never finish is over, in the replacement's transaction
    renewal.refresh_from_db()
    assert renewal.state == State.REPLACED and renewal.completed_at is not None
    closed = AuditEvent.objects.get(action="ca.renewal.replaced")
    assert (closed.actor, closed.before["state"], closed.after["state"]) == (
        f"clerk:{clerk.username}",
        "issued",
        "replaced",
    )
    assert closed.after["ukey"] == medium.serial and closed.after["cause"] == "已遗失"
    assert (closed.after["old_status"], closed.after["new_status"]) == ("revoked", "revoked")
    # after both revocations, before the Ukey is retired: one transaction
    revocations = AuditEvent.objects.filter(action="ca.certificate.revoke", result="ok")
    assert max(revocations.values_list("seq", flat=True)) < closed.seq
    assert closed.seq < AuditEvent.objects.get(action="ukey.replace").seq
    assert verify_audit().ok
    # the certificate is no longer held by an open renewal (nor valid: nothing to renew)
    with pytest.raises(Conflict) as refused:
        renew(applicant, request_for(key, old), at=in_window(old))
    assert refused.value.code == "certificate_revoked"
    # the Ukey found again: the helper's retry cannot fetch the revoked certificate to write
    with pytest.raises(Conflict) as refused:
        renew(applicant, request, at=in_window(old))
    assert refused.value.code == "renewal_replaced"
    assert "补办的新Ukey" in refused.value.message
    assert AuditEvent.objects.filter(action="ca.renewal.request", result="refused").exists()


def test_a_ukey_lost_after_the_renewal_was_written_completes_it(
    admin: User,
    past_ca,
    applicant: User,
    make_user,
    provider,  # type: ignore[no-untyped-def]
) -> None:
    """Written (installed) but not completed when the Ukey was lost: the replacement revoked
    the old certificate, which is what completing does; the renewal is completed."""
    key, old, row = issue_ours(admin)
    medium = Ukey.objects.create(
        serial="renewal00000003",
        model="SoftHSM v2",
        label="ukey-renewal-installed",
        provider=provider,
        status=Ukey.Status.ISSUED,
        so_pin_sealed=b"",
    )
    medium.certificates.add(row)
    with time_machine.travel(in_window(old), tick=False):
        renewal = renew(applicant, request_for(key, old))
        Renewal.objects.filter(pk=renewal.pk).update(state=State.INSTALLED)  # crashed there
        replace_medium(make_user(Role.CLERK), medium, "damaged")
    renewal.refresh_from_db()
    assert renewal.state == State.COMPLETED
    completed = AuditEvent.objects.get(action="ca.renewal.complete")
    assert completed.after["cause"] == "已损坏" and completed.after["old_status"] == "revoked"
    # a retry of the helper's confirmation finds it done
    assert confirm_installed(applicant, renewal.pk).state == State.COMPLETED
