"""OCSP (RFC 6960): parse a request, match it to an issuer, build the signed answer.

The responder never consults the certificate itself: a query is a CertID (issuer name hash,
issuer key hash, serial). ``issuer_matches`` says whether the query is about our issuing CA; the
caller looks the serial up in the registry and calls ``build_response`` with good / revoked /
unknown. Unknown serials get a signed "unknown", never an error response.

Responses: BasicOCSPResponse signed with SHA-256 by the delegated responder, responderID byKey,
the responder certificate in ``certs`` (when it is not the CA itself), the request nonce echoed
(RFC 8954), thisUpdate/nextUpdate as given, producedAt = thisUpdate. The DER is written here,
as the CRL's is (``pki/crl.py``): cryptography's builder cost 56 µs an answer against 37 µs, 17 of
them the signature, and every nonce request is signed afresh. The tests hold it byte for byte to
what the builder makes of the same input, and to OpenSSL and pkilint.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, NamedTuple, get_args

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509 import ocsp
from cryptography.x509.ocsp import OCSPResponseStatus
from cryptography.x509.oid import ExtendedKeyUsageOID

from certhall.errors import ConfigurationError, InvalidInput
from certhall.pki import der
from certhall.pki.crl import REASON_CODES
from certhall.pki.keys import sign, signature_algorithm, spki
from certhall.pki.profiles import truncate_to_second
from certhall.pki.serials import MAX_SERIAL

#: CertID hash algorithms accepted in requests, by their ``name``.
_HASHES_BY_NAME: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
SUPPORTED_HASHES: tuple[type[hashes.HashAlgorithm], ...] = tuple(_HASHES_BY_NAME.values())
#: RFC 8954 section 2.1: nonces are 1 to 32 octets.
MAX_NONCE_OCTETS = 32
#: Requests bigger than this are refused before parsing (a single CertID request is ~100 bytes).
MAX_REQUEST_BYTES = 8 * 1024

#: Encoded once: DER of id-pkix-ocsp-nonce, id-pkix-ocsp-basic and the CertID hash algorithms
#: (with the NULL parameters RFC 5019 requests carry). A request without these 11 bytes has no
#: nonce (a serving process looks for them before it parses).
NONCE_OID = der.oid("1.3.6.1.5.5.7.48.1.2")
_OCSP_BASIC_OID = der.oid("1.3.6.1.5.5.7.48.1.1")
_GOOD = b"\x80\x00"  # CertStatus good: [0] IMPLICIT NULL
_UNKNOWN = b"\x82\x00"  # unknown: [2] IMPLICIT NULL
_HASH_ALGORITHMS = {
    name: der.sequence(der.oid(dotted), der.null())
    for name, dotted in {
        "sha1": "1.3.14.3.2.26",
        "sha256": "2.16.840.1.101.3.4.2.1",
        "sha384": "2.16.840.1.101.3.4.2.2",
        "sha512": "2.16.840.1.101.3.4.2.3",
    }.items()
}

CertStatus = Literal["good", "revoked", "unknown"]

_STATUSES = frozenset(get_args(CertStatus))


class MalformedRequest(InvalidInput):
    """The bytes are not an OCSP request certhall can answer: reply ``malformedRequest``."""

    code = "ocsp_malformed_request"


class OCSPQuery(NamedTuple):
    """The one CertID of a request, plus its nonce (a tuple: made for every request, and a
    frozen dataclass cost three times as much to make)."""

    serial: int
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    hash_algorithm: hashes.HashAlgorithm
    nonce: bytes | None


def parse_request(data: bytes) -> OCSPQuery:
    """Parse a DER OCSPRequest with exactly one CertID (MalformedRequest otherwise).

    Refused: garbage, more or fewer than one request, CertID hash algorithms other than SHA-1 /
    SHA-256 / SHA-384 / SHA-512, hash lengths that do not fit the algorithm, nonces longer than
    32 octets, a critical extension other than the nonce. A request signature, if any, is
    ignored (certhall does not require signed requests).
    """
    query = _parse_common(data)
    return _parse_full(data) if query is None else query


def _parse_full(data: bytes) -> OCSPQuery:
    """:func:`parse_request` by cryptography's parser, for requests of any shape."""
    if len(data) > MAX_REQUEST_BYTES:
        raise MalformedRequest(code="ocsp_malformed_request", variant="too_large", size=len(data))
    try:
        request = ocsp.load_der_ocsp_request(data)
    except NotImplementedError:
        raise MalformedRequest(code="ocsp_malformed_request", variant="one_certificate") from None
    except ValueError:
        raise MalformedRequest(code="ocsp_malformed_request") from None
    try:
        algorithm = request.hash_algorithm
    except UnsupportedAlgorithm:
        raise MalformedRequest(code="ocsp_malformed_request", variant="hash_unknown") from None
    if not isinstance(algorithm, SUPPORTED_HASHES):
        raise MalformedRequest(
            code="ocsp_malformed_request", variant="hash_unsupported", algorithm=algorithm.name
        )
    name_hash, key_hash = request.issuer_name_hash, request.issuer_key_hash
    if len(name_hash) != algorithm.digest_size or len(key_hash) != algorithm.digest_size:
        raise MalformedRequest(code="ocsp_malformed_request", variant="hash_length")
    try:
        extensions = request.extensions
    except ValueError:
        raise MalformedRequest(code="ocsp_malformed_request", variant="extensions") from None
    serial = request.serial_number
    if not 0 < serial <= MAX_SERIAL:
        # RFC 5280: serials are positive and at most 20 octets; none of ours is anything else.
        raise MalformedRequest(code="ocsp_malformed_request", variant="serial")
    nonce: bytes | None = None
    for extension in extensions:
        if isinstance(extension.value, x509.OCSPNonce):
            nonce = extension.value.nonce
            if not 1 <= len(nonce) <= MAX_NONCE_OCTETS:
                raise MalformedRequest(
                    code="ocsp_malformed_request",
                    variant="nonce",
                    limit=MAX_NONCE_OCTETS,
                    got=len(nonce),
                )
        elif extension.critical:
            # RFC 6960 4.4: unrecognised extensions are ignored unless they are critical
            raise MalformedRequest(
                code="ocsp_malformed_request",
                variant="critical_extension",
                oid=extension.oid.dotted_string,
            )
    return OCSPQuery(
        serial=serial,
        issuer_name_hash=name_hash,
        issuer_key_hash=key_hash,
        hash_algorithm=algorithm,
        nonce=nonce,
    )


#: The shape nearly every client sends (OpenSSL, browsers, RFC 5019 clients): one SHA-1 CertID
#: with NULL parameters, no version, requestor or signature, and either no extensions or just
#: the nonce. Lengths are checked after the match; a request of any other shape, or one whose
#: lengths disagree, goes to cryptography's parser. Matching costs a fifth of that parser's
#: 5 µs, and every nonce request is parsed (docs/performance.md, section 2).
_COMMON_HEAD = re.compile(
    rb"\x30(?:([\x00-\x7f])|\x81([\x80-\xff]))"  # OCSPRequest
    rb"\x30(?:([\x00-\x7f])|\x81([\x80-\xff]))"  # TBSRequest
    rb"\x30([\x00-\x7f])\x30([\x00-\x7f])\x30([\x00-\x7f])"  # requestList, Request, CertID
    rb"\x30\x09\x06\x05\x2b\x0e\x03\x02\x1a\x05\x00"  # sha1, NULL
    rb"\x04\x14(.{20})\x04\x14(.{20})\x02([\x01-\x15])",  # the hashes, the serial's length
    re.DOTALL,
)
_COMMON_NONCE = re.compile(
    rb"\xa2([\x00-\x7f])\x30([\x00-\x7f])\x30([\x00-\x7f])"  # [2] Extensions Extension
    + re.escape(NONCE_OID)
    + rb"\x04([\x00-\x7f])\x04([\x01-\x20])",  # extnValue, the nonce's OCTET STRING (1-32)
    re.DOTALL,
)
_CERT_ID_FIXED = 11 + 22 + 22 + 2  # the algorithm, the two hashes, the serial's tag and length
_SHA1 = hashes.SHA1()  # noqa: S303 - the CertID's hash, as clients send it (RFC 5019)


def _parse_common(data: bytes) -> OCSPQuery | None:
    """``data`` as an :class:`OCSPQuery` when it has the common shape and its lengths agree,
    else None (and the full parser decides)."""
    head = _COMMON_HEAD.match(data)
    if head is None:
        return None
    outer, outer_long, tbs, tbs_long, request_list, request, cert_id, name, key, size = (
        head.groups()
    )
    start = head.end()
    serial_der = data[start : start + size[0]]
    rest = start + size[0]
    if (
        len(serial_der) != size[0]
        or cert_id[0] != _CERT_ID_FIXED + size[0]
        or request[0] != cert_id[0] + 2
        or request_list[0] != request[0] + 2
        or serial_der[0] >= 0x80  # negative
        or (serial_der[0] == 0 and (size[0] == 1 or serial_der[1] < 0x80))  # zero, not minimal
    ):
        return None
    nonce = None
    if rest < len(data):
        ext = _COMMON_NONCE.match(data, rest)
        if ext is None:
            return None
        wrapper, extensions, extension, value, nonce_size = (g[0] for g in ext.groups())
        nonce = data[ext.end() :]
        if (
            len(nonce) != nonce_size
            or value != nonce_size + 2
            or extension != len(NONCE_OID) + 2 + value
            or extensions != extension + 2
            or wrapper != extensions + 2
        ):
            return None
    outer_size, tbs_size = (outer or outer_long)[0], (tbs or tbs_long)[0]
    serial = int.from_bytes(serial_der, "big")
    if (
        outer_size != len(data) - (3 if outer_long else 2)
        or tbs_size != outer_size - (3 if tbs_long else 2)
        or tbs_size != request_list[0] + 2 + len(data) - rest
        or serial > MAX_SERIAL
    ):
        return None
    return OCSPQuery(serial, name, key, _SHA1, nonce)


def _digest(algorithm: hashes.HashAlgorithm, data: bytes) -> bytes:
    h = hashes.Hash(algorithm)
    h.update(data)
    return h.finalize()


def issuer_hashes(
    issuer_cert: x509.Certificate, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    """(issuerNameHash, issuerKeyHash) of CertIDs for certificates ``issuer_cert`` issued.

    The name hash covers the DER of the issuer's subject; the key hash the value of the
    subjectPublicKey BIT STRING (RFC 6960 section 4.1.1). Cached: a responder asks this for every
    request and there are only a few CA certificates.
    """
    if algorithm.name in _HASHES_BY_NAME:
        return _cached_issuer_hashes(issuer_cert, algorithm.name)
    return _issuer_hashes(issuer_cert, algorithm)


@functools.lru_cache(maxsize=64)
def _cached_issuer_hashes(issuer_cert: x509.Certificate, algorithm: str) -> tuple[bytes, bytes]:
    return _issuer_hashes(issuer_cert, _HASHES_BY_NAME[algorithm]())


def _issuer_hashes(
    issuer_cert: x509.Certificate, algorithm: hashes.HashAlgorithm
) -> tuple[bytes, bytes]:
    name_hash = _digest(algorithm, issuer_cert.subject.public_bytes())
    key_hash = _digest(algorithm, der.spki_public_key_bits(spki(issuer_cert.public_key())))
    return name_hash, key_hash


def issuer_matches(query: OCSPQuery, issuer_cert: x509.Certificate) -> bool:
    """True when ``query`` asks about a certificate issued by ``issuer_cert``."""
    name_hash, key_hash = issuer_hashes(issuer_cert, query.hash_algorithm)
    return query.issuer_name_hash == name_hash and query.issuer_key_hash == key_hash


def _check_responder(issuer_cert: x509.Certificate, responder_cert: x509.Certificate) -> bool:
    """True when the responder is delegated (False when the CA signs itself); else raise."""
    if responder_cert == issuer_cert:
        return False
    if responder_cert.issuer != issuer_cert.subject:
        raise ConfigurationError(code="ocsp_responder", variant="issuer")
    try:
        eku = responder_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = x509.ExtendedKeyUsage([])
    if ExtendedKeyUsageOID.OCSP_SIGNING not in eku:
        raise ConfigurationError(code="ocsp_responder")
    return True


def build_response(
    query: OCSPQuery,
    *,
    status: CertStatus,
    revoked_at: datetime | None,
    reason: x509.ReasonFlags | None,
    issuer_cert: x509.Certificate,
    responder_cert: x509.Certificate,
    responder_key: CertificateIssuerPrivateKeyTypes,
    this_update: datetime,
    next_update: datetime,
) -> bytes:
    """A signed, successful OCSP response (DER) about ``query``'s certificate.

    ``revoked_at`` is required for "revoked" and refused otherwise; ``reason`` only goes with
    "revoked" (unspecified is left out, as on the CRL). "good" and "revoked" are only answered for
    queries about ``issuer_cert`` (InvalidInput otherwise: answer "unknown" or ``unauthorized``).
    """
    if status not in _STATUSES:
        raise InvalidInput(code="ocsp_status", status=status)
    if status == "revoked":
        if revoked_at is None:
            raise InvalidInput(code="ocsp_revocation", variant="time")
        if reason is x509.ReasonFlags.remove_from_crl:
            raise InvalidInput(code="ocsp_revocation", variant="remove_from_crl")
        # RevokedInfo, [1] IMPLICIT; the reason left out when unspecified (as on the CRL).
        info = der.generalized_time(truncate_to_second(revoked_at))
        if reason is not None and reason is not x509.ReasonFlags.unspecified:
            info += der.context(0, der.enumerated(REASON_CODES[reason]))
        cert_status = der.context(1, info)
    else:
        if revoked_at is not None or reason is not None:
            raise InvalidInput(code="ocsp_revocation", status=status)
        cert_status = _GOOD if status == "good" else _UNKNOWN
    fixed = _fixed_parts(issuer_cert, responder_cert)
    ours = fixed.issuer_hashes(query.hash_algorithm) == (
        query.issuer_name_hash,
        query.issuer_key_hash,
    )
    if status != "unknown" and not ours:
        raise InvalidInput(code="ocsp_other_issuer")
    this_update_der, next_update_der = _times(this_update, next_update)
    # Fewest TLVs: every nonce request is encoded afresh (docs/performance.md, section 2).
    cert_id = fixed.cert_id_head(query.hash_algorithm) if ours else _cert_id_head(query)
    cert_id = _seq(cert_id + der.integer(query.serial))
    single = _seq(_seq(cert_id + cert_status + this_update_der + next_update_der))
    extensions = b""
    if query.nonce is not None:
        nonce = der.octet_string(der.octet_string(query.nonce))
        extensions = der.context(1, _seq(_seq(NONCE_OID + nonce)))
    # producedAt is thisUpdate: the callers sign at "now" and a frozen clock stays exact.
    tbs = _seq(fixed.responder_id + this_update_der + single + extensions)
    signature = der.tlv(der.BIT_STRING, b"\0" + sign(responder_key, tbs))
    basic = _seq(tbs + signature_algorithm(responder_key) + signature + fixed.certs)
    response_bytes = _seq(_OCSP_BASIC_OID + der.octet_string(basic))
    return _seq(_SUCCESSFUL + der.context(0, response_bytes))


_SUCCESSFUL = der.enumerated(0)


def _seq(content: bytes) -> bytes:
    return der.tlv(der.SEQUENCE, content)


def _times(this_update: datetime, next_update: datetime) -> tuple[bytes, bytes]:
    """thisUpdate and ``[0]`` nextUpdate, checked and encoded. The last pair is kept: the
    callers sign as of ``clock.now()``, which is to the second, so the answers of one second
    share it."""
    global _last_times
    key = (this_update, next_update)
    cached = _last_times  # one read: another thread may replace the pair meanwhile
    if cached is not None and cached[0] == key:
        return cached[1]
    this_second = truncate_to_second(this_update)
    next_second = truncate_to_second(next_update)
    if next_second <= this_second:
        raise InvalidInput(code="ocsp_next_update")
    encoded = (
        der.generalized_time(this_second),
        der.context(0, der.generalized_time(next_second)),
    )
    _last_times = (key, encoded)
    return encoded


_last_times: tuple[tuple[datetime, datetime], tuple[bytes, bytes]] | None = None


def _cert_id_head(query: OCSPQuery) -> bytes:
    """A CertID's content before the serial: the request's, echoed (RFC 6960 4.2.1), hash
    parameters NULL as RFC 5019 sends."""
    return (
        _HASH_ALGORITHMS[query.hash_algorithm.name]
        + der.octet_string(query.issuer_name_hash)
        + der.octet_string(query.issuer_key_hash)
    )


@dataclass(frozen=True)
class _FixedParts:
    """What every answer of one responder for one issuer has in common."""

    issuer: x509.Certificate
    responder: x509.Certificate
    responder_id: bytes  # byKey
    certs: bytes  # the ``certs`` field: the delegated responder's certificate, or nothing
    by_algorithm: dict[str, tuple[bytes, bytes]] = field(default_factory=dict, compare=False)
    heads: dict[str, bytes] = field(default_factory=dict, compare=False)

    def issuer_hashes(self, algorithm: hashes.HashAlgorithm) -> tuple[bytes, bytes]:
        found = self.by_algorithm.get(algorithm.name)
        if found is None:
            found = self.by_algorithm[algorithm.name] = issuer_hashes(self.issuer, algorithm)
        return found

    def cert_id_head(self, algorithm: hashes.HashAlgorithm) -> bytes:
        """The content of a CertID about one of the issuer's certificates, before its serial."""
        head = self.heads.get(algorithm.name)
        if head is None:
            name_hash, key_hash = self.issuer_hashes(algorithm)
            head = self.heads[algorithm.name] = (
                _HASH_ALGORITHMS[algorithm.name]
                + der.octet_string(name_hash)
                + der.octet_string(key_hash)
            )
        return head


#: By the identity of the two certificates: the responder keeps its certificate objects
#: (``ca.ocsp``), and hashing a certificate for ``lru_cache`` cost 2 µs each time, 8 µs of an
#: answer. An entry holds both objects, so their ids cannot be reused while it exists.
_fixed: dict[tuple[int, int], _FixedParts] = {}


def _fixed_parts(issuer_cert: x509.Certificate, responder_cert: x509.Certificate) -> _FixedParts:
    parts = _fixed.get((id(issuer_cert), id(responder_cert)))
    if parts is not None and parts.issuer is issuer_cert and parts.responder is responder_cert:
        return parts
    delegated = _check_responder(issuer_cert, responder_cert)
    public_key_bits = der.spki_public_key_bits(spki(responder_cert.public_key()))
    key_hash = _digest(hashes.SHA1(), public_key_bits)  # noqa: S303 - KeyHash is SHA-1 (4.2.1)
    certs = b""
    if delegated:
        certs = der.context(
            0, der.sequence(responder_cert.public_bytes(serialization.Encoding.DER))
        )
    parts = _FixedParts(
        issuer_cert, responder_cert, der.context(2, der.octet_string(key_hash)), certs
    )
    if len(_fixed) >= 64:
        _fixed.clear()
    _fixed[(id(issuer_cert), id(responder_cert))] = parts
    return parts


def error_response(status: OCSPResponseStatus) -> bytes:
    """An unsigned error response: malformedRequest, internalError, tryLater, unauthorized..."""
    if status is OCSPResponseStatus.SUCCESSFUL:
        raise InvalidInput(code="ocsp_error_status")
    response = ocsp.OCSPResponseBuilder.build_unsuccessful(status)
    return response.public_bytes(serialization.Encoding.DER)
