"""SO PIN custody: each Ukey's SO PIN is sealed with a key the CA controls.

AES-256-GCM. The key is derived once per process from the CA key passphrase
(``CERTHALL_CA_KEY_PASSPHRASE``) with scrypt (N=2^15, r=8, p=1) and a fixed, purpose-specific
salt; every sealed PIN has its own random 96-bit nonce, and the token's model and serial are the
associated data, so a sealed PIN copied onto another record does not open. Sealed form:
``b"\\x01" + nonce + ciphertext-and-tag``.

The SO PIN is never returned by a service, printed, logged, or written to the audit log.
Losing the passphrase loses every SO PIN: the Ukeys keep working, but none can be unlocked
any more (the same recovery as for the CA keys: new media).
"""

from __future__ import annotations

import secrets
import string
import threading

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from certhall.errors import ConfigurationError

_VERSION = b"\x01"
_SALT = b"certhall/ukeys/so-pin-seal/v1"
_ALPHABET = string.ascii_letters + string.digits
SO_PIN_LENGTH = 16

_lock = threading.Lock()
_keys: dict[str, bytes] = {}


def random_so_pin() -> str:
    """16 random letters and digits (about 95 bits); fits every Ukey's SO PIN limits."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(SO_PIN_LENGTH))


def _key(passphrase: str) -> bytes:
    if not passphrase:
        raise ConfigurationError(code="ca_passphrase_empty", variant="seal")
    with _lock:
        key = _keys.get(passphrase)
        if key is None:
            kdf = Scrypt(salt=_SALT, length=32, n=2**15, r=8, p=1)
            key = _keys[passphrase] = kdf.derive(passphrase.encode("utf-8"))
        return key


def _context(model: str, serial: str) -> bytes:
    return f"certhall-ukey-so-pin|{model}|{serial}".encode()


def seal(passphrase: str, model: str, serial: str, so_pin: str) -> bytes:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key(passphrase)).encrypt(
        nonce, so_pin.encode("utf-8"), _context(model, serial)
    )
    return _VERSION + nonce + sealed


def unseal(passphrase: str, model: str, serial: str, sealed: bytes) -> str:
    """The SO PIN; ConfigurationError when it cannot be opened (other passphrase, or data that
    belongs to another token). The message never includes the PIN."""
    data = bytes(sealed)
    if len(data) < 1 + 12 + 16 or data[:1] != _VERSION:
        raise ConfigurationError(code="so_pin_unavailable", serial=serial)
    try:
        plain = AESGCM(_key(passphrase)).decrypt(data[1:13], data[13:], _context(model, serial))
    except InvalidTag:
        raise ConfigurationError(
            code="so_pin_unavailable", variant="passphrase", serial=serial
        ) from None
    return plain.decode("utf-8")
