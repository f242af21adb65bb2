"""Keys: the subscriber key policy and signing with any issuer key.

Issuer keys are ``cryptography`` private key objects. Some are PKCS#11 adapters whose only working
members are ``sign()``, ``public_key()`` and ``key_size`` / ``curve``; this module never asks a key
for anything else (no ``private_bytes``, ``private_numbers`` or ``exchange``).

Signatures are always SHA-256: ecdsa-with-SHA256 for EC keys, sha256WithRSAEncryption (PKCS#1
v1.5) for RSA keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import (
    dsa,
    ec,
    ed448,
    ed25519,
    padding,
    rsa,
    x448,
    x25519,
)
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    CertificatePublicKeyTypes,
    PublicKeyTypes,
)

from certhall.errors import ConfigurationError, InvalidInput
from certhall.pki import der

#: Subscriber keys certhall certifies.
SubscriberPublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey

RSA_MIN_BITS = 2048
RSA_MAX_BITS = 8192
RSA_EXPONENT = 65537

ECDSA_WITH_SHA256 = "1.2.840.10045.4.3.2"
SHA256_WITH_RSA = "1.2.840.113549.1.1.11"

_CURVE_NAMES = {"1.2.156.10197.1.301": "SM2"}
_OTHER_KEY_NAMES: tuple[tuple[type, str], ...] = (
    (ed25519.Ed25519PublicKey, "Ed25519"),
    (ed448.Ed448PublicKey, "Ed448"),
    (x25519.X25519PublicKey, "X25519"),
    (x448.X448PublicKey, "X448"),
)


class SigningAuthority(Protocol):
    """Anything that signs as a CA: an :class:`~certhall.pki.issuance.Issuer`, a root, ..."""

    @property
    def certificate(self) -> x509.Certificate: ...

    @property
    def key(self) -> CertificateIssuerPrivateKeyTypes: ...


@dataclass(frozen=True)
class CertAndKey:
    """The simplest :class:`SigningAuthority`: a CA certificate and its private key."""

    certificate: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes


def describe_key(key: PublicKeyTypes) -> str:
    """A short human name: ``RSA-2048``, ``EC secp256r1``, ``Ed25519`` ..."""
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    if isinstance(key, dsa.DSAPublicKey):
        return f"DSA-{key.key_size}"
    for cls, name in _OTHER_KEY_NAMES:
        if isinstance(key, cls):
            return name
    return type(key).__name__


def check_public_key(key: PublicKeyTypes) -> SubscriberPublicKey:
    """Apply the subscriber key policy; return the key narrowed to the accepted types.

    Accepted: EC on secp256r1 (P-256); RSA of 2048 to 8192 bits with public exponent 65537.
    Anything else raises InvalidInput naming the key.
    """
    if isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return key
        raise InvalidInput(code="key_policy", variant="curve", key=describe_key(key))
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < RSA_MIN_BITS:
            raise InvalidInput(
                code="key_policy", variant="rsa_short", key=describe_key(key), bits=RSA_MIN_BITS
            )
        if key.key_size > RSA_MAX_BITS:
            raise InvalidInput(
                code="key_policy", variant="rsa_long", key=describe_key(key), bits=RSA_MAX_BITS
            )
        if key.public_numbers().e != RSA_EXPONENT:
            raise InvalidInput(
                code="key_policy",
                variant="exponent",
                key=describe_key(key),
                got=key.public_numbers().e,
                exponent=RSA_EXPONENT,
            )
        return key
    raise InvalidInput(code="key_policy", key=describe_key(key), max_bits=RSA_MAX_BITS)


def unsupported_curve_name(message: str) -> str | None:
    """Name the curve in a ``cryptography`` "Curve <oid> is not supported" message, if known."""
    for curve_oid, name in _CURVE_NAMES.items():
        if curve_oid in message:
            return name
    return None


def signature_hash(key: CertificateIssuerPrivateKeyTypes) -> hashes.SHA256:
    """The hash for ``builder.sign(key, ...)``; ConfigurationError for non-EC/RSA issuer keys."""
    if isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        return hashes.SHA256()
    _unsupported_ca_key(key)


def _unsupported_ca_key(key: object) -> NoReturn:
    raise ConfigurationError(code="ca_key_type", key=type(key).__name__)


def signature_algorithm(key: CertificateIssuerPrivateKeyTypes) -> bytes:
    """The DER AlgorithmIdentifier of the signatures ``sign`` makes with ``key``."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return _ECDSA_WITH_SHA256_ALGORITHM
    if isinstance(key, rsa.RSAPrivateKey):
        return _SHA256_WITH_RSA_ALGORITHM
    _unsupported_ca_key(key)


_ECDSA_WITH_SHA256_ALGORITHM = der.sequence(der.oid(ECDSA_WITH_SHA256))  # no parameters, RFC 5758
_SHA256_WITH_RSA_ALGORITHM = der.sequence(der.oid(SHA256_WITH_RSA), der.null())  # NULL, RFC 4055


def sign(key: CertificateIssuerPrivateKeyTypes, data: bytes) -> bytes:
    """Sign ``data`` with SHA-256 (ECDSA signatures are DER Ecdsa-Sig-Value)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, _ECDSA_WITH_SHA256)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    _unsupported_ca_key(key)


_ECDSA_WITH_SHA256 = ec.ECDSA(hashes.SHA256())  # made once: every nonce answer is signed


def spki(key: PublicKeyTypes) -> bytes:
    """The DER SubjectPublicKeyInfo of ``key``."""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def same_public_key(a: PublicKeyTypes, b: PublicKeyTypes) -> bool:
    return spki(a) == spki(b)


def authority_key_identifier(ca_certificate: x509.Certificate) -> x509.AuthorityKeyIdentifier:
    """AKI with the keyIdentifier of ``ca_certificate`` (its SKI, or computed when it has none)."""
    try:
        ski = ca_certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    except x509.ExtensionNotFound:
        public = ca_certificate.public_key()
        return x509.AuthorityKeyIdentifier.from_issuer_public_key(_issuer_public(public))
    return x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)


def _issuer_public(key: CertificatePublicKeyTypes) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    if isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return key
    raise ConfigurationError(code="ca_key_type", key=describe_key(key))
