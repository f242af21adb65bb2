"""Logged-in sessions on a token, found by label.

:func:`open_token` returns a :class:`TokenSession`: one read/write PKCS#11 session, logged in as
the user, with a lock that every operation on it takes (a PKCS#11 session must not be used by two
threads at once). Close it, or use it as a context manager; a session that is garbage collected
without being closed is closed then.

PKCS#11 login state belongs to the application and the token, not to a session: the first
session of this process on a token logs in, later ones share that login and the last one to
close logs out. A later :func:`open_token` on a token that is already logged in cannot ask the
token to check the PIN (``C_Login`` answers ``CKR_USER_ALREADY_LOGGED_IN`` without looking at
it), so the PIN is compared with an in-memory HMAC of the PIN that logged in.

SoftHSM2 never locks a PIN (wrong PINs only set ``CKF_USER_PIN_COUNT_LOW``); a retry limit has to
be enforced above this layer.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
import threading
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from pkcs11 import PKCS11Error
from pkcs11.types import Session, Token

from certhall.errors import TokenError
from certhall.tokens import module as _module
from certhall.tokens.module import (
    CKR_OK,
    CKR_PIN_EXPIRED,
    CKR_PIN_INCORRECT,
    CKR_PIN_INVALID,
    CKR_PIN_LEN_RANGE,
    CKR_PIN_LOCKED,
    CKR_USER_ALREADY_LOGGED_IN,
    CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
    CKR_USER_PIN_NOT_INITIALIZED,
    CKU_USER,
    LoginState,
    ModuleBinding,
)

#: PKCS#11 token labels are 32 bytes of UTF-8, blank padded.
MAX_LABEL_BYTES = 32


def check_label(label: str) -> None:
    """TokenError unless ``label`` is a usable token label (1-32 bytes of UTF-8, no padding)."""
    if not label or label != label.strip() or len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        raise TokenError(
            f"token label must be 1 to {MAX_LABEL_BYTES} bytes without leading or trailing "
            f"blanks, not {label!r}",
            code="token_label_invalid",
        )


def session_handle(raw: Session) -> int:
    """The ``CK_SESSION_HANDLE`` of a python-pkcs11 session (not in its type stubs)."""
    return int(cast(Any, raw).handle)


def _pin_mac(key: bytes, pin: str) -> bytes:
    return hmac.new(key, pin.encode("utf-8"), hashlib.sha256).digest()


def _login_error(label: str, rv: int) -> TokenError:
    if rv in (CKR_PIN_INCORRECT, CKR_PIN_INVALID, CKR_PIN_LEN_RANGE):
        return TokenError(f"wrong PIN for token {label!r}", code="wrong_pin")
    if rv == CKR_PIN_LOCKED:
        return TokenError(f"the PIN of token {label!r} is locked", code="pin_locked")
    if rv == CKR_PIN_EXPIRED:
        return TokenError(f"the PIN of token {label!r} has expired", code="pin_expired")
    if rv == CKR_USER_PIN_NOT_INITIALIZED:
        return TokenError(f"token {label!r} has no user PIN yet", code="pin_not_initialised")
    if rv in (CKR_USER_ALREADY_LOGGED_IN, CKR_USER_ANOTHER_ALREADY_LOGGED_IN):
        return TokenError(
            f"token {label!r} is already logged in by code outside certhall.tokens",
            code="token_busy",
        )
    return TokenError(f"login to token {label!r} failed (CKR 0x{rv:x})", code="login_failed")


def _login(binding: ModuleBinding, slot_id: int, label: str, handle: int, pin: str) -> None:
    with _module._lock:
        state = binding.logins.get(slot_id)
        if state is not None:
            if not hmac.compare_digest(_pin_mac(state.verifier_key, pin), state.verifier):
                raise TokenError(f"wrong PIN for token {label!r}", code="wrong_pin")
            state.sessions += 1
            return
        rv = binding.raw.login(handle, CKU_USER, pin)
        if rv == CKR_PIN_EXPIRED:  # logged in, but only C_SetPIN would work: do not stay so
            binding.raw.logout(handle)
        if rv != CKR_OK:
            raise _login_error(label, rv)
        key = secrets.token_bytes(32)
        binding.logins[slot_id] = LoginState(key, _pin_mac(key, pin), sessions=1)


def _close(binding: ModuleBinding, slot_id: int, raw: Session, logged_in: bool = True) -> None:
    """Close one session: log out if it is this process's last on the token, release the module.

    Also the finaliser of a TokenSession, so it must not refer to the TokenSession.
    """
    with _module._lock:
        try:
            state = binding.logins.get(slot_id) if logged_in else None
            if state is not None:
                state.sessions -= 1
                if state.sessions <= 0:
                    del binding.logins[slot_id]
                    binding.raw.logout(session_handle(raw))  # nothing useful to do on failure
            with contextlib.suppress(PKCS11Error):
                raw.close()  # python-pkcs11 only calls C_CloseSession: it did not log in
        finally:
            _module.release(binding)


class TokenSession:
    """A logged-in read/write session on one token. Use :attr:`lock` around every operation."""

    def __init__(
        self,
        binding: ModuleBinding,
        label: str,
        slot_id: int,
        raw: Session,
        *,
        logged_in: bool = True,
    ) -> None:
        self.label = label
        self.module_path = binding.module_path
        self.conf = binding.conf
        #: False for :func:`open_public` sessions (public objects only).
        self.logged_in = logged_in
        self.binding = binding
        self.slot_id = slot_id
        self.lock = threading.RLock()
        self.closed = False
        self._raw = raw
        self._finalizer = weakref.finalize(self, _close, binding, slot_id, raw, logged_in)
        self._finalizer.atexit = False

    @property
    def raw(self) -> Session:
        """The python-pkcs11 session. TokenError once closed."""
        if self.closed:
            raise TokenError(
                f"the session on token {self.label!r} is closed", code="session_closed"
            )
        return self._raw

    def close(self) -> None:
        with self.lock:  # waits for an operation in progress
            if self.closed:
                return
            self.closed = True
        self._finalizer()

    def __enter__(self) -> TokenSession:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<TokenSession {self.label!r} {state}>"


def find_token(binding: ModuleBinding, label: str) -> Token:
    """The one initialised token labelled ``label`` on ``binding`` (caller holds a reservation).

    TokenError ``token_not_found`` / ``token_ambiguous``. Re-initialises an idle binding once
    when the label is not found, to see tokens another process created.
    """
    tokens = binding.tokens(label)
    refreshed = True
    if not tokens:  # perhaps created by another process since the module was initialised
        refreshed = binding.refresh()
        if refreshed:
            tokens = binding.tokens(label)
    if not tokens:
        conf = binding.conf
        where = f" (configuration {conf})" if conf is not None else ""
        hint = (
            ""
            if refreshed
            else "; a token created by another process becomes visible once this process "
            "has no session open on the same module and configuration"
        )
        raise TokenError(f"no token labelled {label!r}{where}{hint}", code="token_not_found")
    if len(tokens) > 1:
        raise TokenError(f"{len(tokens)} tokens are labelled {label!r}", code="token_ambiguous")
    return tokens[0]


def open_raw_session(token: Token, label: str, *, rw: bool = True) -> Session:
    """A new PKCS#11 session on ``token`` (not logged in); TokenError ``session_failed``."""
    try:
        return token.open(rw=rw)
    except PKCS11Error as e:
        raise TokenError(
            f"cannot open a session on token {label!r}: {type(e).__name__}",
            code="session_failed",
        ) from None


def open_token(module_path: str, label: str, pin: str, *, conf: Path | None = None) -> TokenSession:
    """Open a logged-in read/write session on the token labelled ``label``.

    ``conf`` is the module's configuration file (``SOFTHSM2_CONF`` for SoftHSM2); None leaves
    the environment as it is. TokenError with code ``token_not_found``, ``token_ambiguous``,
    ``wrong_pin``, ``pin_locked`` ...; ConfigurationError when the module or configuration file
    does not exist. No session is left open when this fails.

    This is the plain login for the CA's own token: it applies no retry policy. Ukeys are
    opened with :func:`certhall.tokens.pin.user_login`, which counts wrong PINs on the token.
    """
    check_label(label)
    binding = _module.acquire(module_path, conf)
    try:
        token = find_token(binding, label)
        slot_id = int(token.slot.slot_id)
        raw = open_raw_session(token, label)
        try:
            _login(binding, slot_id, label, session_handle(raw), pin)
        except BaseException:
            with contextlib.suppress(PKCS11Error):
                raw.close()
            raise
    except BaseException:
        _module.release(binding)
        raise
    return TokenSession(binding, label, slot_id, raw)


def open_public(module_path: str, label: str, *, conf: Path | None = None) -> TokenSession:
    """A read/write session that is not logged in: it sees and changes public objects only
    (certificates, public keys, data objects). ``logged_in`` is False."""
    check_label(label)
    binding = _module.acquire(module_path, conf)
    try:
        token = find_token(binding, label)
        raw = open_raw_session(token, label)
    except BaseException:
        _module.release(binding)
        raise
    return TokenSession(binding, label, int(token.slot.slot_id), raw, logged_in=False)
