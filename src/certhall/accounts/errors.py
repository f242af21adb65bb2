"""Refusals of the account services that the shared hierarchy has no class for.

``LoginFailed`` is a ``Forbidden`` whose message never says which part was wrong;
``NotLoggedIn`` is HTTP 401 for API calls without a session.
"""

from __future__ import annotations

from types import MappingProxyType

from certhall.accounts.models import Role, User
from certhall.errors import CerthallError, Forbidden
from certhall.messages import text

#: The one message of a failed password login: unknown account, wrong password, disabled account
#: or an account without a password all read the same, so the page reveals nothing.
PASSWORD_LOGIN_FAILED = text("login_failed")
#: The one message of a failed SMS-code login (unknown phone, wrong, expired or used code).
SMS_LOGIN_FAILED = text("login_failed.sms")


class LoginFailed(Forbidden):
    """One wording per method (``variant="sms"`` for a code), whatever went wrong; ``reason``
    (``unknown_account``, ``wrong_password``, ``code_expired`` ...) is for the audit event only
    (``for_audit``)."""

    code = "login_failed"

    def __init__(self, *, reason: str, variant: str | None = None) -> None:
        super().__init__(variant=variant)
        self.for_audit = MappingProxyType({"reason": reason})


class AccountDisabled(Forbidden):
    """A disabled account (``is_active`` false: disowned by a licence check, or turned off by an
    administrator) refused, with what to do next: an enterprise's account is told to contact
    the CA (联系我们, the service points), a staff account its own administrator. Shown to
    whoever proved the account (its password, its phone's code, its certificate) or holds its
    session, never before: to anyone else a login says only ``login_failed``."""

    code = "account_disabled"

    def __init__(self, *, actor: User) -> None:
        super().__init__(variant="customer" if actor.role == Role.APPLICANT else None)
        self.for_audit = MappingProxyType({"reason": "account_disabled"})


class NotLoggedIn(CerthallError):
    code = "not_authenticated"
    http_status = 401
    exit_code = 6

    def __init__(self, message: str = "请先登录。") -> None:
        super().__init__(message)
