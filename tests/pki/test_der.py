from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import assume, given
from hypothesis import strategies as st

from certhall.pki import der


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "00"),
        (127, "7f"),
        (128, "8180"),
        (255, "81ff"),
        (256, "820100"),
        (65535, "82ffff"),
        (65536, "83010000"),
        (52_000_000, "8403197500"),
    ],
)
def test_length(n: int, expected: str) -> None:
    assert der.length(n).hex() == expected


def test_length_refuses_negative() -> None:
    with pytest.raises(ValueError, match="negative"):
        der.length(-1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "020100"),
        (1, "020101"),
        (127, "02017f"),
        (128, "02020080"),
        (255, "020200ff"),
        (256, "02020100"),
        (-1, "0201ff"),
        (-128, "020180"),
        (-129, "0202ff7f"),
        (-256, "0202ff00"),
        (-257, "0202feff"),
        (2**127, "021100" + "80" + "00" * 15),
    ],
)
def test_integer(value: int, expected: str) -> None:
    assert der.integer(value).hex() == expected


@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_integer_is_minimal_twos_complement(value: int) -> None:
    content = der.integer_content(value)
    assert int.from_bytes(content, "big", signed=True) == value
    if len(content) > 1:  # X.690 8.3.2: the first 9 bits are never all 0 or all 1
        assert not (content[0] == 0x00 and content[1] < 0x80)
        assert not (content[0] == 0xFF and content[1] >= 0x80)


def test_tlv_long_content_and_bad_tags() -> None:
    assert der.tlv(0x04, b"x" * 200)[:3] == b"\x04\x81\xc8"
    with pytest.raises(ValueError, match="single-octet"):
        der.tlv(0x1F, b"")
    with pytest.raises(ValueError, match="single-octet"):
        der.tlv(0x100, b"")


def test_strings() -> None:
    assert der.printable_string("CN") == b"\x13\x02CN"
    assert der.printable_string("AB", tag=0x80) == b"\x80\x02AB"
    assert der.utf8_string("深圳") == b"\x0c\x06" + "深圳".encode()
    with pytest.raises(ValueError, match="PrintableString"):
        der.printable_string("a*b")
    with pytest.raises(ValueError, match="PrintableString"):
        der.printable_string("深圳")
    assert der.is_printable("91350100M000100Y43")
    assert not der.is_printable("x@y")


def test_constructed() -> None:
    assert der.sequence() == b"\x30\x00"
    assert der.sequence(der.null(), der.boolean(True)) == bytes.fromhex("300505000101ff")
    assert der.set_of(b"\x02\x01\x02", b"\x02\x01\x01") == bytes.fromhex("3106020101020102")
    assert der.context(0, der.integer(5)) == bytes.fromhex("a003020105")
    assert der.context(1, b"ab", constructed=False) == b"\x81\x02ab"
    assert der.octet_string(b"\x01") == b"\x04\x01\x01"
    assert der.enumerated(1) == b"\x0a\x01\x01"
    assert der.bit_string(b"\xff") == b"\x03\x02\x00\xff"
    with pytest.raises(ValueError, match="out of range"):
        der.context(31, b"")
    with pytest.raises(ValueError, match="unused bits"):
        der.bit_string(b"", unused_bits=1)


@st.composite
def oids(draw: st.DrawFn) -> str:
    first = draw(st.integers(min_value=0, max_value=2))
    second = draw(st.integers(min_value=0, max_value=39 if first < 2 else 2**64))
    rest = draw(st.lists(st.integers(min_value=0, max_value=2**127), max_size=6))
    return ".".join(str(arc) for arc in (first, second, *rest))


@given(oids())
def test_oid_matches_cryptography(dotted: str) -> None:
    assume(len(der.oid(dotted)) <= 2 + 63)  # cryptography's OIDs are at most 63 content octets
    name = x509.Name([x509.NameAttribute(x509.ObjectIdentifier(dotted), "x")])
    # Name = SEQUENCE { SET { SEQUENCE { OID, UTF8String "x" } } }: the OID starts at offset 6.
    encoded = name.public_bytes()
    ours = der.oid(dotted)
    assert encoded[6 : 6 + len(ours)] == ours
    assert encoded[6 + len(ours) :] == b"\x0c\x01x"


def test_oid_examples_and_errors() -> None:
    assert der.oid("1.2.156.10260.4.1.1").hex() == "06082a811cd014040101"
    assert der.oid("2.999.1").hex() == "0603883701"
    assert der.oid("2.5.29.21").hex() == "0603551d15"
    for bad in ("", "1", "3.1", "1.40", "a.b", "1.-2"):
        with pytest.raises(ValueError, match="object identifier"):
            der.oid(bad)


def test_times_follow_rfc5280() -> None:
    assert der.x509_time(datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)) == b"\x17\x0d491231235959Z"
    assert der.x509_time(datetime(2050, 1, 1, tzinfo=UTC)) == b"\x18\x0f20500101000000Z"
    assert der.x509_time(datetime(1950, 1, 1, tzinfo=UTC)) == b"\x17\x0d500101000000Z"
    assert der.x509_time(datetime(1949, 12, 31, tzinfo=UTC)) == b"\x18\x0f19491231000000Z"
    assert der.generalized_time(datetime(999, 1, 2, tzinfo=UTC)) == b"\x18\x0f09990102000000Z"
    # Fractions are dropped, other zones converted to UTC.
    cst = timezone(timedelta(hours=8))
    assert der.x509_time(datetime(2026, 3, 3, 9, 30, 15, 999999, tzinfo=cst)) == (
        b"\x17\x0d260303013015Z"
    )
    with pytest.raises(ValueError, match="1950-2049"):
        der.utc_time(datetime(2050, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="naive"):
        der.x509_time(datetime(2026, 1, 1))


def test_read_tlv_and_children() -> None:
    data = der.sequence(der.integer(1), der.octet_string(b"x" * 300))
    tag, start, end = der.read_tlv(data)
    assert (tag, end) == (0x30, len(data))
    kids = der.children(data, start, end)
    assert [k[0] for k in kids] == [0x02, 0x04]
    assert data[kids[1][1] : kids[1][2]] == b"x" * 300


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x30", "truncated"),
        (b"\x30\x05\x01", "truncated DER content"),
        (b"\x30\x80\x00\x00", "indefinite"),
        (b"\x30\x81\x05\x00\x00\x00\x00\x00", "non-minimal"),
        (b"\x30\x82\x00\x80" + b"\x00" * 128, "non-minimal"),
        (b"\x30\x82\x01", "truncated DER length"),
        (b"\x1f\x01\x00", "multi-octet"),
    ],
)
def test_read_tlv_refuses_bad_der(data: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        der.read_tlv(data)


def test_spki_public_key_bits() -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    spki = ec_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    point = ec_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert der.spki_public_key_bits(spki) == point
    rsa_key = rsa.generate_private_key(65537, 2048).public_key()
    spki = rsa_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    pkcs1 = rsa_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    assert der.spki_public_key_bits(spki) == pkcs1
    with pytest.raises(ValueError, match="SubjectPublicKeyInfo"):
        der.spki_public_key_bits(der.sequence(der.integer(1)))
    with pytest.raises(ValueError, match="SubjectPublicKeyInfo"):
        der.spki_public_key_bits(spki + b"\x00")
