"""The certificate registry: every certificate the CA signs is a row here, with its audit event.

Below the CA services and the OCSP responder (both import it, it imports neither): serial
numbers as the registry writes them, registering a signed certificate, finding one by serial.
"""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import transaction

from certhall.accounts.models import Organization, User
from certhall.audit import services as audit
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.errors import InvalidInput, NotFound
from certhall.pki.issuance import Subscriber


def serial_hex(serial: int) -> str:
    return format(serial, "x")


def parse_serial(text: str) -> str:
    """Normalise a serial typed by a person (hex, optional 0x, colons or spaces)."""
    cleaned = text.strip().lower().removeprefix("0x").replace(":", "").replace(" ", "")
    try:
        value = int(cleaned, 16)
    except ValueError:
        raise InvalidInput(code="serial_invalid", variant="hex", text=text) from None
    if value <= 0 or value.bit_length() > 160:
        raise InvalidInput(code="serial_invalid", text=text)
    return serial_hex(value)


def register(
    actor: User,
    ca: CertificateAuthority,
    cert: x509.Certificate,
    profile: str,
    subscriber: Subscriber | None = None,
    organization: Organization | None = None,
) -> Certificate:
    """Store a certificate ``ca`` signed, with its ``ca.certificate.issue`` audit event."""
    der = cert.public_bytes(Encoding.DER)
    sub = subscriber
    with transaction.atomic():
        row = Certificate.objects.create(
            ca=ca,
            serial=serial_hex(cert.serial_number),
            profile=profile,
            organization=organization,
            org_name=sub.org_name if sub else "",
            uscc=sub.uscc if sub else "",
            person_name=(sub.person_name or "") if sub else "",
            id_number=(sub.id_number or "") if sub else "",
            subject=cert.subject.rfc4514_string(),
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
            der=der,
            fingerprint_sha256=hashlib.sha256(der).hexdigest(),
            issued_by=actor,
        )
        audit.record(
            actor,
            "ca.certificate.issue",
            object_type="certificate",
            object_id=row.serial,
            after={
                "ca": ca.slug,
                "profile": profile,
                "subject": row.subject,
                "not_after": row.not_after.isoformat(),
                "sha256": row.fingerprint_sha256,
            },
        )
    return row


def get_certificate(serial: str) -> Certificate:
    try:
        return Certificate.objects.select_related("ca").get(serial=parse_serial(serial))
    except Certificate.DoesNotExist:
        raise NotFound(code="certificate_unknown", serial=serial) from None
