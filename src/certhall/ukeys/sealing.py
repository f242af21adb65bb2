"""SO PIN custody: each Ukey's SO PIN is sealed with a key the CA controls.

AES-256-GCM. The key is derived once per process from the CA key passphrase
(``CERTHALL_CA_KEY_PASSPHRASE``) with scrypt (N=2^15, r=8, p=1) and a fixed, purpose-specific
salt; every sealed PIN has its own random 96-bit nonce, and the token's model and serial are the
associated data, so a sealed PIN copied onto another record does not open. A Ukey being put in
stock has its SO PIN written ahead before it is formatted, when it has a label and no serial yet:
that one is sealed with the label as its context, under a prefix of its own (:func:`seal_ahead`).
Sealed form: ``b"\\x01" + nonce + ciphertext-and-tag``.

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


def _ahead_context(label: str, store: tuple[str, str] = ("", "")) -> bytes:
    """What a written-ahead SO PIN is bound to: the label of a token not formatted yet (its
    model and serial are only known after), and the store it is formatted in when the record
    names one (module, configuration; blank: the instance's). Its own prefix, so a PIN sealed
    ahead never opens as a Ukey's and a Ukey's never as one sealed ahead; labels are unique on a
    store while a write-ahead record is open (``one_open_format_per_label``). The store is bound
    (12-06) so that a record's store edited in the database does not open: recovery unseals
    before it opens the store, and a row never chooses a file to open as a token store."""
    context = f"certhall-ukey-so-pin-ahead|{label}"
    if any(store):  # the instance's store: the context records written before 12-06 have
        context += f"|{store[0]}|{store[1]}"
    return context.encode()


def _seal(passphrase: str, context: bytes, so_pin: str) -> bytes:
    nonce = secrets.token_bytes(12)
    return _VERSION + nonce + AESGCM(_key(passphrase)).encrypt(nonce, so_pin.encode(), context)


def _unseal(
    passphrase: str, context: bytes, sealed: bytes, name: str, variant: str = "passphrase"
) -> str:
    data = bytes(sealed)
    if len(data) < 1 + 12 + 16 or data[:1] != _VERSION:
        raise ConfigurationError(code="so_pin_unavailable", serial=name)
    try:
        plain = AESGCM(_key(passphrase)).decrypt(data[1:13], data[13:], context)
    except InvalidTag:
        raise ConfigurationError(code="so_pin_unavailable", variant=variant, serial=name) from None
    return plain.decode("utf-8")


def seal(passphrase: str, model: str, serial: str, so_pin: str) -> bytes:
    return _seal(passphrase, _context(model, serial), so_pin)


def unseal(passphrase: str, model: str, serial: str, sealed: bytes) -> str:
    """The SO PIN; ConfigurationError when it cannot be opened (other passphrase, or data that
    belongs to another token). The message never includes the PIN."""
    return _unseal(passphrase, _context(model, serial), sealed, serial)


def seal_ahead(
    passphrase: str, label: str, so_pin: str, store: tuple[str, str] = ("", "")
) -> bytes:
    """The SO PIN of the token about to be formatted as ``label`` (in ``store``: the module and
    configuration its record names, blank for the instance's), sealed for its write-ahead record
    (``TokenWrite`` of kind ``format``); resealed with :func:`seal` once recorded."""
    return _seal(passphrase, _ahead_context(label, store), so_pin)


def unseal_ahead(
    passphrase: str, label: str, sealed: bytes, store: tuple[str, str] = ("", "")
) -> str:
    """What :func:`seal_ahead` sealed for ``label`` and ``store``; ConfigurationError as
    :func:`unseal` (variant ``ahead``: the passphrase, or the record's label or store changed)."""
    return _unseal(passphrase, _ahead_context(label, store), sealed, label, "ahead")
