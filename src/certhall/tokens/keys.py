"""Key pairs on a token, and token keys as ``cryptography`` private key objects.

:func:`generate_keypair` makes a signing key pair on the token: the private key is a token
object that is sensitive and never extractable (``CKA_SENSITIVE`` true, ``CKA_EXTRACTABLE``
false), may sign and nothing else. :func:`load_private_key` finds one by label.

Both return an adapter, :class:`Pkcs11ECPrivateKey` or :class:`Pkcs11RSAPrivateKey`, that
subclasses ``cryptography``'s private key class, so ``x509.CertificateBuilder.sign``,
``CertificateSigningRequestBuilder.sign``, ``CertificateRevocationListBuilder.sign``,
``OCSPResponseBuilder.sign`` and direct ``key.sign(...)`` calls work unchanged. The adapter reads
the public key once, keeps the key handle, and signs under the session lock; only ``sign``,
``public_key``, ``key_size`` and ``curve`` work, everything that would need the private value
raises TokenError (code ``key_not_extractable``).

* EC (P-256): SoftHSM2 has only raw ``CKM_ECDSA``, so the data is hashed here and the raw
  ``r || s`` the token returns is DER-encoded (``Ecdsa-Sig-Value``) as ``cryptography`` does.
* RSA: ``CKM_SHA{224,256,384,512}_RSA_PKCS`` (the token hashes), ``CKM_RSA_PKCS`` over a
  DigestInfo for ``Prehashed``, and the matching ``*_RSA_PKCS_PSS`` mechanisms for PSS.
"""

from __future__ import annotations

import re
import secrets
from typing import Any, Literal, NamedTuple, NoReturn, Self, cast, overload

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.utils import (
    NoDigestInfo,
    Prehashed,
    encode_dss_signature,
)
from cryptography.utils import Buffer
from pkcs11 import MGF, Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass, PKCS11Error
from pkcs11.types import SignMixin

from certhall.errors import Conflict, TokenError
from certhall.tokens.session import TokenSession

KeySpec = Literal["ec", "rsa2048", "rsa3072"]
KEY_SPECS: tuple[KeySpec, ...] = ("ec", "rsa2048", "rsa3072")
_RSA_BITS: dict[str, int] = {"rsa2048": 2048, "rsa3072": 3072}

#: DER ECParameters (namedCurve OID) of the curves certhall reads from tokens.
_P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
_CURVES: dict[bytes, ec.EllipticCurve] = {
    _P256_PARAMS: ec.SECP256R1(),
    bytes.fromhex("06052b81040022"): ec.SECP384R1(),
}

_KEY_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_PRIVATE_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.SIGN_RECOVER: False,
    Attribute.DECRYPT: False,
    Attribute.UNWRAP: False,
    Attribute.DERIVE: False,
}
_PUBLIC_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: False,
    Attribute.VERIFY: True,
    Attribute.ENCRYPT: False,
    Attribute.WRAP: False,
}


class _Hash(NamedTuple):
    """What the token is given for one hash algorithm (cryptography's name, ``sha256``)."""

    digest: Mechanism  # CKM_SHA256: the hash in the PSS parameters
    pkcs1: Mechanism  # CKM_SHA256_RSA_PKCS: the token hashes and signs
    pss: Mechanism  # CKM_SHA256_RSA_PKCS_PSS
    mgf: MGF  # CKG_MGF1_SHA256
    digest_info: bytes  # DER DigestInfo prefix for PKCS#1 v1.5 over a prehashed value


#: The hashes an RSA key on a token signs with; the PKCS#11 names are ``SHA<bits>...`` for each.
#: DigestInfo prefixes: RFC 8017 section 9.2, note 1.
_HASHES: dict[str, _Hash] = {
    f"sha{bits}": _Hash(
        digest=Mechanism[f"SHA{bits}"],
        pkcs1=Mechanism[f"SHA{bits}_RSA_PKCS"],
        pss=Mechanism[f"SHA{bits}_RSA_PKCS_PSS"],
        mgf=MGF[f"SHA{bits}"],
        digest_info=bytes.fromhex(prefix),
    )
    for bits, prefix in (
        (224, "302d300d06096086480165030402040500041c"),
        (256, "3031300d060960864801650304020105000420"),
        (384, "3041300d060960864801650304020205000430"),
        (512, "3051300d060960864801650304020305000440"),
    )
}


def check_key_label(label: str) -> None:
    """Key labels are also file names in the file key store: letters, digits, ``._-``."""
    if not _KEY_LABEL.fullmatch(label):
        raise TokenError(code="key_label_invalid", label=label)


def _pkcs11_failure(algorithm: str, label: str, error: PKCS11Error) -> TokenError:
    return TokenError(
        code="token_failed",
        variant="sign",
        key=label,
        algorithm=algorithm,
        detail=type(error).__name__,
    )


def _not_extractable(label: str, what: str) -> TokenError:
    return TokenError(code="key_not_extractable", key=label, what=what)


# cryptography has no public getter for what a Prehashed, an MGF1 or a PSS padding was made
# with; its own signing code reads these same attributes. They are read here and nowhere else.
def _prehashed_hash(algorithm: Prehashed) -> hashes.HashAlgorithm:
    return algorithm._algorithm


def _mgf1_hash(mgf: asym_padding.MGF1) -> hashes.HashAlgorithm:
    return mgf._algorithm


def _pss_salt(pad: asym_padding.PSS) -> object:
    return pad._salt_length


class _TokenKey[P: (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)]:
    """What a key on a token is, whatever its algorithm: a label, the session that reaches it,
    its public key (read once), signatures made on the token, and nothing that would export
    it."""

    def __init__(self, session: TokenSession, key: SignMixin, public_key: P, label: str) -> None:
        self._session = session
        self._key = key
        self._public_key: P = public_key
        self._label = label

    @property
    def label(self) -> str:
        return self._label

    @property
    def session(self) -> TokenSession:
        return self._session

    def public_key(self) -> P:
        return self._public_key

    def _sign_on_token(
        self, algorithm: str, payload: bytes, mechanism: Mechanism, params: object = None
    ) -> bytes:
        session = self._session
        with session.lock:
            if session.closed:
                raise TokenError(code="session_closed", variant="key", key=self._label)
            try:
                if params is None:
                    return bytes(self._key.sign(payload, mechanism=mechanism))
                return bytes(self._key.sign(payload, mechanism=mechanism, mechanism_param=params))
            except PKCS11Error as e:
                raise _pkcs11_failure(algorithm, self._label, e) from None

    def private_numbers(self) -> NoReturn:
        raise _not_extractable(self._label, "private_numbers")

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        raise _not_extractable(self._label, "private_bytes")

    def __copy__(self) -> Self:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Self:
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._label!r} on {self._session.label!r}>"


class Pkcs11ECPrivateKey(_TokenKey[ec.EllipticCurvePublicKey], ec.EllipticCurvePrivateKey):
    """An EC private key on a token: ECDSA signing through ``CKM_ECDSA``."""

    def __init__(
        self,
        session: TokenSession,
        key: SignMixin,
        public_key: ec.EllipticCurvePublicKey,
        label: str,
    ) -> None:
        super().__init__(session, key, public_key, label)
        self._half = (public_key.curve.key_size + 7) // 8

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public_key.curve

    @property
    def key_size(self) -> int:
        return self._public_key.curve.key_size

    def sign(self, data: Buffer, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        if not isinstance(signature_algorithm, ec.ECDSA):
            raise TokenError(
                code="algorithm_unsupported",
                variant="ec",
                algorithm=type(signature_algorithm).__name__,
            )
        if signature_algorithm.deterministic_signing:
            raise TokenError(code="algorithm_unsupported", variant="deterministic")
        algorithm = signature_algorithm.algorithm
        if isinstance(algorithm, Prehashed):
            digest = bytes(data)
            if len(digest) != algorithm.digest_size:
                raise ValueError("the prehashed digest does not match the hash algorithm's size")
        else:
            hasher = hashes.Hash(algorithm)
            hasher.update(data)
            digest = hasher.finalize()
        raw = self._sign_on_token("ECDSA", digest, Mechanism.ECDSA)
        half = self._half
        return encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        raise TokenError(code="not_supported", variant="exchange", key=self._label)


class Pkcs11RSAPrivateKey(_TokenKey[rsa.RSAPublicKey], rsa.RSAPrivateKey):
    """An RSA private key on a token: PKCS#1 v1.5 and PSS signatures."""

    @property
    def key_size(self) -> int:
        return self._public_key.key_size

    def _mechanism(
        self,
        data: bytes,
        pad: asym_padding.AsymmetricPadding,
        algorithm: Prehashed | hashes.HashAlgorithm | NoDigestInfo,
    ) -> tuple[bytes, Mechanism, tuple[Mechanism, MGF, int] | None]:
        if isinstance(algorithm, NoDigestInfo):
            if not isinstance(pad, asym_padding.PKCS1v15):
                raise ValueError("NoDigestInfo can only be used with PKCS1v15 padding")
            return data, Mechanism.RSA_PKCS, None
        prehashed = isinstance(algorithm, Prehashed)
        hash_algorithm = (
            _prehashed_hash(algorithm) if isinstance(algorithm, Prehashed) else algorithm
        )
        name = hash_algorithm.name
        if name not in _HASHES:
            raise TokenError(code="algorithm_unsupported", variant="rsa_hash", algorithm=name)
        hashed = _HASHES[name]
        if prehashed and len(data) != hash_algorithm.digest_size:
            raise ValueError("the prehashed digest does not match the hash algorithm's size")
        if isinstance(pad, asym_padding.PKCS1v15):
            if prehashed:
                return hashed.digest_info + data, Mechanism.RSA_PKCS, None
            return data, hashed.pkcs1, None
        if isinstance(pad, asym_padding.PSS):
            mgf = pad.mgf
            mgf_name = _mgf1_hash(mgf).name if isinstance(mgf, asym_padding.MGF1) else ""
            if mgf_name not in _HASHES:
                raise TokenError(code="algorithm_unsupported", variant="pss")
            salt = self._salt_length(pad, hash_algorithm)
            params = (hashed.digest, _HASHES[mgf_name].mgf, salt)
            if prehashed:
                return data, Mechanism.RSA_PKCS_PSS, params
            return data, hashed.pss, params
        raise TokenError(code="algorithm_unsupported", variant="rsa_padding", padding=pad.name)

    def _salt_length(self, pad: asym_padding.PSS, hash_algorithm: hashes.HashAlgorithm) -> int:
        salt = _pss_salt(pad)
        if isinstance(salt, int):
            return salt
        if salt is asym_padding.PSS.MAX_LENGTH:
            return asym_padding.calculate_max_pss_salt_length(self, hash_algorithm)
        if salt is asym_padding.PSS.DIGEST_LENGTH:
            return hash_algorithm.digest_size
        raise ValueError("PSS salt length can only be set to AUTO when verifying")

    def sign(
        self,
        data: bytes,
        padding: asym_padding.AsymmetricPadding,
        algorithm: Prehashed | hashes.HashAlgorithm | NoDigestInfo,
    ) -> bytes:
        payload, mechanism, params = self._mechanism(bytes(data), padding, algorithm)
        return self._sign_on_token("RSA", payload, mechanism, params)

    def decrypt(self, ciphertext: bytes, padding: asym_padding.AsymmetricPadding) -> bytes:
        raise TokenError(code="not_supported", key=self._label)


TokenPrivateKey = Pkcs11ECPrivateKey | Pkcs11RSAPrivateKey


def _ec_public_key(params: bytes, point: bytes) -> ec.EllipticCurvePublicKey:
    curve = _CURVES.get(params)
    if curve is None:
        raise TokenError(code="key_curve_unsupported", params=params.hex())
    size = 2 * ((curve.key_size + 7) // 8) + 1
    if len(point) != size:  # CKA_EC_POINT is a DER OCTET STRING, unwrap it
        header = 2 if point[1] < 0x80 else 2 + (point[1] & 0x7F)
        point = point[header:]
    return ec.EllipticCurvePublicKey.from_encoded_point(curve, point)


def _adapter(
    session: TokenSession, label: str, private: Any, public: Any | None
) -> TokenPrivateKey:
    """Build the adapter; caller holds the session lock."""
    key_type = private[Attribute.KEY_TYPE]
    if key_type == KeyType.EC:
        if public is None:
            raise TokenError(code="key_public_missing", key=label)
        attrs = public.get_attributes([Attribute.EC_PARAMS, Attribute.EC_POINT])
        ec_public = _ec_public_key(attrs[Attribute.EC_PARAMS], attrs[Attribute.EC_POINT])
        return Pkcs11ECPrivateKey(session, cast(SignMixin, private), ec_public, label)
    if key_type == KeyType.RSA:
        attrs = private.get_attributes([Attribute.MODULUS, Attribute.PUBLIC_EXPONENT])
        numbers = rsa.RSAPublicNumbers(
            int.from_bytes(attrs[Attribute.PUBLIC_EXPONENT], "big"),
            int.from_bytes(attrs[Attribute.MODULUS], "big"),
        )
        return Pkcs11RSAPrivateKey(session, cast(SignMixin, private), numbers.public_key(), label)
    raise TokenError(code="key_type_unsupported", key=label, key_type=key_type)


def _objects(session: TokenSession, object_class: ObjectClass, label: str) -> list[Any]:
    return list(session.raw.get_objects({Attribute.CLASS: object_class, Attribute.LABEL: label}))


@overload
def generate_keypair(
    session: TokenSession, label: str, key_type: Literal["ec"]
) -> Pkcs11ECPrivateKey: ...
@overload
def generate_keypair(
    session: TokenSession, label: str, key_type: Literal["rsa2048", "rsa3072"]
) -> Pkcs11RSAPrivateKey: ...
@overload
def generate_keypair(session: TokenSession, label: str, key_type: KeySpec) -> TokenPrivateKey: ...
def generate_keypair(session: TokenSession, label: str, key_type: KeySpec) -> TokenPrivateKey:
    """Generate a non-extractable signing key pair ``label`` on the token; return its adapter.

    Conflict if the token already has an object with that label.
    """
    check_key_label(label)
    if key_type not in KEY_SPECS:
        raise TokenError(code="key_type_invalid", known=", ".join(KEY_SPECS), key_type=key_type)
    key_id = secrets.token_bytes(16)
    with session.lock:
        raw = session.raw
        try:
            if list(raw.get_objects({Attribute.LABEL: label})):
                raise Conflict(code="key_exists", token=session.label, key=label)
            common: dict[str, Any] = {
                "label": label,
                "id": key_id,
                "store": True,
                "capabilities": MechanismFlag.SIGN | MechanismFlag.VERIFY,
                "private_template": _PRIVATE_TEMPLATE,
            }
            if key_type == "ec":
                public, private = raw.generate_keypair(
                    KeyType.EC,
                    public_template={**_PUBLIC_TEMPLATE, Attribute.EC_PARAMS: _P256_PARAMS},
                    **common,
                )
            else:
                public, private = raw.generate_keypair(
                    KeyType.RSA,
                    _RSA_BITS[key_type],
                    public_template=_PUBLIC_TEMPLATE,
                    **common,
                )
            return _adapter(session, label, private, public)
        except PKCS11Error as e:
            raise TokenError(
                code="token_failed",
                variant="generate",
                key=label,
                token=session.label,
                detail=type(e).__name__,
            ) from None


def load_private_key(session: TokenSession, label: str) -> TokenPrivateKey:
    """The adapter for the key pair ``label`` on the token (TokenError ``key_not_found``)."""
    with session.lock:
        try:
            private = _objects(session, ObjectClass.PRIVATE_KEY, label)
            if not private:
                raise TokenError(
                    code="key_not_found", variant="label", token=session.label, key=label
                )
            if len(private) > 1:
                raise TokenError(
                    code="key_ambiguous", token=session.label, count=len(private), key=label
                )
            public = _objects(session, ObjectClass.PUBLIC_KEY, label)
            return _adapter(session, label, private[0], public[0] if len(public) == 1 else None)
        except PKCS11Error as e:
            raise TokenError(
                code="token_failed",
                variant="read_key",
                key=label,
                token=session.label,
                detail=type(e).__name__,
            ) from None
