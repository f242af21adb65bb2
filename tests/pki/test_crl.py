from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtensionOID, SignatureAlgorithmOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from certhall.errors import InvalidInput
from certhall.pki import authority
from certhall.pki.crl import (
    MAX_CRL_NUMBER,
    REASON_CODES,
    AnyEntry,
    Entry,
    build_crl,
    encode_entry,
)
from certhall.pki.keys import CertAndKey, SigningAuthority

from .support import NOW, PKI

THIS_UPDATE = datetime(2026, 3, 3, 2, 0, 0, tzinfo=UTC)
NEXT_UPDATE = THIS_UPDATE + timedelta(days=7)

ALL_REASONS: list[x509.ReasonFlags | None] = [None, x509.ReasonFlags.unspecified, *REASON_CODES]


def reference(
    ca: SigningAuthority, entries: list[Entry], number: int, this: datetime, next_: datetime
) -> x509.CertificateRevocationList:
    """The same CRL made with cryptography's builder (slow, but the reference encoding)."""
    revoked = []
    for serial, when, reason in entries:
        rb = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
        if reason not in (None, x509.ReasonFlags.unspecified):
            rb = rb.add_extension(x509.CRLReason(reason), critical=False)
        revoked.append(rb.build())
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    builder = x509.CertificateRevocationListBuilder(
        issuer_name=ca.certificate.subject,
        last_update=this,
        next_update=next_,
        extensions=[
            x509.Extension(
                ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
                False,
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski),
            ),
            x509.Extension(ExtensionOID.CRL_NUMBER, False, x509.CRLNumber(number)),
        ],
        revoked_certificates=revoked,
    )
    return builder.sign(ca.key, hashes.SHA256())  # type: ignore[arg-type]


def reference_tbs(
    ca: SigningAuthority, entries: list[Entry], number: int, this: datetime, next_: datetime
) -> bytes:
    return reference(ca, entries, number, this, next_).tbs_certlist_bytes


def check_crl(ca: SigningAuthority, data: bytes, entries: list[Entry], number: int) -> None:
    crl = x509.load_der_x509_crl(data)
    assert crl.is_signature_valid(ca.certificate.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.certificate.subject
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    ski = ca.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert aki.value.key_identifier == ski.value.digest
    assert not aki.critical
    assert len(crl) == len(entries)
    for revoked, (serial, when, reason) in zip(crl, entries, strict=True):
        assert revoked.serial_number == serial
        assert revoked.revocation_date_utc == when.astimezone(UTC).replace(microsecond=0)
        if reason in (None, x509.ReasonFlags.unspecified):
            assert len(revoked.extensions) == 0
        else:
            assert revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
                reason
            )


def test_empty_crl(pki: PKI) -> None:
    data = build_crl(pki.issuer, [], 1, THIS_UPDATE, NEXT_UPDATE)
    crl = x509.load_der_x509_crl(data)
    assert len(crl) == 0
    assert crl.last_update_utc == THIS_UPDATE and crl.next_update_utc == NEXT_UPDATE
    assert crl.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
    assert [e.oid for e in crl.extensions] == [
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.CRL_NUMBER,
    ]
    check_crl(pki.issuer, data, [], 1)
    assert crl.tbs_certlist_bytes == reference_tbs(pki.issuer, [], 1, THIS_UPDATE, NEXT_UPDATE)


def test_entries_and_reasons(pki: PKI) -> None:
    when = datetime(2026, 2, 1, 8, 0, 0, 123456, tzinfo=UTC)
    entries: list[Entry] = [
        (1000 + i, when + timedelta(seconds=i // 3), reason)
        for i, reason in enumerate(ALL_REASONS * 3)
    ]
    data = build_crl(pki.issuer, entries, 42, THIS_UPDATE, NEXT_UPDATE)
    check_crl(pki.issuer, data, entries, 42)
    tbs = x509.load_der_x509_crl(data).tbs_certlist_bytes
    assert tbs == reference_tbs(pki.issuer, entries, 42, THIS_UPDATE, NEXT_UPDATE)
    # reasonCode values as RFC 5280 numbers them
    crl = x509.load_der_x509_crl(data)
    key_compromise = crl.get_revoked_certificate_by_serial_number(1002)
    assert key_compromise is not None
    assert key_compromise.extensions.get_extension_for_class(x509.CRLReason).value.reason is (
        x509.ReasonFlags.key_compromise
    )


def test_generator_input_and_order(pki: PKI) -> None:
    def rows() -> Iterator[Entry]:
        for serial in (5, 3, 9, 1):
            yield serial, NOW, None

    data = build_crl(pki.issuer, rows(), 2, THIS_UPDATE, NEXT_UPDATE)
    assert [r.serial_number for r in x509.load_der_x509_crl(data)] == [5, 3, 9, 1]


def test_rsa_issuer(pki: PKI) -> None:
    key = rsa.generate_private_key(65537, 2048)
    cert = authority.build_intermediate(
        pki.root, pki.root_key, key.public_key(), authority.demo_names().issuing, NOW
    )
    ca = CertAndKey(cert, key)
    entries: list[Entry] = [(7, NOW, x509.ReasonFlags.superseded)]
    data = build_crl(ca, entries, 3, THIS_UPDATE, NEXT_UPDATE)
    crl = x509.load_der_x509_crl(data)
    assert crl.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    check_crl(ca, data, entries, 3)
    # RSA PKCS#1 v1.5 is deterministic: the whole CRL equals cryptography's, byte for byte
    expected = reference(ca, entries, 3, THIS_UPDATE, NEXT_UPDATE)
    assert data == expected.public_bytes(serialization.Encoding.DER)


def test_root_crl_via_cert_and_key(pki: PKI) -> None:
    data = build_crl(
        CertAndKey(pki.root, pki.root_key), [(9, NOW, None)], 1, THIS_UPDATE, NEXT_UPDATE
    )
    check_crl(CertAndKey(pki.root, pki.root_key), data, [(9, NOW, None)], 1)
    assert x509.load_der_x509_crl(data).signature_algorithm_oid == (
        SignatureAlgorithmOID.ECDSA_WITH_SHA256
    )


def test_times_across_2050_and_zones(pki: PKI) -> None:
    cst = timezone(timedelta(hours=8))
    entries: list[Entry] = [
        (1, datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC), None),
        (2, datetime(2050, 1, 1, 0, 0, 0, tzinfo=UTC), None),
        (3, datetime(2026, 3, 3, 9, 0, 0, tzinfo=cst), None),
    ]
    this, next_ = datetime(2049, 12, 31, tzinfo=UTC), datetime(2050, 1, 7, tzinfo=UTC)
    data = build_crl(pki.issuer, entries, 1, this, next_)
    check_crl(pki.issuer, data, entries, 1)
    assert b"\x17\x0d491231235959Z" in data and b"\x18\x0f20500101000000Z" in data
    assert b"\x17\x0d260303010000Z" in data
    assert x509.load_der_x509_crl(data).tbs_certlist_bytes == reference_tbs(
        pki.issuer, entries, 1, this, next_
    )


def test_large_crl(pki: PKI) -> None:
    entries: list[Entry] = [
        (
            (1 << 126) | i * 7919,
            NOW - timedelta(seconds=i % 5000),
            ALL_REASONS[i % len(ALL_REASONS)],
        )
        for i in range(1, 50_001)
    ]
    data = build_crl(pki.issuer, entries, 77, THIS_UPDATE, NEXT_UPDATE)
    crl = x509.load_der_x509_crl(data)
    assert len(crl) == 50_000
    assert crl.is_signature_valid(pki.issuing.public_key())
    assert crl.get_revoked_certificate_by_serial_number(entries[-1][0]) is not None


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([(0, NOW, None)], "序列号 0x0 不是有效的证书序列号"),
        ([(-1, NOW, None)], "不是有效的证书序列号"),
        ([(1 << 159, NOW, None)], "不是有效的证书序列号"),
        ([(5, NOW, None), (5, NOW, None)], "重复的序列号"),
        ([(5, datetime(2026, 1, 1), None)], "naive datetime"),
        ([(5, NOW, x509.ReasonFlags.remove_from_crl)], "不能出现在完整 CRL 中"),
    ],
)
def test_bad_entries(pki: PKI, entries: list[Entry], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        build_crl(pki.issuer, entries, 1, THIS_UPDATE, NEXT_UPDATE)


def test_largest_serial_and_number(pki: PKI) -> None:
    entries: list[Entry] = [((1 << 159) - 1, NOW, None)]
    data = build_crl(pki.issuer, entries, MAX_CRL_NUMBER, THIS_UPDATE, NEXT_UPDATE)
    check_crl(pki.issuer, data, entries, MAX_CRL_NUMBER)


@pytest.mark.parametrize("number", [-1, MAX_CRL_NUMBER + 1, True])
def test_bad_number(pki: PKI, number: int) -> None:
    with pytest.raises(InvalidInput, match="CRL 编号"):
        build_crl(pki.issuer, [], number, THIS_UPDATE, NEXT_UPDATE)


def test_bad_update_times(pki: PKI) -> None:
    with pytest.raises(InvalidInput, match="nextUpdate 须晚于"):
        build_crl(pki.issuer, [], 1, THIS_UPDATE, THIS_UPDATE)
    with pytest.raises(InvalidInput, match="nextUpdate 须晚于"):
        build_crl(pki.issuer, [], 1, THIS_UPDATE, THIS_UPDATE + timedelta(microseconds=999))
    with pytest.raises(InvalidInput, match="naive"):
        build_crl(pki.issuer, [], 1, datetime(2026, 1, 1), NEXT_UPDATE)


# --- property: our encoder == cryptography's builder -----------------------------------------

_serials = st.integers(min_value=1, max_value=(1 << 159) - 1)
_times = st.datetimes(
    min_value=datetime(1950, 1, 1),
    max_value=datetime(2100, 12, 31),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5))]),
).filter(lambda d: d.astimezone(UTC).year >= 1950)
_entries = st.lists(
    st.tuples(_serials, _times, st.sampled_from(ALL_REASONS)),
    max_size=25,
    unique_by=lambda e: e[0],
)


@pytest.fixture(scope="module")
def property_ca(pki: PKI) -> CertAndKey:
    # RSA signatures are deterministic, so the complete CRL can be compared too.
    key = rsa.generate_private_key(65537, 2048)
    cert = authority.build_intermediate(
        pki.root, pki.root_key, key.public_key(), authority.demo_names().issuing, NOW
    )
    return CertAndKey(cert, key)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    entries=_entries,
    number=st.integers(min_value=0, max_value=MAX_CRL_NUMBER),
    this=_times,
    span=st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=400)),
)
def test_encoder_matches_cryptography(
    pki: PKI,
    property_ca: CertAndKey,
    entries: list[Entry],
    number: int,
    this: datetime,
    span: timedelta,
) -> None:
    this = this.replace(microsecond=0)
    next_ = this + span
    # EC (randomised signatures): the signed tbsCertList is byte-identical
    data = build_crl(pki.issuer, entries, number, this, next_)
    check_crl(pki.issuer, data, entries, number)
    expected_tbs = reference_tbs(pki.issuer, entries, number, this, next_)
    assert x509.load_der_x509_crl(data).tbs_certlist_bytes == expected_tbs
    # entries stored as their DER (every other one) give the same bytes
    mixed: list[AnyEntry] = [encode_entry(*e) if i % 2 else e for i, e in enumerate(entries)]
    assert (
        x509.load_der_x509_crl(build_crl(pki.issuer, mixed, number, this, next_)).tbs_certlist_bytes
        == expected_tbs
    )
    # RSA (deterministic signatures): the whole CRL is byte-identical
    data = build_crl(property_ca, entries, number, this, next_)
    check_crl(property_ca, data, entries, number)
    expected = reference(property_ca, entries, number, this, next_)
    assert data == expected.public_bytes(serialization.Encoding.DER)


def test_stored_entries_are_checked_when_encoded_and_read(pki: PKI) -> None:
    with pytest.raises(InvalidInput) as bad_serial:
        encode_entry(0, THIS_UPDATE, None)
    assert bad_serial.value.code == "crl_serial"
    for stored in (b"", b"\x02\x01\x01"):
        with pytest.raises(InvalidInput) as bad_der:
            build_crl(pki.issuer, [stored], 1, THIS_UPDATE, NEXT_UPDATE)
        assert bad_der.value.code == "crl_entry_der"
    # a serial given twice as a tuple is still refused when stored entries stand between
    twice: list[AnyEntry] = [
        (7, THIS_UPDATE, None),
        encode_entry(8, THIS_UPDATE, None),
        (7, THIS_UPDATE, None),
    ]
    with pytest.raises(InvalidInput) as repeated:
        build_crl(pki.issuer, twice, 1, THIS_UPDATE, NEXT_UPDATE)
    assert repeated.value.code == "crl_serial_twice"


def test_keys_module_signature_helpers(pki: PKI) -> None:
    from certhall.errors import ConfigurationError
    from certhall.pki.keys import sign, signature_algorithm

    with pytest.raises(ConfigurationError, match="CA 密钥须为 EC 或 RSA 密钥"):
        signature_algorithm(_ed25519_key())
    with pytest.raises(ConfigurationError, match="CA 密钥须为 EC 或 RSA 密钥"):
        sign(_ed25519_key(), b"data")
    assert signature_algorithm(pki.issuing_key) == bytes.fromhex("300a06082a8648ce3d040302")
    assert signature_algorithm(rsa.generate_private_key(65537, 2048)) == bytes.fromhex(
        "300d06092a864886f70d01010b0500"
    )
    assert isinstance(pki.issuing_key, ec.EllipticCurvePrivateKey)


def _ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()
