"""Password and SMS-code login (密码登录 / 短信验证码登录) for every kind of account.

The services decide *who* may log in; the view or API endpoint then opens the Django session
(``django.contrib.auth.login``, which rotates the session key).

* Password login takes the login name (``username``; an enterprise account's is its phone) or
  the registered phone. Unknown account, wrong password, an account without a password
  (certificate-only accounts) and system actors all get the same message
  (:data:`~certhall.accounts.errors.PASSWORD_LOGIN_FAILED`), after the same amount of hashing
  work. A disabled account whose password was right is told so, and whom to ask
  (``AccountDisabled``: the CA for an enterprise, the administrator for staff): the password
  proved the person, who otherwise tried it again and again.
* SMS-code login takes the registered phone and a login code (see ``certhall.accounts.codes``);
  every refusal reads :data:`~certhall.accounts.errors.SMS_LOGIN_FAILED`, but a disabled
  account's once the code proved the phone (``AccountDisabled``, as for a password).
* Attempts are limited per account name (5 failures in 15 minutes) and per client address
  (20 failures in 15 minutes); over the limit even the right password is refused until the
  window has moved on. A successful attempt does not count.

Every failure and every refusal by a limit (the first of its window) is audited, with the
account name (a phone masked) and the client address; never the password or the code.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime

from django.contrib.auth.hashers import make_password
from django.db import transaction

from certhall import clock, ratelimit
from certhall.accounts import codes
from certhall.accounts.errors import LoginFailed
from certhall.accounts.models import EnterpriseAccount, User
from certhall.accounts.permissions import require_active
from certhall.accounts.validation import mobile
from certhall.audit import services as audit
from certhall.errors import InvalidInput
from certhall.notify.models import mask_phone
from certhall.notify.services import normalise_phone

ACCOUNT_LIMIT = ratelimit.Limit("login_fail_account", 5, 900, "rate_limited_login_account")
CLIENT_LIMIT = ratelimit.Limit("login_fail_client", 20, 900, "rate_limited_login_client")
MAX_FIELD = 150


def account_key(identifier: str) -> str:
    """The name a login attempt is counted under: the 11-digit phone when it is one (however it
    was typed), else the login name in lower case."""
    cleaned = "".join((identifier or "").split())[:MAX_FIELD]
    try:
        return normalise_phone(cleaned)
    except InvalidInput:
        return cleaned.lower()


def _phone_digits(key: str) -> bool:
    return len(key) == 11 and key.isascii() and key.isdigit()


def _shown(key: str) -> str:
    return mask_phone(key) if _phone_digits(key) else key


def _find_user(identifier: str, key: str) -> User | None:
    user = User.objects.filter(username="".join(identifier.split())).first()
    if user is None and _phone_digits(key):
        account = EnterpriseAccount.objects.select_related("user").filter(phone=key).first()
        user = account.user if account else None
    return user


def _recorded(key: str, client: str | None, method: str) -> AbstractContextManager[None]:
    """A login attempt's refusals recorded against the account name (a phone masked), with the
    method and the client address: a failure's reason (``LoginFailed.for_audit``), a rate
    limit's first refusal of its window."""
    return audit.refusals_recorded(
        codes.recorder,
        "accounts.login",
        object_type="account",
        object_id=_shown(key),
        refused=audit.Refused(after={"method": method, "client": client}),
    )


def _limits(key: str, client: str | None) -> list[tuple[ratelimit.Limit, str]]:
    return [(ACCOUNT_LIMIT, key), (CLIENT_LIMIT, ratelimit.client_key(client))]


def _limited(key: str, client: str | None, now: datetime) -> ratelimit.Reservation:
    return ratelimit.reserve(_limits(key, client), now=now)


def _failed(method: str, reason: str) -> LoginFailed:
    # One wording per method, whatever the reason (the audit event keeps the reason); about
    # both fields of its form, not saying which was wrong.
    if method == "sms":
        return LoginFailed(reason=reason, variant="sms").naming("phone", "code")
    return LoginFailed(reason=reason).naming("username", "password")


def _succeeded(
    user: User, client: str | None, method: str, reservation: ratelimit.Reservation
) -> User:
    ratelimit.release(reservation)
    audit.record(
        user,
        "accounts.login",
        object_type="user",
        object_id=user.username,
        after={"method": method, "client": client},
    )
    return user


def login_with_password(
    identifier: str, password: str, *, client: str | None, now: datetime | None = None
) -> User:
    now = now or clock.now()
    key = account_key(identifier)
    if not key or not password:
        raise InvalidInput(code="login_incomplete").naming(
            *(name for name, typed in (("username", key), ("password", password)) if not typed)
        )
    with _recorded(key, client, "password"):
        reservation = _limited(key, client, now)
        user = _find_user(identifier, key)
        if user is None:
            make_password(password)  # the same hashing work as for a real account
            raise _failed("password", "unknown_account")
        if not user.check_password(password[:4096]):
            raise _failed("password", "wrong_password")
        if user.is_system:
            raise _failed("password", "system_account")
        require_active(user)  # the password proved it: told it is disabled, and whom to ask
        return _succeeded(user, client, "password", reservation)


def login_with_code(
    phone: str, code: str, *, client: str | None, now: datetime | None = None
) -> User:
    now = now or clock.now()
    number = mobile(phone)
    if not (code or "").strip():
        raise InvalidInput(code="login_incomplete", variant="code").naming("code")
    with _recorded(number, client, "sms"):
        reservation = codes.reserve_guess(
            number, codes.Purpose.LOGIN, _limits(number, client), now=now
        )
        account = EnterpriseAccount.objects.select_related("user").filter(phone=number).first()
        if account is None or account.user.is_system:
            raise _failed("sms", "unknown_account")
        try:
            with transaction.atomic():
                codes.take(number, codes.Purpose.LOGIN, code, now)
        except codes.CodeRefused as refused:
            raise _failed("sms", f"code_{refused.reason}") from None
        require_active(account.user)  # the code proved the phone: told whom to ask
        return _succeeded(account.user, client, "sms", reservation)
