"""Batch issuance: many certificates in one transaction (docs/performance.md, "Batch issuance").

The same checks and the same certificate per request as ``services.issue`` (CSR parsing, key
policy and signature, profile, subscriber, validity inside the issuing CA), all of them before
anything is written, so a batch is all or nothing: one bad request refuses the whole batch and
names it by its position. Then:

* every certificate is built and signed, and its pre-signed OCSP answer ("good") too, outside
  the transaction (signing is the slow part and needs no lock);
* one transaction: the registry rows in one bulk INSERT, the OCSP answers in one bulk INSERT
  under the next OCSP generation (``ocsp_store``), and ONE audit event
  ``ca.certificate.issue_batch`` that names every serial with its certificate's SHA-256, so the
  chain stays one event per action and ``certhall audit verify`` checks it as any other.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import IntegrityError, transaction

from certhall import clock
from certhall.accounts.models import User
from certhall.accounts.permissions import require_provider, require_role
from certhall.audit import services as audit
from certhall.ca import ocsp_store, signers
from certhall.ca.models import Certificate, CertificateAuthority, OCSPResponse
from certhall.ca.registry import serial_hex
from certhall.ca.services import ISSUE_ROLES, IssueRequest, active_issuing_ca
from certhall.errors import Conflict, InvalidInput, RuleViolation
from certhall.pki.csr import load_csr
from certhall.pki.issuance import build_certificate, new_serial
from certhall.pki.profiles import get_profile

#: The most certificates one call issues (one transaction; one audit event names them all).
MAX_BATCH = 10_000
ACTION = "ca.certificate.issue_batch"


@dataclass(frozen=True)
class _Built:
    request: IssueRequest
    profile: str
    cert: x509.Certificate
    der: bytes


def issue_batch(
    actor: User, requests: Sequence[IssueRequest], *, presign_ocsp: bool = True
) -> list[Certificate]:
    """Issue every request or none; the rows come back in the order of ``requests``.

    ``presign_ocsp``: store each certificate's signed OCSP answer in the same transaction (the
    jobs would otherwise sign it within a minute), so the batch is served by the fast path at
    once.
    """
    require_role(actor, *ISSUE_ROLES)
    with audit.refusals_recorded(actor, ACTION, object_type="certificate"):
        if not 0 < len(requests) <= MAX_BATCH:
            raise InvalidInput(code="batch_size", count=len(requests), limit=MAX_BATCH)
        ca = active_issuing_ca()
        require_provider(actor, ca.provider_id)
        # A 127-bit random serial never collides in practice; the unique index makes sure.
        for _attempt in range(3):
            built = _build_all(ca, requests)
            answers = _presign(ca, built) if presign_ocsp else []
            try:
                return _store(actor, ca, built, answers)
            except IntegrityError:
                continue
        raise Conflict(code="serial_collision")


def _build_all(ca: CertificateAuthority, requests: Sequence[IssueRequest]) -> list[_Built]:
    issuer = signers.issuer_for(ca)
    now = clock.now()
    built = []
    for index, request in enumerate(requests, start=1):
        try:
            public_key = load_csr(request.csr).public_key()
            profile = get_profile(request.profile)
            cert = build_certificate(
                issuer,
                public_key,
                profile,
                request.years,
                request.subscriber,
                new_serial(),
                now,
                request.not_after,
            )
        except (InvalidInput, RuleViolation) as error:
            raise type(error)(
                code="batch_item", index=index, reason=error.message, item_code=error.code
            ) from error
        built.append(_Built(request, profile.name, cert, cert.public_bytes(Encoding.DER)))
    return built


def _presign(ca: CertificateAuthority, built: Sequence[_Built]) -> list[OCSPResponse]:
    now = clock.now()
    rows = []
    for item in built:
        due = ocsp_store.Due(
            0, ca.pk, serial_hex(item.cert.serial_number), Certificate.Status.VALID, None, ""
        )
        rows.append(ocsp_store.answer_row(ocsp_store.sign_due(due, now), generation=0))
    return rows


def _store(
    actor: User, ca: CertificateAuthority, built: Sequence[_Built], answers: list[OCSPResponse]
) -> list[Certificate]:
    rows = []
    for item in built:
        sub = item.request.subscriber
        rows.append(
            Certificate(
                ca=ca,
                serial=serial_hex(item.cert.serial_number),
                profile=item.profile,
                organization=item.request.organization,
                org_name=sub.org_name,
                uscc=sub.uscc,
                person_name=sub.person_name or "",
                id_number=sub.id_number or "",
                subject=item.cert.subject.rfc4514_string(),
                not_before=item.cert.not_valid_before_utc,
                not_after=item.cert.not_valid_after_utc,
                der=item.der,
                fingerprint_sha256=hashlib.sha256(item.der).hexdigest(),
                issued_by=actor,
            )
        )
    with transaction.atomic():
        Certificate.objects.bulk_create(rows, batch_size=500)
        if answers:
            generation = ocsp_store.next_generation()
            for answer, row in zip(answers, rows, strict=True):
                answer.certificate_id = row.pk
                answer.generation = generation
            OCSPResponse.objects.bulk_create(answers, batch_size=500)
        audit.record(
            actor,
            ACTION,
            object_type="certificate",
            object_id=f"{len(rows)} certificates",
            after={
                "ca": ca.slug,
                "count": len(rows),
                "certificates": [
                    {
                        "serial": row.serial,
                        "profile": row.profile,
                        "subject": row.subject,
                        "not_after": row.not_after.isoformat(),
                        "sha256": row.fingerprint_sha256,
                    }
                    for row in rows
                ],
            },
        )
    return rows
