"""Who maintains the portal: counter clerks (受理员, who also answer visitors) and CA
administrators of this instance's CA (the home provider: the portal speaks in its name, and
the visitors' questions are private until answered; another CA's counter staff, who have
accounts here for a refund programme, are no editors). Services call :func:`require_editor`
before every change, and :func:`save_edit` to write an edit of a row with its audit event."""

from __future__ import annotations

from collections.abc import Mapping

from certhall import clock
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_active, require_provider
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.errors import Forbidden
from certhall.portal.models import Entry, Notice, Question

EDITOR_ROLES = frozenset({Role.CLERK, Role.CA_ADMIN})


def is_editor(user: object) -> bool:
    return (
        isinstance(user, User)
        and user.is_active
        and user.role in EDITOR_ROLES
        and user.provider_id == home_provider().pk
    )


def require_editor(actor: User) -> None:
    require_active(actor)
    if actor.role not in EDITOR_ROLES:
        raise Forbidden(code="portal_role_required")
    require_provider(actor, home_provider().pk)  # this instance's CA's staff only


def save_edit(
    actor: User,
    row: Entry | Notice | Question,
    values: Mapping[str, object],
    *,
    action: str,
    object_type: str,
    object_id: object,
) -> None:
    """An editor's change of a row that the caller has locked, inside its transaction:
    ``values`` set, ``updated_at`` now, saved, and audited as ``action`` with the row's
    snapshot before and after."""
    before = row.snapshot()
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = clock.now()
    row.save()
    audit.record(
        actor,
        action,
        object_type=object_type,
        object_id=object_id,
        before=before,
        after=row.snapshot(),
    )
