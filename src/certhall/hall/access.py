"""Who may see and do what with an application. Called by every service, before anything else.

* Who sees an application is the platform's one rule (``Application.objects.visible_to``,
  ``certhall.accounts.visibility``): an applicant its own organisation's, CA staff their
  provider's.
* An applicant acts only on its own organisation's **online** applications (counter
  applications are entered and changed by the clerk, though the organisation can read them).
* CA staff act according to their role: clerk (受理员) the counter, reviewer (审核员) the review,
  issuer (制证员) issuance onto Ukeys, CA admin everything a member of staff does. Auditors read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_organization, require_provider, require_role
from certhall.audit import services as audit
from certhall.errors import Forbidden, NotFound, quoted
from certhall.hall.models import NUMBER_LENGTH, Application, Business, Channel
from certhall.reads import Prepared
from certhall.ukeys.services import UNLOCK_ROLES

#: Counter work: open an application for a customer, checklist, counter payment.
COUNTER_ROLES = (Role.CLERK, Role.CA_ADMIN)
REVIEW_ROLES = (Role.REVIEWER, Role.CA_ADMIN)
#: Issuance onto Ukeys: the issuer for online applications, also the clerk at the counter.
ONLINE_ISSUE_ROLES = (Role.ISSUER, Role.CA_ADMIN)
ONSITE_ISSUE_ROLES = (Role.CLERK, Role.ISSUER, Role.CA_ADMIN)
DELIVERY_ROLES = (Role.ISSUER, Role.CLERK, Role.CA_ADMIN)
REFUND_ROLES = (Role.CLERK, Role.CA_ADMIN)


def issue_roles(channel: str, businesses: set[str]) -> tuple[Role, ...]:
    """Who may do the pending lines of an application (制证): the channel's issuers, and for a
    解锁 among them only those who may unlock a Ukey (the issuer may not: the clerk does it)."""
    roles: tuple[Role, ...] = (
        ONSITE_ISSUE_ROLES if channel == Channel.ONSITE else ONLINE_ISSUE_ROLES
    )
    if Business.UNLOCK in businesses:
        roles = tuple(role for role in roles if role in UNLOCK_ROLES)
    return roles


_BY_NUMBER = Prepared(
    lambda number: Application.objects.filter(number=number), related=("organization", "handler")
)


def load(actor: User, number: str, *, lock: bool = False) -> Application:
    """The application ``number`` if ``actor`` may see it (``lock``: SELECT ... FOR UPDATE,
    inside the caller's transaction)."""
    key = str(number).strip().upper()
    missing = NotFound(code="application_not_found", number=quoted(key, NUMBER_LENGTH))
    if len(key) > NUMBER_LENGTH:  # no application's: not looked up, not echoed whole
        raise missing
    if lock:
        query = Application.objects.select_related("organization", "handler")
        application = query.select_for_update(of=("self",)).filter(number=key).first()
    else:  # every page of an application reads it: prepared (certhall.reads)
        application = _BY_NUMBER.first(key)
    if application is None:
        raise missing
    Application.objects.require_visible(actor, application, missing=missing)
    return application


@contextmanager
def locked(actor: User, number: str, action: str, *, editor: bool = False) -> Iterator[Application]:
    """One step on application ``number``: a refusal is audited as ``action``, the application
    is locked in a transaction for the block (``editor``: and ``actor`` may change its data)."""
    with (
        audit.refusals_recorded(actor, action, object_type="application", object_id=number),
        transaction.atomic(),
    ):
        application = load(actor, number, lock=True)
        if editor:
            require_editor(actor, application)
        yield application


def require_staff(actor: User, application: Application, *roles: Role) -> None:
    """Staff in one of ``roles`` of the application's provider."""
    require_role(actor, *roles)
    require_provider(actor, application.provider_id)


def require_editor(actor: User, application: Application) -> None:
    """Who may change an application's data, items and documents: the applicant's own
    organisation for an online application, the counter for an on-site one."""
    if application.channel == Channel.ONLINE:
        require_role(actor, Role.APPLICANT)
        require_organization(actor, application.organization_id)
    else:
        if actor.role == Role.APPLICANT:
            raise Forbidden(code="onsite_application")
        require_staff(actor, application, *COUNTER_ROLES)
