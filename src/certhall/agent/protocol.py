"""What the certificate helper signs, shared by the helper and the hall. No Django.

The helper never signs bytes a web page hands it. It builds one of two messages itself, from
fixed prefixes, the ``Origin`` of the requesting page (which the browser sets and the page cannot
forge) and a few checked fields, and signs that:

``certhall-login\\n{origin}\\n{challenge}``
    a certificate login. ``challenge`` is the server's 32 random bytes, base64url without
    padding (43 characters). The origin binds the signature to the hall that asked for it, so a
    signature obtained by another site cannot be relayed to the hall.

``certhall-renew\\n{origin}\\n{old serial}\\n{new public key sha256}\\n{years}``
    an online renewal request: the current certificate's key vouches for the new public key
    (SHA-256 of its DER SubjectPublicKeyInfo, lower-case hex) and the term.

Signatures are SHA-256: ECDSA (DER Ecdsa-Sig-Value) for EC keys, PKCS#1 v1.5 for RSA keys
(:func:`certhall.pki.keys.sign`). docs/certificate-login.md describes the protocol.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from certhall.errors import InvalidInput
from certhall.pki.keys import spki

LOGIN_PREFIX = "certhall-login"
RENEW_PREFIX = "certhall-renew"
CHALLENGE_BYTES = 32

_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")
_SERIAL = re.compile(r"[0-9a-f]{1,40}")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, default port dropped (InvalidInput otherwise).

    This is the serialisation browsers use in the ``Origin`` header, so a configured origin and a
    header can be compared as strings.
    """
    text = value.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InvalidInput(code="origin_invalid", value=value) from None
    if (
        parts.scheme not in _DEFAULT_PORTS
        or not parts.hostname
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or parts.username is not None
        or parts.password is not None
    ):
        raise InvalidInput(code="origin_invalid", variant="form", value=value)
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def new_challenge_text(raw: bytes) -> str:
    """The text form of a challenge: base64url of the raw bytes, no padding."""
    if len(raw) != CHALLENGE_BYTES:
        raise ValueError(f"a challenge is {CHALLENGE_BYTES} bytes")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def check_challenge(challenge: str) -> str:
    """InvalidInput unless ``challenge`` is 32 bytes in base64url without padding."""
    if not isinstance(challenge, str) or not _CHALLENGE.fullmatch(challenge):
        raise InvalidInput(code="challenge_invalid")
    try:
        base64.urlsafe_b64decode(challenge + "=")
    except (binascii.Error, ValueError):
        raise InvalidInput(code="challenge_invalid", variant="base64") from None
    return challenge


def login_message(origin: str, challenge: str) -> bytes:
    """The bytes signed for a certificate login."""
    return f"{LOGIN_PREFIX}\n{normalise_origin(origin)}\n{check_challenge(challenge)}".encode()


def public_key_sha256(key: PublicKeyTypes) -> str:
    """SHA-256 of the DER SubjectPublicKeyInfo, lower-case hex: how a new key is named."""
    return hashlib.sha256(spki(key)).hexdigest()


def renewal_message(origin: str, old_serial: str, new_key_sha256: str, years: int) -> bytes:
    """The bytes the current key signs to ask for a renewal onto a new key."""
    if not _SERIAL.fullmatch(old_serial):
        raise InvalidInput(code="serial_invalid", variant="lower_hex")
    if not _SHA256_HEX.fullmatch(new_key_sha256):
        raise InvalidInput(code="key_hash_invalid")
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 99:
        raise InvalidInput(code="years_invalid")
    return "\n".join(
        [RENEW_PREFIX, normalise_origin(origin), old_serial, new_key_sha256, str(years)]
    ).encode()


def verify_signature(public_key: PublicKeyTypes, signature: bytes, data: bytes) -> bool:
    """Whether ``signature`` is a SHA-256 signature of ``data`` by ``public_key`` (EC/RSA)."""
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
            return True
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
            return True
    except (InvalidSignature, ValueError):
        return False
    return False


def b64encode(data: bytes) -> str:
    """Standard base64 with padding: how DER and signatures travel in JSON."""
    return base64.b64encode(data).decode("ascii")


#: How refusals name the fields of the JSON bodies.
_WHAT = {"csr": "CSR", "signature": "签名", "certificate": "证书", "chain": "证书链"}


def b64decode(text: object, what: str, *, limit: int = 64 * 1024) -> bytes:
    """Decode standard base64 from JSON (InvalidInput naming ``what`` when it is not)."""
    if not isinstance(text, str) or len(text) > limit * 4 // 3 + 4:
        raise InvalidInput(code="base64_invalid", variant="type", what=_WHAT.get(what, what))
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(code="base64_invalid", what=_WHAT.get(what, what)) from None
