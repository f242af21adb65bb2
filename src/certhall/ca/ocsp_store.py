"""Pre-signed OCSP answers (RFC 5019 §2.1: SHA-1 CertIDs, no nonce), kept ready for every
certificate the CA has issued, so that serving one is a lookup (``ca/ocsp_serve.py``).

* the jobs sign answers for new certificates and re-sign those past half their validity
  (:func:`refresh_due`), signing outside the transaction and writing in short batches;
* a revocation re-signs its certificate's answer inside the revocation's own transaction
  (:func:`answer_revocation`), so the registry and the answer never disagree; revoking an
  OCSP responder's certificate withdraws every answer of its CA
  (:func:`withdraw_responder_answers`);
* every write takes the next :class:`OCSPGeneration` under its row lock (the revocation takes it
  before it changes the certificate), so writes are ordered and servers follow them with
  ``generation > last seen``. A batch re-reads the statuses under that lock and skips a
  certificate revoked since it was signed: a stale "good" is never written.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import hashes
from django.db import transaction
from django.db.models import F, Q

from certhall import config
from certhall.ca import ocsp
from certhall.ca.models import Certificate, OCSPGeneration, OCSPResponse
from certhall.ca.reasons import REASONS
from certhall.pki.ocsp import OCSPQuery, issuer_hashes

log = logging.getLogger(__name__)

BATCH = 500


@dataclass(frozen=True)
class Due:
    pk: int
    ca_id: int
    serial: str
    status: str
    revoked_at: datetime | None
    reason: str


@dataclass(frozen=True)
class Signed:
    due: Due
    der: bytes
    this_update: datetime
    next_update: datetime


def next_generation() -> int:
    """The next write generation; the caller's transaction holds the counter until it ends."""
    counter, _ = OCSPGeneration.objects.select_for_update().get_or_create(pk=1)
    counter.value = F("value") + 1
    counter.save(update_fields=["value"])
    counter.refresh_from_db(fields=["value"])
    return counter.value


def _query(ca_id: int, serial: str) -> OCSPQuery:
    # RFC 5019 §2.1.1: clients identify certificates by SHA-1 CertIDs (not a signature hash).
    sha1 = hashes.SHA1()  # noqa: S303
    name_hash, key_hash = issuer_hashes(ocsp.issuer_certificate(ca_id), sha1)
    return OCSPQuery(int(serial, 16), name_hash, key_hash, sha1, None)


def sign_due(due: Due, now: datetime) -> Signed:
    revoked = due.status == Certificate.Status.REVOKED
    der, next_update = ocsp.sign(
        _query(due.ca_id, due.serial),
        due.ca_id,
        "revoked" if revoked else "good",
        due.revoked_at if revoked else None,
        REASONS.get(due.reason) if revoked else None,
        now,
    )
    return Signed(due, der, now, next_update)


def answer_row(signed: Signed, generation: int) -> OCSPResponse:
    due = signed.due
    return OCSPResponse(
        certificate_id=due.pk,
        ca_id=due.ca_id,
        serial=due.serial,
        status=due.status,
        der=signed.der,
        this_update=signed.this_update,
        next_update=signed.next_update,
        generation=generation,
    )


def _upsert(rows: list[OCSPResponse]) -> None:
    OCSPResponse.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["certificate"],
        update_fields=["status", "der", "this_update", "next_update", "generation"],
    )


def _write(batch: list[Signed]) -> int:
    """Write a signed batch; skip any certificate whose status changed since it was read."""
    with transaction.atomic():
        generation = next_generation()
        current = dict(
            Certificate.objects.filter(pk__in=[s.due.pk for s in batch]).values_list("pk", "status")
        )
        rows = [answer_row(s, generation) for s in batch if current.get(s.due.pk) == s.due.status]
        _upsert(rows)
    return len(rows)


def _due(now: datetime) -> Iterator[Due]:
    """Unexpired certificates without an answer, or whose answer is past half its validity."""
    half = timedelta(hours=config.get().ocsp_response_validity_hours) / 2
    stale = Q(ocsp_response__isnull=True) | Q(ocsp_response__next_update__lt=now + half)
    rows = (
        Certificate.objects.filter(stale, not_after__gt=now)
        .order_by("pk")
        .values_list("pk", "ca_id", "serial", "status", "revoked_at", "revocation_reason")
    )
    for row in rows.iterator(chunk_size=2000):
        yield Due(*row)


def _batches(items: Iterable[Due], size: int) -> Iterator[list[Due]]:
    batch: list[Due] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def refresh_due(now: datetime, *, limit: int | None = None) -> int:
    """Sign and store every answer that is missing or due; returns how many were written."""
    written = 0
    due = list(_due(now))[:limit]
    for batch in _batches(due, BATCH):
        written += _write([sign_due(item, now) for item in batch])
    return written


def withdraw_responder_answers(cert: Certificate, now: datetime, generation: int) -> None:
    """Inside the revocation of an OCSP responder's certificate (``ocsp``), which took
    ``generation``: every stored answer of its CA is withdrawn, for the revoked key signed them
    and relying parties cannot tell (the responder certificate carries ocsp-nocheck). Servers
    drop them at their next poll and the dynamic responder answers with a valid responder until
    the jobs' next round signs them again (they are due at once)."""
    OCSPResponse.objects.filter(ca_id=cert.ca_id).update(
        der=b"", next_update=now, generation=generation
    )
    ocsp.forget_revoked()


def answer_revocation(cert: Certificate, now: datetime, generation: int) -> None:
    """Inside the revocation's transaction, which took ``generation`` (:func:`next_generation`)
    before it changed the certificate: store the signed "revoked" answer. If signing fails, the
    stored answer is withdrawn instead (empty DER: the dynamic responder answers from the
    registry), so a stale "good" is never served."""
    due = Due(
        cert.pk, cert.ca_id, cert.serial, cert.status, cert.revoked_at, cert.revocation_reason
    )
    try:
        _upsert([answer_row(sign_due(due, now), generation)])
    except Exception:
        log.exception("could not pre-sign the revoked answer of %s; withdrawn", cert.serial)
        withdrawn = Signed(due, b"", now, now)
        _upsert([answer_row(withdrawn, generation)])
