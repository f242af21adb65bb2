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
  organisation name is the proven one, and the registration's accounts are disowned whatever
  name they typed (the name is public: a squatter types it as easily as the enterprise does;
  the certificate proves its holder, not them). The enterprise goes on with certificate login.

A disowned account's phone is told why by SMS (``account_disowned``).

The counter serves no unchecked organisation before the check (``hall.counter``).
"""

from __future__ import annotations

from django.db import transaction

from certhall.accounts import validation
from certhall.accounts.models import EnterpriseAccount, Organization, Role, User
from certhall.accounts.permissions import require_provider, require_role
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.errors import Conflict, NotFound, about
from certhall.notify.messages import Kind, render
from certhall.notify.models import mask_phone
from certhall.notify.services import send_sms

ACTION = "accounts.organization.licence_check"
#: Why a registration was disowned, as its phone is told.
REASONS = {
    "counter": "受理点核对营业执照后确认，该账户登记的单位信息与营业执照不符",
    "certificate": "该单位已通过数字证书登录核验，网上注册账户不再代表该单位",
}


def check_at_counter(
    actor: User,
    organization_id: int,
    *,
    name: str,
    legal_representative: str,
    disown_registration: bool,
) -> Organization:
    """The clerk's check against the business licence in hand, of an organisation still a
    claim (a checked one is changed by the businesses, 变更, not here)."""
    require_role(actor, Role.CLERK, Role.CA_ADMIN)
    require_provider(actor, home_provider().pk)  # the counters of this instance's CA
    # each refusal names the counter form's field (web.refused)
    with about("name"):
        name = validation.org_name(name, "单位名称（与营业执照一致）")
    legal_rep = legal_representative.strip()
    if legal_rep:
        with about("legal_representative"):
            legal_rep = validation.person_name(legal_rep, "法定代表人姓名")
    with transaction.atomic():
        org = Organization.objects.select_for_update().filter(pk=organization_id).first()
        if org is None:
            raise NotFound(code="organization_unknown")
        if not org.licence_unchecked:
            raise Conflict(code="licence_checked_already")
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
    its organisation name wins, and the registration's accounts are disowned."""
    if organization.licence_unchecked:
        _checked(recorder, organization, name, "", True, "certificate")


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
        for phone in accounts.values():
            text = render(Kind.ACCOUNT_DISOWNED, {"uscc": org.uscc, "reason": REASONS[via]})
            send_sms(phone, text.sms, Kind.ACCOUNT_DISOWNED.value, actor=actor)
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
