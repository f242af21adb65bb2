"""An operator sets an account's password (``certhall accounts set-password``): for a demo
account whose printed password is lost, or a customer who cannot receive the SMS login code.

The password goes through the same checks as registration (``validation.password``: Django's
validators, in Chinese); system actors keep their unusable password; the change is audited
(who, which account; never the password). Changing the hash ends the account's open sessions
(Django checks the session's password hash).
"""

from __future__ import annotations

from django.db import transaction

from certhall.accounts import validation
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import Forbidden, NotFound


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
        with transaction.atomic():
            user.set_password(password)
            user.save(update_fields=["password"])
            audit.record(
                actor,
                "accounts.password.set",
                object_type="user",
                object_id=user.username,
                after={"role": user.role, "via": "cli"},
            )
    return user
