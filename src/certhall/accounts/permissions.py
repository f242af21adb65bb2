"""Object-level permission checks, called by services (views only decide what to show).

Every check raises ``Forbidden`` with a message a person understands; services call them
before touching an object, so the API, the web pages and the CLI are covered alike.
"""

from __future__ import annotations

from certhall.accounts.models import Role, User
from certhall.errors import Forbidden


def require_role(actor: User, *roles: Role) -> None:
    if not actor.is_active:
        raise Forbidden("该账户已停用 (this account is disabled)")
    if actor.role not in roles:
        wanted = "、".join(str(r.label) for r in roles)
        raise Forbidden(f"此操作需要{wanted}角色 (this action needs the role {wanted})")


def require_provider(actor: User, provider_id: int | None) -> None:
    """A CA's staff see only their own CA's objects."""
    if provider_id is None or actor.provider_id != provider_id:
        raise Forbidden(
            "该信息属于其他电子认证服务机构 "
            "(this object belongs to another certification service provider)"
        )


def require_organization(actor: User, organization_id: int | None) -> None:
    """An enterprise never sees another enterprise's data."""
    if organization_id is None or actor.organization_id != organization_id:
        raise Forbidden("该信息属于其他单位 (this object belongs to another organisation)")


def require_different_person(actor: User, entered_by_id: int | None, what: str) -> None:
    """Separation of duties: who entered something does not approve it."""
    if entered_by_id is not None and entered_by_id == actor.pk:
        raise Forbidden(
            f"职责分离：本人录入的申请须由他人办理 "
            f"(separation of duties: you entered this, someone else must {what} it)"
        )
