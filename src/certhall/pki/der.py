"""Minimal DER (ITU-T X.690) encoders, and a tiny reader, for what certhall encodes by hand.

Only what the CA core needs: the GM/T 0015 identity extensions and the fast CRL encoder. Everything
else goes through ``cryptography``'s builders. Times follow RFC 5280 section 4.1.2.5: UTCTime for
1950 through 2049, GeneralizedTime otherwise, always in UTC ("Z") and without fractional seconds
(fractions are truncated, as ``cryptography`` does).
"""

from __future__ import annotations

from datetime import UTC, datetime

# Universal tags.
BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
ENUMERATED = 0x0A
UTF8_STRING = 0x0C
PRINTABLE_STRING = 0x13
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18
SEQUENCE = 0x30
SET = 0x31

_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 '()+,-./:=?")


def length(n: int) -> bytes:
    """DER length octets for ``n`` content octets (short form below 128, else long form)."""
    if n < 0:
        raise ValueError(f"DER length cannot be negative: {n}")
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    """One complete element: identifier octet ``tag`` (single octet), length, content."""
    if not 0 <= tag <= 0xFF or tag & 0x1F == 0x1F:
        raise ValueError(f"only single-octet tags are supported, got {tag:#x}")
    size = len(content)
    # The short form and one- and two-octet long forms inline: every element of an OCSP answer
    # or a CRL entry, and most of a certificate's.
    if size < 0x80:
        return bytes((tag, size)) + content
    if size < 0x100:
        return bytes((tag, 0x81, size)) + content
    if size < 0x10000:
        return bytes((tag, 0x82, size >> 8, size & 0xFF)) + content
    return bytes((tag,)) + length(size) + content


def integer_content(value: int) -> bytes:
    """The content octets of an INTEGER: minimal two's complement."""
    magnitude = value if value >= 0 else ~value  # ~v == -v - 1 fits the same octets as v
    size = magnitude.bit_length() // 8 + 1  # one spare bit for the sign
    return value.to_bytes(size, "big", signed=True)


def integer(value: int) -> bytes:
    return tlv(INTEGER, integer_content(value))


def enumerated(value: int) -> bytes:
    return tlv(ENUMERATED, integer_content(value))


def null() -> bytes:
    return b"\x05\x00"


def boolean(value: bool) -> bytes:
    return b"\x01\x01\xff" if value else b"\x01\x01\x00"


def octet_string(content: bytes) -> bytes:
    return tlv(OCTET_STRING, content)


def bit_string(content: bytes, unused_bits: int = 0) -> bytes:
    if not 0 <= unused_bits <= 7 or (unused_bits and not content):
        raise ValueError(f"invalid number of unused bits: {unused_bits}")
    return tlv(BIT_STRING, bytes((unused_bits,)) + content)


def is_printable(text: str) -> bool:
    """True when every character is in the PrintableString alphabet (X.680 section 41.4)."""
    return all(ch in _PRINTABLE for ch in text)


def printable_string(text: str, tag: int = PRINTABLE_STRING) -> bytes:
    """A PrintableString; ``tag`` replaces the universal tag for IMPLICIT tagging."""
    if not is_printable(text):
        raise ValueError(f"not a PrintableString: {text!r}")
    return tlv(tag, text.encode("ascii"))


def utf8_string(text: str, tag: int = UTF8_STRING) -> bytes:
    return tlv(tag, text.encode("utf-8"))


def sequence(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    """A SET OF, with its elements sorted as DER requires (X.690 section 11.6)."""
    return tlv(SET, b"".join(sorted(items)))


def extension(oid_der: bytes, value: bytes, critical: bool = False) -> bytes:
    """An X.509 Extension (RFC 5280 4.1): extnID (``oid_der``, encoded by :func:`oid`), critical
    only when TRUE (DER leaves out a DEFAULT value), extnValue wrapping ``value``, the DER of
    the extension's own value."""
    return sequence(oid_der, boolean(True) if critical else b"", octet_string(value))


def context(number: int, content: bytes, *, constructed: bool = True) -> bytes:
    """A context-specific tag ``[number]``.

    ``constructed=True`` is what EXPLICIT tagging (and IMPLICIT tagging of a constructed type) uses:
    ``content`` is the complete inner element(s). ``constructed=False`` is IMPLICIT tagging of a
    primitive type: ``content`` is the inner content octets only.
    """
    if not 0 <= number <= 30:
        raise ValueError(f"context tag number out of range: {number}")
    return tlv((0xA0 if constructed else 0x80) | number, content)


def oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER from its dotted form ("1.2.156.10260.4.1.1")."""
    try:
        arcs = [int(part) for part in dotted.split(".")]
    except ValueError:
        raise ValueError(f"not an object identifier: {dotted!r}") from None
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40) or min(arcs) < 0:
        raise ValueError(f"not an object identifier: {dotted!r}")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out.extend(reversed(chunk))
    return tlv(OBJECT_IDENTIFIER, bytes(out))


def as_utc(when: datetime) -> datetime:
    """``when`` in UTC. Naive datetimes are refused: they are a bug waiting for a time zone."""
    if when.tzinfo is UTC:
        return when
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when.isoformat()}: pass an aware (UTC) datetime")
    return when.astimezone(UTC)


def utc_time(when: datetime) -> bytes:
    """UTCTime ``YYMMDDHHMMSSZ``; only for 1950 through 2049 (RFC 5280 section 4.1.2.5.1)."""
    when = as_utc(when)
    if not 1950 <= when.year <= 2049:
        raise ValueError(f"UTCTime covers 1950-2049 only, got {when.year}")
    return _utc_time(when)


def generalized_time(when: datetime) -> bytes:
    """GeneralizedTime ``YYYYMMDDHHMMSSZ`` without fractional seconds (RFC 5280 4.1.2.5.2)."""
    return _generalized_time(as_utc(when))


def x509_time(when: datetime) -> bytes:
    """The RFC 5280 ``Time`` CHOICE: UTCTime for 1950-2049, GeneralizedTime otherwise.

    (RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; years before 1950 cannot
    be UTCTime either.) Fractional seconds are dropped. This is on the CRL encoder's hot path.
    """
    if when.tzinfo is not UTC:
        when = as_utc(when)
    if 1950 <= when.year <= 2049:
        return _utc_time(when)
    return _generalized_time(when)


def _utc_time(when: datetime) -> bytes:
    return b"\x17\x0d" + b"%02d%02d%02d%02d%02d%02dZ" % (
        when.year % 100,
        when.month,
        when.day,
        when.hour,
        when.minute,
        when.second,
    )


def _generalized_time(when: datetime) -> bytes:
    return b"\x18\x0f" + b"%04d%02d%02d%02d%02d%02dZ" % (
        when.year,
        when.month,
        when.day,
        when.hour,
        when.minute,
        when.second,
    )


# --- reading -----------------------------------------------------------------------------------


def read_tlv(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """Parse the element at ``offset``: returns (tag, content_start, content_end).

    Strict DER lengths only (no indefinite form, minimal long form). Raises ValueError on anything
    truncated or malformed.
    """
    if offset + 2 > len(data):
        raise ValueError("truncated DER element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-octet tags are not supported")
    first = data[offset + 1]
    pos = offset + 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        if count == 0 or count > 8:
            raise ValueError("indefinite or oversized DER length")
        if pos + count > len(data):
            raise ValueError("truncated DER length")
        size = int.from_bytes(data[pos : pos + count], "big")
        if size < 0x80 or data[pos] == 0:
            raise ValueError("non-minimal DER length")
        pos += count
    end = pos + size
    if end > len(data):
        raise ValueError("truncated DER content")
    return tag, pos, end


def children(data: bytes, start: int, end: int) -> list[tuple[int, int, int]]:
    """The elements inside a constructed element's content ``data[start:end]``."""
    out = []
    pos = start
    while pos < end:
        tag, cstart, cend = read_tlv(data, pos)
        if cend > end:
            raise ValueError("DER element overruns its parent")
        out.append((tag, cstart, cend))
        pos = cend
    return out


def spki_public_key_bits(spki: bytes) -> bytes:
    """The ``subjectPublicKey`` BIT STRING value (without the unused-bits octet) of an SPKI.

    This is what RFC 6960 ``issuerKeyHash`` and the RFC 5280 method-1 key identifier hash.
    """
    tag, start, end = read_tlv(spki)
    if tag != SEQUENCE or end != len(spki):
        raise ValueError("not a SubjectPublicKeyInfo")
    parts = children(spki, start, end)
    if len(parts) != 2 or parts[0][0] != SEQUENCE or parts[1][0] != BIT_STRING:
        raise ValueError("not a SubjectPublicKeyInfo")
    _, bstart, bend = parts[1]
    if bend == bstart or spki[bstart] != 0:
        raise ValueError("subjectPublicKey has unused bits")
    return spki[bstart + 1 : bend]
