"""The OCSP responder (RFC 6960): status from the registry, signed by a delegated responder.

Requests without a nonce (the RFC 5019 profile browsers and most clients use) are answered from
a per-process cache of signed responses, keyed by everything the answer depends on: the CA, the
serial, its current status and revocation time, and the responder certificate. The registry row
is read on every request, so a revocation shows at once in every process. Requests with a nonce
are signed fresh. Nothing here raises: every failure becomes an OCSP error status.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.ocsp import OCSPResponseStatus
from django.db import transaction

from certhall import clock, config
from certhall.accounts.services import system_actor
from certhall.ca import signers
from certhall.ca.models import Certificate, CertificateAuthority, OCSPResponder
from certhall.ca.reasons import REASONS
from certhall.ca.registry import register
from certhall.pki import authority
from certhall.pki.ocsp import (
    MalformedRequest,
    OCSPQuery,
    build_response,
    error_response,
    issuer_matches,
    parse_request,
)
from certhall.pki.serials import serial_hex

log = logging.getLogger(__name__)

RESPONDER_DAYS = 30
#: A responder certificate is replaced when less than this is left, so clients never see one
#: that expires before the responses it signed.
RESPONDER_ROLLOVER = timedelta(days=10)
CACHE_SIZE = 200_000


@dataclass(frozen=True)
class _Responder:
    pk: int
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    not_after: datetime


_lock = threading.Lock()
_cas: list[tuple[int, x509.Certificate]] = []
_responders: dict[int, _Responder] = {}
_cache: OrderedDict[tuple[object, ...], tuple[bytes, datetime]] = OrderedDict()


def reset() -> None:
    with _lock:
        _cas.clear()
        _responders.clear()
        _cache.clear()


def _load_cas() -> None:
    loaded = [
        (pk, x509.load_der_x509_certificate(bytes(der)))
        for pk, der in CertificateAuthority.objects.values_list("pk", "certificate_der")
    ]
    with _lock:
        _cas[:] = loaded


def _find_ca(query: OCSPQuery) -> int | None:
    for refresh in (False, True):
        if refresh or not _cas:
            _load_cas()
        for pk, cert in _cas:
            if issuer_matches(query, cert):
                return pk
    return None


def issuer_certificate(ca_id: int) -> x509.Certificate:
    """The CA certificate of ``ca_id`` (cached per process; CA certificates never change)."""
    for refresh in (False, True):
        if refresh or not _cas:
            _load_cas()
        for pk, cert in _cas:
            if pk == ca_id:
                return cert
    raise LookupError(f"no CA {ca_id}")


def _certified_ca(ca_id: int, serial: int) -> bool:
    """Whether ``serial`` is the certificate of a CA that ``ca_id`` certified (the issuing CA,
    asked of the root). CA certificates are not in the registry: without this the root's
    responder answered "unknown" about the one certificate it exists to vouch for."""
    issuer = issuer_certificate(ca_id)
    return any(
        pk != ca_id and cert.serial_number == serial and cert.issuer == issuer.subject
        for pk, cert in _cas
    )


def _responder(ca_id: int, now: datetime) -> _Responder:
    current = _responders.get(ca_id)
    if current is not None and current.not_after - now > RESPONDER_ROLLOVER:
        return current
    with transaction.atomic():
        # The CA row lock makes one process create the new responder, the others reuse it.
        ca = CertificateAuthority.objects.select_for_update().get(pk=ca_id)
        row = (
            OCSPResponder.objects.filter(
                ca=ca,
                not_after__gt=now + RESPONDER_ROLLOVER,
                certificate__status=Certificate.Status.VALID,
            )
            .select_related("certificate")
            .order_by("-not_after")
            .first()
        )
        if row is None:
            row = _new_responder(ca, now)
    key = signers.load_key(row.key_ref)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"OCSP responder key {row.key_ref} is not an EC key")
    responder = _Responder(
        row.pk,
        x509.load_der_x509_certificate(bytes(row.certificate.der)),
        key,
        row.not_after,
    )
    with _lock:
        _responders[ca_id] = responder
    return responder


def forget_revoked() -> set[int]:
    """Drop the responders this process has loaded whose certificate has since been revoked;
    returns their CAs (the next answer loads, or issues, a valid one). A revocation in another
    process reaches here through the stored answers it withdrew (``ocsp_serve`` asks on every
    poll that read rows)."""
    with _lock:
        loaded = {r.pk: ca_id for ca_id, r in _responders.items()}
    if not loaded:
        return set()
    revoked = OCSPResponder.objects.filter(
        pk__in=loaded, certificate__status=Certificate.Status.REVOKED
    ).values_list("pk", flat=True)
    dropped = {loaded[pk] for pk in revoked}
    with _lock:
        for ca_id in dropped:
            _responders.pop(ca_id, None)
    return dropped


def _new_responder(ca: CertificateAuthority, now: datetime) -> OCSPResponder:
    """Issue a delegated responder certificate to a fresh software key (encrypted at rest)."""
    actor = system_actor("ocsp")
    store = signers.software_keystore()
    ref = store.generate(f"ocsp-{ca.slug}-{now:%Y%m%d}-{secrets.token_hex(4)}", "ec")
    key = store.load(ref)
    subject = x509.Name(
        [
            x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(x509.NameOID.ORGANIZATION_NAME, ca.provider.name),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, f"{ca.name} OCSP"),
        ]
    )
    cert = authority.build_ocsp_responder(
        signers.issuer_for(ca), key.public_key(), subject, now, days=RESPONDER_DAYS
    )
    registered = register(actor, ca, cert, "ocsp")
    return OCSPResponder.objects.create(
        ca=ca, certificate=registered, key_ref=ref, not_after=registered.not_after
    )


def _answer(query: OCSPQuery, now: datetime) -> bytes:
    ca_id = _find_ca(query)
    if ca_id is None:
        return error_response(OCSPResponseStatus.UNAUTHORIZED)
    row = (
        Certificate.objects.filter(serial=serial_hex(query.serial))
        .values_list("ca_id", "status", "revoked_at", "revocation_reason")
        .first()
    )
    if row is None and _certified_ca(ca_id, query.serial):
        status, revoked_at, reason = "good", None, None  # CA certificates are never revoked
    elif row is None or row[0] != ca_id:
        status, revoked_at, reason = "unknown", None, None
    elif row[1] == Certificate.Status.REVOKED:
        status, revoked_at, reason = "revoked", row[2], REASONS.get(row[3])
    else:
        status, revoked_at, reason = "good", None, None

    responder = _responder(ca_id, now)
    key = (ca_id, query.serial, query.hash_algorithm.name, status, revoked_at, responder.pk)
    if query.nonce is None:
        hit = _cache.get(key)
        if hit is not None and hit[1] > now:
            return hit[0]

    der, next_update = sign(query, ca_id, status, revoked_at, reason, now)
    if query.nonce is None:
        # Re-sign once half the validity has passed, so cached answers stay fresh.
        with _lock:
            _cache[key] = (der, now + (next_update - now) / 2)
            _cache.move_to_end(key)
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return der


def sign(
    query: OCSPQuery,
    ca_id: int,
    status: str,
    revoked_at: datetime | None,
    reason: x509.ReasonFlags | None,
    now: datetime,
) -> tuple[bytes, datetime]:
    """A signed answer about ``query`` by the CA's current responder, valid from ``now``; and
    its nextUpdate (the configured validity, never beyond the responder certificate)."""
    responder = _responder(ca_id, now)
    return _build(query, issuer_certificate(ca_id), responder, status, revoked_at, reason, now)


def sign_loaded(
    query: OCSPQuery,
    ca_id: int,
    status: str,
    revoked_at: datetime | None,
    reason: x509.ReasonFlags | None,
    now: datetime,
) -> bytes | None:
    """:func:`sign` without the database: None unless this process has already loaded the CA
    certificate and a current responder. For the serving fast path, which runs on the event
    loop, where the ORM may not be used; on a None the request goes to :func:`respond` in a
    request thread (``ocsp_serve.OCSPResponderPath``), which loads them."""
    responder = _responders.get(ca_id)
    issuer = next((cert for pk, cert in _cas if pk == ca_id), None)
    if responder is None or issuer is None or responder.not_after - now <= RESPONDER_ROLLOVER:
        return None
    return _build(query, issuer, responder, status, revoked_at, reason, now)[0]


def _build(
    query: OCSPQuery,
    issuer: x509.Certificate,
    responder: _Responder,
    status: str,
    revoked_at: datetime | None,
    reason: x509.ReasonFlags | None,
    now: datetime,
) -> tuple[bytes, datetime]:
    validity = timedelta(hours=config.get().ocsp_response_validity_hours)
    next_update = min(now + validity, responder.not_after)
    der = build_response(
        query,
        status=status,  # type: ignore[arg-type]
        revoked_at=revoked_at,
        reason=reason,
        issuer_cert=issuer,
        responder_cert=responder.certificate,
        responder_key=responder.key,
        this_update=now,
        next_update=next_update,
    )
    return der, next_update


def respond(request_der: bytes) -> bytes:
    """Answer one DER OCSP request with a DER OCSP response; never raises."""
    try:
        query = parse_request(request_der)
    except MalformedRequest:
        return error_response(OCSPResponseStatus.MALFORMED_REQUEST)
    try:
        return _answer(query, clock.now())
    except Exception:
        log.exception("OCSP request failed")
        return error_response(OCSPResponseStatus.INTERNAL_ERROR)


def ensure_responder(ca: CertificateAuthority, now: datetime) -> x509.Certificate:
    """The CA's current responder certificate, rolled over first if it is due."""
    return _responder(ca.pk, now).certificate
