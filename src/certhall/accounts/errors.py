"""Refusals of the account services that the shared hierarchy has no class for.

``LoginFailed`` is a ``Forbidden`` whose message never says which part was wrong;
``NotLoggedIn`` is HTTP 401 for API calls without a session.
"""

from __future__ import annotations

from certhall.errors import CerthallError, Forbidden
from certhall.messages import text

#: The one message of a failed password login: unknown account, wrong password, disabled account
#: or an account without a password all read the same, so the page reveals nothing.
PASSWORD_LOGIN_FAILED = text("login_failed")
#: The one message of a failed SMS-code login (unknown phone, wrong, expired or used code).
SMS_LOGIN_FAILED = text("login_failed.sms")


class LoginFailed(Forbidden):
    code = "login_failed"


class NotLoggedIn(CerthallError):
    code = "not_authenticated"
    http_status = 401
    exit_code = 6

    def __init__(self, message: str = "请先登录。") -> None:
        super().__init__(message)
