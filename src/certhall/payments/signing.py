"""The online gateways' notification signature: RSA2 as Alipay does it.

The string to sign is the notification's parameters, without ``sign`` and ``sign_type`` and
without empty values, sorted by name (byte order) and joined as ``k=v&k=v`` with the raw,
un-escaped values (UTF-8). The signature is RSASSA-PKCS1-v1_5 with SHA-256 (SHA256withRSA) by
the gateway's RSA-2048 key, base64-encoded (standard alphabet, with padding) in ``sign``;
``sign_type`` is ``RSA2``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from certhall.errors import Forbidden

SIGN_TYPE = "RSA2"
UNSIGNED = frozenset({"sign", "sign_type"})
MIN_KEY_BITS = 2048


def signing_string(params: Mapping[str, str]) -> str:
    """``k=v&k=v`` over the signed parameters, sorted by name."""
    return "&".join(
        f"{key}={params[key]}" for key in sorted(params) if key not in UNSIGNED and params[key]
    )


def sign(params: Mapping[str, str], key: rsa.RSAPrivateKey) -> str:
    """The base64 SHA256withRSA signature of ``params`` (the gateway's side)."""
    signature = key.sign(
        signing_string(params).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
    )
    return base64.b64encode(signature).decode("ascii")


def signed(params: Mapping[str, str], key: rsa.RSAPrivateKey) -> dict[str, str]:
    """``params`` with ``sign_type`` and ``sign`` added."""
    out = {k: v for k, v in params.items() if k not in UNSIGNED}
    out["sign_type"] = SIGN_TYPE
    out["sign"] = sign(out, key)
    return out


def verify(params: Mapping[str, str], key: rsa.RSAPublicKey) -> None:
    """Forbidden (``bad_signature``) unless ``params`` carry a valid RSA2 signature by ``key``."""
    if params.get("sign_type") != SIGN_TYPE:
        raise Forbidden(
            code="bad_signature",
            variant="sign_type",
            expected=SIGN_TYPE,
            got=params.get("sign_type", ""),
        )
    try:
        signature = base64.b64decode(params.get("sign", ""), validate=True)
    except (binascii.Error, ValueError):
        raise Forbidden(code="bad_signature", variant="base64") from None
    if not signature:
        raise Forbidden(code="bad_signature", variant="missing")
    try:
        key.verify(
            signature, signing_string(params).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256()
        )
    except InvalidSignature:
        raise Forbidden(code="bad_signature", variant="notify") from None
