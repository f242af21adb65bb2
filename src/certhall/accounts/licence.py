"""Who proves an organisation (docs/accounts.md, "Who proves an organisation").

An online registration only *claims* a USCC: anyone may type any enterprise's code and an
invented name, and the first to do so would otherwise hold that enterprise's organisation, seeing
whatever the real enterprise later does at the counter or with its certificate. So an
organisation a registration created stays ``licence_unchecked`` until one of three proofs:

* a clerk at the counter holds its business licence (:func:`check_at_counter`): the name and the
  legal representative as the licence has them, and, if the licence is another enterprise's
  than the one the registration typed, the registration's accounts disowned (deactivated);
* a reviewer approves an online application of it, the licence copy among the documents
  (:func:`checked_by_review`);
* a certificate naming its USCC logs in (:func:`checked_by_certificate`): the certificate's
  organisation name is the proven one; a registration that typed another name is disowned.

The counter serves no unchecked organisation before the check (``hall.counter``).
"""

from __future__ import annotations

import unicodedata

from django.db import transaction

from certhall.accounts import validation
from certhall.accounts.models import EnterpriseAccount, Organization, Role, User
from certhall.accounts.permissions import require_provider, require_role
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.errors import NotFound
from certhall.notify.models import mask_phone

ACTION = "accounts.organization.licence_check"


def check_at_counter(
    actor: User,
    organization_id: int,
    *,
    name: str,
    legal_representative: str,
    disown_registration: bool,
) -> Organization:
    """The clerk's check against the business licence in hand (a checked one may be checked
    again: the licence is the authority on the name)."""
    require_role(actor, Role.CLERK, Role.CA_ADMIN)
    require_provider(actor, home_provider().pk)  # the counters of this instance's CA
    name = validation.org_name(name, "单位名称（与营业执照一致）")
    legal_rep = legal_representative.strip()
    if legal_rep:
        legal_rep = validation.person_name(legal_rep, "法定代表人姓名")
    with transaction.atomic():
        org = Organization.objects.select_for_update().filter(pk=organization_id).first()
        if org is None:
            raise NotFound(code="organization_unknown")
        _checked(
            actor, org, name, legal_rep or org.legal_representative, disown_registration, "counter"
        )
    return org


def checked_by_review(actor: User, organization: Organization) -> None:
    """A reviewer approved an application of ``organization`` against its licence copy (inside
    the approval's transaction)."""
    if organization.licence_unchecked:
        _checked(
            actor,
            organization,
            organization.name,
            organization.legal_representative,
            False,
            "review",
        )


def checked_by_certificate(recorder: User, organization: Organization, name: str) -> None:
    """A certificate naming the organisation's USCC logged in (inside the login's transaction):
    its organisation name wins, and a registration that typed another name is not this
    enterprise's."""
    if organization.licence_unchecked:
        other = _plain(name) != _plain(organization.name)
        legal_rep = organization.legal_representative if not other else ""
        _checked(recorder, organization, name, legal_rep, other, "certificate")


def _plain(name: str) -> str:
    """A name as compared: full-width brackets and spaces are the same name."""
    return "".join(unicodedata.normalize("NFKC", name).split())


def _checked(
    actor: User, org: Organization, name: str, legal_rep: str, disown: bool, via: str
) -> None:
    before = {"name": org.name, "legal_representative": org.legal_representative}
    disowned: list[str] = []
    if disown:
        registered = EnterpriseAccount.objects.filter(organization=org, user__is_active=True)
        accounts = dict(registered.values_list("user_id", "phone"))
        disowned = [mask_phone(phone) for phone in accounts.values()]
        # Inactive, their sessions end at once (the session backend reads is_active).
        User.objects.filter(pk__in=accounts).update(is_active=False)
    org.name, org.legal_representative, org.licence_unchecked = name, legal_rep, False
    org.save(update_fields=["name", "legal_representative", "licence_unchecked"])
    audit.record(
        actor,
        ACTION,
        object_type="organization",
        object_id=org.uscc,
        before=before,
        after={
            "name": name,
            "legal_representative": legal_rep,
            "via": via,
            "disowned_accounts": disowned,
        },
    )
