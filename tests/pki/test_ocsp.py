from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp as cocsp
from cryptography.x509.ocsp import OCSPCertStatus, OCSPResponseStatus
from hypothesis import given, settings
from hypothesis import strategies as st

from certhall.errors import ConfigurationError, InvalidInput
from certhall.pki import authority, der
from certhall.pki.ocsp import (  # the two parsers, held to each other
    MalformedRequest,
    OCSPQuery,
    _parse_common,
    _parse_full,
    build_response,
    error_response,
    issuer_hashes,
    issuer_matches,
    parse_request,
)
from certhall.pki.serials import MAX_SERIAL

from .conftest import Issue
from .support import NOW, ORG, PKI

#: RFC 5019 / 6960 CertIDs use SHA-1 in practice: a name, not a security property.
SHA1 = hashes.SHA1()  # noqa: S303
THIS_UPDATE = NOW
NEXT_UPDATE = NOW + timedelta(hours=12)


def request_der(
    cert: x509.Certificate,
    issuer: x509.Certificate,
    algorithm: hashes.HashAlgorithm = SHA1,
    nonce: bytes | None = None,
) -> bytes:
    builder = cocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


@pytest.fixture(scope="module")
def cert(issue: Issue) -> x509.Certificate:
    return issue("org", 1, ORG)


def respond(pki: PKI, query: OCSPQuery, **overrides: object) -> cocsp.OCSPResponse:
    fields: dict[str, object] = {
        "status": "good",
        "revoked_at": None,
        "reason": None,
        "issuer_cert": pki.issuing,
        "responder_cert": pki.responder,
        "responder_key": pki.responder_key,
        "this_update": THIS_UPDATE,
        "next_update": NEXT_UPDATE,
    }
    fields.update(overrides)
    data = build_response(query, **fields)  # type: ignore[arg-type]
    return cocsp.load_der_ocsp_response(data)


# --- parse_request ---------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [SHA1, hashes.SHA256(), hashes.SHA384(), hashes.SHA512()])
def test_parse_request(pki: PKI, cert: x509.Certificate, algorithm: hashes.HashAlgorithm) -> None:
    nonce = os.urandom(32)
    query = parse_request(request_der(cert, pki.issuing, algorithm, nonce))
    assert query.serial == cert.serial_number
    assert isinstance(query.hash_algorithm, type(algorithm))
    assert (query.issuer_name_hash, query.issuer_key_hash) == issuer_hashes(pki.issuing, algorithm)
    assert query.nonce == nonce
    assert issuer_matches(query, pki.issuing)
    assert not issuer_matches(query, pki.root)


def test_request_without_nonce(pki: PKI, cert: x509.Certificate) -> None:
    assert parse_request(request_der(cert, pki.issuing)).nonce is None


def _by_hash(serial: int, name_hash: bytes, key_hash: bytes, nonce: bytes | None) -> bytes:
    builder = cocsp.OCSPRequestBuilder().add_certificate_by_hash(name_hash, key_hash, serial, SHA1)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


_requests = st.builds(
    _by_hash,
    st.integers(min_value=1, max_value=MAX_SERIAL),
    st.binary(min_size=20, max_size=20),
    st.binary(min_size=20, max_size=20),
    st.none() | st.binary(min_size=1, max_size=32),
)


@settings(max_examples=300)
@given(_requests)
def test_the_common_shape_is_read_as_cryptography_reads_it(data: bytes) -> None:
    """The requests nearly every client sends (one SHA-1 CertID, a nonce or none) are read
    without cryptography's parser, and read the same."""
    common = _parse_common(data)
    assert common is not None
    full = _parse_full(data)
    assert common[:3] == full[:3] and common.nonce == full.nonce
    assert common.hash_algorithm.name == full.hash_algorithm.name == "sha1"


@settings(max_examples=500)
@given(_requests, st.data())
def test_a_damaged_request_is_left_to_cryptography(data: bytes, draw: st.DataObject) -> None:
    """Any byte changed, the request cut short or lengthened: the common reading either
    declines (the full parser decides) or agrees with the full parser, which then accepts."""
    where = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
    damaged = draw.draw(
        st.sampled_from(
            [
                data[:where] + bytes([draw.draw(st.integers(0, 255))]) + data[where + 1 :],
                data[:where],
                data + draw.draw(st.binary(min_size=1, max_size=4)),
            ]
        )
    )
    common = _parse_common(damaged)
    if common is not None:
        full = _parse_full(damaged)
        assert common[:3] == full[:3] and common.nonce == full.nonce


def test_a_nonce_longer_than_its_extension_says_is_declined() -> None:
    """A byte more after the nonce, with the request's and TBSRequest's lengths made to fit:
    the extension's own lengths disagree, so the common reading declines and the full parser
    refuses the request."""
    data = _by_hash(77, b"\1" * 20, b"\2" * 20, b"\3" * 16)
    assert data[1] < 0x7F and data[3] < 0x7F  # short lengths, so one byte more fits
    longer = b"\x30" + bytes([data[1] + 1]) + b"\x30" + bytes([data[3] + 1]) + data[4:] + b"\3"
    assert _parse_common(longer) is None
    with pytest.raises(MalformedRequest):
        parse_request(longer)


def test_the_common_reading_declines_other_shapes(pki: PKI, cert: x509.Certificate) -> None:
    assert _parse_common(request_der(cert, pki.issuing, hashes.SHA256())) is None
    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.32473.1"), b"\x05\x00")
    builder = cocsp.OCSPRequestBuilder().add_certificate(cert, pki.issuing, SHA1)
    other = builder.add_extension(unknown, critical=False).build()
    assert _parse_common(other.public_bytes(serialization.Encoding.DER)) is None
    assert (
        _parse_common(_ocsp_request(_single_request(b"\0" * 20, b"\0" * 20, 0, "1.3.14.3.2.26")))
        is None
    )


def test_issuer_hashes_follow_rfc6960(pki: PKI) -> None:
    name_hash, key_hash = issuer_hashes(pki.issuing, SHA1)
    digest = hashes.Hash(SHA1)
    digest.update(pki.issuing.subject.public_bytes())
    assert name_hash == digest.finalize()
    # for RFC 5280 method-1 key identifiers the SKI is exactly the SHA-1 key hash
    ski = pki.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert key_hash == ski.digest


def _single_request(name_hash: bytes, key_hash: bytes, serial: int, alg_oid: str) -> bytes:
    cert_id = der.sequence(
        der.sequence(der.oid(alg_oid), der.null()),
        der.octet_string(name_hash),
        der.octet_string(key_hash),
        der.integer(serial),
    )
    return der.sequence(cert_id)


def _ocsp_request(*requests: bytes) -> bytes:
    return der.sequence(der.sequence(der.sequence(*requests)))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "不是 DER 编码的 OCSP 请求"),
        (b"GET / HTTP/1.1\r\n", "不是 DER 编码的 OCSP 请求"),
        (_ocsp_request(), "须只查询一个证书"),
        (
            _ocsp_request(
                _single_request(b"\x00" * 20, b"\x00" * 20, 1, "1.3.14.3.2.26"),
                _single_request(b"\x00" * 20, b"\x00" * 20, 2, "1.3.14.3.2.26"),
            ),
            "须只查询一个证书",
        ),
        (
            _ocsp_request(_single_request(b"\x00" * 16, b"\x00" * 16, 1, "1.2.840.113549.2.5")),
            "CertID 使用了不支持的哈希算法",
        ),
        (
            _ocsp_request(_single_request(b"\x00" * 28, b"\x00" * 28, 1, "2.16.840.1.101.3.4.2.4")),
            "不支持 OCSP 请求 CertID 的哈希算法 sha224",
        ),
        (
            _ocsp_request(_single_request(b"\x00" * 19, b"\x00" * 20, 1, "1.3.14.3.2.26")),
            "哈希值与其算法不符",
        ),
        (b"\x30" * 9000, "过大"),
        # issue 8: a negative serial answered internalError with a traceback
        (_ocsp_request(_single_request(b"\x00" * 20, b"\x00" * 20, -1, "1.3.14.3.2.26")), "序列号"),
        (_ocsp_request(_single_request(b"\x00" * 20, b"\x00" * 20, 0, "1.3.14.3.2.26")), "序列号"),
        (
            _ocsp_request(_single_request(b"\x00" * 20, b"\x00" * 20, 1 << 159, "1.3.14.3.2.26")),
            "序列号",
        ),
    ],
)
def test_malformed_requests(data: bytes, message: str) -> None:
    with pytest.raises(MalformedRequest, match=message) as info:
        parse_request(data)
    assert isinstance(info.value, InvalidInput)
    assert info.value.code == "ocsp_malformed_request"


def test_hand_built_request_parses() -> None:
    """The helper above builds valid requests (so the refusals are about what they test)."""
    query = parse_request(
        _ocsp_request(_single_request(b"\x01" * 20, b"\x02" * 20, 77, "1.3.14.3.2.26"))
    )
    assert (query.serial, query.issuer_name_hash, query.nonce) == (77, b"\x01" * 20, None)


def test_nonce_length(pki: PKI, cert: x509.Certificate) -> None:
    assert parse_request(request_der(cert, pki.issuing, nonce=b"\x01")).nonce == b"\x01"
    with pytest.raises(MalformedRequest, match="nonce 须为 1 至 32 个字节，实为 33 个字节"):
        parse_request(request_der(cert, pki.issuing, nonce=b"\x01" * 33))


def test_critical_extensions(pki: PKI, cert: x509.Certificate) -> None:
    """RFC 6960 4.4: an extension the responder does not understand is ignored, unless it is
    critical; a critical nonce is understood."""

    def with_extension(critical: bool, value: x509.ExtensionType) -> bytes:
        builder = cocsp.OCSPRequestBuilder().add_certificate(cert, pki.issuing, SHA1)
        built = builder.add_extension(value, critical=critical).build()
        return built.public_bytes(serialization.Encoding.DER)

    unknown = x509.UnrecognizedExtension(x509.ObjectIdentifier("1.3.6.1.4.1.32473.1"), b"\x05\x00")
    assert parse_request(with_extension(False, unknown)).nonce is None
    assert parse_request(with_extension(True, x509.OCSPNonce(b"\x01"))).nonce == b"\x01"
    with pytest.raises(MalformedRequest, match=r"无法识别的关键扩展 1\.3\.6\.1\.4\.1\.32473\.1"):
        parse_request(with_extension(True, unknown))


# --- build_response --------------------------------------------------------------------------


def test_good(pki: PKI, cert: x509.Certificate) -> None:
    nonce = os.urandom(32)
    query = parse_request(request_der(cert, pki.issuing, hashes.SHA256(), nonce))
    response = respond(pki, query)
    assert response.response_status is OCSPResponseStatus.SUCCESSFUL
    assert response.certificate_status is OCSPCertStatus.GOOD
    assert response.serial_number == cert.serial_number
    assert isinstance(response.hash_algorithm, hashes.SHA256)
    assert response.issuer_name_hash == query.issuer_name_hash
    assert response.issuer_key_hash == query.issuer_key_hash
    assert response.this_update_utc == NOW.replace(microsecond=0)
    assert response.next_update_utc == NEXT_UPDATE.replace(microsecond=0)
    assert response.revocation_time_utc is None and response.revocation_reason is None
    # responder identified by key hash, its certificate included, nonce echoed
    assert response.responder_name is None
    ski = pki.responder.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert response.responder_key_hash == ski.digest
    assert response.certificates == [pki.responder]
    assert response.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == nonce
    assert response.signature_algorithm_oid == x509.SignatureAlgorithmOID.ECDSA_WITH_SHA256
    responder_public = pki.responder.public_key()
    assert isinstance(responder_public, ec.EllipticCurvePublicKey)
    responder_public.verify(
        response.signature, response.tbs_response_bytes, ec.ECDSA(hashes.SHA256())
    )


def test_no_nonce_no_extension(pki: PKI, cert: x509.Certificate) -> None:
    response = respond(pki, parse_request(request_der(cert, pki.issuing)))
    assert len(response.extensions) == 0


def test_revoked(pki: PKI, cert: x509.Certificate) -> None:
    query = parse_request(request_der(cert, pki.issuing))
    revoked_at = NOW - timedelta(days=1)
    response = respond(
        pki, query, status="revoked", revoked_at=revoked_at, reason=x509.ReasonFlags.key_compromise
    )
    assert response.certificate_status is OCSPCertStatus.REVOKED
    assert response.revocation_time_utc == revoked_at.replace(microsecond=0)
    assert response.revocation_reason is x509.ReasonFlags.key_compromise
    unspecified = respond(
        pki, query, status="revoked", revoked_at=revoked_at, reason=x509.ReasonFlags.unspecified
    )
    assert unspecified.revocation_reason is None
    plain = respond(pki, query, status="revoked", revoked_at=revoked_at)
    assert plain.revocation_reason is None


def test_unknown_serial_and_unknown_issuer(pki: PKI, cert: x509.Certificate) -> None:
    query = parse_request(request_der(cert, pki.issuing))
    unknown = OCSPQuery(12345, query.issuer_name_hash, query.issuer_key_hash, SHA1, None)
    response = respond(pki, unknown, status="unknown")
    assert response.certificate_status is OCSPCertStatus.UNKNOWN
    assert response.serial_number == 12345
    foreign = OCSPQuery(1, b"\x00" * 20, b"\x00" * 20, SHA1, None)
    assert not issuer_matches(foreign, pki.issuing)
    assert respond(pki, foreign, status="unknown").certificate_status is OCSPCertStatus.UNKNOWN
    with pytest.raises(InvalidInput, match="针对的是其他签发者"):
        respond(pki, foreign, status="good")
    with pytest.raises(InvalidInput, match="针对的是其他签发者"):
        respond(pki, foreign, status="revoked", revoked_at=NOW)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": "revoked"}, "须有吊销时间"),
        ({"status": "good", "revoked_at": NOW}, "状态为 good 的 OCSP 应答不能带吊销"),
        (
            {"status": "unknown", "reason": x509.ReasonFlags.superseded},
            "状态为 unknown 的 OCSP 应答",
        ),
        ({"status": "fine"}, "只能是 good、revoked 或 unknown"),
        (
            {"status": "revoked", "revoked_at": NOW, "reason": x509.ReasonFlags.remove_from_crl},
            "removeFromCRL 不是吊销原因",
        ),
        ({"next_update": NOW}, "nextUpdate 须晚于"),
        ({"next_update": NOW - timedelta(hours=1)}, "nextUpdate 须晚于"),
    ],
)
def test_bad_arguments(
    pki: PKI, cert: x509.Certificate, overrides: dict[str, object], message: str
) -> None:
    query = parse_request(request_der(cert, pki.issuing))
    with pytest.raises(InvalidInput, match=message):
        respond(pki, query, **overrides)


def test_ca_signing_its_own_responses(pki: PKI, cert: x509.Certificate) -> None:
    query = parse_request(request_der(cert, pki.issuing))
    response = respond(pki, query, responder_cert=pki.issuing, responder_key=pki.issuing_key)
    assert response.certificates == []
    ski = pki.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert response.responder_key_hash == ski.digest


def test_responder_must_be_delegated_by_the_issuer(pki: PKI, cert: x509.Certificate) -> None:
    query = parse_request(request_der(cert, pki.issuing))
    with pytest.raises(ConfigurationError, match="不是由本CA签发的"):
        respond(pki, query, responder_cert=pki.root, responder_key=pki.root_key)
    # an end-entity certificate of the CA without id-kp-OCSPSigning cannot answer
    key = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(ConfigurationError, match="缺少 id-kp-OCSPSigning"):
        respond(pki, query, responder_cert=cert, responder_key=key)


def test_rsa_responder(pki: PKI, cert: x509.Certificate) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(65537, 2048)
    responder = authority.build_ocsp_responder(
        pki.issuer, key.public_key(), authority.demo_responder_name(), NOW
    )
    query = parse_request(request_der(cert, pki.issuing))
    response = respond(pki, query, responder_cert=responder, responder_key=key)
    assert response.signature_algorithm_oid == x509.SignatureAlgorithmOID.RSA_WITH_SHA256


@pytest.mark.parametrize(
    "status",
    [
        OCSPResponseStatus.MALFORMED_REQUEST,
        OCSPResponseStatus.INTERNAL_ERROR,
        OCSPResponseStatus.TRY_LATER,
        OCSPResponseStatus.SIG_REQUIRED,
        OCSPResponseStatus.UNAUTHORIZED,
    ],
)
def test_error_response(status: OCSPResponseStatus) -> None:
    data = error_response(status)
    assert cocsp.load_der_ocsp_response(data).response_status is status
    assert data == der.sequence(der.enumerated(status.value))


def test_error_response_cannot_be_successful() -> None:
    with pytest.raises(InvalidInput, match="状态不能是 successful"):
        error_response(OCSPResponseStatus.SUCCESSFUL)


def test_times_are_utc_seconds(pki: PKI, cert: x509.Certificate) -> None:
    query = parse_request(request_der(cert, pki.issuing))
    this = datetime(2026, 3, 3, 9, 0, 0, 999999, tzinfo=UTC)
    response = respond(pki, query, this_update=this, next_update=this + timedelta(hours=1))
    assert response.this_update_utc == datetime(2026, 3, 3, 9, 0, 0, tzinfo=UTC)


def test_issuer_hashes_for_other_algorithms_are_computed(pki: PKI) -> None:
    name_hash, _ = issuer_hashes(pki.issuing, hashes.SHA224())
    digest = hashes.Hash(hashes.SHA224())
    digest.update(pki.issuing.subject.public_bytes())
    assert name_hash == digest.finalize()
    # and the cached path answers per certificate, not from a stale entry
    assert issuer_hashes(pki.root, SHA1) != issuer_hashes(pki.issuing, SHA1)


@pytest.mark.parametrize(
    ("status", "revoked_at", "reason", "nonce", "algorithm"),
    [
        ("good", None, None, None, SHA1),
        ("good", None, None, bytes(range(32)), hashes.SHA256()),
        ("revoked", NOW - timedelta(days=2), x509.ReasonFlags.key_compromise, b"n", SHA1),
        ("revoked", NOW - timedelta(days=2), None, None, hashes.SHA512()),
        ("unknown", None, None, b"\x00" * 16, SHA1),
    ],
    ids=["good", "good-nonce-sha256", "revoked-reason-nonce", "revoked-sha512", "unknown-nonce"],
)
def test_encoding_is_what_cryptography_builds(
    pki: PKI,
    cert: x509.Certificate,
    status: str,
    revoked_at: datetime | None,
    reason: x509.ReasonFlags | None,
    nonce: bytes | None,
    algorithm: hashes.HashAlgorithm,
) -> None:
    """The hand-made DER (build_response encodes it itself: three times faster) is the
    ResponseData cryptography's builder makes from the same input, byte for byte, apart from
    producedAt (the builder takes the wall clock, build_response thisUpdate)."""
    query = parse_request(request_der(cert, pki.issuing, algorithm, nonce))
    mine = respond(pki, query, status=status, revoked_at=revoked_at, reason=reason)
    builder = (
        cocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=query.issuer_name_hash,
            issuer_key_hash=query.issuer_key_hash,
            serial_number=query.serial,
            algorithm=algorithm,
            cert_status={"good": OCSPCertStatus.GOOD, "revoked": OCSPCertStatus.REVOKED}.get(
                status, OCSPCertStatus.UNKNOWN
            ),
            this_update=THIS_UPDATE,
            next_update=NEXT_UPDATE,
            revocation_time=revoked_at and revoked_at.replace(microsecond=0),
            revocation_reason=reason,
        )
        .responder_id(cocsp.OCSPResponderEncoding.HASH, pki.responder)
        .certificates([pki.responder])
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    reference = builder.sign(pki.responder_key, hashes.SHA256())
    produced = der.generalized_time(reference.produced_at_utc)
    assert mine.produced_at_utc == THIS_UPDATE.replace(microsecond=0)
    assert mine.tbs_response_bytes == reference.tbs_response_bytes.replace(
        produced, der.generalized_time(THIS_UPDATE)
    )
    assert mine.certificates == reference.certificates
    assert mine.signature_algorithm_oid == reference.signature_algorithm_oid
    pki.responder.public_key().verify(  # type: ignore[union-attr,call-arg]
        mine.signature, mine.tbs_response_bytes, ec.ECDSA(hashes.SHA256())
    )
