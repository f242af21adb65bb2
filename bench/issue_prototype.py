"""A what-if, not certhall code: ``services.issue`` for a batch of requests in one transaction.

Same checks and the same certificate per request as ``ca.services.issue`` (CSR parsing and
signature check, key policy, profile, subscriber checks, ``build_certificate`` with the CA key),
then ONE transaction for the batch: ``bulk_create`` of the registry rows, the audit head locked
once, one chained audit event per certificate computed with ``audit.chain.event_hash`` exactly
as ``audit.services.record`` does, ``bulk_create`` of the events, the head updated once. The
benchmark runs ``audit.services.verify()`` afterwards to show the chain is intact.

Left out against the real service: the retry on a (never observed) serial collision, and the
per-request audit of refusals. It exists to measure what a batch API would buy
(docs/performance.md), and is used by bench/issuance.py only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding
from django.db import transaction

from certhall.accounts.permissions import require_provider, require_role
from certhall.audit.chain import GENESIS, event_hash
from certhall.audit.models import AuditEvent, AuditHead
from certhall.audit.services import OK, _jsonable
from certhall.ca import registry, services
from certhall.ca.models import Certificate
from certhall.pki.csr import load_csr
from certhall.pki.issuance import build_certificate, new_serial
from certhall.pki.profiles import get_profile


def issue_many(
    actor: Any, ca: Any, issuer: Any, requests: Sequence[services.IssueRequest]
) -> list[Certificate]:
    require_role(actor, *services.ISSUE_ROLES)
    require_provider(actor, ca.provider_id)
    now = datetime.now(UTC).replace(microsecond=0)
    rows: list[Certificate] = []
    for request in requests:
        csr = load_csr(request.csr)
        profile = get_profile(request.profile)
        cert = build_certificate(
            issuer, csr.public_key(), profile, request.years, request.subscriber,
            new_serial(), now,
        )  # fmt: skip
        der = cert.public_bytes(Encoding.DER)
        sub = request.subscriber
        rows.append(
            Certificate(
                ca=ca,
                serial=registry.serial_hex(cert.serial_number),
                profile=profile.name,
                organization=request.organization,
                org_name=sub.org_name,
                uscc=sub.uscc,
                person_name=sub.person_name or "",
                id_number=sub.id_number or "",
                subject=cert.subject.rfc4514_string(),
                not_before=cert.not_valid_before_utc,
                not_after=cert.not_valid_after_utc,
                der=der,
                fingerprint_sha256=hashlib.sha256(der).hexdigest(),
                issued_by=actor,
            )
        )
    with transaction.atomic():
        Certificate.objects.bulk_create(rows)
        head, _ = AuditHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"seq": 0, "hash": GENESIS}
        )
        seq, prev = head.seq, head.hash
        events = []
        for row in rows:
            seq += 1
            fields = {
                "seq": seq,
                "at": datetime.now(UTC),
                "actor": actor.label(),
                "actor_id": actor.pk,
                "action": "ca.certificate.issue",
                "object_type": "certificate",
                "object_id": row.serial,
                "before": None,
                "after": _jsonable(
                    {
                        "ca": ca.slug,
                        "profile": row.profile,
                        "subject": row.subject,
                        "not_after": row.not_after.isoformat(),
                        "sha256": row.fingerprint_sha256,
                    }
                ),
                "result": OK,
            }
            digest = event_hash(prev, **fields)  # type: ignore[arg-type]
            events.append(AuditEvent(prev_hash=prev, hash=digest, **fields))
            prev = digest
        AuditEvent.objects.bulk_create(events)
        AuditHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return rows
