"""Certificate signing requests (PKCS#10) from the certificate helper or the online hall.

A CSR is only a proof of possession: certhall takes the public key from it and nothing else.
Subject, extensions and attributes in the CSR are ignored; the certificate content comes from the
reviewed application and the profile.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from certhall.errors import InvalidInput
from certhall.pki.keys import SubscriberPublicKey, check_public_key, unsupported_curve_name

MAX_CSR_BYTES = 64 * 1024

_PEM_MARKER = b"-----BEGIN"


def load_csr(data: bytes) -> x509.CertificateSigningRequest:
    """Parse a PEM or DER CSR, check its signature and its key; return it.

    Raises InvalidInput ("CSR too large", not a CSR, bad signature, key not accepted).
    """
    return _checked(data)[0]


def load_csr_key(data: bytes) -> SubscriberPublicKey:
    """The checked public key of the CSR ``data`` (as :func:`load_csr`, without reading the
    key out of the CSR twice)."""
    return _checked(data)[1]


def _checked(data: bytes) -> tuple[x509.CertificateSigningRequest, SubscriberPublicKey]:
    if len(data) > MAX_CSR_BYTES:
        raise InvalidInput(code="csr_too_large", size=len(data), limit=MAX_CSR_BYTES)
    stripped = data.strip()
    if not stripped:
        raise InvalidInput(code="csr_malformed", variant="empty")
    csr = _parse(data, stripped)
    key = csr_public_key(csr)  # key policy first: its message says more than "bad signature"
    try:
        valid = csr.is_signature_valid
    except (UnsupportedAlgorithm, ValueError):
        valid = False
    if not valid:
        raise InvalidInput(code="csr_signature")
    return csr, key


def _parse(data: bytes, stripped: bytes) -> x509.CertificateSigningRequest:
    # DER starts with SEQUENCE; PEM may follow text, as in `openssl req -text` output.
    is_der = data[:1] == b"\x30"
    if not is_der and _PEM_MARKER in stripped:
        loader, blob, kind = x509.load_pem_x509_csr, stripped, "PEM"
    else:
        loader, blob, kind = x509.load_der_x509_csr, data, "DER"
    try:
        return loader(blob)
    except (ValueError, TypeError):
        raise InvalidInput(code="csr_malformed", part=kind) from None


def csr_public_key(csr: x509.CertificateSigningRequest) -> SubscriberPublicKey:
    """The CSR's public key, checked against the key policy (InvalidInput if refused)."""
    try:
        key = csr.public_key()
    except UnsupportedAlgorithm as exc:
        curve = unsupported_curve_name(str(exc))
        if curve:
            raise InvalidInput(code="key_policy", variant="csr_curve", curve=curve) from None
        raise InvalidInput(code="key_policy", variant="csr_type") from None
    except ValueError:
        raise InvalidInput(code="csr_malformed", variant="public_key") from None
    return check_public_key(key)
