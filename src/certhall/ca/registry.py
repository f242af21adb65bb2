"""The certificate registry: every certificate the CA signs is a row here, with its audit event.

Below the CA services and the OCSP responder (both import it, it imports neither): serial
numbers as the registry writes them, registering a signed certificate, finding one by serial.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import connection, models, transaction

from certhall import clock
from certhall.accounts.models import Organization, User
from certhall.audit import services as audit
from certhall.bulk import insert_row, insert_rows, keys_by
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.errors import NotFound, quoted
from certhall.pki.issuance import Subscriber
from certhall.pki.serials import SERIAL_TEXT_LENGTH, parse_serial, serial_hex

#: Every column of a registry row, in the model's order (``Model.from_db`` takes them so).
_FIELDS = tuple(f.attname for f in Certificate._meta.concrete_fields)
_WRITTEN = tuple(name for name in _FIELDS if name != "id")
_MOMENTS = frozenset(
    f.attname for f in Certificate._meta.concrete_fields if isinstance(f, models.DateTimeField)
)


def new_row(
    actor: User,
    ca: CertificateAuthority,
    cert: x509.Certificate,
    profile: str,
    subscriber: Subscriber | None = None,
    organization: Organization | None = None,
    *,
    der: bytes | None = None,
    subject: str | None = None,
) -> Certificate:
    """The registry row of a certificate ``ca`` just signed, not yet stored (:func:`store`).
    ``der`` and ``subject`` (RFC 4514 text) are read from ``cert`` unless the caller has them
    already: reading a new certificate's subject costs more than writing its row."""
    der = der or cert.public_bytes(Encoding.DER)
    sub = subscriber
    values: dict[str, Any] = {
        "ca_id": ca.pk,
        "serial": serial_hex(cert.serial_number),
        "profile": profile,
        "organization_id": organization.pk if organization else None,
        "org_name": sub.org_name if sub else "",
        "uscc": sub.uscc if sub else "",
        "person_name": (sub.person_name or "") if sub else "",
        "id_number": (sub.id_number or "") if sub else "",
        "subject": subject or cert.subject.rfc4514_string(),
        "not_before": cert.not_valid_before_utc,
        "not_after": cert.not_valid_after_utc,
        "status": Certificate.Status.VALID.value,
        "revocation_reason": "",
        "der": der,
        "fingerprint_sha256": hashlib.sha256(der).hexdigest(),
        "issued_by_id": actor.pk,
        "created_at": clock.now(),
    }
    return Certificate.from_db(connection.alias, _FIELDS, [values.get(f) for f in _FIELDS])


def store(rows: list[Certificate]) -> None:
    """Write new rows (:func:`new_row`) below the ORM (``certhall.bulk``: every value was
    checked when the certificate was built, and Django's INSERT building cost more than the
    database's work), then give them their primary keys. Inside the caller's transaction."""
    moment = connection.ops.adapt_datetimefield_value
    values = (
        [moment(getattr(row, f)) if f in _MOMENTS else getattr(row, f) for f in _WRITTEN]
        for row in rows
    )
    if len(rows) == 1:  # a single issuance: one statement, not a write and a look-up
        rows[0].pk = insert_row(Certificate, _WRITTEN, next(values))
        return
    insert_rows(Certificate, _WRITTEN, values)
    keys = keys_by(Certificate, "serial", [row.serial for row in rows])
    for row in rows:
        row.pk = keys[row.serial]


def register(
    actor: User,
    ca: CertificateAuthority,
    cert: x509.Certificate,
    profile: str,
    subscriber: Subscriber | None = None,
    organization: Organization | None = None,
    *,
    der: bytes | None = None,
    subject: str | None = None,
) -> Certificate:
    """Store a certificate ``ca`` signed, with its ``ca.certificate.issue`` audit event
    (``der`` and ``subject``: as for :func:`new_row`)."""
    row = new_row(actor, ca, cert, profile, subscriber, organization, der=der, subject=subject)
    with transaction.atomic():
        store([row])
        audit.record(
            actor,
            "ca.certificate.issue",
            object_type="certificate",
            object_id=row.serial,
            after={"ca": ca.slug, "profile": profile, **summary(row)},
        )
    return row


def summary(row: Certificate) -> dict[str, str]:
    """What an issuance's audit event says of each certificate (the chain names its hash)."""
    return {
        "subject": row.subject,
        "not_after": row.not_after.isoformat(),
        "sha256": row.fingerprint_sha256,
    }


def unknown(serial: str) -> NotFound:
    """The refusal for a certificate ``serial`` (as typed) that is not ours: also what an
    enterprise is told of another enterprise's (nobody can probe which serials exist)."""
    return NotFound(code="certificate_unknown", serial=quoted(serial, SERIAL_TEXT_LENGTH))


def get_certificate(serial: str) -> Certificate:
    try:
        return Certificate.objects.select_related("ca").get(serial=parse_serial(serial))
    except Certificate.DoesNotExist:
        raise unknown(serial) from None
