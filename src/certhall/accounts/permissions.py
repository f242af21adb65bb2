"""Object-level permission checks, called by services (views only decide what to show).

Every check raises ``Forbidden`` with a message a person understands; services call them
before touching an object, so the API, the web pages and the CLI are covered alike.
"""

from __future__ import annotations

from collections.abc import Callable

from certhall.accounts.errors import AccountDisabled
from certhall.accounts.models import Role, User
from certhall.errors import Forbidden


def passes(check: Callable[[User], None], actor: User) -> bool:
    """Whether ``actor`` passes ``check`` (a page deciding what to offer; the service checks)."""
    try:
        check(actor)
    except Forbidden:
        return False
    return True


def require_active(actor: User) -> None:
    """A disabled account does nothing (its words say whom to contact: ``AccountDisabled``)."""
    if not actor.is_active:
        raise AccountDisabled(actor=actor)


def require_role(actor: User, *roles: Role) -> None:
    require_active(actor)
    if actor.role not in roles:
        raise Forbidden(code="role_required", roles="、".join(str(r.label) for r in roles))


def require_provider(actor: User, provider_id: int | None) -> None:
    """A CA's staff see only their own CA's objects."""
    if provider_id is None or actor.provider_id != provider_id:
        raise Forbidden(code="other_provider")


def require_organization(actor: User, organization_id: int | None) -> None:
    """An enterprise never sees another enterprise's data."""
    if organization_id is None or actor.organization_id != organization_id:
        raise Forbidden(code="other_organization")


def require_different_person(
    actor: User, by_id: int | None, what: str, *, did: str = "录入"
) -> None:
    """Separation of duties: who entered something does not approve it, who approved it does
    not issue it (``what``: the act, ``did``: what ``by_id`` did, in Chinese: 审核, 录入)."""
    if by_id is not None and by_id == actor.pk:
        raise Forbidden(code="separation_of_duties", what=what, did=did)
