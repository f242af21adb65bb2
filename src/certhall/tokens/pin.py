"""The PIN policy of a Ukey: a retry counter that lives on the token.

A real Ukey counts wrong user PINs in hardware and locks after a few (six here); only the SO
(security officer) can unlock it, by setting a new user PIN. SoftHSM2 never locks (DESIGN.md), so
certhall keeps the counter **on the token**, where it travels with the Ukey from computer to
computer: a public ``CKO_DATA`` object labelled ``certhall-pin-state`` whose value is a small
JSON document (tries left, maximum, locked, must change, a sequence number).

The order of one attempt (:func:`user_login`, :func:`change_pin`):

1. read the state; a locked token is refused, even with the right PIN (PinLocked);
2. **write the decremented counter first**;
3. ask the token to check the PIN (``C_Login`` / ``C_SetPIN``);
4. on success write the counter back to the maximum; on a wrong PIN report the tries left
   (WrongPin) or, at zero, lock (PinLocked). The outcomes are the classes of
   :mod:`certhall.tokens.errors`.

So a token pulled out (or a process killed) between steps 2 and 4 has used up the try.

SoftHSM2 does not let a data object's ``CKA_VALUE`` change after creation, so every write creates
a new state object with the next sequence number and then destroys the older ones. Reading takes
the highest sequence number: a token pulled between the create and the destroy still has a
complete, newest state. Unreadable state objects count as a locked PIN (fail closed); the SO
unlock writes a fresh state.

Where the token reports them, the hardware flags win: ``CKF_USER_PIN_LOCKED`` (locked whatever
the counter says), ``CKF_USER_PIN_FINAL_TRY`` (one try left at most), ``CKF_USER_PIN_COUNT_LOW``
(reported in :class:`PinStatus`), ``CKF_USER_PIN_TO_BE_CHANGED`` (must change).

**What this does not protect against**: the state object is public, so anybody with raw PKCS#11
access to the token can delete or rewrite it and get six fresh tries. For SoftHSM2 (a demo and
test token) that is the limit of a software counter; real Ukeys enforce the limit in hardware,
and the flags above carry it through. docs/tokens.md says the same.
"""

from __future__ import annotations

import itertools
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pkcs11 import Attribute, ObjectClass, PKCS11Error, TokenFlag
from pkcs11.types import Token

from certhall.errors import TokenError
from certhall.tokens.errors import (
    PinChangeRequired,
    PinExpired,
    PinLocked,
    PinPolicyViolation,
    TokenBusy,
    WrongPin,
)
from certhall.tokens.module import binding_lock, reserved
from certhall.tokens.session import (
    RawSession,
    TokenSession,
    check_label,
    check_pin_length,
    find_token,
    raw_session,
)

PIN_STATE_LABEL = "certhall-pin-state"
PIN_STATE_APPLICATION = "certhall"
DEFAULT_MAX_TRIES = 6
#: Length limits certhall applies to the user PINs it sets (SoftHSM2 itself allows 4-255).
MIN_USER_PIN = 6
MAX_USER_PIN = 32
_STATE_VERSION = 1


@dataclass(frozen=True)
class PinStatus:
    """What a token says about its user PIN (software counter and hardware flags combined)."""

    tries_left: int
    max_tries: int
    locked: bool
    must_change: bool
    #: ``CKF_USER_PIN_COUNT_LOW`` from the token: at least one wrong PIN since the last success.
    count_low: bool = False
    #: True when the token has no certhall state object yet (never logged in through certhall).
    fresh: bool = False


@dataclass(frozen=True)
class _State:
    max_tries: int
    tries_left: int
    locked: bool
    must_change: bool
    seq: int = 0

    def encode(self) -> bytes:
        return json.dumps(
            {
                "v": _STATE_VERSION,
                "seq": self.seq,
                "max_tries": self.max_tries,
                "tries_left": self.tries_left,
                "locked": self.locked,
                "must_change": self.must_change,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode("ascii")

    @classmethod
    def decode(cls, data: bytes) -> _State | None:
        try:
            doc = json.loads(data)
            values = (
                doc["v"],
                doc["seq"],
                doc["max_tries"],
                doc["tries_left"],
                doc["locked"],
                doc["must_change"],
            )
        except (ValueError, TypeError, KeyError):
            return None
        version, seq, max_tries, tries_left, locked, must_change = values
        ints_ok = all(type(v) is int for v in (version, seq, max_tries, tries_left))
        if not ints_ok or not isinstance(locked, bool) or not isinstance(must_change, bool):
            return None
        if version != _STATE_VERSION or not 1 <= max_tries <= 100:
            return None
        if not 0 <= tries_left <= max_tries or seq < 0:
            return None
        return cls(max_tries, tries_left, locked, must_change, seq)


def _fresh_state(max_tries: int = DEFAULT_MAX_TRIES, must_change: bool = False) -> _State:
    return _State(max_tries, max_tries, False, must_change)


def _failure(label: str, what: str, error: PKCS11Error) -> TokenError:
    return TokenError(
        code="token_failed",
        variant="operation",
        token=label,
        what=what,
        detail=type(error).__name__,
    )


def _read_state(raw: RawSession) -> tuple[_State | None, list[Any]]:
    """(newest valid state or None when there is none, all state objects).

    Objects that exist but are all unreadable give a locked state (fail closed).
    """
    template = {Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: PIN_STATE_LABEL}
    try:
        objects = list(raw.session.get_objects(template))
        values = [bytes(obj[Attribute.VALUE]) for obj in objects]
    except PKCS11Error as e:
        raise _failure(raw.label, "读取PIN码状态", e) from None
    states = [s for s in (_State.decode(v) for v in values) if s is not None]
    if states:
        return max(states, key=lambda s: s.seq), objects
    if objects:
        return _State(DEFAULT_MAX_TRIES, 0, True, False), objects
    return None, objects


def _write_state(raw: RawSession, state: _State, old: list[Any]) -> _State:
    """Create the new state object, then destroy the ``old`` ones.

    ``state.seq`` is the sequence number of the newest state read; the new object gets the next.
    """
    state = replace(state, seq=state.seq + 1)
    try:
        raw.session.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.MODIFIABLE: True,
                Attribute.LABEL: PIN_STATE_LABEL,
                Attribute.APPLICATION: PIN_STATE_APPLICATION,
                Attribute.VALUE: state.encode(),
            }
        )
        for obj in old:
            obj.destroy()
    except PKCS11Error as e:
        raise _failure(raw.label, "记录PIN码状态", e) from None
    return state


def _store(raw: RawSession, state: _State) -> _State:
    """Write ``state`` (its ``seq`` is ignored) as the token's only state object."""
    newest, old = _read_state(raw)
    return _write_state(raw, replace(state, seq=newest.seq if newest else 0), old)


def _flags(token: Token) -> TokenFlag:
    """Current token flags (C_GetTokenInfo now, not when ``token`` was found)."""
    try:
        return TokenFlag(token.slot.get_token().flags)
    except PKCS11Error:
        return TokenFlag(token.flags)


def _combine(state: _State | None, flags: TokenFlag) -> PinStatus:
    current = state or _fresh_state()
    tries = current.tries_left
    locked = current.locked or tries <= 0 or bool(flags & TokenFlag.USER_PIN_LOCKED)
    if flags & TokenFlag.USER_PIN_FINAL_TRY:
        tries = min(tries, 1)
    return PinStatus(
        tries_left=0 if locked else tries,
        max_tries=current.max_tries,
        locked=locked,
        must_change=current.must_change or bool(flags & TokenFlag.USER_PIN_TO_BE_CHANGED),
        count_low=bool(flags & TokenFlag.USER_PIN_COUNT_LOW),
        fresh=state is None,
    )


def read_status(raw: RawSession) -> PinStatus:
    """The PIN state of the token ``raw`` is a session on, without trying a PIN."""
    with binding_lock:
        state, _ = _read_state(raw)
    return _combine(state, _flags(raw.token))


def is_guessable(pin: str) -> bool:
    """One repeated digit (111111) or a run of consecutive digits either way (123456, 654321):
    the PINs tried first by anyone holding a lost Ukey."""
    if not pin.isdigit() or not pin.isascii():
        return False
    steps = {int(b) - int(a) for a, b in itertools.pairwise(pin)}
    return steps in ({0}, {1}, {-1})


def check_new_pin(pin: str) -> None:
    """PinPolicyViolation unless ``pin`` is 6 to 32 characters without blanks at either end and
    not guessable (:func:`is_guessable`). Every place a PIN is chosen calls it: the helper, the
    staff commands, unlock. Never shows the PIN."""
    if not MIN_USER_PIN <= len(pin) <= MAX_USER_PIN or len(pin.encode("utf-8")) > 255:
        raise PinPolicyViolation(min_length=MIN_USER_PIN, max_length=MAX_USER_PIN)
    if pin != pin.strip():
        raise PinPolicyViolation(variant="blank")
    if is_guessable(pin):
        raise PinPolicyViolation(variant="guessable")


def random_user_pin() -> str:
    """Six random digits, as a Ukey PIN sent by SMS; never a guessable one."""
    while True:
        pin = f"{secrets.randbelow(10**6):06d}"
        if not is_guessable(pin):
            return pin


def _counted(
    raw: RawSession,
    verify: Callable[[], None],
    on_success: Callable[[_State], _State],
) -> _State:
    """One counted PIN attempt; caller holds ``binding_lock``. Returns the state written after
    success. ``verify`` raises WrongPin / PinLocked on refusal."""
    label = raw.label
    state, old = _read_state(raw)
    status = _combine(state, _flags(raw.token))
    current = state or _fresh_state()
    if status.locked:
        if not current.locked:
            _write_state(raw, replace(current, tries_left=0, locked=True), old)
        raise PinLocked(label=label)
    # 1. decrement first: a token pulled out from here on has used the try
    before = current
    current = _write_state(raw, replace(current, tries_left=status.tries_left - 1), old)
    try:
        verify()
    except PinExpired:  # right PIN, but the token wants it changed
        return _store(
            raw, replace(on_success(current), tries_left=current.max_tries, must_change=True)
        )
    except TokenBusy:  # the PIN was never shown to the token: the try is given back
        _store(raw, replace(current, tries_left=before.tries_left))
        raise
    except PinLocked:  # the hardware says so
        _store(raw, replace(current, tries_left=0, locked=True))
        raise PinLocked(label=label) from None
    except WrongPin:
        left = _combine(current, _flags(raw.token)).tries_left
        if left <= 0:
            _store(raw, replace(current, tries_left=0, locked=True))
            raise PinLocked(label=label, variant="now") from None
        if left != current.tries_left:
            _store(raw, replace(current, tries_left=left))
        raise WrongPin(label=label, tries_left=left) from None
    # Anything else (device removed, session lost ...) propagates: the try stays used.
    # 2. success: back to the maximum
    return _store(raw, on_success(replace(current, tries_left=current.max_tries)))


def user_login(
    module_path: str,
    label: str,
    pin: str,
    *,
    conf: Path | None = None,
    allow_must_change: bool = False,
) -> TokenSession:
    """Log in to a Ukey as the user, under the retry policy; return the session.

    WrongPin (with ``tries_left``), PinLocked (the right PIN is refused too until
    :func:`so_reset_pin`), PinChangeRequired when the PIN was set by the SO (unlock, new Ukey)
    and has to be changed with :func:`change_pin` first. The PIN is right in that last case and
    the counter is reset. ``allow_must_change=True`` skips that check, for the staff services
    that set the PIN themselves. TokenNotFound etc. as for
    :func:`~certhall.tokens.session.open_token`. No session is left open on failure.
    PinLengthInvalid, before the token is asked, for a PIN it would refuse by its length.
    """
    check_label(label)
    check_pin_length(pin)
    with reserved(module_path, conf) as binding:
        token = find_token(binding, label)
        with raw_session(binding, token, label) as raw:
            with binding_lock:
                state = _counted(raw, lambda: raw.login_user(pin), lambda s: s)
            must_change = state.must_change or _flags(token) & TokenFlag.USER_PIN_TO_BE_CHANGED
            if must_change and not allow_must_change:
                raise PinChangeRequired(label=label, tries_left=state.tries_left)
            return TokenSession(raw)


def pin_status(module_path: str, label: str, *, conf: Path | None = None) -> PinStatus:
    """The token's PIN state, without trying a PIN."""
    check_label(label)
    with reserved(module_path, conf) as binding:
        token = find_token(binding, label)
        with raw_session(binding, token, label) as raw:
            return read_status(raw)


def change_pin(
    module_path: str, label: str, old_pin: str, new_pin: str, *, conf: Path | None = None
) -> None:
    """Change the user PIN (``C_SetPIN``), counting the old PIN like a login.

    Clears "must change". PinPolicyViolation when the new PIN is not acceptable (checked before
    anything is tried), otherwise as :func:`user_login`.
    """
    check_label(label)
    check_pin_length(old_pin)
    check_new_pin(new_pin)
    if new_pin == old_pin:
        raise PinPolicyViolation(variant="same")
    with reserved(module_path, conf) as binding:
        token = find_token(binding, label)
        with raw_session(binding, token, label) as raw, binding_lock:
            _counted(
                raw,
                lambda: raw.set_user_pin(old_pin, new_pin),
                lambda s: replace(s, must_change=False),
            )
            raw.pin_changed(new_pin)


def set_user_pin_as_so(
    raw: RawSession,
    new_pin: str,
    *,
    must_change: bool,
    max_tries: int | None = None,
    write_state: bool = True,
) -> None:
    """``C_InitPIN`` in an SO session, then a fresh PIN state (counter at the maximum)."""
    raw.init_user_pin(new_pin)
    if not write_state:
        return
    state, _ = _read_state(raw)
    limit = max_tries or (state.max_tries if state is not None else DEFAULT_MAX_TRIES)
    _store(raw, _fresh_state(limit, must_change))


def so_reset_pin(
    module_path: str,
    label: str,
    so_pin: str,
    new_pin: str,
    *,
    conf: Path | None = None,
    must_change: bool = True,
    max_tries: int | None = None,
) -> None:
    """Unlock: log in as SO, set a new user PIN (``C_InitPIN``), reset the counter and mark the
    PIN "must change" (unless ``must_change=False``).

    WrongSoPin, TokenBusy (this process has a user session open on the token: the SO cannot log
    in beside it), PinPolicyViolation. Neither PIN ever appears in a message.
    """
    check_label(label)
    check_pin_length(so_pin, so=True)
    check_new_pin(new_pin)
    if max_tries is not None and not 1 <= max_tries <= 100:
        raise PinPolicyViolation(variant="max_tries")
    with reserved(module_path, conf) as binding:
        token = find_token(binding, label)
        with binding_lock, raw_session(binding, token, label, so_pin=so_pin) as raw:
            set_user_pin_as_so(raw, new_pin, must_change=must_change, max_tries=max_tries)


def check_so_pin(module_path: str, label: str, so_pin: str, *, conf: Path | None = None) -> None:
    """Whether ``so_pin`` opens the token ``label`` as SO: an SO login and nothing else (the user
    PIN and its state are left as they are). WrongSoPin, SoPinLocked, TokenNotFound."""
    check_label(label)
    check_pin_length(so_pin, so=True)
    with reserved(module_path, conf) as binding:
        token = find_token(binding, label)
        with binding_lock, raw_session(binding, token, label, so_pin=so_pin):
            pass
