"""The OCSP benchmark's requests (built once, for wrk's pools) and the checks of every server's
answers (bench/ocsp.py)."""

from __future__ import annotations

import http.client
import random
from base64 import b64encode
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

Request = tuple[bytes, int, bytes | None]  # (DER request, serial, nonce)


def build_requests(
    rows: Sequence[Any], issuer_cert: Any, count: int, nonce: bool, rng: random.Random
) -> list[Request]:
    """``count`` requests: 95% serials from ``rows``, 5% unknown."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509 import ocsp

    from certhall.pki.ocsp import issuer_hashes

    # SHA-1 CertIDs: what browsers and openssl send (RFC 5019 section 2.1.1).
    name_hash, key_hash = issuer_hashes(issuer_cert, hashes.SHA1())  # noqa: S303
    out = []
    known = {r.serial for r in rows}
    for i in range(count):
        if i % 20 == 19:
            serial = (1 << 126) | rng.getrandbits(126)
            while serial in known:  # pragma: no cover
                serial = (1 << 126) | rng.getrandbits(126)
        else:
            serial = rows[rng.randrange(len(rows))].serial
        builder = ocsp.OCSPRequestBuilder().add_certificate_by_hash(
            name_hash,
            key_hash,
            serial,
            hashes.SHA1(),  # noqa: S303
        )
        value = None
        if nonce:
            value = rng.randbytes(16)
            builder = builder.add_extension(x509.OCSPNonce(value), critical=False)
        out.append((builder.build().public_bytes(Encoding.DER), serial, value))
    return out


def get_path(der: bytes) -> str:
    """``/ocsp/<url-encoded base64>`` (RFC 6960 A.1)."""
    return "/ocsp/" + quote(b64encode(der).decode(), safe="")


def write_lines(path: Path, lines: Sequence[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines))
    return path


def post(port: int, body: bytes, timeout: float = 10) -> bytes:
    return _fetch(port, "POST", "/ocsp", body)[1]


def get(port: int, der: bytes) -> tuple[dict[str, str], bytes]:
    return _fetch(port, "GET", get_path(der), None)


def _fetch(port: int, method: str, path: str, body: bytes | None) -> tuple[dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/ocsp-request"} if body is not None else {}
        conn.request(method, path, body, headers)
        response = conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status} for {method} {path[:40]}")
        return {k.lower(): v for k, v in response.getheaders()}, data
    finally:
        conn.close()


_REASON_ATTR = {
    "keyCompromise": "key_compromise",
    "superseded": "superseded",
    "cessationOfOperation": "cessation_of_operation",
    "affiliationChanged": "affiliation_changed",
}


def check_answer(der: bytes, serial: int, nonce: bytes | None, want: Any, issuer_cert: Any) -> None:
    """Raise unless ``der`` is a correct, verified answer about ``serial``."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509 import OCSPNonce, ocsp

    resp = ocsp.load_der_ocsp_response(der)
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise ValueError(f"response status {resp.response_status}")
    if resp.serial_number != serial:
        raise ValueError("answer about another serial")
    if want is None:
        if resp.certificate_status != ocsp.OCSPCertStatus.UNKNOWN:
            raise ValueError(f"unknown serial answered {resp.certificate_status}")
    else:
        revoked_at, reason = want
        if revoked_at is None:
            if resp.certificate_status != ocsp.OCSPCertStatus.GOOD:
                raise ValueError(f"good serial answered {resp.certificate_status}")
        else:
            if resp.certificate_status != ocsp.OCSPCertStatus.REVOKED:
                raise ValueError(f"revoked serial answered {resp.certificate_status}")
            if resp.revocation_time_utc != revoked_at:
                raise ValueError(f"revocation time {resp.revocation_time_utc}")
            got = resp.revocation_reason.name if resp.revocation_reason else None
            # certhall leaves unspecified out (RFC 5280 5.3.1), openssl encodes it.
            allowed = {None, "unspecified"} if reason == "unspecified" else {_REASON_ATTR[reason]}
            if got not in allowed:
                raise ValueError(f"revocation reason {got} for {reason}")
    if nonce is not None:
        echoed = resp.extensions.get_extension_for_class(OCSPNonce).value.nonce
        if echoed != nonce:
            raise ValueError("nonce not echoed")
    signer = resp.certificates[0]
    signer.verify_directly_issued_by(issuer_cert)
    assert resp.signature_hash_algorithm is not None
    public = signer.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(resp.signature, resp.tbs_response_bytes, ec.ECDSA(resp.signature_hash_algorithm))


def check_answers(
    fetch: Callable[[bytes], bytes],
    sample: Sequence[Request],
    expected: dict[int, Any],
    issuer_cert: Any,
) -> list[str]:
    """Ask ``sample`` and check every answer; return the problems (empty: all correct)."""
    problems: list[str] = []
    for body, serial, nonce in sample:
        try:
            check_answer(fetch(body), serial, nonce, expected.get(serial), issuer_cert)
        except Exception as exc:
            problems.append(f"serial {serial:x}: {exc}")
    return problems
