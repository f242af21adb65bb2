"""Pre-signed OCSP answers served by the gateway's fast path (RFC 5019), against a real server:
`certhall jobs` signs them, requests without a nonce get exactly the stored bytes, a revocation
shows within a second, GET answers carry the RFC 5019 §6.2 caching headers, and requests with a
nonce are still signed fresh and echo it. OpenSSL verifies every answer."""

from __future__ import annotations

import base64
import email.utils
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from tests.interop.conftest import Instance
from tests.interop.test_served_ca import ORG, _issue, _ocsp, _split_chain

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def _request(cert: Path, issuing: Path, *, nonce: bytes | None = None) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(
        x509.load_pem_x509_certificate(cert.read_bytes()),
        x509.load_pem_x509_certificate(issuing.read_bytes()),
        hashes.SHA1(),  # noqa: S303 - RFC 5019 CertIDs
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(Encoding.DER)


def _stored(instance: Instance, serial: str) -> bytes | None:
    with sqlite3.connect(instance.home / "certhall.sqlite3") as db:
        row = db.execute("SELECT der FROM ca_ocspresponse WHERE serial = ?", (serial,)).fetchone()
    return bytes(row[0]) if row else None


def _status(der: bytes) -> ocsp.OCSPCertStatus:
    return ocsp.load_der_ocsp_response(der).certificate_status


def _served_by_every_worker(stored: bytes, *fetches: Callable[[], bytes]) -> None:
    """Each of the two workers follows the database on its own: wait until several requests in
    a row (which reach both) get the stored answer, for every way of asking."""
    deadline = time.monotonic() + 5
    while any(fetch() != stored for fetch in fetches for _ in range(6)):
        assert time.monotonic() < deadline, "the workers never served the stored answer"
        time.sleep(0.05)


def _revoke_and_see_it_within_a_second(
    instance: Instance, served: Instance, serial: str, request: bytes
) -> None:
    """Every server process serves the stored revoked answer within a second of the command
    returning (several requests in a row reach both workers)."""
    instance.cli("ca", "revoke", serial, "--reason", "keyCompromise")
    revoked_at = time.monotonic()
    answer = _stored(instance, serial)
    assert answer is not None and _status(answer) == ocsp.OCSPCertStatus.REVOKED
    while any(
        served.post("/ocsp", request, "application/ocsp-request")[1] != answer for _ in range(6)
    ):
        assert time.monotonic() - revoked_at < 1.0, "revocation not visible within a second"
        time.sleep(0.02)


def test_presigned_answers_revocation_within_a_second_and_caching(
    instance: Instance, tmp_path: Path
) -> None:
    chain, issuing, _ = _split_chain(instance, tmp_path)
    serial, cert = _issue(instance, tmp_path, "presigned", "--profile", "org", "--years", "1", *ORG)
    request = _request(cert, issuing)

    # Before the jobs ran there is no stored answer: Django's responder answers from the registry.
    assert _stored(instance, serial) is None
    status, body = instance.post("/ocsp", request, "application/ocsp-request")
    assert status == 200 and _status(body) == ocsp.OCSPCertStatus.GOOD

    instance.cli("jobs")
    stored = _stored(instance, serial)
    assert stored is not None and _status(stored) == ocsp.OCSPCertStatus.GOOD
    path = "/ocsp/" + quote(base64.b64encode(request).decode(), safe="")
    _served_by_every_worker(
        stored,
        lambda: instance.post("/ocsp", request, "application/ocsp-request")[1],
        lambda: instance.get(path)[2],
    )
    output = _ocsp(instance, tmp_path, chain, issuing, "-cert", cert, "-no_nonce")
    assert f"{cert}: good" in output and "Response verify OK" in output

    # GET: the same bytes with RFC 5019 §6.2 headers
    status, headers, body = instance.get(path)
    assert status == 200 and body == stored
    parsed = ocsp.load_der_ocsp_response(body)
    assert headers["Content-Type"] == "application/ocsp-response"
    max_age = int(headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    remaining = (parsed.next_update_utc - datetime.now(UTC)).total_seconds()
    assert 0 < max_age <= remaining + 1
    assert "public" in headers["Cache-Control"]
    assert email.utils.parsedate_to_datetime(headers["Last-Modified"]) == parsed.this_update_utc
    assert email.utils.parsedate_to_datetime(headers["Expires"]) == parsed.next_update_utc
    assert headers["ETag"].startswith('"') and len(headers["ETag"]) > 10

    _revoke_and_see_it_within_a_second(instance, instance, serial, request)
    output = _ocsp(instance, tmp_path, chain, issuing, "-cert", cert, "-no_nonce")
    assert f"{cert}: revoked" in output and "Response verify OK" in output


def test_nonce_requests_are_signed_fresh(instance: Instance, tmp_path: Path) -> None:
    chain, issuing, _ = _split_chain(instance, tmp_path)
    serial, cert = _issue(instance, tmp_path, "nonce", "--profile", "org", "--years", "1", *ORG)
    instance.cli("jobs")
    nonce = b"certhall-nonce-0123456789"
    status, body = instance.post(
        "/ocsp", _request(cert, issuing, nonce=nonce), "application/ocsp-request"
    )
    assert status == 200 and body != _stored(instance, serial)
    echoed = ocsp.load_der_ocsp_response(body).extensions.get_extension_for_class(x509.OCSPNonce)
    assert echoed.value.nonce == nonce
    output = _ocsp(instance, tmp_path, chain, issuing, "-cert", cert)  # openssl adds a nonce
    assert f"{cert}: good" in output and "Response verify OK" in output


def test_the_ocsp_listener_gives_the_same_answers(instance: Instance, tmp_path: Path) -> None:
    """``certhall serve --ocsp-port``: the same stored answers, GET headers, fresh nonce answers
    and revocation within a second as the site's port; nothing but OCSP."""
    listener = replace(instance, url=instance.ocsp_url)
    chain, issuing, _ = _split_chain(instance, tmp_path)
    serial, cert = _issue(instance, tmp_path, "listener", "--profile", "org", "--years", "1", *ORG)
    request = _request(cert, issuing)

    # No stored answer yet: the responder answers from the registry, in the request threads.
    status, body = listener.post("/ocsp", request, "application/ocsp-request")
    assert status == 200 and _status(body) == ocsp.OCSPCertStatus.GOOD
    instance.cli("jobs")
    stored = _stored(instance, serial)
    assert stored is not None
    path = "/ocsp/" + quote(base64.b64encode(request).decode(), safe="")
    _served_by_every_worker(
        stored,
        lambda: listener.post("/ocsp", request, "application/ocsp-request")[1],
        lambda: listener.get(path)[2],
        lambda: instance.get(path)[2],
    )

    status, headers, body = listener.get(path)
    site_headers = instance.get(path)[1]
    assert status == 200 and body == stored
    for name in ("Content-Type", "ETag", "Last-Modified", "Expires"):
        assert headers[name] == site_headers[name]
    assert headers["Cache-Control"].endswith("public, no-transform, must-revalidate")

    # openssl sends a nonce: signed fresh, verified.
    output = _ocsp(instance, tmp_path, chain, issuing, "-cert", cert, url=listener.url)
    assert f"{cert}: good" in output and "Response verify OK" in output

    _revoke_and_see_it_within_a_second(instance, listener, serial, request)

    status, _, body = listener.get("/healthz")
    assert status == 404 and body.decode() == "未找到请求的内容。"
