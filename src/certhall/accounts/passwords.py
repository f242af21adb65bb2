"""Passwords: an account changes its own (:func:`change_own`, the page 修改密码); an operator
sets one (``certhall accounts set-password``) for a demo account whose printed password is
lost, or a customer who cannot receive the SMS login code.

The password goes through the same checks as registration (``validation.password``: Django's
validators, in Chinese); system actors keep their unusable password; the change is audited
(who, which account; never the password). Changing the hash ends the account's open sessions
(Django checks the session's password hash).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from certhall import clock, ratelimit
from certhall.accounts import validation
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import Forbidden, InvalidInput, NotFound
from certhall.notify.messages import Kind
from certhall.notify.notifier import notify


def set_password(actor: User, username: str, password: str, again: str) -> User:
    require_role(actor, Role.CA_ADMIN)
    with audit.refusals_recorded(
        actor, "accounts.password.set", object_type="user", object_id=username[:150]
    ):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise NotFound(code="account_not_found", username=username)
        if user.is_system:
            raise Forbidden(code="system_account", username=username)
        validation.password(password, again, user)
        _replace(actor, user, password, "accounts.password.set", {"role": user.role, "via": "cli"})
    return user


def _replace(actor: User, user: User, password: str, action: str, after: dict[str, str]) -> None:
    """The new hash, its audit event (never the password) and the SMS that tells the account's
    phone, in one transaction."""
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.record(actor, action, object_type="user", object_id=user.username, after=after)
        if user.phone:
            moment = clock.now().astimezone(clock.SHANGHAI)
            notify(
                Kind.PASSWORD_CHANGED,
                context={"account": user.username, "time": f"{moment:%Y-%m-%d %H:%M}"},
                phone=user.phone,
                actor=actor,
            )


#: Where a session keeps the moment it was opened by an SMS code (the pages' and the API's):
#: for :data:`SMS_PROOF` after it, the phone is proof enough to set a new password without
#: the old one (the forgotten-password path), once.
SESSION_SMS_LOGIN = "sms_login_at"
SMS_PROOF = timedelta(minutes=15)


def remember_sms_login(session: MutableMapping[str, Any]) -> None:
    session[SESSION_SMS_LOGIN] = clock.now().isoformat()


def phone_proven(session: Mapping[str, Any]) -> bool:
    return str(session.get(SESSION_SMS_LOGIN, "")) > (clock.now() - SMS_PROOF).isoformat()


def proof_used(session: MutableMapping[str, Any]) -> None:
    session.pop(SESSION_SMS_LOGIN, None)


#: Wrong current passwords on the change form, per account: an open session someone else sits
#: at (a shared office computer) must not be a free password oracle.
CHANGE_LIMIT = ratelimit.Limit("password_change_fail", 5, 900, "rate_limited_password_change")


def change_own(
    actor: User,
    new: str,
    again: str,
    *,
    current: str | None,
    phone_proven: bool = False,
    now: datetime | None = None,
) -> User:
    """The account's own password change (修改密码): the current password, or, just after a
    login by SMS code (``phone_proven``: the forgotten-password path), none. Audited, never
    the password; the account's phone is told by SMS (as when an operator sets one). The
    caller keeps its own session (``update_session_auth_hash``); every other session of the
    account ends."""
    with audit.refusals_recorded(
        actor, "accounts.password.change", object_type="user", object_id=actor.username
    ):
        if actor.is_system or not actor.is_authenticated:
            raise Forbidden(code="system_account", username=actor.username)
        if not actor.has_usable_password():
            raise Forbidden(code="password_none")
        if not phone_proven:
            _check_current(actor, current or "", now or clock.now())
        if actor.check_password(new[:4096]):
            raise InvalidInput(code="password_unchanged").naming("password")
        validation.password(new, again, actor)
        via = "sms_code_login" if phone_proven else "current_password"
        _replace(actor, actor, new, "accounts.password.change", {"via": via})
    return actor


def _check_current(actor: User, current: str, now: datetime) -> None:
    if not current:
        raise InvalidInput(code="password_current_missing").naming("current")
    reservation = ratelimit.reserve([(CHANGE_LIMIT, actor.username)], now=now)
    if not actor.check_password(current[:4096]):
        raise InvalidInput(code="password_current_wrong").naming("current")
    ratelimit.release(reservation)
