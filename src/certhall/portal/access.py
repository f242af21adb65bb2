"""Who maintains the portal: counter clerks (受理员, who also answer visitors) and CA
administrators. Services call :func:`require_editor` before every change."""

from __future__ import annotations

from certhall.accounts.models import Role, User
from certhall.errors import Forbidden

EDITOR_ROLES = frozenset({Role.CLERK, Role.CA_ADMIN})


def is_editor(user: object) -> bool:
    return isinstance(user, User) and user.is_active and user.role in EDITOR_ROLES


def require_editor(actor: User) -> None:
    if not actor.is_active:
        raise Forbidden(code="account_disabled")
    if actor.role not in EDITOR_ROLES:
        raise Forbidden(code="portal_role_required")
