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
from certhall.messages import text


class TokenRefusal(TokenError):
    """A TokenError whose message is the catalogue's text for its code (or ``variant``)."""

    def __init__(self, *, variant: str | None = None, **params: Any) -> None:
        key = f"{self.code}.{variant}" if variant else self.code
        super().__init__(text(key, **params), **params)


class TokenInitFailed(TokenRefusal):
    """``C_InitToken`` failed (or the new token cannot be found afterwards)."""

    code = "token_init_failed"


class TokenNotFound(TokenRefusal):
    """No initialised token has the label (perhaps not plugged in)."""

    code = "token_not_found"


class SessionFailed(TokenRefusal):
    """The token did not open a session (pulled out, or failing)."""

    code = "session_failed"


class TokenBusy(TokenRefusal):
    """The token is logged in in a way that rules this login out; the PIN was not shown to it."""

    code = "token_busy"


class PinError(TokenRefusal):
    """A PIN refusal. ``tries_left``: attempts the retry counter still allows (0 when locked,
    None where no counter applies: the CA's own token, a PIN that was never tried)."""

    def __init__(
        self, *, tries_left: int | None = None, variant: str | None = None, **params: Any
    ) -> None:
        self.tries_left = tries_left
        super().__init__(variant=variant, tries_left=tries_left, **params)


class WrongPin(PinError):
    code = "wrong_pin"


class PinLocked(PinError):
    """Too many wrong PINs: the right one is refused too until the SO sets a new one."""

    code = "pin_locked"

    def __init__(self, *, variant: str | None = None, **params: Any) -> None:
        super().__init__(tries_left=0, variant=variant, **params)


class PinChangeRequired(PinError):
    """The PIN is right, but it was set by the SO and must be changed before use."""

    code = "pin_must_change"


class PinExpired(PinError):
    """The token itself says the PIN must be changed (``CKR_PIN_EXPIRED``)."""

    code = "pin_expired"


class PinNotInitialised(PinError):
    code = "pin_not_initialised"


class PinPolicyViolation(PinError):
    """A new PIN certhall does not accept; checked before anything is tried."""

    code = "pin_policy"


class PinLengthInvalid(PinPolicyViolation):
    """A PIN of a length the token (SoftHSM2) does not accept."""

    code = "pin_length"


class PinRejected(PinError):
    """The token refused the new PIN."""

    code = "pin_rejected"


class WrongSoPin(PinError):
    code = "wrong_so_pin"


class SoPinLocked(PinError):
    code = "so_pin_locked"
