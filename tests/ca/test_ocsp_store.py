"""Pre-signed OCSP answers: signed by the jobs, re-signed by a revocation in its transaction,
followed by each server process's store, and the gateway's fast path that serves them. On SQLite
and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp as x509_ocsp

from certhall.accounts.models import User
from certhall.ca import ocsp, ocsp_store
from certhall.ca.models import Certificate, CertificateAuthority, OCSPResponse
from certhall.ca.ocsp_serve import AnswerStore, OCSPFastPath
from certhall.ca.services import revoke
from tests.ca.test_services import issue_org

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def request(cert: Certificate, issuer: CertificateAuthority, **kwargs: object) -> bytes:
    return _request_for(
        x509.load_der_x509_certificate(bytes(cert.der)),
        x509.load_der_x509_certificate(bytes(issuer.certificate_der)),
        kwargs.get("algorithm", hashes.SHA1()),  # noqa: S303 - RFC 5019 CertIDs
        bool(kwargs.get("nonce")),
    )


def _request_for(
    cert: x509.Certificate, issuer: x509.Certificate, algorithm: object, nonce: bool
) -> bytes:
    builder = x509_ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm)  # type: ignore[arg-type]
    if nonce:
        builder = builder.add_extension(x509.OCSPNonce(b"0123456789abcdef"), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def status(der: bytes) -> x509_ocsp.OCSPCertStatus:
    return x509_ocsp.load_der_ocsp_response(der).certificate_status


@pytest.fixture
def ca(admin: User):  # type: ignore[no-untyped-def]
    """A CA made an hour before T0, so frozen clocks around T0 are inside its validity."""
    from certhall.ca import signers
    from certhall.ca.services import init_ca

    signers.forget()
    ocsp.reset()
    with time_machine.travel(T0 - timedelta(hours=1), tick=False):
        yield init_ca(admin)
    signers.forget()
    ocsp.reset()


@pytest.fixture
def issued(admin: User, ca):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        return [issue_org(admin) for _ in range(3)]


def test_jobs_sign_missing_and_half_expired_answers_only(issued: list[Certificate]) -> None:
    with time_machine.travel(T0, tick=False):
        assert ocsp_store.refresh_due(T0) == 3
        # the first signature issued the delegated responder's certificate: it is due next
        assert ocsp_store.refresh_due(T0) == 1
        assert ocsp_store.refresh_due(T0) == 0
    rows = {r.serial: r for r in OCSPResponse.objects.all()}
    assert {c.serial for c in issued} <= set(rows)
    answer = x509_ocsp.load_der_ocsp_response(bytes(rows[issued[0].serial].der))
    assert answer.certificate_status == x509_ocsp.OCSPCertStatus.GOOD
    assert answer.serial_number == int(issued[0].serial, 16)
    assert isinstance(answer.hash_algorithm, hashes.SHA1)
    assert answer.next_update_utc == T0 + timedelta(hours=24)
    generation = max(r.generation for r in rows.values())
    # 11 hours on nothing is due; 13 hours on (past half of 24 h) every answer is re-signed
    assert ocsp_store.refresh_due(T0 + timedelta(hours=11)) == 0
    assert ocsp_store.refresh_due(T0 + timedelta(hours=13)) == 4
    assert all(r.generation > generation for r in OCSPResponse.objects.all())


def test_revocation_re_signs_in_its_transaction(admin: User, issued: list[Certificate]) -> None:
    with time_machine.travel(T0, tick=False):
        ocsp_store.refresh_due(T0)
    before = OCSPResponse.objects.get(certificate=issued[1])
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        revoke(admin, issued[1].serial, "keyCompromise")
    after = OCSPResponse.objects.get(certificate=issued[1])
    assert after.generation > before.generation
    assert after.status == "revoked"
    answer = x509_ocsp.load_der_ocsp_response(bytes(after.der))
    assert answer.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise
    assert answer.revocation_time_utc == T0 + timedelta(hours=1)
    # the others are untouched
    assert OCSPResponse.objects.get(certificate=issued[0]).status == "valid"


def test_a_batch_signed_before_a_revocation_is_not_written_after_it(
    admin: User, issued: list[Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = ocsp_store._write

    def revoke_first(batch):  # type: ignore[no-untyped-def]
        revoke(admin, issued[0].serial, "superseded")  # lands between signing and writing
        return real_write(batch)

    monkeypatch.setattr(ocsp_store, "_write", revoke_first)
    with time_machine.travel(T0, tick=False):
        ocsp_store.refresh_due(T0)
    row = OCSPResponse.objects.get(certificate=issued[0])
    assert row.status == "revoked" and status(bytes(row.der)) == x509_ocsp.OCSPCertStatus.REVOKED


def test_a_revocation_that_cannot_sign_withdraws_the_answer(
    admin: User, issued: list[Certificate], monkeypatch: pytest.MonkeyPatch
) -> None:
    with time_machine.travel(T0, tick=False):
        ocsp_store.refresh_due(T0)

    def broken(*args: object, **kwargs: object) -> tuple[bytes, datetime]:
        raise RuntimeError("responder key unavailable")

    monkeypatch.setattr(ocsp, "sign", broken)
    with time_machine.travel(T0, tick=False):
        revoke(admin, issued[2].serial, "keyCompromise")
    assert Certificate.objects.get(pk=issued[2].pk).status == "revoked"
    assert bytes(OCSPResponse.objects.get(certificate=issued[2]).der) == b""


def test_the_store_follows_every_write_and_the_fast_path_serves_exactly(
    admin: User,
    ca,
    issued: list[Certificate],  # type: ignore[no-untyped-def]
) -> None:
    _, issuing = ca
    store = AnswerStore()
    fast = OCSPFastPath(store)
    with time_machine.travel(T0, tick=False):
        ocsp_store.refresh_due(T0)
        while store.poll_once():
            pass
        body = request(issued[0], issuing)
        reply = fast("POST", "/ocsp", body)
        assert reply is not None and reply.status == 200
        assert reply.body == bytes(OCSPResponse.objects.get(certificate=issued[0]).der)
        assert ("cache-control", "no-store") in reply.headers
        # not served from the store: SHA-256 CertID, other paths, garbage
        assert fast("POST", "/ocsp", request(issued[0], issuing, algorithm=hashes.SHA256())) is None
        assert fast("POST", "/other", body) is None
        assert fast("POST", "/ocsp", b"\x30\x03garbage") is None

        revoke(admin, issued[0].serial, "keyCompromise")
        assert store.poll_once() == 1
        reply = fast("POST", "/ocsp", body)
        assert reply is not None and status(reply.body) == x509_ocsp.OCSPCertStatus.REVOKED

    # past nextUpdate the stored answer is never served
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        assert fast("POST", "/ocsp", body) is None


def test_get_answers_carry_rfc5019_caching_headers(ca, issued: list[Certificate]) -> None:  # type: ignore[no-untyped-def]
    import base64
    from urllib.parse import quote

    _, issuing = ca
    store = AnswerStore()
    fast = OCSPFastPath(store)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        ocsp_store.refresh_due(T0)
        store.poll_once()
        encoded = quote(base64.b64encode(request(issued[1], issuing)).decode(), safe="")
        reply = fast("GET", f"/ocsp/{encoded}", b"")
    assert reply is not None
    headers = dict(reply.headers)
    assert headers["cache-control"] == "max-age=82800, public, no-transform, must-revalidate"
    assert headers["last-modified"] == "Wed, 02 Dec 2026 02:00:00 GMT"
    assert headers["expires"] == "Thu, 03 Dec 2026 02:00:00 GMT"
    assert headers["etag"].startswith('"')


def test_nonce_requests_are_signed_fresh_by_the_fast_path_once_the_responder_is_loaded(
    admin: User,
    ca,
    issued: list[Certificate],  # type: ignore[no-untyped-def]
) -> None:
    _, issuing = ca
    store = AnswerStore()
    fast = OCSPFastPath(store)
    with time_machine.travel(T0, tick=False):
        ocsp_store.refresh_due(T0)
        store.poll_once()
    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        revoke(admin, issued[2].serial, "keyCompromise")
        store.poll_once()
        ocsp.reset()  # a fresh server process: no responder key loaded yet
        body = request(issued[2], issuing, nonce=True)
        assert fast("POST", "/ocsp", body) is None  # Django answers it, and loads the key
        ocsp.respond(body)
        reply = fast("POST", "/ocsp", body)
        assert reply is not None and ("cache-control", "no-store") in reply.headers
        answer = x509_ocsp.load_der_ocsp_response(reply.body)
        assert answer.certificate_status == x509_ocsp.OCSPCertStatus.REVOKED
        assert answer.revocation_reason == x509.ReasonFlags.key_compromise
        assert answer.revocation_time_utc == T0 + timedelta(minutes=5)
        assert answer.this_update_utc == T0 + timedelta(minutes=5)  # signed now, not stored
        nonce = answer.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        assert nonce == b"0123456789abcdef"
        assert answer.serial_number == int(issued[2].serial, 16)
        responder = answer.certificates[0]
        responder.verify_directly_issued_by(
            x509.load_der_x509_certificate(bytes(issuing.certificate_der))
        )
        # a good certificate is answered good
        good = x509_ocsp.load_der_ocsp_response(
            fast("POST", "/ocsp", request(issued[0], issuing, nonce=True)).body  # type: ignore[union-attr]
        )
        assert good.certificate_status == x509_ocsp.OCSPCertStatus.GOOD


def _unknown_request(
    issuer: CertificateAuthority, serial: int = 0x5EED, *, nonce: bool = False
) -> bytes:
    """A request for a serial this CA never issued (the CertID of a certificate of its own
    name and key, with another serial)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    ca_cert = x509.load_der_x509_certificate(bytes(issuer.certificate_der))
    key = ec.generate_private_key(ec.SECP256R1())
    stranger = (
        x509.CertificateBuilder()
        .subject_name(ca_cert.subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(T0 - timedelta(days=1))
        .not_valid_after(T0 + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return _request_for(stranger, ca_cert, hashes.SHA1(), nonce)  # noqa: S303


def test_what_the_store_cannot_serve_the_responder_answers_without_django(
    admin: User,
    ca,
    issued: list[Certificate],  # type: ignore[no-untyped-def]
) -> None:
    import base64
    from urllib.parse import quote

    from certhall.ca.ocsp_serve import OCSPResponderPath
    from certhall.web.fast_paths import InPool

    _, issuing = ca
    path = OCSPResponderPath()

    def answered(method: str, url: str, body: bytes = b"") -> tuple[bytes, dict[str, str]]:
        work = path(method, url, body)
        assert isinstance(work, InPool)
        reply = work.work()
        assert reply.status == 200
        return reply.body, dict(reply.headers)

    with time_machine.travel(T0, tick=False):  # nothing pre-signed: every answer from the registry
        revoke(admin, issued[1].serial, "keyCompromise")
        good, headers = answered("POST", "/ocsp", request(issued[0], issuing))
        assert status(good) == x509_ocsp.OCSPCertStatus.GOOD
        assert headers == {"content-type": "application/ocsp-response", "cache-control": "no-store"}
        revoked, _ = answered(
            "POST", "/ocsp/", request(issued[1], issuing, algorithm=hashes.SHA256())
        )
        assert status(revoked) == x509_ocsp.OCSPCertStatus.REVOKED
        unknown, _ = answered("POST", "/ocsp", _unknown_request(issuing))
        assert status(unknown) == x509_ocsp.OCSPCertStatus.UNKNOWN
        encoded = quote(base64.b64encode(request(issued[2], issuing)).decode(), safe="")
        got, headers = answered("GET", f"/ocsp/{encoded}")
        assert status(got) == x509_ocsp.OCSPCertStatus.GOOD
        assert headers["cache-control"].startswith("max-age=") and "etag" in headers
        for bad in (b"\x30\x03garbage", b"x" * 9000):
            malformed, headers = answered("POST", "/ocsp", bad)
            assert (
                x509_ocsp.load_der_ocsp_response(malformed).response_status
                is x509_ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            )
            assert headers["cache-control"] == "no-store"
    # not OCSP: Django's
    assert path("GET", "/ocsp", b"") is None
    assert path("POST", "/hall/", b"") is None
    assert path("GET", "/ocsp/not%20base64!", b"") is None


def test_unknown_answers_are_kept_for_the_fast_path_and_nothing_else_is(
    admin: User,
    ca,
    issued: list[Certificate],  # type: ignore[no-untyped-def]
) -> None:
    from certhall.ca import ocsp_serve
    from certhall.ca.ocsp_serve import OCSPResponderPath
    from certhall.web.fast_paths import InPool

    _, issuing = ca
    store = AnswerStore()
    fast, slow = OCSPFastPath(store), OCSPResponderPath(store)

    def by_responder(body: bytes) -> bytes:
        work = slow("POST", "/ocsp", body)
        assert isinstance(work, InPool)
        return work.work().body

    unknown = _unknown_request(issuing)
    with time_machine.travel(T0, tick=False):
        store.poll_once()  # loads the issuers (nothing pre-signed yet)
        store._load_issuers()
        assert fast("POST", "/ocsp", unknown) is None
        signed = by_responder(unknown)
        assert status(signed) == x509_ocsp.OCSPCertStatus.UNKNOWN
        reply = fast("POST", "/ocsp", unknown)  # now from memory, the same answer
        assert reply is not None and reply.body == signed
        # not kept: a good certificate not yet pre-signed, a SHA-256 CertID
        by_responder(request(issued[0], issuing))
        assert fast("POST", "/ocsp", request(issued[0], issuing)) is None
        sha256 = request(issued[1], issuing, algorithm=hashes.SHA256())
        by_responder(sha256)
        assert fast("POST", "/ocsp", sha256) is None
        assert len(store._unknown) == 1
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        # A nonce request: its answer cannot be replayed; its plain twin is signed and kept,
        # and the next nonce request for that serial is signed on the fast path.
        with_nonce = _unknown_request(issuing, 0xBEEF, nonce=True)
        assert fast("POST", "/ocsp", with_nonce) is None
        first = x509_ocsp.load_der_ocsp_response(by_responder(with_nonce))
        assert first.certificate_status == x509_ocsp.OCSPCertStatus.UNKNOWN
        assert len(store._unknown) == 2
        plain = fast("POST", "/ocsp", _unknown_request(issuing, 0xBEEF))
        assert plain is not None
        twin = x509_ocsp.load_der_ocsp_response(plain.body)
        assert twin.certificate_status == x509_ocsp.OCSPCertStatus.UNKNOWN
        assert len(twin.extensions) == 0
        assert (twin.this_update_utc, twin.next_update_utc) == (
            first.this_update_utc,
            first.next_update_utc,
        )
        again = fast("POST", "/ocsp", with_nonce)
        assert again is not None
        fresh = x509_ocsp.load_der_ocsp_response(again.body)
        assert fresh.certificate_status == x509_ocsp.OCSPCertStatus.UNKNOWN
        assert fresh.serial_number == 0xBEEF
        nonce = fresh.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
        assert nonce == b"0123456789abcdef"
    # past its nextUpdate it is not served
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        assert fast("POST", "/ocsp", unknown) is None
    # bounded
    store._unknown.clear()
    with time_machine.travel(T0, tick=False):
        original = ocsp_serve.UNKNOWN_KEPT
        ocsp_serve.UNKNOWN_KEPT = 2
        try:
            for serial in (0xA1, 0xA2, 0xA3):
                by_responder(_unknown_request(issuing, serial))
        finally:
            ocsp_serve.UNKNOWN_KEPT = original
    assert [serial for _, serial in store._unknown] == [0xA2, 0xA3]  # the oldest dropped


def signer_serial(der: bytes) -> int:
    """The serial of the responder certificate an answer carries (and was signed by)."""
    answer = x509_ocsp.load_der_ocsp_response(der)
    [responder_cert] = answer.certificates
    key = responder_cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and answer.signature_hash_algorithm
    key.verify(
        answer.signature, answer.tbs_response_bytes, ec.ECDSA(answer.signature_hash_algorithm)
    )
    return responder_cert.serial_number


def test_revoking_the_responder_withdraws_what_it_signed_and_a_new_one_answers(
    admin: User,
    ca,
    issued: list[Certificate],  # type: ignore[no-untyped-def]
) -> None:
    """The responder certificate carries ocsp-nocheck: a relying party cannot find out it was
    revoked, so the answers it signed must stop being served, in every process, and nothing
    may be signed with its key again. A probe found it kept signing for up to 30 days."""
    from certhall.ca.models import OCSPResponder

    _, issuing = ca
    store = AnswerStore()
    fast = OCSPFastPath(store)
    with time_machine.travel(T0, tick=False):
        ocsp_store.refresh_due(T0)
        ocsp_store.refresh_due(T0)  # and the responder certificate's own answer
        while store.poll_once():
            pass
        old = OCSPResponder.objects.get(ca=issuing)
        old_serial = int(old.certificate.serial, 16)
        body = request(issued[0], issuing)
        served = fast("POST", "/ocsp", body)
        assert served is not None and signer_serial(served.body) == old_serial
        # another serving process holds the old responder too
        other_process = dict(ocsp._responders)

    with time_machine.travel(T0 + timedelta(minutes=5), tick=False):
        revoke(admin, old.certificate.serial, "keyCompromise")
        # withdrawn in the revocation's transaction, every answer of the CA
        stored = OCSPResponse.objects.filter(ca=issuing).exclude(certificate=old.certificate)
        assert stored.count() == 3 and all(bytes(r.der) == b"" for r in stored)
        # the responder's own answer says revoked, signed by its successor
        own = bytes(OCSPResponse.objects.get(certificate=old.certificate).der)
        assert status(own) == x509_ocsp.OCSPCertStatus.REVOKED
        new = OCSPResponder.objects.exclude(pk=old.pk).get(ca=issuing)
        assert signer_serial(own) == int(new.certificate.serial, 16)

        # the other process: its poll reads the withdrawals and drops the revoked key
        ocsp._responders.update(other_process)
        while store.poll_once():
            pass
        assert fast("POST", "/ocsp", body) is None  # to the responder, no stored answer
        assert fast("POST", "/ocsp", request(issued[0], issuing, nonce=True)) is None
        assert issuing.pk not in ocsp._responders
        fresh = ocsp.respond(body)
        assert status(fresh) == x509_ocsp.OCSPCertStatus.GOOD
        assert signer_serial(fresh) == int(new.certificate.serial, 16)

        # the jobs' next round signs them again (and the new responder's own), with the new one
        assert ocsp_store.refresh_due(T0 + timedelta(minutes=5)) == 4
        while store.poll_once():
            pass
        served = fast("POST", "/ocsp", body)
        assert served is not None and signer_serial(served.body) == int(new.certificate.serial, 16)
