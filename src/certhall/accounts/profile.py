"""What an account may see of itself: its organisation and the organisation's handlers.

An applicant sees only its own organisation (``require_organization``); this instance's CA's
staff may look up the handlers of any organisation (the counter needs them), another CA's may
not. ID numbers are shown masked in
every listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from django.db import transaction

from certhall.accounts import validation
from certhall.accounts.models import (
    PROVIDER_ROLES,
    EnterpriseAccount,
    Handler,
    Organization,
    Role,
    User,
)
from certhall.accounts.permissions import (
    require_active,
    require_organization,
    require_provider,
    require_role,
)
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.errors import Forbidden, NotFound, about, bounded
from certhall.notify.notifier import mask_email

STAFF_ROLES = tuple(sorted(PROVIDER_ROLES))
EMAIL_LENGTH = User._meta.get_field("email").max_length or 254


@dataclass(frozen=True)
class Profile:
    user: User
    organization: Organization | None
    account: EnterpriseAccount | None
    handlers: list[Handler]


def mask_id_number(number: str) -> str:
    """``4403**********123X``: the first and last four characters."""
    if len(number) <= 8:
        return number[:2] + "*" * max(0, len(number) - 2)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def _active(actor: User) -> None:
    require_active(actor)
    if actor.is_system:
        raise Forbidden(code="account_disabled")


def _own_organization(
    actor: User, organization_id: int | None, variant: Literal["view", "handler"]
) -> int | None:
    """An applicant acts for its own organisation (the default when none is named); another
    one is refused with the ``other_organization`` wording ``variant``."""
    organization_id = organization_id or actor.organization_id
    try:
        require_organization(actor, organization_id)
    except Forbidden:
        raise Forbidden(code="other_organization", variant=variant) from None
    return organization_id


def profile(actor: User) -> Profile:
    _active(actor)
    org = actor.organization if actor.role == Role.APPLICANT else None
    account = EnterpriseAccount.objects.filter(user=actor).first()
    handlers = list_handlers(actor, org.pk) if org is not None else []
    return Profile(actor, org, account, handlers)


def set_email(actor: User, address: str) -> User:
    """The account's email address (empty: none), where notices are mailed (review results,
    invoices, renewal reminders; never a PIN or a code). Audited, the addresses masked."""
    _active(actor)
    with audit.refusals_recorded(actor, "accounts.email.set", object_type="user"):
        with about("email"):
            cleaned = bounded(validation.email(address), EMAIL_LENGTH, "电子邮箱")
        before = actor.email
        with transaction.atomic():
            actor.email = cleaned
            actor.save(update_fields=["email"])
            audit.record(
                actor,
                "accounts.email.set",
                object_type="user",
                object_id=actor.username,
                before={"email": mask_email(before) if before else ""},
                after={"email": mask_email(cleaned) if cleaned else ""},
            )
    return actor


def list_handlers(actor: User, organization_id: int | None = None) -> list[Handler]:
    """The handlers of an organisation: an applicant's own (the default), or for CA staff the
    one named."""
    _active(actor)
    if actor.role == Role.APPLICANT:
        organization_id = _own_organization(actor, organization_id, "view")
    else:
        require_role(actor, *STAFF_ROLES)
        require_provider(actor, home_provider().pk)  # this instance's CA's staff
        if not Organization.objects.filter(pk=organization_id or 0).exists():
            raise NotFound(code="organization_unknown")
    if organization_id is None:  # pragma: no cover - require_organization refused it
        raise NotFound(code="organization_missing")
    return list(
        Handler.objects.filter(organization_id=organization_id).order_by("created_at", "pk")
    )


def add_handler(
    actor: User, organization_id: int | None, *, name: str, id_kind: str, id_number: str, phone: str
) -> Handler:
    """Register a handler (经办人) through ``accounts.services.add_handler``, with the
    refusals from the catalogue. An applicant adds to its own organisation only."""
    from certhall.accounts import services

    _active(actor)
    if actor.role == Role.APPLICANT:
        organization_id = _own_organization(actor, organization_id, "handler")
    if organization_id is None:
        raise NotFound(code="organization_missing")
    return services.add_handler(
        actor, organization_id, name=name, id_kind=id_kind, id_number=id_number, phone=phone
    )
