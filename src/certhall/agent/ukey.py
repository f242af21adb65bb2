"""The helper's access to the Ukeys plugged into this computer (PKCS#11, through certhall.tokens).

* :meth:`Ukeys.list_certificates` reads certificates with a public session: no PIN, no login.
  Certificates are public token objects; so are the public halves of key pairs, which is how a
  certificate is known to have its key on the token (same ``CKA_ID``).
* :meth:`Ukeys.login` opens a logged-in session through the Ukey PIN policy
  (:func:`certhall.tokens.pin.user_login`, which counts wrong PINs and locks).
* :meth:`Ukeys.sign_login` signs the :mod:`certhall.agent.protocol` login message with the key
  of a certificate; :meth:`Ukeys.prepare_renewal`, :meth:`Ukeys.install` and
  :meth:`Ukeys.finish_renewal` are the token side of an online renewal.

Every failure is an :class:`AgentError` with a stable ``code`` and a message for the person in
front of the computer (zh-CN): the helper shows them on its PIN page and hands them to the hall
page. A private key never leaves the token, and a PIN is only passed on to the token.

**One PKCS#11 call at a time**: the helper's threads (a request per connection, the PIN page,
the sweeper that probes kept renewal sessions every 2 s) all reach the module at once, and two
calls at once corrupted SoftHSM2's heap (the helper died: SIGSEGV): the tokens layer makes every
call under its one lock (``certhall.tokens.module.binding_lock``, docs/tokens.md).
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pkcs11 import PKCS11Error

from certhall.agent import protocol
from certhall.errors import CerthallError, TokenError
from certhall.pki.keys import same_public_key
from certhall.tokens.admin import list_tokens
from certhall.tokens.errors import (
    PinChangeRequired,
    PinError,
    PinLocked,
    PinPolicyViolation,
    SessionFailed,
    TokenNotFound,
    WrongPin,
)
from certhall.tokens.keys import KeySpec, TokenPrivateKey, generate_keypair, load_private_key
from certhall.tokens.objects import (
    build_csr,
    delete_certificate,
    delete_key_pair,
    key_label_for,
    list_certificates,
    private_key_labels,
    write_certificate,
)
from certhall.tokens.objects import sign as token_sign
from certhall.tokens.pin import change_pin, user_login
from certhall.tokens.session import TokenSession, open_public

#: Label of the key pair an online renewal generates for the certificate with serial ``{}``.
RENEWAL_KEY_LABEL = "renew-{}"

#: PKCS#11 failures that mean the token went away under us.
_REMOVED = (
    "TokenNotPresent",
    "TokenNotRecognised",
    "DeviceRemoved",
    "SessionHandleInvalid",
    "SessionClosed",
    "SlotIDInvalid",
    "DeviceError",
    "ObjectHandleInvalid",
    "KeyHandleInvalid",
)


class AgentError(CerthallError):
    """A refusal or failure the helper reports to the user (zh-CN message, stable code)."""

    code = "agent_error"
    http_status = 409

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        variant: str | None = None,
        http_status: int | None = None,
        tries_left: int | None = None,
    ) -> None:
        super().__init__(message, code=code, variant=variant)
        if http_status is not None:
            self.http_status = http_status
        self.tries_left = tries_left

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {"code": self.code, "message": self.message}
        if self.tries_left is not None:
            data["tries_left"] = self.tries_left
        return data


def no_token() -> AgentError:
    return AgentError(code="no_token")


def token_removed() -> AgentError:
    return AgentError(code="token_removed")


def pin_refused(error: PinError) -> AgentError:
    """The helper's answer to a refused PIN: same code, the catalogue's words, the tries left
    after a wrong PIN (the page shows them)."""
    tries_left = error.tries_left if isinstance(error, WrongPin) else None
    return AgentError(error.message, code=error.code, tries_left=tries_left)


@dataclass(frozen=True)
class UkeyCertificate:
    """A certificate object on a token, as read without logging in."""

    token_label: str
    token_serial: str
    object_label: str
    object_id: bytes
    certificate: x509.Certificate
    der: bytes
    has_key: bool

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.der).hexdigest()

    @property
    def serial(self) -> str:
        return format(self.certificate.serial_number, "x")

    @property
    def is_ca(self) -> bool:
        try:
            bc = self.certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        except x509.ExtensionNotFound:
            return False
        return bc.value.ca

    def as_json(self) -> dict[str, object]:
        cert = self.certificate
        return {
            "id": self.fingerprint,
            "token": {"label": self.token_label, "serial": self.token_serial},
            "label": self.object_label,
            "serial": self.serial,
            "subject": cert.subject.rfc4514_string(),
            "subject_cn": common_name(cert.subject),
            "organization": _attribute(cert.subject, NameOID.ORGANIZATION_NAME),
            "issuer": cert.issuer.rfc4514_string(),
            "issuer_cn": common_name(cert.issuer),
            "not_before": cert.not_valid_before_utc.isoformat(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "has_key": self.has_key,
        }


@dataclass(frozen=True)
class Signed:
    """A signature with what the hall needs to check it (never anything secret)."""

    certificate: UkeyCertificate
    chain: tuple[bytes, ...]
    signature: bytes
    signed_origin: str

    def as_json(self) -> dict[str, object]:
        return {
            "certificate": protocol.b64encode(self.certificate.der),
            "chain": [protocol.b64encode(der) for der in self.chain],
            "signature": protocol.b64encode(self.signature),
            "signed_origin": self.signed_origin,
            "serial": self.certificate.serial,
        }


@dataclass(frozen=True)
class RenewalPrep:
    """The token side of a renewal request: new key (on the token), CSR, old key's signature."""

    old: UkeyCertificate
    key_label: str
    csr_pem: bytes
    new_key_sha256: str
    years: int
    signature: bytes
    signed_origin: str
    #: A certificate for the new key already on the token (a retry after the install step).
    installed: UkeyCertificate | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "old_serial": self.old.serial,
            "old_certificate": protocol.b64encode(self.old.der),
            "csr": self.csr_pem.decode("ascii"),
            "new_key_sha256": self.new_key_sha256,
            "years": self.years,
            "signature": protocol.b64encode(self.signature),
            "signed_origin": self.signed_origin,
            "installed_serial": self.installed.serial if self.installed else None,
        }


@dataclass
class _Listing:
    certificates: list[UkeyCertificate] = field(default_factory=list)
    tokens: list[dict[str, object]] = field(default_factory=list)


def common_name(name: x509.Name) -> str:
    return _attribute(name, NameOID.COMMON_NAME) or name.rfc4514_string()


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str:
    values = name.get_attributes_for_oid(oid)
    return str(values[0].value) if values else ""


def _key_spec(key: TokenPrivateKey) -> KeySpec:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ec"
    return "rsa3072" if key.key_size >= 3072 else "rsa2048"


class Ukeys:
    """The tokens of one PKCS#11 module (and SoftHSM2 configuration) on this computer."""

    def __init__(self, module_path: str, conf: Path | None = None) -> None:
        self.module_path = module_path
        self.conf = conf

    # --- reading, no login --------------------------------------------------------------------

    def _read(self) -> _Listing:
        listing = _Listing()
        try:
            infos = list_tokens(self.module_path, conf=self.conf, with_pin_status=True)
        except TokenError:
            raise AgentError(code="token_failed", variant="read") from None
        for info in infos:
            pin = info.pin
            listing.tokens.append(
                {
                    "label": info.label,
                    "serial": info.serial,
                    "pin_locked": bool(pin and pin.locked),
                    "tries_left": pin.tries_left if pin else None,
                }
            )
            try:
                session = open_public(self.module_path, info.label, conf=self.conf)
            except TokenError:
                continue  # gone (or two tokens with one label) between listing and opening
            try:
                found = list_certificates(session)
            except TokenError:
                continue  # removed while reading: it is simply not there
            finally:
                session.close()
            for cert in found:
                listing.certificates.append(
                    UkeyCertificate(
                        token_label=info.label,
                        token_serial=info.serial,
                        object_label=cert.label,
                        object_id=cert.id,
                        certificate=cert.certificate,
                        der=cert.certificate.public_bytes(serialization.Encoding.DER),
                        has_key=cert.has_private_key,
                    )
                )
        return listing

    def status(self) -> list[dict[str, object]]:
        """The initialised tokens present (label, serial, PIN state)."""
        return self._read().tokens

    def list_certificates(self) -> list[UkeyCertificate]:
        """End-entity certificates on every token present, newest first."""
        certs = [c for c in self._read().certificates if not c.is_ca]
        return sorted(certs, key=lambda c: c.certificate.not_valid_before_utc, reverse=True)

    def chain_for(self, entry: UkeyCertificate) -> tuple[bytes, ...]:
        """CA certificates stored on the same token (sent along to help the hall build a path)."""
        return tuple(
            c.der
            for c in self._read().certificates
            if c.is_ca and c.token_serial == entry.token_serial
        )

    def find(self, fingerprint: str) -> UkeyCertificate:
        listing = self._read()
        for entry in listing.certificates:
            if entry.fingerprint == fingerprint:
                return entry
        if not listing.tokens:
            raise no_token()
        raise AgentError(code="certificate_not_found")

    def present(self, entry: UkeyCertificate) -> bool:
        """Whether ``entry``'s token is still plugged in."""
        try:
            return any(t["serial"] == entry.token_serial for t in self._read().tokens)
        except CerthallError:
            return False

    def reachable(self, entry: UkeyCertificate) -> bool:
        """Whether ``entry``'s token is plugged in and a session on it can be opened."""
        try:
            session = open_public(self.module_path, entry.token_label, conf=self.conf)
        except TokenError:
            return False
        session.close()
        return True

    # --- logged in ------------------------------------------------------------------------------

    def login(self, entry: UkeyCertificate, pin: str) -> TokenSession:
        """A logged-in session on ``entry``'s token, under the Ukey PIN policy."""
        try:
            return user_login(self.module_path, entry.token_label, pin, conf=self.conf)
        except (WrongPin, PinLocked, PinChangeRequired, PinPolicyViolation) as e:
            raise pin_refused(e) from None
        except (TokenNotFound, SessionFailed):
            raise token_removed() from None
        except TokenError as e:
            raise self._failure(entry, e) from None

    def change_pin(self, entry: UkeyCertificate, old_pin: str, new_pin: str) -> None:
        """Change the PIN of ``entry``'s token (the old one counted like a login; the new one
        checked by the PIN policy: length, blanks, guessable)."""
        try:
            change_pin(self.module_path, entry.token_label, old_pin, new_pin, conf=self.conf)
        except PinError as e:
            raise pin_refused(e) from None
        except (TokenNotFound, SessionFailed):
            raise token_removed() from None
        except TokenError as e:
            raise self._failure(entry, e) from None

    def _failure(self, entry: UkeyCertificate, error: Exception) -> AgentError:
        """Name a failure: the token was removed, or it failed (or ``error`` itself)."""
        if type(error).__name__ in _REMOVED or not self.present(entry):
            return token_removed()
        if isinstance(error, AgentError):
            return error
        return AgentError(code="token_failed")

    def _key_label(self, session: TokenSession, entry: UkeyCertificate) -> str:
        """The label of the certificate's key pair (same label by convention, else searched)."""
        wanted = entry.certificate.public_key()
        if entry.object_label in private_key_labels(session):
            key = load_private_key(session, entry.object_label)
            if same_public_key(key.public_key(), wanted):
                return entry.object_label
        try:
            return key_label_for(session, wanted)
        except TokenError as e:
            if e.code == "key_not_found":
                raise AgentError(code="key_not_found") from None
            raise

    def sign_login(
        self, session: TokenSession, entry: UkeyCertificate, origin: str, challenge: str
    ) -> Signed:
        """Sign the login message for ``origin`` and ``challenge`` with the certificate's key."""
        origin = protocol.normalise_origin(origin)
        message = protocol.login_message(origin, challenge)
        try:
            signature = token_sign(session, self._key_label(session, entry), message)
        except (AgentError, TokenError, PKCS11Error) as e:
            raise self._failure(entry, e) from None
        return Signed(entry, self.chain_for(entry), signature, origin)

    # --- renewal --------------------------------------------------------------------------------

    def prepare_renewal(
        self, session: TokenSession, entry: UkeyCertificate, origin: str, years: int
    ) -> RenewalPrep:
        """Generate (or, on a retry, find again) the new key pair; its CSR; the old key's
        signature over the renewal request. The same old certificate always gets the same new
        key, so the hall recognises a retried renewal (idempotent per old serial + new key)."""
        origin = protocol.normalise_origin(origin)
        label = RENEWAL_KEY_LABEL.format(entry.serial)
        try:
            old_label = self._key_label(session, entry)
            old_key = load_private_key(session, old_label)
            if label in private_key_labels(session):
                new_key = load_private_key(session, label)
            else:
                new_key = generate_keypair(session, label, _key_spec(old_key))
            new_hash = protocol.public_key_sha256(new_key.public_key())
            csr = build_csr(session, label)
            message = protocol.renewal_message(origin, entry.serial, new_hash, years)
            signature = token_sign(session, old_label, message)
            installed = self._installed(session, entry, new_key)
        except (AgentError, TokenError, PKCS11Error) as e:
            raise self._failure(entry, e) from None
        return RenewalPrep(
            old=entry,
            key_label=label,
            csr_pem=csr.public_bytes(serialization.Encoding.PEM),
            new_key_sha256=new_hash,
            years=years,
            signature=signature,
            signed_origin=origin,
            installed=installed,
        )

    def _installed(
        self, session: TokenSession, old: UkeyCertificate, key: TokenPrivateKey
    ) -> UkeyCertificate | None:
        """The certificate of the renewal key ``key``, if it is on the token already."""
        for cert in list_certificates(session):
            if same_public_key(cert.certificate.public_key(), key.public_key()):
                der = cert.certificate.public_bytes(serialization.Encoding.DER)
                return UkeyCertificate(
                    token_label=old.token_label,
                    token_serial=old.token_serial,
                    object_label=cert.label,
                    object_id=cert.id,
                    certificate=cert.certificate,
                    der=der,
                    has_key=cert.has_private_key,
                )
        return None

    def install(
        self,
        session: TokenSession,
        old: UkeyCertificate,
        der: bytes,
        chain: tuple[bytes, ...] = (),
    ) -> UkeyCertificate:
        """Write the renewed certificate beside its key (idempotent: already there is fine).

        The certificate must be for the renewal key of ``old`` and carry the same subject.
        """
        try:
            cert = x509.load_der_x509_certificate(der)
            chain_certs = [x509.load_der_x509_certificate(item) for item in chain]
        except ValueError:
            raise AgentError(code="certificate_invalid") from None
        if cert.subject != old.certificate.subject:
            raise AgentError(code="certificate_mismatch", variant="subject")
        label = RENEWAL_KEY_LABEL.format(old.serial)
        try:
            if label not in private_key_labels(session):
                raise AgentError(code="key_not_found", variant="renewal")
            key = load_private_key(session, label)
            if not same_public_key(key.public_key(), cert.public_key()):
                raise AgentError(code="certificate_mismatch")
            current = self._installed(session, old, key)
            if current is None:
                write_certificate(session, label, cert, chain_certs)
            elif current.der != der:
                raise AgentError(code="certificate_mismatch", variant="other_renewal")
            installed = self._installed(session, old, key)
        except (AgentError, TokenError, PKCS11Error) as e:
            raise self._failure(old, e) from None
        if installed is None:
            raise token_removed()
        return installed

    def finish_renewal(self, session: TokenSession, old: UkeyCertificate) -> list[str]:
        """After the hall completed the renewal: remove the old certificate and its key pair.

        Refuses unless the renewed certificate is on the token. Returns the labels removed.
        """
        label = RENEWAL_KEY_LABEL.format(old.serial)
        removed: list[str] = []
        try:
            if label not in private_key_labels(session):
                raise AgentError(code="key_not_found", variant="renewal")
            if self._installed(session, old, load_private_key(session, label)) is None:
                raise AgentError(code="renewal_not_installed")
            with contextlib.suppress(AgentError):
                old_label = self._key_label(session, old)
                delete_key_pair(session, old_label)
                removed.append(old_label)
            for cert in list_certificates(session):
                if cert.certificate.public_bytes(serialization.Encoding.DER) == old.der:
                    delete_certificate(session, cert.label)
                    removed.append(cert.label)
        except (AgentError, TokenError, PKCS11Error) as e:
            raise self._failure(old, e) from None
        return removed
