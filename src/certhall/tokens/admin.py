"""Formatting tokens and listing the tokens of a module, through PKCS#11 itself.

:func:`format_token` is ``C_InitToken`` on an empty slot, then an SO login and ``C_InitPIN`` for
the user PIN, called through the module's function list (ctypes, see
:mod:`certhall.tokens.module`). No PIN is ever on a command line, and it works for any module
that offers an empty slot (SoftHSM2 always keeps one free; a real Ukey is re-formatted in its
own slot by its vendor's tool, which is out of scope).

Token labels must be unique in a store, because tokens are found by label: the check and the
formatting happen under a lock file beside the SoftHSM2 configuration, on a binding initialised
just now (:func:`certhall.tokens.module.acquire_fresh`), so tokens formatted by other processes
are seen.
"""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pkcs11 import PKCS11Error, TokenFlag
from pkcs11.types import Token

from certhall.errors import TokenError
from certhall.pki.identity import refuse_invisible
from certhall.tokens.errors import TokenInitFailed
from certhall.tokens.module import CKR_OK, ModuleBinding, binding_lock, reserved
from certhall.tokens.pin import DEFAULT_MAX_TRIES, PinStatus, read_status, set_user_pin_as_so
from certhall.tokens.session import check_label, check_pin_length, find_token, raw_session

#: How long a token serial can be (CK_TOKEN_INFO.serialNumber is 16 bytes, blank padded).
SERIAL_LENGTH = 16


@dataclass(frozen=True)
class TokenInfo:
    """One initialised token of a module, as ``C_GetTokenInfo`` reports it."""

    label: str
    serial: str
    model: str
    manufacturer: str
    slot_id: int
    flags: int
    pin: PinStatus | None = None

    @property
    def user_pin_set(self) -> bool:
        """Whether the token has a user PIN (``CKF_USER_PIN_INITIALIZED``: ``C_InitPIN`` ran)."""
        return bool(self.flags & TokenFlag.USER_PIN_INITIALIZED)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return str(value).rstrip(" \x00")


def _module_failed(binding: ModuleBinding, error: PKCS11Error) -> TokenError:
    """The module itself failed (listing its slots or tokens)."""
    return TokenError(
        code="token_failed",
        variant="module",
        module=binding.module_path,
        detail=type(error).__name__,
    )


def _initialised(binding: ModuleBinding) -> list[Token]:
    tokens = []
    try:
        for slot in binding.lib.get_slots(token_present=True):
            try:
                token = slot.get_token()
            except PKCS11Error:
                continue
            if token.flags & TokenFlag.TOKEN_INITIALIZED:
                tokens.append(token)
    except PKCS11Error as e:
        raise _module_failed(binding, e) from None
    return tokens


def _info(binding: ModuleBinding, token: Token, with_pin: bool) -> TokenInfo:
    status = None
    if with_pin:
        with (
            contextlib.suppress(TokenError, PKCS11Error),
            raw_session(binding, token, _text(token.label), rw=False) as raw,
        ):
            status = read_status(raw)
    return TokenInfo(
        label=_text(token.label),
        serial=_text(token.serial),
        model=_text(token.model),
        manufacturer=_text(token.manufacturer_id),
        slot_id=int(token.slot.slot_id),
        flags=int(token.flags),
        pin=status,
    )


def list_tokens(
    module_path: str, *, conf: Path | None = None, with_pin_status: bool = False
) -> list[TokenInfo]:
    """The initialised tokens of a module / store, in slot order (a fresh view)."""
    with reserved(module_path, conf, fresh=True) as binding:
        return [_info(binding, t, with_pin_status) for t in _initialised(binding)]


@contextlib.contextmanager
def _store_lock(conf: Path | None) -> Iterator[None]:
    if conf is None:
        yield
        return
    lock_path = conf.with_name(f".{conf.name}.init-lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def check_format(label: str, so_pin: str, pin: str) -> None:
    """What :func:`format_token` refuses before the slot is touched: a label that is no label or
    holds an invisible character (InvalidInput ``text_chars``), a PIN length the token refuses
    (PinLengthInvalid). For a caller that records the label before formatting (the Ukey
    inventory's write-ahead record): it checks first, so nothing refused is ever recorded."""
    check_label(label)
    refuse_invisible(label, "令牌标签")
    check_pin_length(so_pin, so=True)
    check_pin_length(pin)


def format_token(
    module_path: str,
    label: str,
    so_pin: str,
    pin: str,
    *,
    conf: Path | None = None,
    must_change: bool = False,
    max_tries: int = DEFAULT_MAX_TRIES,
    pin_state: bool = True,
) -> TokenInfo:
    """Initialise a new token ``label`` in an empty slot with the SO PIN and the user PIN.

    Also writes the PIN state (counter at ``max_tries``, ``must_change``) unless ``pin_state`` is
    False (tokens that are not Ukeys, like the CA's own token). Returns the new
    token's info (its serial is what the Ukey inventory records). TokenError ``token_exists``
    when the label is taken, ``no_free_slot``; PinLengthInvalid; no PIN appears in a message.
    A label people read (the inventory, ``token list``) holding an invisible character is
    refused before the slot is touched (InvalidInput ``text_chars``, docs/security.md).
    """
    check_format(label, so_pin, pin)
    with (
        _store_lock(conf.resolve() if conf is not None else None),
        reserved(module_path, conf, fresh=True) as binding,
    ):
        tokens = _initialised(binding)
        if any(_text(t.label) == label for t in tokens):
            raise TokenError(code="token_exists", label=label)
        slot_id = _free_slot(binding)
        with binding_lock:
            rv = binding.raw.init_token(slot_id, so_pin, label)
        if rv != CKR_OK:
            raise TokenInitFailed(label=label, ckr=f"0x{rv:x}")
        token = next((t for t in _initialised(binding) if _text(t.label) == label), None)
        if token is None:
            raise TokenInitFailed(label=label, variant="lost")
        with binding_lock, raw_session(binding, token, label, so_pin=so_pin) as raw:
            set_user_pin_as_so(
                raw, pin, must_change=must_change, max_tries=max_tries, write_state=pin_state
            )
        return _info(binding, token.slot.get_token(), with_pin=False)


def _free_slot(binding: ModuleBinding) -> int:
    try:
        for slot in binding.lib.get_slots(token_present=True):
            with contextlib.suppress(PKCS11Error):
                if not slot.get_token().flags & TokenFlag.TOKEN_INITIALIZED:
                    return int(slot.slot_id)
    except PKCS11Error as e:
        raise _module_failed(binding, e) from None
    raise TokenError(code="no_free_slot", module=binding.module_path)


def token_info(
    module_path: str, label: str, *, conf: Path | None = None, with_pin_status: bool = False
) -> TokenInfo:
    """The info of the token labelled ``label`` (TokenNotFound)."""
    check_label(label)
    with reserved(module_path, conf) as binding:
        return _info(binding, find_token(binding, label), with_pin_status)
