"""Serving pre-signed OCSP answers without Django: the gateway's OCSP fast path.

Each serving process keeps every stored answer (``ca/ocsp_store.py``) in memory, keyed by the
issuer hashes and serial of its SHA-1 CertID, and follows the database in a background thread:
every :data:`POLL_SECONDS` it reads the rows written since the last generation it saw, so a
revocation is served within a poll of its commit. A request the store cannot answer exactly
(another CertID hash, an unknown or expired answer, anything malformed) goes to
:class:`OCSPResponderPath`: the responder (``ca/ocsp.py``) answers it from the registry in a
request thread, without Django's request handling. A request with a nonce is signed fresh here,
from the status of the stored answer, once the process has its responder key loaded (the first
one goes to the responder, which loads it).

HTTP caching (RFC 5019 §6.2): GET answers carry ``Cache-Control: max-age`` up to nextUpdate,
``ETag``, ``Last-Modified`` (thisUpdate) and ``Expires`` (nextUpdate), so caches and CDNs can
carry the load; POST answers are not cacheable.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from functools import partial
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509 import ocsp
from django.db import close_old_connections, connection
from django.db.models import Q

from certhall import clock
from certhall.ca import ocsp as responder
from certhall.ca.models import Certificate, CertificateAuthority, OCSPResponse
from certhall.pki.ocsp import (
    MAX_REQUEST_BYTES,
    NONCE_OID,
    CertStatus,
    MalformedRequest,
    issuer_hashes,
    parse_request,
)
from certhall.web.fast_paths import InPool, Reply

log = logging.getLogger(__name__)

POLL_SECONDS = 0.25
LOAD_BATCH = 5000
#: Signed "unknown" answers kept per process (least recently stored dropped first).
UNKNOWN_KEPT = 50_000
CONTENT_TYPE = "application/ocsp-response"
#: The headers of a POST answer, or of an error answer: not for caches (RFC 5019 §5).
_NOT_CACHED: Sequence[tuple[str, str]] = [
    ("content-type", CONTENT_TYPE),
    ("cache-control", "no-store"),
]


@dataclass(slots=True)
class Answer:
    der: bytes
    this_update: float  # POSIX seconds
    next_update: float
    etag: str
    status: CertStatus  # what ``der`` says, for signing a nonce request's answer without parsing
    #: ETag, Last-Modified and Expires, formatted at the first GET (not for every answer loaded).
    _dated: list[tuple[str, str]] | None = field(default=None, init=False, repr=False)
    #: A revoked answer's time and reason, read from ``der`` at the first nonce request.
    _revocation: tuple[datetime | None, x509.ReasonFlags | None] | None = field(
        default=None, init=False, repr=False
    )

    def revocation(self) -> tuple[datetime | None, x509.ReasonFlags | None]:
        """(revocation time, reason) of a revoked answer; (None, None) for the others."""
        if self._revocation is None:
            if self.status == "revoked":
                stored = ocsp.load_der_ocsp_response(self.der)
                self._revocation = (stored.revocation_time_utc, stored.revocation_reason)
            else:
                self._revocation = (None, None)
        return self._revocation

    def get_headers(self, now: float) -> list[tuple[str, str]]:
        """RFC 5019 §6.2 headers of a GET answer (``now`` in POSIX seconds), valid until
        nextUpdate."""
        if self._dated is None:
            self._dated = [
                ("etag", self.etag),
                ("last-modified", formatdate(self.this_update, usegmt=True)),
                ("expires", formatdate(self.next_update, usegmt=True)),
            ]
        max_age = max(0, int(self.next_update - now))
        return [
            ("content-type", CONTENT_TYPE),
            ("cache-control", f"max-age={max_age}, public, no-transform, must-revalidate"),
            *self._dated,
        ]


def etag_of(der: bytes) -> str:
    return '"' + hashlib.sha256(der).hexdigest()[:32] + '"'


def answer_of(
    der: bytes, this_update: datetime, next_update: datetime, status: CertStatus
) -> Answer:
    return Answer(der, this_update.timestamp(), next_update.timestamp(), etag_of(der), status)


def response_headers(der: bytes, cacheable: bool) -> Sequence[tuple[str, str]]:
    """The headers of an answer the responder signed: POST answers are not cached; GET answers
    carry RFC 5019 §6.2 headers (as the stored ones do), error answers none."""
    if cacheable:
        parsed = ocsp.load_der_ocsp_response(der)
        if parsed.response_status is ocsp.OCSPResponseStatus.SUCCESSFUL and parsed.next_update_utc:
            answer = answer_of(der, parsed.this_update_utc, parsed.next_update_utc, "unknown")
            return answer.get_headers(clock.now().timestamp())
    return _NOT_CACHED


def request_from_path(path: str) -> bytes | None:
    """The DER request of ``GET /ocsp/<url-encoded base64>`` (RFC 6960 A.1), or None."""
    try:
        der = base64.b64decode(unquote(path) if "%" in path else path, validate=False)
    except (binascii.Error, ValueError):
        return None
    return der if 0 < len(der) <= MAX_REQUEST_BYTES else None


class AnswerStore:
    """The pre-signed answers of the database, in memory, followed by a poller thread."""

    def __init__(self) -> None:
        self._answers: dict[tuple[int, int], Answer] = {}
        #: Answers the responder signed for serials the CA never issued (:meth:`remember`).
        self._unknown: OrderedDict[tuple[int, int], Answer] = OrderedDict()
        self._issuers: dict[tuple[bytes, bytes], int] = {}
        #: (generation, pk) of the last row read: rows are read in that order.
        self._cursor = (0, 0)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._poll, name="ocsp-poll", daemon=True)
                self._thread.start()

    def _poll(self) -> None:
        while True:
            try:
                while self.poll_once() == LOAD_BATCH:
                    pass
            except Exception:
                log.exception("could not read pre-signed OCSP answers")
                close_old_connections()
            time.sleep(POLL_SECONDS)

    def _load_issuers(self) -> None:
        sha1 = hashes.SHA1()  # noqa: S303 - RFC 5019 CertIDs are SHA-1
        issuers = {}
        for pk, der in CertificateAuthority.objects.values_list("pk", "certificate_der"):
            issuers[issuer_hashes(x509.load_der_x509_certificate(bytes(der)), sha1)] = pk
        self._issuers = issuers

    def poll_once(self) -> int:
        """Read up to LOAD_BATCH rows written since the last poll; returns how many."""
        generation, pk = self._cursor
        newer = Q(generation__gt=generation) | Q(generation=generation, pk__gt=pk)
        rows = list(
            OCSPResponse.objects.filter(newer)
            .order_by("generation", "pk")
            .values_list(
                "ca_id",
                "serial",
                "status",
                "der",
                "this_update",
                "next_update",
                "generation",
                "pk",
            )[:LOAD_BATCH]
        )
        if not rows:
            return 0
        if any(ca_id not in self._issuers.values() for ca_id, *_ in rows):
            self._load_issuers()
        answers = self._answers
        for ca_id, serial, status, der, this_update, next_update, _, _ in rows:
            key = (ca_id, int(serial, 16))
            self._unknown.pop(key, None)
            if der:
                says: CertStatus = "revoked" if status == Certificate.Status.REVOKED else "good"
                answers[key] = answer_of(bytes(der), this_update, next_update, says)
            else:
                answers.pop(key, None)
        self._cursor = (rows[-1][6], rows[-1][7])
        # A responder revoked in any process withdraws its CA's answers: those rows are here,
        # and so is the moment to stop signing with it (nonces, kept "unknown" answers).
        dropped = responder.forget_revoked()
        if dropped:
            for key in list(self._unknown):  # a copy: request threads add to it meanwhile
                if key[0] in dropped:
                    self._unknown.pop(key, None)
        return len(rows)

    def lookup(self, request_der: bytes, now: float) -> Answer | None:
        try:
            request = ocsp.load_der_ocsp_request(request_der)
            if not isinstance(request.hash_algorithm, hashes.SHA1) or len(request.extensions):
                return None
            ca_id = self._issuers.get((request.issuer_name_hash, request.issuer_key_hash))
            serial = request.serial_number
        except Exception:
            return None
        if ca_id is None:
            return None
        answer = self._answers.get((ca_id, serial)) or self._unknown.get((ca_id, serial))
        if answer is None or answer.next_update <= now:
            return None
        return answer

    def remember(self, request_der: bytes, response_der: bytes) -> None:
        """Keep the responder's "unknown" answer to a SHA-1 request, to serve it from here
        until its nextUpdate. Safe because serials are 127 random bits: nobody asks for a serial
        before it is issued, and one that is issued after all arrives with its own stored
        answer, which replaces this one (:meth:`poll_once`). The answer to a request with a
        nonce cannot be replayed: its plain twin is signed and kept instead, and later nonce
        requests for the serial are signed here (:meth:`sign_nonce`)."""
        try:
            query = parse_request(request_der)
            response = ocsp.load_der_ocsp_response(response_der)
            if (
                not isinstance(query.hash_algorithm, hashes.SHA1)
                or response.response_status is not ocsp.OCSPResponseStatus.SUCCESSFUL
                or response.certificate_status is not ocsp.OCSPCertStatus.UNKNOWN
                or response.next_update_utc is None
            ):
                return
            ca_id = self._issuers.get((query.issuer_name_hash, query.issuer_key_hash))
        except (MalformedRequest, ValueError):
            return
        if ca_id is None or (ca_id, query.serial) in self._answers:
            return
        key = (ca_id, query.serial)
        this_update, next_update = response.this_update_utc, response.next_update_utc
        if query.nonce is not None:
            # Signed as of the same moment, so its nextUpdate is the same too.
            plain = query._replace(nonce=None)
            twin = responder.sign_loaded(plain, ca_id, "unknown", None, None, this_update)
            if twin is None:
                return
            response_der = twin
        answer = answer_of(response_der, this_update, next_update, "unknown")
        with self._lock:
            self._unknown[key] = answer
            while len(self._unknown) > UNKNOWN_KEPT:
                self._unknown.popitem(last=False)

    def sign_nonce(self, request_der: bytes, now: datetime) -> bytes | None:
        """A request with a nonce and a SHA-1 CertID, answered with the status of the stored
        (or kept "unknown") answer, signed fresh and echoing the nonce; None when it cannot be
        answered here."""
        try:
            query = parse_request(request_der)
        except MalformedRequest:
            return None
        if query.nonce is None or not isinstance(query.hash_algorithm, hashes.SHA1):
            return None
        ca_id = self._issuers.get((query.issuer_name_hash, query.issuer_key_hash))
        if ca_id is None:
            return None
        key = (ca_id, query.serial)
        answer = self._answers.get(key) or self._unknown.get(key)
        if answer is None or answer.next_update <= now.timestamp():
            return None
        revoked_at, reason = answer.revocation()
        return responder.sign_loaded(query, ca_id, answer.status, revoked_at, reason, now)


class OCSPFastPath:
    """The gateway fast path: ``POST /ocsp`` and ``GET /ocsp/<request>`` from the store."""

    def __init__(self, store: AnswerStore | None = None) -> None:
        self.store = store or AnswerStore()

    def start(self) -> None:
        self.store.start()

    def __call__(self, method: str, path: str, body: bytes) -> Reply | None:
        if path == "/ocsp" and method == "POST":
            request_der: bytes | None = body if len(body) <= MAX_REQUEST_BYTES else None
        elif method == "GET" and path.startswith("/ocsp/"):
            request_der = request_from_path(path[len("/ocsp/") :])
        else:
            return None
        if not request_der:
            return None
        moment = clock.now()
        now = moment.timestamp()
        # A request with a nonce is never answered with a stored answer: no lookup for it.
        answer = None if NONCE_OID in request_der else self.store.lookup(request_der, now)
        if answer is None:
            signed = self.store.sign_nonce(request_der, moment) if method == "POST" else None
            if signed is None:
                return None
            return Reply(200, _NOT_CACHED, signed)
        headers = answer.get_headers(now) if method == "GET" else _NOT_CACHED
        return Reply(200, headers, answer.der)


#: GET paths Django's URL conf routes to the responder (``certhall/urls.py``).
_GET_PATH = re.compile(r"/ocsp/[A-Za-z0-9+/=%]+")


class OCSPResponderPath:
    """The gateway's second OCSP path, after :class:`OCSPFastPath`: what the stored answers do
    not cover (an unknown serial, a SHA-256 CertID, a certificate issued since the jobs' last
    round, a malformed request) is answered by the responder (``ca/ocsp.py``, the registry) in
    a request thread, without Django's request handling. Measured: through Django such an answer
    cost about 3 ms of CPU, and the 5% of unknown serials in the benchmark's mix halved the
    server's answers per second (docs/performance.md, section 2)."""

    def __init__(self, store: AnswerStore | None = None) -> None:
        #: The fast path's store, which keeps the "unknown" answers signed here.
        self.store = store

    def start(self) -> None:
        pass

    def __call__(self, method: str, path: str, body: bytes) -> InPool | None:
        if method == "POST" and path in ("/ocsp", "/ocsp/"):
            der, cacheable = (body if len(body) <= MAX_REQUEST_BYTES else b""), False
        elif method == "GET" and _GET_PATH.fullmatch(path):
            der, cacheable = request_from_path(path[len("/ocsp/") :]) or b"", True
        else:
            return None
        return InPool(partial(self._respond, der, cacheable))

    def _respond(self, request_der: bytes, cacheable: bool) -> Reply:
        """In a request thread: the responder's answer (it never raises), with the thread's
        database connection handled as Django handles it around a request."""
        _between_requests()
        try:
            der = responder.respond(request_der)
        finally:
            _between_requests()
        if self.store is not None:
            self.store.remember(request_der, der)
        return Reply(200, response_headers(der, cacheable), der)


def _between_requests() -> None:
    """Close a connection past its age or unusable, as Django does at a request's start and
    end; never inside a transaction (a test's), which Django's requests are never in either."""
    if not connection.in_atomic_block:
        close_old_connections()
