"""Where the CA's own keys live: encrypted key files or a PKCS#11 token, behind one interface.

Framework-free (no Django imports). Issuance, CRL and OCSP code asks a :class:`KeyStore` for a key
by the reference stored in the database and gets a ``cryptography`` private key object; it does
not know which backend made it.

* ``file``: :class:`FileKeyStore`, encrypted PKCS#8 PEM files (``BestAvailableEncryption``:
  PBES2, PBKDF2-HMAC-SHA256 and AES-256-CBC with cryptography 50), mode 0600, never overwritten.
  References are ``file:<label>.key.pem``, relative to the store directory.
* ``pkcs11``: :class:`Pkcs11KeyStore`, non-extractable keys on a token (SoftHSM2 by default).
  References are RFC 7512 PKCS#11 URIs, ``pkcs11:token=certhall-ca;object=<label>``.

:func:`open_keystore` lays both out under the instance home: key files in ``home/ca/keys``, the
SoftHSM2 token store in ``home/softhsm/tokens`` with ``home/softhsm/softhsm2.conf``. The CA token
is labelled ``certhall-ca`` and its user PIN is the CA key passphrase. Its SO PIN is random and
thrown away when the token is created: nothing can reset the user PIN, and the recovery path for
a lost passphrase is a new token and new CA keys (exactly as for a lost file passphrase).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import threading
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from certhall.errors import ConfigurationError, Conflict, InvalidInput, TokenError
from certhall.tokens import keys as token_keys
from certhall.tokens.errors import TokenNotFound
from certhall.tokens.keys import KEY_SPECS, KeySpec
from certhall.tokens.session import TokenSession, open_token
from certhall.tokens.softhsm import init_token, write_softhsm_conf

CA_TOKEN_LABEL = "certhall-ca"  # noqa: S105 (a token label, not a secret)
FILE_SUFFIX = ".key.pem"

SoftwareKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


class KeyStore(Protocol):
    backend: str

    def generate(self, label: str, key_type: str) -> str:
        """Make a new key ``label``; return the reference to store. Conflict if it exists."""
        ...

    def load(self, ref: str) -> CertificateIssuerPrivateKeyTypes:
        """The key a reference names (loaded once, then cached)."""
        ...

    def close(self) -> None:
        """Release what the store holds (a token session); loaded keys stop working."""
        ...


def _key_spec(key_type: str) -> KeySpec:
    for spec in KEY_SPECS:
        if spec == key_type:
            return spec
    raise InvalidInput(code="key_type_invalid", known=", ".join(KEY_SPECS), key_type=key_type)


def _check_label(label: str) -> None:
    try:
        token_keys.check_key_label(label)
    except TokenError as e:
        raise InvalidInput(code=e.code, **e.params) from None


def generate_software_key(key_type: str) -> SoftwareKey:
    """A new in-memory key: ``ec`` (P-256), ``rsa2048`` or ``rsa3072`` (exponent 65537)."""
    spec = _key_spec(key_type)
    if spec == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(65537, 2048 if spec == "rsa2048" else 3072)


class FileKeyStore:
    """Encrypted PKCS#8 PEM files in one directory."""

    backend = "file"

    def __init__(self, directory: Path, passphrase: str) -> None:
        if not passphrase:
            raise ConfigurationError(code="ca_passphrase_empty")
        self.directory = directory
        self._passphrase = passphrase.encode("utf-8")
        self._keys: dict[str, SoftwareKey] = {}
        self._lock = threading.Lock()

    def _path(self, ref: str) -> Path:
        name = ref.removeprefix("file:")
        label = name.removesuffix(FILE_SUFFIX)
        if not ref.startswith("file:") or not name.endswith(FILE_SUFFIX):
            raise ConfigurationError(code="key_ref_invalid", variant="file", ref=ref)
        try:
            token_keys.check_key_label(label)
        except TokenError:
            raise ConfigurationError(code="key_ref_invalid", variant="file", ref=ref) from None
        return self.directory / name

    def generate(self, label: str, key_type: str) -> str:
        _check_label(label)
        spec = _key_spec(key_type)
        ref = f"file:{label}{FILE_SUFFIX}"
        path = self._path(ref)
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:  # claim the name first: an existing key is never overwritten
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            raise Conflict(code="key_exists", variant="file", name=path.name) from None
        try:
            os.fchmod(fd, 0o600)
            key = generate_software_key(spec)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(self._passphrase),
            )
            with os.fdopen(fd, "wb") as f:
                fd = -1
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            if fd != -1:
                os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise
        with self._lock:
            self._keys[ref] = key
        return ref

    def load(self, ref: str) -> SoftwareKey:
        with self._lock:
            cached = self._keys.get(ref)
        if cached is not None:
            return cached
        path = self._path(ref)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise ConfigurationError(code="key_not_found", variant="file", path=path) from None
        try:
            key = serialization.load_pem_private_key(data, self._passphrase)
        except (ValueError, TypeError):
            raise ConfigurationError(code="wrong_passphrase", name=path.name) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ConfigurationError(
                code="ca_key_file_type", name=path.name, key=type(key).__name__
            )
        with self._lock:
            return self._keys.setdefault(ref, key)

    def close(self) -> None:
        with self._lock:
            self._keys.clear()


def pkcs11_ref(token_label: str, key_label: str) -> str:
    """RFC 7512 URI of a key: ``pkcs11:token=<token>;object=<key>``."""
    return f"pkcs11:token={quote(token_label, safe='')};object={quote(key_label, safe='')}"


def parse_pkcs11_ref(ref: str) -> tuple[str, str]:
    """(token label, key label) of a ``pkcs11:`` reference; ConfigurationError when malformed."""
    if not ref.startswith("pkcs11:"):
        raise ConfigurationError(code="key_ref_invalid", variant="pkcs11", ref=ref)
    parts: dict[str, str] = {}
    for item in ref.removeprefix("pkcs11:").split(";"):
        name, sep, value = item.partition("=")
        if not sep or name in parts:
            raise ConfigurationError(code="key_ref_invalid", ref=ref)
        parts[name] = unquote(value)
    if set(parts) - {"token", "object", "type"} or "token" not in parts or "object" not in parts:
        raise ConfigurationError(code="key_ref_invalid", ref=ref)
    return parts["token"], parts["object"]


class Pkcs11KeyStore:
    """Keys on one PKCS#11 token; one logged-in session, kept until :meth:`close`."""

    backend = "pkcs11"

    def __init__(
        self,
        module: str,
        conf: Path | None,
        token_label: str,
        pin: str,
        so_pin: str | None = None,
    ) -> None:
        self.module = module
        self.conf = conf
        self.token_label = token_label
        self._pin = pin
        self._so_pin = so_pin
        self._session: TokenSession | None = None
        self._keys: dict[str, token_keys.TokenPrivateKey] = {}
        self._lock = threading.Lock()

    def _open(self, create: bool) -> TokenSession:
        """The store's session (caller holds ``_lock``); may create the missing token."""
        if self._session is not None and not self._session.closed:
            return self._session
        try:
            session = open_token(self.module, self.token_label, self._pin, conf=self.conf)
        except TokenNotFound:
            if not create or self.conf is None:
                raise
            # SO PIN: the configured one, else random and never stored (see module docstring).
            so_pin = self._so_pin or secrets.token_urlsafe(24)
            init_token(self.conf, self.token_label, so_pin, self._pin)
            session = open_token(self.module, self.token_label, self._pin, conf=self.conf)
        self._session = session
        return session

    def generate(self, label: str, key_type: str) -> str:
        _check_label(label)
        spec = _key_spec(key_type)
        with self._lock:
            key = token_keys.generate_keypair(self._open(create=True), label, spec)
            ref = pkcs11_ref(self.token_label, label)
            self._keys[ref] = key
        return ref

    def load(self, ref: str) -> token_keys.TokenPrivateKey:
        with self._lock:
            key = self._keys.get(ref)
            if key is not None and not key.session.closed:
                return key
            token_label, key_label = parse_pkcs11_ref(ref)
            if token_label != self.token_label:
                raise ConfigurationError(
                    code="key_ref_invalid",
                    variant="other_token",
                    ref=ref,
                    token=token_label,
                    store_token=self.token_label,
                )
            key = token_keys.load_private_key(self._open(create=False), key_label)
            self._keys[ref] = key
            return key

    def close(self) -> None:
        with self._lock:
            self._keys.clear()
            if self._session is not None:
                self._session.close()
                self._session = None


def _is_softhsm(module: str) -> bool:
    return "softhsm" in os.path.basename(os.path.realpath(module)).lower()


def open_keystore(backend: str, home: Path, passphrase: str, pkcs11_module: str) -> KeyStore:
    """The instance's key store: ``file`` under ``home/ca/keys``, ``pkcs11`` on token certhall-ca.

    For SoftHSM2 the token store is ``home/softhsm/tokens`` (configuration
    ``home/softhsm/softhsm2.conf``) and the token is created on the first ``generate``; any
    other module is used as configured, with a token that must already exist.
    """
    if backend == "file":
        return FileKeyStore(home / "ca" / "keys", passphrase)
    if backend == "pkcs11":
        if not passphrase:
            raise ConfigurationError(code="ca_passphrase_empty", variant="pin")
        conf = None
        if _is_softhsm(pkcs11_module):
            store = home / "softhsm"
            conf = write_softhsm_conf(store / "tokens", conf_path=store / "softhsm2.conf")
        return Pkcs11KeyStore(pkcs11_module, conf, CA_TOKEN_LABEL, pin=passphrase)
    raise ConfigurationError(code="ca_key_backend", backend=backend)
