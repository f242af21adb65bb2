"""The outcomes of PIN checks (and of finding a token) as exception classes.

Callers catch them by type (``except WrongPin as e: e.tries_left``). Each class keeps the
stable ``code`` the helper's page, the API and the CLI already show; its words come from the
message catalogue (:mod:`certhall.messages.tokens`). A few codes are said in more than one way
(a PIN that is locked, and the wrong PIN that has just locked it): the other wording is catalogued
as ``<code>.<variant>`` and chosen with ``variant=``. No PIN ever goes into a message.
"""

from __future__ import annotations

from typing import Any

from certhall.errors import TokenError


class TokenRefusal(TokenError):
    """A TokenError whose message is the catalogue's text for its code (or ``variant``).

    A subclass names its code in its class statement, ``class WrongPin(PinError,
    code="wrong_pin")``, and declares nothing else unless it differs (PinError's ``tries_left``,
    PinLocked's 0). The words are looked up by :class:`~certhall.errors.CerthallError`, as for
    every error; this class only leaves callers no way to pass their own text or another code.
    """

    def __init_subclass__(cls, *, code: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls.code = code

    def __init__(self, *, variant: str | None = None, **params: Any) -> None:
        super().__init__(variant=variant, **params)


class TokenInitFailed(TokenRefusal, code="token_init_failed"):
    """``C_InitToken`` failed (or the new token cannot be found afterwards)."""


class TokenNotFound(TokenRefusal, code="token_not_found"):
    """No initialised token has the label (perhaps not plugged in)."""


class SessionFailed(TokenRefusal, code="session_failed"):
    """The token did not open a session (pulled out, or failing)."""


class TokenBusy(TokenRefusal, code="token_busy"):
    """The token is logged in in a way that rules this login out; the PIN was not shown to it."""


class PinError(TokenRefusal):
    """A PIN refusal. ``tries_left``: attempts the retry counter still allows (0 when locked,
    None where no counter applies: the CA's own token, a PIN that was never tried)."""

    def __init__(
        self, *, tries_left: int | None = None, variant: str | None = None, **params: Any
    ) -> None:
        self.tries_left = tries_left
        super().__init__(variant=variant, tries_left=tries_left, **params)


class WrongPin(PinError, code="wrong_pin"):
    """The user PIN is wrong (``tries_left`` where certhall's retry counter applies)."""


class PinLocked(PinError, code="pin_locked"):
    """Too many wrong PINs: the right one is refused too until the SO sets a new one."""

    def __init__(self, *, variant: str | None = None, **params: Any) -> None:
        super().__init__(tries_left=0, variant=variant, **params)


class PinChangeRequired(PinError, code="pin_must_change"):
    """The PIN is right, but it was set by the SO and must be changed before use."""


class PinExpired(PinError, code="pin_expired"):
    """The token itself says the PIN must be changed (``CKR_PIN_EXPIRED``)."""


class PinNotInitialised(PinError, code="pin_not_initialised"):
    """The token has no user PIN yet (``CKR_USER_PIN_NOT_INITIALIZED``)."""


class PinPolicyViolation(PinError, code="pin_policy"):
    """A new PIN certhall does not accept; checked before anything is tried."""


class PinLengthInvalid(PinPolicyViolation, code="pin_length"):
    """A PIN of a length the token (SoftHSM2) does not accept."""


class PinRejected(PinError, code="pin_rejected"):
    """The token refused the new PIN."""


class WrongSoPin(PinError, code="wrong_so_pin"):
    """The SO PIN is wrong."""


class SoPinLocked(PinError, code="so_pin_locked"):
    """The SO PIN is locked (``CKR_PIN_LOCKED`` at an SO login)."""
