"""Who a certificate names: the enterprise (USCC) and, for a personal certificate, the person.

Chinese CAs carry the 统一社会信用代码 in different places; certhall reads, in this order:

1. the subject's organizationIdentifier ``NTRCN-<USCC>`` (ETSI EN 319 412-1, what certhall
   issues);
2. the GM/T 0015 extensions ``1.2.156.10260.4.4`` (统一社会信用代码) and ``1.2.156.10260.4.1.4``
   (工商注册号, which carries the USCC since 2015): a PrintableString / UTF8String / IA5String,
   possibly wrapped in an OCTET STRING;
3. a subject serialNumber or organizationalUnitName that is a valid USCC.

Every candidate must pass the GB 32100-2015 check character; the first valid one wins. The
person's resident ID number comes from GM/T ``1.2.156.10260.4.1.1`` (IdentifyCode, [0]
PrintableString); it is never stored, only hashed into the account key.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from certhall.errors import InvalidInput
from certhall.pki.identity import validate_uscc
from certhall.pki.issuance import (
    OID_GMT_BUSINESS_REGISTRATION,
    OID_GMT_IDENTIFY_CODE,
    OID_GMT_USCC,
    ORGANIZATION_IDENTIFIER_PREFIX,
)

_STRING_TAGS = {0x13, 0x0C, 0x16, 0x80}  # PrintableString, UTF8String, IA5String, [0] IMPLICIT


@dataclass(frozen=True)
class Holder:
    uscc: str
    organization_name: str
    person_name: str
    id_number_hash: str  # first 16 hex of SHA-256 of the ID number, "" for org certificates

    @property
    def key(self) -> str:
        return f"{self.uscc}:{self.id_number_hash}" if self.id_number_hash else self.uscc


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in name.get_attributes_for_oid(oid)]


def _der_string(data: bytes, depth: int = 0) -> str | None:
    """The text of a DER string TLV (or an OCTET STRING / CHOICE wrapping one)."""
    if len(data) < 2 or depth > 2:
        return None
    tag, length = data[0], data[1]
    offset = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 2 or len(data) < 2 + count:
            return None
        length = int.from_bytes(data[2 : 2 + count], "big")
        offset = 2 + count
    value = data[offset : offset + length]
    if len(value) != length:
        return None
    if tag in _STRING_TAGS:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if tag in (0x04, 0x30, 0xA0):  # OCTET STRING, SEQUENCE, [0] EXPLICIT: look inside
        return _der_string(value, depth + 1)
    return None


def _extension_text(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    try:
        ext = cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    if isinstance(ext, x509.UnrecognizedExtension):
        return _der_string(ext.value)
    return None


def _valid_uscc(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return validate_uscc(text)
    except InvalidInput:
        return None


def uscc_of(cert: x509.Certificate) -> str | None:
    subject = cert.subject
    candidates: list[str | None] = [
        value[len(ORGANIZATION_IDENTIFIER_PREFIX) :]
        for value in _attribute(subject, NameOID.ORGANIZATION_IDENTIFIER)
        if value.startswith(ORGANIZATION_IDENTIFIER_PREFIX)
    ]
    candidates.append(_extension_text(cert, OID_GMT_USCC))
    candidates.append(_extension_text(cert, OID_GMT_BUSINESS_REGISTRATION))
    candidates.extend(_attribute(subject, NameOID.SERIAL_NUMBER))
    candidates.extend(_attribute(subject, NameOID.ORGANIZATIONAL_UNIT_NAME))
    for candidate in candidates:
        uscc = _valid_uscc(candidate)
        if uscc is not None:
            return uscc
    return None


def holder_of(cert: x509.Certificate) -> Holder | None:
    """The enterprise and person a certificate names; None without a valid USCC."""
    uscc = uscc_of(cert)
    if uscc is None:
        return None
    organizations = _attribute(cert.subject, NameOID.ORGANIZATION_NAME)
    common_names = _attribute(cert.subject, NameOID.COMMON_NAME)
    id_number = _extension_text(cert, OID_GMT_IDENTIFY_CODE)
    id_hash = ""
    person = ""
    if id_number:
        id_hash = hashlib.sha256(id_number.strip().upper().encode()).hexdigest()[:16]
        person = common_names[0] if common_names else ""
    org_name = organizations[0] if organizations else (common_names[0] if common_names else "")
    return Holder(
        uscc=uscc,
        organization_name=org_name[:128],
        person_name=person[:64],
        id_number_hash=id_hash,
    )
