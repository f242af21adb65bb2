"""Sessions on a token, found by label.

:func:`raw_session` is the one way certhall opens a PKCS#11 session: on a token, optionally
logged in as the user or the SO, and always closed at the end of the ``with`` block, also after a
failed ``C_Login`` (python-pkcs11's own ``Token.open(user_pin=...)`` leaves the session open then,
and a later SO login fails with ``CKR_SESSION_READ_ONLY_EXISTS``).

:func:`open_token` returns a :class:`TokenSession`: one read/write PKCS#11 session, logged in as
the user, with a lock that every operation on it takes: the process's one PKCS#11 lock, since
neither a session nor the module may be called by two threads at once. Close it, or use it as
a context manager; a session that is garbage collected without being closed is closed then.

PKCS#11 login state belongs to the application and the token, not to a session: the first
session of this process on a token logs in, later ones share that login and the last one to
close logs out. A later :func:`open_token` on a token that is already logged in cannot ask the
token to check the PIN (``C_Login`` answers ``CKR_USER_ALREADY_LOGGED_IN`` without looking at
it), so the PIN is compared with an in-memory HMAC of the PIN that logged in
(:class:`~certhall.tokens.module.LoginState`).

SoftHSM2 never locks a PIN (wrong PINs only set ``CKF_USER_PIN_COUNT_LOW``); a retry limit has to
be enforced above this layer.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from pkcs11 import PKCS11Error
from pkcs11.types import Session, Token

from certhall.errors import TokenError
from certhall.tokens.errors import (
    PinExpired,
    PinLengthInvalid,
    PinLocked,
    PinNotInitialised,
    PinRejected,
    SessionFailed,
    SoPinLocked,
    TokenBusy,
    TokenNotFound,
    WrongPin,
    WrongSoPin,
)
from certhall.tokens.module import (
    CKR_OK,
    CKR_PIN_EXPIRED,
    CKR_PIN_INCORRECT,
    CKR_PIN_INVALID,
    CKR_PIN_LEN_RANGE,
    CKR_PIN_LOCKED,
    CKR_SESSION_READ_ONLY_EXISTS,
    CKR_USER_ALREADY_LOGGED_IN,
    CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
    CKR_USER_PIN_NOT_INITIALIZED,
    CKU_SO,
    CKU_USER,
    LoginState,
    ModuleBinding,
    binding_lock,
    release,
    reserve,
    reserved,
)

#: PKCS#11 token labels are 32 bytes of UTF-8, blank padded.
MAX_LABEL_BYTES = 32
#: SoftHSM2's PIN length limits.
MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 255


def check_pin_length(pin: str, *, so: bool = False) -> None:
    """PinLengthInvalid unless SoftHSM2 accepts the length of the user (or SO) PIN (never shows
    it). Checked before a PIN reaches the token: shown to it, an empty or over-long PIN is
    answered like a wrong one (``CKR_PIN_LEN_RANGE``) and costs one of the Ukey's tries."""
    if not MIN_PIN_LENGTH <= len(pin.encode("utf-8")) <= MAX_PIN_LENGTH:
        raise PinLengthInvalid(
            min_length=MIN_PIN_LENGTH, max_length=MAX_PIN_LENGTH, variant="so" if so else None
        )


def check_label(label: str) -> None:
    """TokenError unless ``label`` is a usable token label (1-32 bytes of UTF-8, no padding)."""
    if not label or label != label.strip() or len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        raise TokenError(code="token_label_invalid", label=label, max_bytes=MAX_LABEL_BYTES)


def _login_error(label: str, rv: int) -> TokenError:
    if rv in (CKR_PIN_INCORRECT, CKR_PIN_INVALID, CKR_PIN_LEN_RANGE):
        return WrongPin(label=label, variant="uncounted")
    if rv == CKR_PIN_LOCKED:
        return PinLocked(label=label)
    if rv == CKR_PIN_EXPIRED:
        return PinExpired(label=label)
    if rv == CKR_USER_PIN_NOT_INITIALIZED:
        return PinNotInitialised(label=label)
    if rv in (CKR_USER_ALREADY_LOGGED_IN, CKR_USER_ANOTHER_ALREADY_LOGGED_IN):
        return TokenBusy(label=label)
    return TokenError(code="login_failed", variant="token", token=label, rv=f"{rv:x}")


def _so_login_error(label: str, rv: int) -> TokenError:
    if rv in (CKR_PIN_INCORRECT, CKR_PIN_INVALID, CKR_PIN_LEN_RANGE):
        return WrongSoPin(label=label)
    if rv == CKR_PIN_LOCKED:
        return SoPinLocked(label=label)
    if rv in (
        CKR_USER_ALREADY_LOGGED_IN,
        CKR_USER_ANOTHER_ALREADY_LOGGED_IN,
        CKR_SESSION_READ_ONLY_EXISTS,
    ):
        return TokenBusy(label=label, variant="user_session")
    return TokenError(code="login_failed", variant="so", token=label, rv=f"{rv:x}")


def _new_pin_error(label: str, rv: int, what: str) -> TokenError:
    if rv in (CKR_PIN_INVALID, CKR_PIN_LEN_RANGE):
        return PinRejected(label=label)
    return TokenError(
        code="token_failed", variant="operation", token=label, what=what, detail=f"CKR 0x{rv:x}"
    )


class RawSession:
    """One PKCS#11 session opened by :func:`raw_session`, logged in at most once (user or SO).

    PIN functions go through the module's function list (ctypes, see
    :mod:`certhall.tokens.module`) and raise the outcome classes of
    :mod:`certhall.tokens.errors`; PINs never appear in a message. Take
    :data:`~certhall.tokens.module.binding_lock` around work that must not interleave with
    other logins on the token.
    """

    def __init__(self, binding: ModuleBinding, token: Token, label: str, session: Session) -> None:
        self.binding = binding
        self.token = token
        self.label = label
        self.session = session
        self.slot_id = int(token.slot.slot_id)
        self.handle = int(cast(Any, session).handle)  # CK_SESSION_HANDLE: not in the stubs
        #: ``CKU_USER`` or ``CKU_SO`` once logged in.
        self.user: int | None = None
        self.kept = False

    def login_user(self, pin: str) -> None:
        """Log in as the user, or join this process's login on the token (checking ``pin``)."""
        with binding_lock:
            state = self.binding.logins.get(self.slot_id)
            if state is not None:
                if not state.matches(pin):
                    raise WrongPin(label=self.label, variant="uncounted")
                state.sessions += 1
            else:
                self._login(CKU_USER, pin, _login_error)
                self.binding.logins[self.slot_id] = LoginState(pin)
            self.user = CKU_USER

    def login_so(self, so_pin: str) -> None:
        """Log in as the SO; TokenBusy while this process has a user login on the token."""
        with binding_lock:
            if self.slot_id in self.binding.logins:
                raise _so_login_error(self.label, CKR_USER_ANOTHER_ALREADY_LOGGED_IN)
            self._login(CKU_SO, so_pin, _so_login_error)
            self.user = CKU_SO

    def _login(self, user: int, pin: str, error: Callable[[str, int], TokenError]) -> None:
        rv = self.binding.raw.login(self.handle, user, pin)
        if rv == CKR_PIN_EXPIRED:  # logged in, but only C_SetPIN would work: do not stay so
            self.binding.raw.logout(self.handle)
        if rv != CKR_OK:
            raise error(self.label, rv)

    def set_user_pin(self, old_pin: str, new_pin: str) -> None:
        """``C_SetPIN`` of the user PIN (WrongPin, PinLocked, PinRejected ...)."""
        rv = self.binding.raw.set_pin(self.handle, old_pin, new_pin)
        if rv == CKR_PIN_INCORRECT:
            raise WrongPin(label=self.label, variant="uncounted")
        if rv == CKR_PIN_LOCKED:
            raise PinLocked(label=self.label)
        if rv != CKR_OK:
            raise _new_pin_error(self.label, rv, "修改PIN码")

    def pin_changed(self, new_pin: str) -> None:
        """This process's open sessions on the token answer to ``new_pin`` from now on."""
        with binding_lock:
            state = self.binding.logins.get(self.slot_id)
            if state is not None:
                state.remember(new_pin)

    def init_user_pin(self, new_pin: str) -> None:
        """``C_InitPIN``: set the user PIN (needs an SO login)."""
        rv = self.binding.raw.init_pin(self.handle, new_pin)
        if rv != CKR_OK:
            raise _new_pin_error(self.label, rv, "设置用户PIN码")

    def keep(self) -> None:
        """Leave the session open after the ``with`` block: a :class:`TokenSession` owns it."""
        self.kept = True

    def close(self) -> None:
        """Log out (a user login only when this is the process's last session on the token) and
        close the session. Never raises: there is nothing useful to do when logging out fails."""
        with binding_lock:
            if self.user == CKU_SO:
                self.binding.raw.logout(self.handle)
            elif self.user == CKU_USER:
                state = self.binding.logins.get(self.slot_id)
                if state is not None:
                    state.sessions -= 1
                    if state.sessions <= 0:
                        del self.binding.logins[self.slot_id]
                        self.binding.raw.logout(self.handle)
            self.user = None
            with contextlib.suppress(PKCS11Error):
                self.session.close()  # python-pkcs11 only calls C_CloseSession: it did not log in


@contextlib.contextmanager
def raw_session(
    binding: ModuleBinding,
    token: Token,
    label: str,
    *,
    rw: bool = True,
    user_pin: str | None = None,
    so_pin: str | None = None,
) -> Iterator[RawSession]:
    """A session on ``token`` (caller holds a reservation on ``binding``), logged in as the SO
    with ``so_pin`` or as the user with ``user_pin``, or not logged in; logged out and closed
    when the block ends, however it ends (unless :meth:`RawSession.keep` was called).

    SessionFailed when no session can be opened; login errors as
    :meth:`RawSession.login_user` / :meth:`RawSession.login_so`.
    """
    try:
        session = token.open(rw=rw)
    except PKCS11Error as e:
        raise SessionFailed(label=label, error=type(e).__name__) from None
    raw = RawSession(binding, token, label, session)
    try:
        if so_pin is not None:
            raw.login_so(so_pin)
        elif user_pin is not None:
            raw.login_user(user_pin)
        yield raw
    finally:
        if not raw.kept:
            raw.close()


def _close(raw: RawSession) -> None:
    """The finaliser of a TokenSession (so it must not refer to the TokenSession)."""
    try:
        raw.close()
    finally:
        release(raw.binding)


class TokenSession:
    """A read/write session on one token, logged in unless it came from :func:`open_public`.
    Use :attr:`lock` around every operation."""

    def __init__(self, raw: RawSession) -> None:
        """Take over ``raw`` (and a reservation on its binding) from a :func:`raw_session`."""
        binding = raw.binding
        self.label = raw.label
        self.module_path = binding.module_path
        self.conf = binding.conf
        #: False for :func:`open_public` sessions (public objects only).
        self.logged_in = raw.user == CKU_USER
        #: The process's one PKCS#11 lock (:data:`~certhall.tokens.module.binding_lock`).
        self.lock = binding_lock
        self.closed = False
        self._raw = raw.session
        reserve(binding)
        self._finalizer = weakref.finalize(self, _close, raw)
        self._finalizer.atexit = False
        raw.keep()

    @property
    def raw(self) -> Session:
        """The python-pkcs11 session. TokenError once closed."""
        if self.closed:
            raise TokenError(code="session_closed", label=self.label)
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

    TokenNotFound, TokenError ``token_ambiguous``. Re-initialises an idle binding once when the
    label is not found, to see tokens another process created.
    """
    tokens = binding.tokens(label)
    refreshed = True
    if not tokens:  # perhaps created by another process since the module was initialised
        refreshed = binding.refresh()
        if refreshed:
            tokens = binding.tokens(label)
    if not tokens:
        raise TokenNotFound(
            label=label, conf=str(binding.conf), variant=None if refreshed else "not_refreshed"
        )
    if len(tokens) > 1:
        raise TokenError(code="token_ambiguous", label=label, count=len(tokens))
    return tokens[0]


def open_token(module_path: str, label: str, pin: str, *, conf: Path | None = None) -> TokenSession:
    """Open a logged-in read/write session on the token labelled ``label``.

    ``conf`` is the module's configuration file (``SOFTHSM2_CONF`` for SoftHSM2); None leaves
    the environment as it is. TokenNotFound, WrongPin (without ``tries_left``), PinLocked ...;
    ConfigurationError when the module or configuration file does not exist. No session is left
    open when this fails.

    This is the plain login for the CA's own token: it applies no retry policy. Ukeys are
    opened with :func:`certhall.tokens.pin.user_login`, which counts wrong PINs on the token.
    """
    check_label(label)
    check_pin_length(pin)
    with reserved(module_path, conf) as binding:
        token = find_token(binding, label)
        with raw_session(binding, token, label, user_pin=pin) as raw:
            return TokenSession(raw)


def open_public(module_path: str, label: str, *, conf: Path | None = None) -> TokenSession:
    """A read/write session that is not logged in: it sees and changes public objects only
    (certificates, public keys, data objects). ``logged_in`` is False."""
    check_label(label)
    with reserved(module_path, conf) as binding:
        token = find_token(binding, label)
        with raw_session(binding, token, label) as raw:
            return TokenSession(raw)
