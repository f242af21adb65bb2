"""Subscriber certificates: 机构证书 (org) and 机构个人证书 / 法人证书 (personal).

``build_certificate`` is the only place an end-entity certificate is assembled. Its content comes
from the profile (validity, usages, policy) and the reviewed subscriber data; from the request
only the public key is used. docs/profiles.md describes the result field by field.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import warnings
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

from certhall.errors import ConfigurationError, InvalidInput, RuleViolation
from certhall.pki import der, identity
from certhall.pki.identity import (
    UB_COMMON_NAME,
    UB_LOCALITY_NAME,
    UB_STATE_NAME,
    subject_text,
    validate_resident_id,
    validate_uscc,
)
from certhall.pki.keys import (
    authority_key_identifier,
    check_public_key,
    same_public_key,
    sign,
    signature_algorithm,
    signature_hash,
    spki,
)
from certhall.pki.profiles import Profile, validity
from certhall.pki.serials import MAX_SERIAL

#: GM/T 0015-2012 个人身份标识码 (IdentifyCode): the person's resident ID number.
OID_GMT_IDENTIFY_CODE = x509.ObjectIdentifier("1.2.156.10260.4.1.1")
#: GM/T 0015-2012 企业工商注册号; carries the USCC since the 2015 registration reform.
OID_GMT_BUSINESS_REGISTRATION = x509.ObjectIdentifier("1.2.156.10260.4.1.4")
#: 统一社会信用代码 as read by relying-party software of Chinese CAs.
OID_GMT_USCC = x509.ObjectIdentifier("1.2.156.10260.4.4")

#: ETSI EN 319 412-1 section 5.1.4 semantics identifier prefix: national trade register, China.
ORGANIZATION_IDENTIFIER_PREFIX = "NTRCN-"

SERIAL_BITS = 127


@dataclass(frozen=True)
class Issuer:
    """One issuing CA as the core sees it. Checked when created: fail at start-up, not at use."""

    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes
    crl_url: str  # e.g. http://127.0.0.1:8000/crl/sz-issuing.crl
    ocsp_url: str  # http://127.0.0.1:8000/ocsp
    ca_issuers_url: str  # http://127.0.0.1:8000/ca/sz-issuing.crt

    def __post_init__(self) -> None:
        check_ca_certificate(self.certificate, self.key)
        for field in ("crl_url", "ocsp_url", "ca_issuers_url"):
            check_url(getattr(self, field), field)

    # Computed once per issuer, not once per certificate (a batch of thousands reuses them).
    @cached_property
    def name_der(self) -> bytes:
        return self.certificate.subject.public_bytes()

    @cached_property
    def signature_algorithm(self) -> bytes:
        return signature_algorithm(self.key)

    @cached_property
    def extensions(self) -> tuple[x509.ExtensionType, ...]:
        """AKI, CRL distribution point and AIA: the same in every certificate it issues."""
        return (
            authority_key_identifier(self.certificate),
            crl_distribution_points(self.crl_url),
            authority_information_access(
                ocsp_url=self.ocsp_url, ca_issuers_url=self.ca_issuers_url
            ),
        )

    @cached_property
    def extensions_der(self) -> bytes:
        return b"".join(_encoded_extension(value) for value in self.extensions)


@dataclass(frozen=True)
class Subscriber:
    """The reviewed identity data a certificate certifies."""

    org_name: str
    uscc: str
    person_name: str | None = None
    id_number: str | None = None
    province: str = "广东省"
    locality: str = "深圳市"


def check_ca_certificate(
    certificate: x509.Certificate, key: CertificateIssuerPrivateKeyTypes
) -> None:
    """ConfigurationError unless ``certificate`` is a CA certificate for ``key``."""
    subject = certificate.subject.rfc4514_string()
    signature_hash(key)  # EC or RSA only
    try:
        bc = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
        ku = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise ConfigurationError(
            code="ca_certificate_not_ca", variant="extensions", subject=subject
        ) from None
    if not bc.ca or not ku.key_cert_sign:
        raise ConfigurationError(code="ca_certificate_not_ca", subject=subject)
    if not same_public_key(key.public_key(), certificate.public_key()):
        raise ConfigurationError(code="ca_key_mismatch", subject=subject)


def check_url(url: str, what: str) -> None:
    if not url.startswith(("http://", "https://")) or any(ch.isspace() for ch in url):
        raise ConfigurationError(code="ca_url", what=what, url=url)


def new_serial() -> int:
    """A fresh certificate serial: 127 bits from ``secrets`` with the top bit set.

    126 random bits (RFC 5280 and the CA/B Forum ask for at least 64), always positive, always
    encoded in exactly 16 octets. Uniqueness is still the registry's job (a unique constraint).
    """
    return (1 << (SERIAL_BITS - 1)) | secrets.randbits(SERIAL_BITS - 1)


def check_serial(serial: int) -> None:
    if isinstance(serial, bool) or not isinstance(serial, int) or not 0 < serial <= MAX_SERIAL:
        raise InvalidInput(code="serial")


def check_subscriber(profile: Profile, subscriber: Subscriber) -> Subscriber:
    """Validate ``subscriber`` for ``profile``; return it normalised (InvalidInput if not valid).

    The profile decides which fields are used: a person given for an ``org`` certificate is ignored
    (and dropped from the result).
    """
    org_name = identity.org_name(subscriber.org_name)
    uscc = validate_uscc(subscriber.uscc)
    province = subject_text(subscriber.province, "省份", UB_STATE_NAME)
    locality = subject_text(subscriber.locality, "城市", UB_LOCALITY_NAME)
    person_name: str | None = None
    id_number: str | None = None
    if profile.requires_person:
        person_name = identity.person_name(subscriber.person_name, f"{profile.label_zh}持证人姓名")
        if not subscriber.id_number:
            raise InvalidInput(code="subject_missing", variant="id_number", profile=profile.label)
        id_number = validate_resident_id(subscriber.id_number)
    return replace(
        subscriber,
        org_name=org_name,
        uscc=uscc,
        person_name=person_name,
        id_number=id_number,
        province=province,
        locality=locality,
    )


def subject_name(profile: Profile, subscriber: Subscriber) -> x509.Name:
    """The subject DN of a (validated) subscriber: C, ST, L, O, organizationIdentifier, CN."""
    *values, common_name = _subject_values(profile, subscriber)
    return x509.Name(
        [
            *(
                x509.NameAttribute(oid, value)
                for oid, value in zip(_SUBJECT_OIDS[:-1], values, strict=True)
            ),
            common_name_attribute(common_name),
        ]
    )


def subject_der(profile: Profile, subscriber: Subscriber) -> bytes:
    """``subject_name(profile, subscriber).public_bytes()``, written here in half the time
    (one RDN an attribute; C as PrintableString, the rest UTF8String, as cryptography writes
    them: tests/pki/test_issuance.py compares the two)."""
    country, *values = _subject_values(profile, subscriber)
    return der.sequence(
        der.set_of(der.sequence(_SUBJECT_OIDS_DER[0], der.printable_string(country))),
        *(
            der.set_of(der.sequence(oid, der.utf8_string(value)))
            for oid, value in zip(_SUBJECT_OIDS_DER[1:], values, strict=True)
        ),
    )


def subject_rfc4514(profile: Profile, subscriber: Subscriber) -> str:
    """``subject_name(profile, subscriber).rfc4514_string()`` (most specific first, values
    escaped as RFC 4514 section 2.4 says), without building the Name: what the registry keeps
    as a certificate's subject. tests/pki/test_issuance.py compares the two."""
    values = _subject_values(profile, subscriber)
    return ",".join(
        f"{name}={_rfc4514_value(value)}"
        for name, value in zip(reversed(_SUBJECT_LABELS), reversed(values), strict=True)
    )


def _rfc4514_value(value: str) -> str:
    if any(ch in _RFC4514_SPECIAL for ch in value):
        value = "".join(_RFC4514_ESCAPES.get(ch, ch) for ch in value)
    if value[:1] == "#" or (value[:1] == " " and len(value) > 1):
        value = "\\" + value
    if value[-1:] == " ":
        value = value[:-1] + "\\ "
    return value


_RFC4514_ESCAPES = {ch: "\\" + ch for ch in '\\"+,;<>'} | {"\0": "\\00"}
_RFC4514_SPECIAL = frozenset(_RFC4514_ESCAPES)


def _subject_values(profile: Profile, subscriber: Subscriber) -> tuple[str, ...]:
    """The subject's values in the order of ``_SUBJECT_OIDS``."""
    common_name = subscriber.person_name if profile.requires_person else subscriber.org_name
    if common_name is None:
        raise InvalidInput(code="subject_missing", variant="person_name", profile=profile.label)
    if len(common_name) > UB_COMMON_NAME:
        raise InvalidInput(code="common_name_too_long", limit=UB_COMMON_NAME)
    return (
        "CN",
        subscriber.province,
        subscriber.locality,
        subscriber.org_name,
        ORGANIZATION_IDENTIFIER_PREFIX + subscriber.uscc,
        common_name,
    )


_SUBJECT_OIDS = (
    NameOID.COUNTRY_NAME,
    NameOID.STATE_OR_PROVINCE_NAME,
    NameOID.LOCALITY_NAME,
    NameOID.ORGANIZATION_NAME,
    NameOID.ORGANIZATION_IDENTIFIER,
    NameOID.COMMON_NAME,
)
_SUBJECT_OIDS_DER = tuple(der.oid(oid.dotted_string) for oid in _SUBJECT_OIDS)
#: The names RFC 4514 text gives them (organizationIdentifier has none: its OID, as in
#: cryptography's text).
_SUBJECT_LABELS = ("C", "ST", "L", "O", NameOID.ORGANIZATION_IDENTIFIER.dotted_string, "CN")


def common_name_attribute(value: str) -> x509.NameAttribute[str]:
    """A commonName of up to 64 *characters* (X.520 ub-common-name, checked by
    ``_subject_values``), as UTF8String.

    ``cryptography`` counts the 64 in UTF-8 octets, which would cap Chinese names at 21
    characters; X.520 size constraints on UTF8String count characters (pkilint and zlint agree).
    Longer CNs are therefore built with validation off; ``cryptography`` still warns about them
    (UserWarning) when such a certificate is parsed.
    """
    if len(value.encode("utf-8")) <= UB_COMMON_NAME:
        return x509.NameAttribute(NameOID.COMMON_NAME, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return x509.NameAttribute(NameOID.COMMON_NAME, value, _validate=False)


def identity_extensions(
    profile: Profile, subscriber: Subscriber
) -> list[x509.Extension[x509.ExtensionType]]:
    """The GM/T 0015 identity extensions (non-critical), DER-encoded by hand.

    USCC:       PrintableString (SIZE (18))          in 1.2.156.10260.4.1.4 and 1.2.156.10260.4.4
    ID number:  IdentifyCode ::= CHOICE { residenterCardNumber [0] IMPLICIT PrintableString, ... }
                                                     in 1.2.156.10260.4.1.1 (persons only)
    """
    return [
        x509.Extension(oid, False, x509.UnrecognizedExtension(oid, value))
        for oid, value in _identity_values(profile, subscriber)
    ]


def _identity_values(
    profile: Profile, subscriber: Subscriber
) -> list[tuple[x509.ObjectIdentifier, bytes]]:
    uscc = der.printable_string(subscriber.uscc)
    values: list[tuple[x509.ObjectIdentifier, bytes]] = [
        (OID_GMT_BUSINESS_REGISTRATION, uscc),
        (OID_GMT_USCC, uscc),
    ]
    if profile.requires_person:
        if subscriber.id_number is None:
            raise InvalidInput(code="subject_missing", variant="id_number", profile=profile.label)
        values.append((OID_GMT_IDENTIFY_CODE, der.printable_string(subscriber.id_number, 0x80)))
    return values


def check_within_issuer(
    issuer_certificate: x509.Certificate, not_before: datetime, not_after: datetime
) -> None:
    """RuleViolation unless [not_before, not_after] lies inside the issuer's own validity."""
    if not_before < issuer_certificate.not_valid_before_utc:
        raise RuleViolation(code="issuer_not_valid")
    if not_after > issuer_certificate.not_valid_after_utc:
        raise RuleViolation(
            code="issuer_expires", ca_end=f"{issuer_certificate.not_valid_after_utc:%Y-%m-%d}"
        )


def build_certificate(
    issuer: Issuer,
    public_key: PublicKeyTypes,
    profile: Profile,
    years: int | None,
    subscriber: Subscriber,
    serial: int,
    now: datetime,
    not_after: datetime | None = None,
) -> x509.Certificate:
    """Build and sign one subscriber certificate, valid ``years`` from ``now`` or until
    ``not_after`` (see :func:`~certhall.pki.profiles.validity`).

    Raises InvalidInput (years not allowed, subscriber data invalid, key refused, bad serial) or
    RuleViolation (the issuing CA is not valid for the whole requested period).
    """
    unsigned = certificate_tbs(
        issuer, public_key, profile, years, subscriber, serial, now, not_after
    )
    return x509.load_der_x509_certificate(signed_der(issuer, unsigned.tbs))


class Unsigned(NamedTuple):
    """A checked certificate before its signature: the DER TBSCertificate and the subject as
    RFC 4514 text (what the registry keeps of it)."""

    tbs: bytes
    subject: str


def certificate_tbs(
    issuer: Issuer,
    public_key: PublicKeyTypes,
    profile: Profile,
    years: int | None,
    subscriber: Subscriber,
    serial: int,
    now: datetime,
    not_after: datetime | None = None,
) -> Unsigned:
    """:func:`build_certificate` up to its signature: a batch checks and encodes all of its
    certificates, then signs them all (:func:`signed_der`)."""
    key = check_public_key(public_key)
    check_serial(serial)
    not_before, not_after = validity(profile, years, now, not_after)
    subscriber = check_subscriber(profile, subscriber)
    check_within_issuer(issuer.certificate, not_before, not_after)
    identities = _identity_values(profile, subscriber)

    # The DER is written here, as the CRL's and the OCSP answers' are: with cryptography's
    # builder this function cost 89 µs with a software key, now 60 (17 of them the signature;
    # 159 against 109 µs on SoftHSM2). tests/pki/test_issuance.py holds it byte for byte to what
    # the builder makes of the same input; OpenSSL and pkilint check the result.
    key_info = spki(key)
    key_id = hashlib.sha1(der.spki_public_key_bits(key_info)).digest()  # noqa: S324 - RFC 5280
    before_key_id, policies = _profile_extensions(profile)
    extensions = b"".join(
        [
            before_key_id,
            der.extension(_SUBJECT_KEY_IDENTIFIER, der.octet_string(key_id)),
            issuer.extensions_der,
            policies,
            *(der.extension(_IDENTITY_OIDS[oid], value) for oid, value in identities),
        ]
    )
    tbs = der.sequence(
        _VERSION_3,
        der.integer(serial),
        issuer.signature_algorithm,
        issuer.name_der,
        der.sequence(der.x509_time(not_before), der.x509_time(not_after)),
        subject_der(profile, subscriber),
        key_info,
        der.context(3, der.sequence(extensions)),
    )
    return Unsigned(tbs, subject_rfc4514(profile, subscriber))


def signed_der(issuer: Issuer, tbs: bytes) -> bytes:
    """The DER certificate of ``tbs`` (:func:`certificate_tbs`), signed with the issuer's key."""
    signature = der.bit_string(sign(issuer.key, tbs))
    return der.sequence(tbs, issuer.signature_algorithm, signature)


def _encoded_extension(value: x509.ExtensionType, critical: bool = False) -> bytes:
    return der.extension(der.oid(value.oid.dotted_string), value.public_bytes(), critical)


@functools.cache
def _profile_extensions(profile: Profile) -> tuple[bytes, bytes]:
    """(basicConstraints, keyUsage, extendedKeyUsage; certificatePolicies), encoded once: every
    certificate of the profile carries the same, in the order of docs/profiles.md (BC, KU, EKU,
    SKI, AKI, CDP, AIA, CP, the GM/T identities)."""
    usages = profile.usage_extensions
    encoded = b"".join(_encoded_extension(value, critical) for value, critical in usages)
    return encoded, _encoded_extension(profile.policies)


_VERSION_3 = der.context(0, der.integer(2))
_SUBJECT_KEY_IDENTIFIER = der.oid(ExtensionOID.SUBJECT_KEY_IDENTIFIER.dotted_string)
_IDENTITY_OIDS = {
    oid: der.oid(oid.dotted_string)
    for oid in (OID_GMT_IDENTIFY_CODE, OID_GMT_BUSINESS_REGISTRATION, OID_GMT_USCC)
}


def crl_distribution_points(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def authority_information_access(
    *, ocsp_url: str | None, ca_issuers_url: str | None
) -> x509.AuthorityInformationAccess:
    descriptions = []
    if ocsp_url:
        descriptions.append(
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
            )
        )
    if ca_issuers_url:
        descriptions.append(
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(ca_issuers_url),
            )
        )
    return x509.AuthorityInformationAccess(descriptions)
