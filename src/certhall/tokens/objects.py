"""Certificates and other objects on a Ukey; signing and CSRs with a token key.

What the certificate helper and the counter need on top of key pairs:

* :func:`write_certificate` stores a certificate as a ``CKO_CERTIFICATE`` next to its key pair:
  same ``CKA_LABEL`` and same ``CKA_ID``, so PKCS#11 tools and browsers pair them. The chain
  (issuing CA, root) goes on as separate certificate objects, once each.
* :func:`list_certificates`, :func:`list_objects` (class, label, id: never a private value),
  :func:`delete_certificate`, :func:`delete_key_pair`.
* :func:`sign` (ECDSA-SHA256, DER ``Ecdsa-Sig-Value``, or RSA PKCS#1 v1.5 SHA-256) and
  :func:`build_csr` (PKCS#10 signed by the token key, placeholder subject: the CA takes the
  subject from the reviewed application, never from the CSR).
* Several key pairs live on one token (renewal makes a new key beside the old one): labels are
  unique (:func:`~certhall.tokens.keys.generate_keypair` refuses a taken one), ``CKA_ID`` is 16
  random bytes, and :func:`new_key_label` picks a fresh label.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, CertificateType, ObjectClass, PKCS11Error

from certhall import clock
from certhall.errors import Conflict, InvalidInput, TokenError
from certhall.tokens.keys import TokenPrivateKey, check_key_label, load_private_key
from certhall.tokens.session import TokenSession

#: Subject of CSRs made on a token: a placeholder, the CA ignores CSR subjects.
CSR_SUBJECT = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "certhall-ukey")])
#: Label prefix of CA certificates written with a chain.
CHAIN_LABEL_PREFIX = "ca-"

_CLASS_NAMES: dict[ObjectClass, str] = {
    ObjectClass.CERTIFICATE: "certificate",
    ObjectClass.PRIVATE_KEY: "private_key",
    ObjectClass.PUBLIC_KEY: "public_key",
    ObjectClass.SECRET_KEY: "secret_key",
    ObjectClass.DATA: "data",
}


@dataclass(frozen=True)
class TokenCertificate:
    """A certificate object on a token."""

    label: str
    id: bytes
    certificate: x509.Certificate
    #: A private key with the same CKA_ID is on the token. In a session that is not logged in
    #: private keys are invisible, and the public key object of the pair stands in for it.
    has_private_key: bool

    @property
    def is_ca(self) -> bool:
        try:
            return bool(
                self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            )
        except x509.ExtensionNotFound:
            return False

    @property
    def serial_hex(self) -> str:
        return format(self.certificate.serial_number, "x")


@dataclass(frozen=True)
class TokenObject:
    """What :func:`list_objects` shows of an object: never a key value."""

    object_class: str
    label: str
    id: bytes


def _failure(session: TokenSession, what: str, error: PKCS11Error) -> TokenError:
    return TokenError(
        code="token_failed",
        variant="operation",
        token=session.label,
        what=what,
        detail=type(error).__name__,
    )


def _attrs(obj: Any, *names: Attribute) -> dict[Attribute, Any]:
    """Attributes of an object; ones the object lacks come back as None."""
    values: dict[Attribute, Any] = {}
    for name in names:
        try:
            values[name] = obj[name]
        except PKCS11Error:
            values[name] = None
    return values


def new_key_label(session: TokenSession, prefix: str = "ukey") -> str:
    """A key label not yet used on the token: ``<prefix>-YYYYMMDD-<8 hex>``."""
    check_key_label(prefix)
    day = clock.now().strftime("%Y%m%d")
    with session.lock:
        for _ in range(10):
            label = f"{prefix}-{day}-{secrets.token_hex(4)}"
            try:
                taken = list(session.raw.get_objects({Attribute.LABEL: label}))
            except PKCS11Error as e:
                raise _failure(session, "查找对象", e) from None
            if not taken:
                return label
    raise Conflict(code="key_exists", variant="no_free_label")


def _key_id(session: TokenSession, key_label: str) -> bytes:
    """CKA_ID of the key pair ``key_label`` (its public key object, visible without login)."""
    for object_class in (ObjectClass.PUBLIC_KEY, ObjectClass.PRIVATE_KEY):
        found = list(
            session.raw.get_objects({Attribute.CLASS: object_class, Attribute.LABEL: key_label})
        )
        if len(found) > 1:
            raise TokenError(
                code="key_ambiguous", token=session.label, count=len(found), key=key_label
            )
        if found:
            return bytes(found[0][Attribute.ID])
    raise TokenError(code="key_not_found", variant="label", token=session.label, key=key_label)


def _certificate_template(
    label: str, key_id: bytes, cert: x509.Certificate
) -> dict[Attribute, Any]:
    """A public token certificate object (certificates are public, like on every Ukey)."""
    return {
        Attribute.CLASS: ObjectClass.CERTIFICATE,
        Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
        Attribute.TOKEN: True,
        Attribute.PRIVATE: False,
        Attribute.LABEL: label,
        Attribute.ID: key_id,
        Attribute.SUBJECT: cert.subject.public_bytes(),
        Attribute.ISSUER: cert.issuer.public_bytes(),
        Attribute.SERIAL_NUMBER: _der_integer(cert.serial_number),
        Attribute.VALUE: cert.public_bytes(serialization.Encoding.DER),
    }


def _der_integer(value: int) -> bytes:
    """DER INTEGER of a non-negative int (CKA_SERIAL_NUMBER holds the DER encoding)."""
    body = value.to_bytes(value.bit_length() // 8 + 1, "big")
    length = len(body)
    if length < 0x80:
        return bytes([0x02, length]) + body
    size = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x02, 0x80 | len(size)]) + size + body


def _spki(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _public_key_of(session: TokenSession, key_label: str) -> bytes:
    """SPKI of the key pair ``key_label`` (from the private key's adapter when logged in)."""
    key = load_private_key(session, key_label)
    return _spki(key.public_key())


def write_certificate(
    session: TokenSession,
    label: str,
    cert: x509.Certificate,
    chain: list[x509.Certificate] | None = None,
) -> None:
    """Store ``cert`` for the key pair ``label`` (same label, same CKA_ID) and the ``chain``.

    InvalidInput when the certificate is not for that key; Conflict ``certificate_exists``
    when the key already has a certificate (renewal uses a new key); TokenError
    ``key_not_found``. Chain certificates already on the token are not written twice.
    The session must be logged in (the key pair is checked against the private key).
    """
    check_key_label(label)
    with session.lock:
        raw = session.raw
        try:
            if _spki(cert.public_key()) != _public_key_of(session, label):
                raise InvalidInput(
                    code="certificate_key_mismatch",
                    serial=format(cert.serial_number, "x"),
                    key=label,
                    token=session.label,
                )
            key_id = _key_id(session, label)
            existing = list(
                raw.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label})
            )
            if existing:
                raise Conflict(code="certificate_exists", key=label, token=session.label)
            on_token = {
                bytes(v)
                for v in (
                    _attrs(o, Attribute.VALUE)[Attribute.VALUE]
                    for o in raw.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})
                )
                if v is not None
            }
            raw.create_object(_certificate_template(label, key_id, cert))
            for ca_cert in chain or []:
                der = ca_cert.public_bytes(serialization.Encoding.DER)
                if der in on_token:
                    continue
                digest = hashlib.sha256(der).hexdigest()[:16]
                try:
                    ski = ca_cert.extensions.get_extension_for_class(
                        x509.SubjectKeyIdentifier
                    ).value.digest
                except x509.ExtensionNotFound:
                    ski = bytes.fromhex(digest)
                raw.create_object(
                    _certificate_template(f"{CHAIN_LABEL_PREFIX}{digest}", ski, ca_cert)
                )
                on_token.add(der)
        except PKCS11Error as e:
            raise _failure(session, f"写入密钥“{label}”的证书", e) from None


def list_certificates(session: TokenSession) -> list[TokenCertificate]:
    """Every X.509 certificate object on the token, end-entity and CA, in token order."""
    with session.lock:
        raw = session.raw
        try:
            key_class = ObjectClass.PRIVATE_KEY if session.logged_in else ObjectClass.PUBLIC_KEY
            key_ids = {
                bytes(i)
                for i in (
                    _attrs(k, Attribute.ID)[Attribute.ID]
                    for k in raw.get_objects({Attribute.CLASS: key_class})
                )
                if i
            }
            found = []
            for obj in raw.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
                attrs = _attrs(obj, Attribute.LABEL, Attribute.ID, Attribute.VALUE)
                if attrs[Attribute.VALUE] is None:
                    continue
                try:
                    cert = x509.load_der_x509_certificate(bytes(attrs[Attribute.VALUE]))
                except ValueError:
                    continue  # not X.509 DER: not ours to show
                key_id = bytes(attrs[Attribute.ID] or b"")
                found.append(
                    TokenCertificate(
                        label=str(attrs[Attribute.LABEL] or ""),
                        id=key_id,
                        certificate=cert,
                        has_private_key=bool(key_id) and key_id in key_ids,
                    )
                )
            return found
        except PKCS11Error as e:
            raise _failure(session, "列出证书", e) from None


def list_objects(session: TokenSession) -> list[TokenObject]:
    """Class, label and CKA_ID of every object the session can see; never a key value."""
    with session.lock:
        try:
            result = []
            for obj in session.raw.get_objects():
                attrs = _attrs(obj, Attribute.CLASS, Attribute.LABEL, Attribute.ID)
                object_class = attrs[Attribute.CLASS]
                result.append(
                    TokenObject(
                        object_class=_CLASS_NAMES.get(object_class, str(object_class)),
                        label=str(attrs[Attribute.LABEL] or ""),
                        id=bytes(attrs[Attribute.ID] or b""),
                    )
                )
            return result
        except PKCS11Error as e:
            raise _failure(session, "列出对象", e) from None


def delete_certificate(session: TokenSession, label: str) -> None:
    """Delete the certificate object(s) labelled ``label`` (the key pair stays).

    TokenError ``certificate_not_found`` when there is none.
    """
    with session.lock:
        try:
            found = list(
                session.raw.get_objects(
                    {Attribute.CLASS: ObjectClass.CERTIFICATE, Attribute.LABEL: label}
                )
            )
            if not found:
                raise TokenError(
                    code="certificate_not_found", variant="label", token=session.label, label=label
                )
            for obj in found:
                obj.destroy()
        except PKCS11Error as e:
            raise _failure(session, f"删除证书“{label}”", e) from None


def delete_key_pair(session: TokenSession, label: str) -> None:
    """Delete the key pair ``label`` and its certificate (after a renewal, say).

    TokenError ``key_not_found``. Needs a logged-in session.
    """
    check_key_label(label)
    with session.lock:
        try:
            found = list(session.raw.get_objects({Attribute.LABEL: label}))
            classes = {_attrs(o, Attribute.CLASS)[Attribute.CLASS] for o in found}
            if ObjectClass.PRIVATE_KEY not in classes:
                raise TokenError(
                    code="key_not_found", variant="label", token=session.label, key=label
                )
            for obj in found:
                if _attrs(obj, Attribute.CLASS)[Attribute.CLASS] in (
                    ObjectClass.PRIVATE_KEY,
                    ObjectClass.PUBLIC_KEY,
                    ObjectClass.CERTIFICATE,
                ):
                    obj.destroy()
        except PKCS11Error as e:
            raise _failure(session, f"删除密钥“{label}”", e) from None


def private_key_labels(session: TokenSession) -> list[str]:
    """Labels of the private keys on the token (needs a logged-in session)."""
    with session.lock:
        try:
            return [
                str(_attrs(k, Attribute.LABEL)[Attribute.LABEL] or "")
                for k in session.raw.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
            ]
        except PKCS11Error as e:
            raise _failure(session, "列出密钥", e) from None


def key_label_for(session: TokenSession, public_key: CertificatePublicKeyTypes) -> str:
    """The label of the key pair whose public key is ``public_key`` (TokenError
    ``key_not_found``): how an imported certificate finds its key."""
    wanted = _spki(public_key)
    for label in private_key_labels(session):
        if label and _public_key_of(session, label) == wanted:
            return label
    raise TokenError(code="key_not_found", variant="certificate", token=session.label)


def _sign_with(key: TokenPrivateKey, data: bytes) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def sign(session: TokenSession, key_label: str, data: bytes) -> bytes:
    """Sign ``data`` with the token key ``key_label``: ECDSA with SHA-256 (DER) for EC keys,
    RSA PKCS#1 v1.5 with SHA-256 for RSA keys."""
    return _sign_with(load_private_key(session, key_label), bytes(data))


def build_csr(session: TokenSession, key_label: str) -> x509.CertificateSigningRequest:
    """A PKCS#10 request for the token key ``key_label``, signed on the token (SHA-256).

    The subject is the placeholder ``CN=certhall-ukey``: the CA takes the subject from the
    reviewed application, the CSR only proves possession of the key.
    """
    key = load_private_key(session, key_label)
    return (
        x509.CertificateSigningRequestBuilder().subject_name(CSR_SUBJECT).sign(key, hashes.SHA256())
    )
