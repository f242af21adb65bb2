"""Full CRLs (RFC 5280 section 5), DER-encoded by hand because they get big.

With ``cryptography``'s ``CertificateRevocationListBuilder`` a million entries take ~10 s: the
builder and signature need under 3 s when the list is passed at construction, but creating the
million ``RevokedCertificate`` objects takes 6-13 s (and adding entries one by one is quadratic).
So the tbsCertList is encoded here: revoked entries from precomputed templates, the revocation times
through a small cache (revocations come in batches sharing a second), then the tbs bytes are
signed with ``issuer.key.sign(...)`` and wrapped in a CertificateList. For the same input the tbs
bytes equal those of ``cryptography``'s builder (tests/pki/test_crl.py proves it).

Profile: version 2; signature ecdsa-with-SHA256 / sha256WithRSAEncryption; issuer = the CA's
subject; thisUpdate / nextUpdate; revokedCertificates in the given order (absent when empty);
entry extension reasonCode only for reasons other than unspecified; crlExtensions
authorityKeyIdentifier (keyIdentifier) and cRLNumber, both non-critical.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from cryptography import x509

from certhall.errors import InvalidInput
from certhall.pki import der
from certhall.pki.keys import SigningAuthority, authority_key_identifier, sign, signature_algorithm

OID_CRL_NUMBER = "2.5.29.20"
OID_REASON_CODE = "2.5.29.21"
OID_AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"

MAX_CRL_NUMBER = (1 << 159) - 1  # 20 octets (RFC 5280 section 5.2.3)
MAX_SERIAL_OCTETS = 20

#: CRLReason codes (RFC 5280 section 5.3.1). unspecified is never encoded (section 5.3.1: "the
#: reason code CRL entry extension SHOULD be absent instead of using the unspecified (0) value");
#: removeFromCRL only belongs in delta CRLs, which certhall does not publish.
REASON_CODES: dict[x509.ReasonFlags, int] = {
    x509.ReasonFlags.key_compromise: 1,
    x509.ReasonFlags.ca_compromise: 2,
    x509.ReasonFlags.affiliation_changed: 3,
    x509.ReasonFlags.superseded: 4,
    x509.ReasonFlags.cessation_of_operation: 5,
    x509.ReasonFlags.certificate_hold: 6,
    x509.ReasonFlags.privilege_withdrawn: 9,
    x509.ReasonFlags.aa_compromise: 10,
}

_TIME_CACHE_LIMIT = 1 << 18  # bounded: ~25 MB of cached encodings at most

Entry = tuple[int, datetime, x509.ReasonFlags | None]
#: An entry, or its DER as :func:`encode_entry` made it (stored with the revocation, so that a
#: big CRL is mostly a concatenation of stored bytes).
AnyEntry = Entry | bytes


def _reason_extensions(code: int) -> bytes:
    """crlEntryExtensions with the single reasonCode extension (non-critical, so no BOOLEAN)."""
    return der.sequence(der.extension(der.oid(OID_REASON_CODE), der.enumerated(code)))


#: The bytes after revocationDate in an entry, per reason.
_REASON_TAIL: dict[x509.ReasonFlags | None, bytes] = {
    None: b"",
    x509.ReasonFlags.unspecified: b"",
    **{reason: _reason_extensions(code) for reason, code in REASON_CODES.items()},
}
#: SEQUENCE headers by content length (entries are short: serial <= 22 + time <= 17 + 16).
_SEQUENCE_HEADER = [bytes((der.SEQUENCE,)) + der.length(n) for n in range(128)]
_INTEGER_HEADER = [bytes((der.INTEGER, n)) for n in range(MAX_SERIAL_OCTETS + 2)]


def encode_entry(serial: int, revoked_at: datetime, reason: x509.ReasonFlags | None) -> bytes:
    """One revokedCertificates entry in DER, checked as :func:`encode_revoked_certificates`
    checks it."""
    return bytes(encode_revoked_certificates([(serial, revoked_at, reason)])[0])


def encode_revoked_certificates(entries: Iterable[AnyEntry]) -> tuple[bytearray, int]:
    """The content octets of ``revokedCertificates`` (without its SEQUENCE header), and the count.

    Raises InvalidInput for a serial that is not a positive integer of at most 20 octets, a
    duplicate serial, a naive revocation time, or a reason that does not belong in a full CRL.
    An entry given as DER (:func:`encode_entry`) is copied as it is: its serial was checked when
    it was encoded, and the caller vouches that no serial comes twice (the registry's unique
    serial does).
    """
    out = bytearray()
    append = out.extend
    seq_header = _SEQUENCE_HEADER
    int_header = _INTEGER_HEADER
    reason_tail = _REASON_TAIL
    times: dict[datetime, bytes] = {}
    seen: set[int] = set()
    add_seen = seen.add
    count = encoded = 0
    for entry in entries:
        if isinstance(entry, bytes):
            if not entry or entry[0] != der.SEQUENCE:
                raise InvalidInput(code="crl_entry_der")
            count += 1
            encoded += 1
            append(entry)
            continue
        serial, revoked_at, reason = entry
        size = serial.bit_length() // 8 + 1
        if serial <= 0 or size > MAX_SERIAL_OCTETS:
            # 20 octets = at most 159 bits plus the sign bit (RFC 5280 section 4.1.2.2)
            raise InvalidInput(code="crl_serial", serial=f"{serial:#x}")
        time = times.get(revoked_at)
        if time is None:
            if len(times) >= _TIME_CACHE_LIMIT:
                times.clear()
            try:
                time = der.x509_time(revoked_at)
            except ValueError as exc:
                raise InvalidInput(
                    code="crl_revocation_time", serial=f"{serial:#x}", detail=exc
                ) from None
            times[revoked_at] = time
        try:
            tail = reason_tail[reason]
        except KeyError:
            raise InvalidInput(code="crl_reason", serial=f"{serial:#x}", reason=reason) from None
        add_seen(serial)
        count += 1
        append(seq_header[2 + size + len(time) + len(tail)])
        append(int_header[size])
        append(serial.to_bytes(size, "big"))
        append(time)
        append(tail)
    if len(seen) != count - encoded:
        raise InvalidInput(code="crl_serial_twice")
    return out, count


def crl_extensions(authority_key_id: bytes, number: int) -> bytes:
    """``[0] EXPLICIT Extensions``: authorityKeyIdentifier (keyIdentifier only) and cRLNumber."""
    aki = der.sequence(der.context(0, authority_key_id, constructed=False))
    extensions = der.sequence(
        der.sequence(der.oid(OID_AUTHORITY_KEY_IDENTIFIER), der.octet_string(aki)),
        der.sequence(der.oid(OID_CRL_NUMBER), der.octet_string(der.integer(number))),
    )
    return der.context(0, extensions)


def build_tbs_cert_list(
    *,
    signature_algorithm_der: bytes,
    issuer_name_der: bytes,
    authority_key_id: bytes,
    entries: Iterable[AnyEntry],
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> bytes:
    """The DER TBSCertList (RFC 5280 section 5.1.2)."""
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_CRL_NUMBER:
        raise InvalidInput(code="crl_number")
    try:
        this_der = der.x509_time(this_update)
        next_der = der.x509_time(next_update)
    except ValueError as exc:
        raise InvalidInput(code="crl_update_time", detail=exc) from None
    if der.as_utc(next_update).replace(microsecond=0) <= der.as_utc(this_update).replace(
        microsecond=0
    ):
        raise InvalidInput(code="crl_next_update")
    revoked, count = encode_revoked_certificates(entries)
    parts: list[bytes | bytearray] = [
        b"\x02\x01\x01",  # version v2
        signature_algorithm_der,
        issuer_name_der,
        this_der,
        next_der,
    ]
    if count:  # RFC 5280 5.1.2.6: absent, not empty, when nothing is revoked
        parts.append(bytes((der.SEQUENCE,)) + der.length(len(revoked)))
        parts.append(revoked)
    parts.append(crl_extensions(authority_key_id, number))
    content_length = sum(len(part) for part in parts)
    return b"".join([bytes((der.SEQUENCE,)), der.length(content_length), *parts])


def build_crl(
    issuer: SigningAuthority,
    entries: Iterable[AnyEntry],
    number: int,
    this_update: datetime,
    next_update: datetime,
) -> bytes:
    """A signed full CRL v2 in DER.

    ``issuer`` is an :class:`~certhall.pki.issuance.Issuer` or anything with ``certificate`` and
    ``key`` (e.g. :class:`~certhall.pki.keys.CertAndKey` for the root). ``entries`` are
    ``(serial, revocation time, reason or None)``, or such an entry's DER from
    :func:`encode_entry`, in the order they should appear; a generator is fine (it is consumed
    once). ``number`` is the monotonically increasing cRLNumber.
    """
    algorithm = signature_algorithm(issuer.key)
    aki = authority_key_identifier(issuer.certificate).key_identifier
    if aki is None:  # pragma: no cover - authority_key_identifier always sets it
        raise InvalidInput(code="ca_key_identifier")
    tbs = build_tbs_cert_list(
        signature_algorithm_der=algorithm,
        issuer_name_der=issuer.certificate.subject.public_bytes(),
        authority_key_id=aki,
        entries=entries,
        number=number,
        this_update=this_update,
        next_update=next_update,
    )
    signature = der.bit_string(sign(issuer.key, tbs))
    content_length = len(tbs) + len(algorithm) + len(signature)
    return b"".join((bytes((der.SEQUENCE,)), der.length(content_length), tbs, algorithm, signature))
