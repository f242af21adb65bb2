"""Certificate login, service level: every refusal has its own code, is audited with the
presented certificate, and changes nothing else. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from certhall.accounts.models import EnterpriseAccount, Organization, Role, User
from certhall.agent.ukey import Ukeys
from certhall.audit.models import AuditEvent
from certhall.audit.services import verify as verify_audit
from certhall.ca.models import Certificate
from certhall.ca.services import revoke
from certhall.certlogin import trust
from certhall.certlogin.errors import LoginRefused
from certhall.certlogin.models import CertificateAccount, LoginChallenge
from certhall.certlogin.services import (
    certificate_login,
    issue_challenge,
    organization_certificates,
)
from certhall.errors import Forbidden, InvalidInput, TooManyRequests
from certhall.pki.issuance import Subscriber
from tests.agent.support import (
    ORG,
    PERSON,
    PIN,
    SoftwareCA,
    fingerprint,
    new_ukey,
    put_certificate,
    ukey_csr,
)
from tests.certlogin.support import (
    CLIENT,
    crl_of,
    der,
    issue_ours,
    our_chain,
    signed_attempt,
)
from tests.conftest_softhsm import SoftHSMStore

pytestmark = pytest.mark.django_db


def refused(attempt, code: str, at: datetime | None = None) -> LoginRefused:  # type: ignore[no-untyped-def]
    """Assert the attempt is refused with ``code``, audited with the presented certificate, and
    that nothing else changed (accounts, organisations, certificates)."""
    usernames = set(User.objects.values_list("username", flat=True))
    orgs = list(Organization.objects.values_list("uscc", "name"))
    accounts = list(CertificateAccount.objects.values_list("holder_key", "last_login_serial"))
    certs = list(Certificate.objects.order_by("pk").values_list("serial", "status"))
    with pytest.raises(LoginRefused) as caught:
        certificate_login(attempt, at=at)
    assert caught.value.code == code
    assert caught.value.http_status == 403
    event = AuditEvent.objects.filter(action="certlogin.login").order_by("-seq").first()
    assert event is not None
    assert event.result == "refused"
    assert event.actor == "system:system-certlogin"
    assert event.after["error"] == code
    assert event.after["message"] == caught.value.message
    assert event.after["client"] == CLIENT
    cert = x509.load_der_x509_certificate(attempt.certificate)
    assert event.object_id == format(cert.serial_number, "x")
    assert event.after["serial"] == format(cert.serial_number, "x")
    assert event.after["issuer"] == cert.issuer.rfc4514_string()
    # nothing else changed (the recorder is created on the first refusal)
    assert set(User.objects.values_list("username", flat=True)) - usernames <= {"system-certlogin"}
    assert list(Organization.objects.values_list("uscc", "name")) == orgs
    assert (
        list(CertificateAccount.objects.values_list("holder_key", "last_login_serial")) == accounts
    )
    assert list(Certificate.objects.order_by("pk").values_list("serial", "status")) == certs
    assert verify_audit().ok
    return caught.value


# --- our CA ----------------------------------------------------------------------------------


@pytest.mark.softhsm
def test_login_with_a_ukey_of_our_ca(
    admin: User,
    ca,
    organization: Organization,
    softhsm_store: SoftHSMStore,  # type: ignore[no-untyped-def]
) -> None:
    from certhall.ca.services import IssueRequest, issue

    root, issuing = ca
    label = new_ukey(softhsm_store)
    row = issue(
        admin,
        IssueRequest(csr=ukey_csr(softhsm_store, label), profile="org", years=1, subscriber=ORG),
    )
    cert = x509.load_der_x509_certificate(bytes(row.der))
    put_certificate(
        softhsm_store,
        label,
        cert,
        [x509.load_der_x509_certificate(bytes(c.certificate_der)) for c in (issuing, root)],
    )
    # the helper's token side: find the certificate, log in with the PIN, sign the challenge
    ukeys = Ukeys(softhsm_store.module, softhsm_store.conf)
    entry = ukeys.find(fingerprint(cert))
    challenge = issue_challenge(client=CLIENT)
    from certhall.certlogin import conf

    with ukeys.login(entry, PIN) as session:
        signed = ukeys.sign_login(session, entry, conf.get().origin, challenge.nonce)
    from certhall.certlogin.services import LoginAttempt

    result = certificate_login(
        LoginAttempt(
            challenge=challenge.nonce,
            certificate=signed.certificate.der,
            signature=signed.signature,
            signed_origin=signed.signed_origin,
            chain=signed.chain,
            client=CLIENT,
        )
    )
    assert result.created
    assert result.organization == organization  # mapped by USCC to the existing enterprise
    user = result.user
    assert user.role == Role.APPLICANT
    assert user.organization == organization
    assert not user.has_usable_password()
    assert result.serial == row.serial
    assert result.trusted_by == issuing.name
    account = CertificateAccount.objects.get(user=user)
    assert account.holder_key == ORG.uscc
    assert account.last_login_serial == row.serial
    event = AuditEvent.objects.get(action="certlogin.login")
    assert event.result == "ok" and event.actor_id == user.pk and event.object_id == row.serial
    assert AuditEvent.objects.filter(action="accounts.user.create").count() == 1
    assert LoginChallenge.objects.get(nonce=challenge.nonce).used_at is not None


def test_second_login_uses_the_same_account(admin: User, ca, organization) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    first = certificate_login(signed_attempt(key, cert, chain=our_chain()))
    second = certificate_login(signed_attempt(key, cert))  # our issuing CA is known anyway
    assert first.created and not second.created
    assert first.user == second.user
    assert CertificateAccount.objects.count() == 1


def test_new_enterprise_is_created_from_the_certificate(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    other = Subscriber(org_name="深圳市另一家科技有限公司", uscc="91440300MA5DC6QW9B")
    key, cert, _ = issue_ours(admin, other)
    result = certificate_login(signed_attempt(key, cert))
    assert result.organization.uscc == "91440300MA5DC6QW9B"
    assert result.organization.name == "深圳市另一家科技有限公司"
    assert AuditEvent.objects.filter(action="accounts.organization.create").count() == 1


def test_a_registrations_claim_gives_way_to_the_certificate(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    """Someone registered the USCC online (a claim, accounts.licence); the certificate names the
    enterprise: its name wins and the claimant's account is disowned before the certificate's
    account joins the organisation."""
    other = Subscriber(org_name="深圳市另一家科技有限公司", uscc="91440300MA5DC6QW9B")
    claim = Organization.objects.create(name="冒名公司", uscc=other.uscc, licence_unchecked=True)
    squatter = User.objects.create(username="13800138000", role=Role.APPLICANT, organization=claim)
    EnterpriseAccount.objects.create(
        user=squatter, organization=claim, phone="13800138000", registered_at=admin.date_joined
    )
    key, cert, _ = issue_ours(admin, other)
    result = certificate_login(signed_attempt(key, cert))
    claim.refresh_from_db()
    assert result.organization == claim and claim.name == other.org_name
    assert not claim.licence_unchecked
    assert not User.objects.get(pk=squatter.pk).is_active
    check = AuditEvent.objects.get(action="accounts.organization.licence_check")
    assert check.after["disowned_accounts"] == ["138****8000"]
    assert verify_audit().ok


def test_personal_certificate_gets_its_own_account(admin: User, ca, organization) -> None:  # type: ignore[no-untyped-def]
    org_key, org_cert, _ = issue_ours(admin)
    person_key, person_cert, _ = issue_ours(admin, PERSON, "personal", 2)
    org_user = certificate_login(signed_attempt(org_key, org_cert)).user
    person = certificate_login(signed_attempt(person_key, person_cert))
    assert person.user != org_user
    assert person.user.organization == organization
    assert person.account.holder_name == "张三"
    assert person.account.holder_key.startswith(ORG.uscc + ":")
    assert "11010519491231002X" not in person.account.holder_key


def test_expired_certificate(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    later = cert.not_valid_after_utc + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        error = refused(signed_attempt(key, cert), "certificate_expired")
    assert "过期" in error.message


def test_not_yet_valid_certificate(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    with time_machine.travel(cert.not_valid_before_utc - timedelta(hours=1), tick=False):
        refused(signed_attempt(key, cert), "certificate_not_yet_valid")


def test_revoked_certificate(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, row = issue_ours(admin)
    certificate_login(signed_attempt(key, cert))
    revoke(admin, row.serial, "keyCompromise")
    error = refused(signed_attempt(key, cert), "certificate_revoked")
    assert error.message == "证书已吊销，无法登录。"


def test_certificate_missing_from_our_registry(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, row = issue_ours(admin)
    Certificate.objects.filter(pk=row.pk).update(serial="abc")  # as if never recorded
    refused(signed_attempt(key, cert), "unknown_certificate")


def test_unknown_ca(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    other = SoftwareCA.create()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = other.issue(key.public_key())
    chain = (der(other.issuer.certificate), der(other.root))
    error = refused(signed_attempt(key, cert, chain=chain), "unknown_ca")
    assert "信任" in error.message


def test_tampered_signature(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    attempt = signed_attempt(key, cert)
    sig = bytearray(attempt.signature)
    sig[-1] ^= 0x01
    from dataclasses import replace

    refused(replace(attempt, signature=bytes(sig)), "bad_signature")
    # a signature by another key over the right message is no better
    stranger = ec.generate_private_key(ec.SECP256R1())
    attempt = signed_attempt(key, cert)
    from certhall.agent import protocol
    from certhall.certlogin import conf
    from certhall.pki.keys import sign

    forged = sign(stranger, protocol.login_message(conf.get().origin, attempt.challenge))
    refused(replace(attempt, signature=forged), "bad_signature")


def test_replayed_challenge(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    attempt = signed_attempt(key, cert)
    certificate_login(attempt)
    refused(attempt, "challenge_used")


def test_failed_attempt_uses_up_the_challenge(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    from dataclasses import replace

    key, cert, _ = issue_ours(admin)
    attempt = signed_attempt(key, cert)
    refused(replace(attempt, signature=b"\x30\x00"), "bad_signature")
    refused(attempt, "challenge_used")


def test_expired_challenge(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    start = datetime.now(UTC)
    with time_machine.travel(start, tick=False):
        attempt = signed_attempt(key, cert)
    with time_machine.travel(start + timedelta(seconds=119), tick=False):
        certificate_login(attempt)  # just in time
    with time_machine.travel(start, tick=False):
        late = signed_attempt(key, cert)
    with time_machine.travel(start + timedelta(seconds=121), tick=False):
        error = refused(late, "challenge_expired")
    assert "2分钟" in error.message


def test_unknown_challenge(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    refused(signed_attempt(key, cert, challenge="A" * 43), "challenge_unknown")
    from dataclasses import replace

    for nonce in ("not-a-challenge", ""):  # "": the session held no challenge
        refused(replace(signed_attempt(key, cert), challenge=nonce), "challenge_unknown")


def test_wrong_origin_binding(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    # signed for another site, and honest about it
    error = refused(signed_attempt(key, cert, origin="http://evil.example"), "origin_mismatch")
    assert "网站地址" in error.message
    # signed for another site, claiming ours: the signature does not match our message
    refused(signed_attempt(key, cert, signed_for="http://evil.example"), "bad_signature")


def test_certificate_without_digital_signature(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    other = SoftwareCA.create()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = other.issue(key.public_key())
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(key.public_key())
        .serial_number(cert.serial_number + 1)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, True, False, False, False, False, False, False),
            critical=True,
        )
    )
    encipher_only = builder.sign(other.issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    trust.import_trusted_ca(admin, der(other.issuer.certificate), crl=crl_of(other))
    refused(signed_attempt(key, encipher_only), "key_usage")


def test_a_trusted_cas_name_over_its_column_is_refused_not_cut(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    """The name an operator gave was cut to 128 characters and the CA trusted under it."""
    other = SoftwareCA.create()
    with pytest.raises(InvalidInput) as refused:
        trust.import_trusted_ca(
            admin, der(other.issuer.certificate), crl=crl_of(other), name="某" * 129
        )
    assert refused.value.message == "名称不能超过128个字，请核对后重新填写。"
    assert not trust.TrustedRoot.objects.exists()
    root = trust.import_trusted_ca(
        admin, der(other.issuer.certificate), crl=crl_of(other), name="某" * 128
    )
    assert root.name == "某" * 128


def test_certificate_without_uscc(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    other = SoftwareCA.create()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "无名氏")]))
        .issuer_name(other.issuer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(12345)
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False),
            critical=True,
        )
        .sign(other.issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    trust.import_trusted_ca(admin, der(other.issuer.certificate), crl=crl_of(other))
    refused(signed_attempt(key, cert), "no_uscc")


def test_garbage_certificate(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    from certhall.certlogin.services import LoginAttempt

    challenge = issue_challenge(client=CLIENT).nonce
    with pytest.raises(LoginRefused) as caught:
        certificate_login(LoginAttempt(challenge, b"\x30\x03\x02\x01\x01", b"", "x", client=CLIENT))
    assert caught.value.code == "bad_certificate"
    event = AuditEvent.objects.filter(action="certlogin.login").last()
    assert event is not None and event.result == "refused"


def test_disabled_account(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    key, cert, _ = issue_ours(admin)
    user = certificate_login(signed_attempt(key, cert)).user
    User.objects.filter(pk=user.pk).update(is_active=False)
    refused(signed_attempt(key, cert), "account_disabled")


# --- other CAs -------------------------------------------------------------------------------


def test_imported_ca_with_fresh_crl(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    other = SoftwareCA.create("广东数字证书认证中心")
    key = ec.generate_private_key(ec.SECP256R1())
    cert = other.issue(key.public_key())
    chain = (der(other.issuer.certificate),)
    trust.import_trusted_ca(admin, der(other.root), name="广东CA 根证书")
    # the issuing CA is trusted through the root, but its CRL is not stored yet
    refused(signed_attempt(key, cert, chain=chain), "crl_unavailable")
    issuing = trust.import_trusted_ca(admin, der(other.issuer.certificate), crl=crl_of(other))
    result = certificate_login(signed_attempt(key, cert, chain=chain))
    assert result.trusted_by in ("广东CA 根证书", issuing.name)
    assert result.organization.uscc == ORG.uscc
    # revoked on the CA's next CRL
    trust.refresh_crl(admin, issuing, crl_of(other, [cert.serial_number], number=2))
    error = refused(signed_attempt(key, cert, chain=chain), "certificate_revoked")
    assert error.detail.startswith("on the CRL of")


def test_imported_ca_with_a_stale_crl_is_refused(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    other = SoftwareCA.create()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = other.issue(key.public_key())
    trust.import_trusted_ca(admin, der(other.issuer.certificate), crl=crl_of(other, hours=2))
    certificate_login(signed_attempt(key, cert))
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=3), tick=False):
        error = refused(signed_attempt(key, cert), "crl_unavailable")
    assert "吊销列表" in error.message


def test_disabled_imported_ca_is_not_trusted(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    other = SoftwareCA.create()
    key = ec.generate_private_key(ec.SECP256R1())
    cert = other.issue(key.public_key())
    root = trust.import_trusted_ca(admin, der(other.issuer.certificate), crl=crl_of(other))
    trust.set_enabled(admin, root, False)
    refused(signed_attempt(key, cert), "unknown_ca")


# --- rate limits -----------------------------------------------------------------------------


def test_rate_limits(admin: User, ca, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from certhall import ratelimit
    from certhall.certlogin import services

    monkeypatch.setattr(services, "CHALLENGE_LIMIT", ratelimit.Limit("certlogin_challenge", 3, 60))
    start = datetime(2026, 5, 1, 10, 0, 5, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            issue_challenge(client=CLIENT)
        for _ in range(3):
            with pytest.raises(TooManyRequests) as caught:
                issue_challenge(client=CLIENT)
        assert caught.value.http_status == 429
        issue_challenge(client="198.51.100.7")  # another address has its own budget
        refusals = AuditEvent.objects.filter(action="certlogin.challenge", result="refused")
        assert refusals.count() == 1  # one event per window, not one per request
    with time_machine.travel(start + timedelta(seconds=60), tick=False):
        issue_challenge(client=CLIENT)  # the first three have left the window


def test_login_rate_limit(admin: User, ca, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from certhall import ratelimit
    from certhall.certlogin import services

    monkeypatch.setattr(services, "LOGIN_LIMIT", ratelimit.Limit("certlogin_login", 2, 60))
    key, cert, _ = issue_ours(admin)
    for _ in range(2):
        certificate_login(signed_attempt(key, cert))
    attempt = signed_attempt(key, cert)
    for _ in range(3):
        with pytest.raises(TooManyRequests):
            certificate_login(attempt)
    # one event per window, against the address; the challenge was not used up
    [event] = AuditEvent.objects.filter(action="certlogin.login", result="refused")
    assert event.actor == "system:system-certlogin"
    assert (event.object_type, event.object_id) == ("client", CLIENT)
    assert event.after["error"] == "rate_limited"
    assert event.after["limit"] == "certlogin_login"  # the limit's name, as every limit's event
    assert LoginChallenge.objects.get(nonce=attempt.challenge).used_at is None
    assert verify_audit().ok


# --- after login -----------------------------------------------------------------------------


def test_applicant_sees_only_their_organisations_certificates(
    admin: User,
    ca,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    _, _, mine = issue_ours(admin)
    other = Subscriber(org_name="深圳市另一家科技有限公司", uscc="91440300MA5DC6QW9B")
    _, _, theirs = issue_ours(admin, other)
    applicant = make_user(Role.APPLICANT)
    seen = organization_certificates(applicant)
    assert mine in seen and theirs not in seen
    with pytest.raises(Forbidden):
        organization_certificates(make_user(Role.CLERK))
