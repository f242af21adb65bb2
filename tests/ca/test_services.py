"""The CA services: permissions, issuance, revocation, CRL freshness and OCSP, in-process.
These run on SQLite and again on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp as x509_ocsp
from cryptography.x509.oid import NameOID
from django.db import connection

from certhall.accounts.models import Provider, Role, User
from certhall.audit.models import AuditEvent
from certhall.audit.services import verify
from certhall.ca import crls, ocsp
from certhall.ca.models import CRL, Certificate, CertificateAuthority, OCSPResponder
from certhall.ca.services import IssueRequest, init_ca, issue, revoke
from certhall.errors import Conflict, Forbidden, InvalidInput, NotFound
from certhall.pki.crl import encode_entry
from certhall.pki.issuance import Subscriber
from certhall.pki.serials import parse_serial
from tests.support.threads import together

ORG = Subscriber(org_name="深圳市演示医疗科技有限公司", uscc="91350100M000100Y43")
PERSON = Subscriber(
    org_name="深圳市演示医疗科技有限公司",
    uscc="91350100M000100Y43",
    person_name="张三",
    id_number="11010519491231002X",
)


def csr(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | None = None) -> bytes:
    key = key or ec.generate_private_key(ec.SECP256R1())
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evil.example")]))
        .sign(key, hashes.SHA256())
    )
    return request.public_bytes(serialization.Encoding.PEM)


def issue_org(actor: User) -> Certificate:
    return issue(actor, IssueRequest(csr=csr(), profile="org", years=1, subscriber=ORG))


def ocsp_query(cert: Certificate, issuer: CertificateAuthority, nonce: bool = False) -> bytes:
    builder = x509_ocsp.OCSPRequestBuilder().add_certificate(
        x509.load_der_x509_certificate(bytes(cert.der)),
        x509.load_der_x509_certificate(bytes(issuer.certificate_der)),
        hashes.SHA256(),
    )
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(b"0123456789abcdef"), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


@pytest.mark.django_db
def test_issued_certificate_takes_subject_from_approved_data(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    row = issue(admin, IssueRequest(csr=csr(), profile="personal", years=3, subscriber=PERSON))
    cert = x509.load_der_x509_certificate(bytes(row.der))
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张三"
    assert "evil.example" not in cert.subject.rfc4514_string()
    assert cert.serial_number.bit_length() >= 64
    assert row.serial == format(cert.serial_number, "x")
    assert (row.not_after - row.not_before) > timedelta(days=3 * 365)
    assert row.status == Certificate.Status.VALID
    event = AuditEvent.objects.get(action="ca.certificate.issue")
    assert event.object_id == row.serial and event.result == "ok"
    assert verify().ok


@pytest.mark.django_db
def test_bad_requests_write_nothing_but_a_refusal(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    cases = [
        (IssueRequest(csr=csr(weak), profile="org", years=1, subscriber=ORG), InvalidInput),
        (IssueRequest(csr=b"garbage", profile="org", years=1, subscriber=ORG), InvalidInput),
        (IssueRequest(csr=csr(), profile="org", years=2, subscriber=ORG), InvalidInput),
        (IssueRequest(csr=csr(), profile="personal", years=6, subscriber=PERSON), InvalidInput),
        (IssueRequest(csr=csr(), profile="personal", years=1, subscriber=ORG), InvalidInput),
        (IssueRequest(csr=csr(), profile="gold", years=1, subscriber=ORG), InvalidInput),
        (
            IssueRequest(
                csr=csr(),
                profile="org",
                years=1,
                subscriber=Subscriber(org_name="x", uscc="91350100M000100Y44"),
            ),
            InvalidInput,
        ),
    ]
    for request, error in cases:
        with pytest.raises(error):
            issue(admin, request)
    assert Certificate.objects.count() == 0
    refusals = AuditEvent.objects.filter(action="ca.certificate.issue", result="refused")
    assert refusals.count() == len(cases)
    assert verify().ok


@pytest.mark.django_db
def test_only_staff_of_the_ca_may_issue_and_revoke(  # type: ignore[no-untyped-def]
    admin: User, ca, make_user, other_provider: Provider
) -> None:
    applicant = make_user(Role.APPLICANT)
    with pytest.raises(Forbidden):
        issue_org(applicant)
    outsider = make_user(Role.ISSUER, provider=other_provider)
    with pytest.raises(Forbidden, match="其他电子认证服务机构"):
        issue_org(outsider)
    row = issue_org(make_user(Role.ISSUER))
    with pytest.raises(Forbidden):
        revoke(make_user(Role.CLERK, provider=other_provider), row.serial, "superseded")
    with pytest.raises(Forbidden):
        revoke(make_user(Role.REVIEWER), row.serial, "superseded")
    row.refresh_from_db()
    assert row.status == Certificate.Status.VALID


@pytest.mark.django_db
def test_ca_init_twice_is_refused(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Conflict, match="CA 已经初始化"):
        init_ca(admin)
    assert CertificateAuthority.objects.count() == 2


@pytest.mark.django_db
def test_revocation_updates_crl_and_ocsp_at_once(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    _, issuing = ca
    row = issue_org(admin)
    first = crls.current_crl(issuing)
    good = x509_ocsp.load_der_ocsp_response(ocsp.respond(ocsp_query(row, issuing)))
    assert good.certificate_status == x509_ocsp.OCSPCertStatus.GOOD

    revoke(admin, row.serial.upper(), "keyCompromise")

    latest = crls.current_crl(issuing)
    assert latest.number == first.number + 1
    crl = x509.load_der_x509_crl(bytes(latest.der))
    entry = crl.get_revoked_certificate_by_serial_number(int(row.serial, 16))
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason == x509.ReasonFlags.key_compromise
    # The nonce-less answer was cached as "good"; the registry row decides, not the cache.
    revoked = x509_ocsp.load_der_ocsp_response(ocsp.respond(ocsp_query(row, issuing)))
    assert revoked.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_reason == x509.ReasonFlags.key_compromise


def test_a_revocation_whose_crl_was_never_published_is_published_by_the_jobs(  # type: ignore[no-untyped-def]
    admin: User, ca, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The revocation committed and its process died (or the signing failed) before the CRL:
    the jobs' next round publishes it, not half a CRL's validity later."""
    root, issuing = ca
    row = issue_org(admin)
    first = crls.current_crl(issuing)
    crls.current_crl(root)
    with monkeypatch.context() as patched:
        patched.setattr(crls, "publish_crl", _died)
        with pytest.raises(SystemExit):
            revoke(admin, row.serial, "keyCompromise")
    row.refresh_from_db()
    assert row.status == Certificate.Status.REVOKED
    assert crls.current_crl(issuing).number == first.number  # fresh, and without it

    published = crls.refresh_due(first.this_update + timedelta(minutes=1))
    assert [c.ca for c in published] == [issuing]
    crl = x509.load_der_x509_crl(bytes(published[0].der))
    assert crl.get_revoked_certificate_by_serial_number(int(row.serial, 16)) is not None
    assert crls.refresh_due(first.this_update + timedelta(minutes=2)) == []  # once


def _died(*args: object) -> None:
    raise SystemExit("killed")


def test_a_revocation_stores_its_crl_entry_and_older_rows_are_encoded_on_reading(  # type: ignore[no-untyped-def]
    admin: User, ca
) -> None:
    _, issuing = ca
    new, old = issue_org(admin), issue_org(admin)
    revoke(admin, new.serial, "keyCompromise")
    revoke(admin, old.serial, "superseded")
    new.refresh_from_db()
    when = new.revoked_at.replace(microsecond=0)
    assert bytes(new.crl_entry) == encode_entry(
        int(new.serial, 16), when, x509.ReasonFlags.key_compromise
    )
    # a row revoked before entries were stored (NULL) is encoded from its columns
    Certificate.objects.filter(pk=old.pk).update(crl_entry=None)
    crl = x509.load_der_x509_crl(bytes(crls.publish_crl(admin, issuing).der))
    found = {r.serial_number: r for r in crl}
    assert set(found) == {int(new.serial, 16), int(old.serial, 16)}
    assert found[int(new.serial, 16)].revocation_date_utc == when
    old_entry = found[int(old.serial, 16)].extensions.get_extension_for_class(x509.CRLReason)
    assert old_entry.value.reason == x509.ReasonFlags.superseded


@pytest.mark.django_db
def test_revoking_twice_or_unknown_is_a_clear_error(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    row = issue_org(admin)
    revoke(admin, row.serial, "superseded")
    with pytest.raises(Conflict, match=r"已于 .* 吊销"):
        revoke(admin, row.serial, "keyCompromise")
    row.refresh_from_db()
    assert row.revocation_reason == "superseded"
    with pytest.raises(NotFound):
        revoke(admin, "abcdef", "superseded")
    with pytest.raises(InvalidInput, match="未知的吊销原因"):
        revoke(admin, row.serial, "certificateHold")
    with pytest.raises(InvalidInput):
        parse_serial("not hex")


def test_simultaneous_revocations_give_one(audit_flushable: None, admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    row = issue_org(admin)
    results = together(*[lambda: revoke(admin, row.serial, "superseded")] * 4)
    outcomes = ["conflict" if isinstance(r, Conflict) else "revoked" for r in results]
    assert sorted(outcomes) == ["conflict", "conflict", "conflict", "revoked"]
    assert AuditEvent.objects.filter(action="ca.certificate.revoke", result="ok").count() == 1


@pytest.mark.django_db
def test_crl_is_never_served_past_next_update(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    _, issuing = ca
    first = crls.current_crl(issuing)
    assert crls.current_crl(issuing).number == first.number  # fresh: reused
    with time_machine.travel(first.next_update + timedelta(seconds=1), tick=False):
        served = crls.current_crl(issuing)
        assert served.number == first.number + 1
        assert served.next_update > datetime.now(UTC)
    assert CRL.objects.filter(ca=issuing).count() == 2


@pytest.mark.django_db
def test_scheduled_refresh_resigns_after_half_validity(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    _, issuing = ca
    first = crls.current_crl(issuing)
    crls.current_crl(ca[0])
    assert crls.refresh_due(first.this_update + timedelta(hours=1)) == []
    # A minute past half-time for both CRLs (the root's may be a second younger).
    later = first.this_update + (first.next_update - first.this_update) / 2 + timedelta(minutes=1)
    assert {c.ca.slug for c in crls.refresh_due(later)} == {"szca-root", "szca-issuing"}


@pytest.mark.django_db
def test_the_root_answers_good_about_the_issuing_ca(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    """The issuing CA's certificate is not in the registry; the root's responder said unknown
    about it. Another serial under the root stays unknown."""
    root, issuing = ca
    root_cert, issuing_cert = (
        x509.load_der_x509_certificate(bytes(c.certificate_der)) for c in (root, issuing)
    )

    def status(serial: int) -> x509_ocsp.OCSPCertStatus:
        query = x509_ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            *_cert_id(root_cert),
            serial,
            hashes.SHA1(),  # noqa: S303 - RFC 5019 CertIDs
        )
        der = query.build().public_bytes(serialization.Encoding.DER)
        answer = x509_ocsp.load_der_ocsp_response(ocsp.respond(der))
        assert answer.response_status == x509_ocsp.OCSPResponseStatus.SUCCESSFUL
        return answer.certificate_status

    assert status(issuing_cert.serial_number) == x509_ocsp.OCSPCertStatus.GOOD
    assert status(issuing_cert.serial_number + 1) == x509_ocsp.OCSPCertStatus.UNKNOWN
    assert status(root_cert.serial_number) == x509_ocsp.OCSPCertStatus.UNKNOWN  # itself


def _cert_id(issuer: x509.Certificate) -> tuple[bytes, bytes]:
    """issuerNameHash and issuerKeyHash (SHA-1) of ``issuer``."""
    name = hashes.Hash(hashes.SHA1())  # noqa: S303 - the CertID hash of RFC 6960
    name.update(issuer.subject.public_bytes())
    key = x509.SubjectKeyIdentifier.from_public_key(issuer.public_key()).digest
    return name.finalize(), key


@pytest.mark.django_db
def test_ocsp_responder_rolls_over_before_it_expires(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    _, issuing = ca
    row = issue_org(admin)
    first = x509_ocsp.load_der_ocsp_response(ocsp.respond(ocsp_query(row, issuing)))
    responder = first.certificates[0]
    assert (
        x509.ExtendedKeyUsageOID.OCSP_SIGNING
        in responder.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    with time_machine.travel(responder.not_valid_after_utc - timedelta(days=9), tick=False):
        later = x509_ocsp.load_der_ocsp_response(ocsp.respond(ocsp_query(row, issuing)))
    assert later.certificates[0].serial_number != responder.serial_number
    assert later.next_update_utc is not None
    assert later.next_update_utc <= later.certificates[0].not_valid_after_utc
    assert OCSPResponder.objects.filter(ca=issuing).count() == 2
    # Responder certificates are in the registry like every certificate we issue.
    assert Certificate.objects.filter(profile="ocsp").count() == 2


@pytest.mark.django_db
def test_ocsp_nonce_echoed_and_errors_never_raise(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    _, issuing = ca
    row = issue_org(admin)
    response = x509_ocsp.load_der_ocsp_response(ocsp.respond(ocsp_query(row, issuing, nonce=True)))
    nonce = response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    assert nonce == b"0123456789abcdef"
    for garbage in (b"", b"\x30\x00", b"\x00" * 100, ocsp_query(row, issuing)[:-3]):
        answer = x509_ocsp.load_der_ocsp_response(ocsp.respond(garbage))
        assert answer.response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST


@pytest.mark.django_db
def test_ocsp_negative_serial_of_our_issuer_is_malformed(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    """Issue 8: a CertID naming our issuer with serial -1 answered internalError (traceback)."""
    from certhall.pki import der

    _, issuing = ca
    real = x509_ocsp.load_der_ocsp_request(ocsp_query(issue_org(admin), issuing))
    for serial in (-1, 0):
        cert_id = der.sequence(
            der.sequence(der.oid("2.16.840.1.101.3.4.2.1"), der.null()),
            der.octet_string(real.issuer_name_hash),
            der.octet_string(real.issuer_key_hash),
            der.integer(serial),
        )
        request = der.sequence(der.sequence(der.sequence(der.sequence(cert_id))))
        answer = x509_ocsp.load_der_ocsp_response(ocsp.respond(request))
        assert answer.response_status == x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST


@pytest.mark.django_db
def test_crl_signed_while_another_was_published_takes_the_next_number(  # type: ignore[no-untyped-def]
    admin: User, ca, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, issuing = ca
    first = crls.publish_crl(admin, issuing)
    real_build = crls.build_crl
    raced = []

    def build_while_someone_publishes(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not raced:  # another process stores its CRL while we sign ours
            raced.append(True)
            monkeypatch.setattr(crls, "build_crl", real_build)
            crls.publish_crl(admin, issuing)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(crls, "build_crl", build_while_someone_publishes)
    row = issue_org(admin)
    Certificate.objects.filter(pk=row.pk).update(
        status=Certificate.Status.REVOKED,
        revoked_at=datetime.now(UTC),
        revocation_reason="superseded",
    )
    ours = crls.publish_crl(admin, issuing)
    assert ours.number == first.number + 2
    assert list(
        CRL.objects.filter(ca=issuing).values_list("number", flat=True).order_by("number")
    ) == [first.number, first.number + 1, first.number + 2]
    crl = x509.load_der_x509_crl(bytes(ours.der))
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == ours.number
    assert ours.entries == 1
