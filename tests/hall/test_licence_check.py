"""Who proves an organisation (accounts.licence): an organisation an online registration created
is a claim until its business licence is seen. The counter serves it only after the clerk's
check, which may correct the name and disown a registration that was another enterprise's; a
reviewer's approval and a certificate naming the USCC are proofs too. Every check is audited."""

from __future__ import annotations

import pytest
from django.test import Client

from certhall.accounts import licence
from certhall.accounts.models import EnterpriseAccount, Handler, Organization, Role, User
from certhall.audit.models import AuditEvent
from certhall.clock import now
from certhall.errors import Conflict, Forbidden, InvalidInput
from certhall.hall import counter, review, services
from certhall.hall.models import Application
from certhall.notify.models import SmsMessage
from tests.hall.conftest import FRIDAY, at, online_draft, pay_online
from tests.support.refused import marked

pytestmark = pytest.mark.django_db

REAL_NAME = "深圳市真实医疗科技有限公司"


@pytest.fixture
def claimed(organization: Organization, make_user) -> User:  # type: ignore[no-untyped-def]
    """The organisation as a registration leaves it: a claim, with its password account."""
    organization.licence_unchecked = True
    organization.save(update_fields=["licence_unchecked"])
    user = make_user(Role.APPLICANT)
    EnterpriseAccount.objects.create(  # the phone a registration logs in with
        user=user, organization=organization, phone="13800138000", registered_at=now()
    )
    return user


def _open(clerk: User, organization: Organization, handler: Handler) -> Application:
    return counter.open_application(
        clerk,
        point="kejiyuan",
        customer=counter.Customer(uscc=organization.uscc),
        handler_id=handler.pk,
    )


def _checks(organization: Organization) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=licence.ACTION, object_id=organization.uscc).order_by(
            "seq"
        )
    )


def test_the_counter_serves_a_claimed_organisation_only_after_the_licence_check(
    clerk: User, claimed: User, organization: Organization, handler: Handler
) -> None:
    with pytest.raises(Conflict) as refused, at(FRIDAY):
        _open(clerk, organization, handler)
    assert refused.value.code == "licence_unchecked"
    assert organization.name in refused.value.message
    assert not Application.objects.exists()

    licence.check_at_counter(
        clerk,
        organization.pk,
        name=organization.name,
        legal_representative="",
        disown_registration=False,
    )
    organization.refresh_from_db()
    assert not organization.licence_unchecked
    claimed.refresh_from_db()
    assert claimed.is_active  # the same enterprise: its account stays
    assert not SmsMessage.objects.filter(kind="account_disowned").exists()
    with at(FRIDAY):
        assert _open(clerk, organization, handler).organization == organization
    with pytest.raises(Conflict) as again:  # a checked one changes by the businesses (变更)
        licence.check_at_counter(
            clerk,
            organization.pk,
            name="别的名字",
            legal_representative="",
            disown_registration=True,
        )
    assert again.value.code == "licence_checked_already"
    assert Organization.objects.get(pk=organization.pk).name != "别的名字"
    [event] = _checks(organization)
    assert event.after["via"] == "counter" and event.after["disowned_accounts"] == []


def test_a_licence_of_another_enterprise_renames_and_disowns_the_registration(
    clerk: User, claimed: User, organization: Organization
) -> None:
    squatter = Client()
    squatter.force_login(claimed)
    assert squatter.get("/hall/").status_code == 200
    typed = organization.name

    licence.check_at_counter(
        clerk,
        organization.pk,
        name=REAL_NAME,
        legal_representative="王真",
        disown_registration=True,
    )
    organization.refresh_from_db()
    assert (organization.name, organization.legal_representative) == (REAL_NAME, "王真")
    claimed.refresh_from_db()
    assert not claimed.is_active
    assert squatter.get("/hall/").status_code == 302  # its session ended at once
    [event] = _checks(organization)
    assert event.before["name"] == typed and event.after["name"] == REAL_NAME
    assert event.after["disowned_accounts"] == ["138****8000"]
    [sms] = SmsMessage.objects.filter(phone="13800138000", kind="account_disowned")
    assert "与营业执照不符" in sms.text


@pytest.mark.parametrize(
    ("role", "error"), [(Role.APPLICANT, Forbidden), (Role.REVIEWER, Forbidden)]
)
def test_only_the_counter_checks_a_licence(
    make_user,
    claimed: User,
    organization: Organization,
    role: str,
    error: type,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(error):
        licence.check_at_counter(
            make_user(role),
            organization.pk,
            name=REAL_NAME,
            legal_representative="",
            disown_registration=True,
        )
    organization.refresh_from_db()
    assert organization.licence_unchecked and organization.name != REAL_NAME
    assert User.objects.get(pk=claimed.pk).is_active and not _checks(organization)


def test_a_bad_name_changes_nothing(clerk: User, claimed: User, organization: Organization) -> None:
    with pytest.raises(InvalidInput):
        licence.check_at_counter(
            clerk, organization.pk, name="  ", legal_representative="", disown_registration=True
        )
    organization.refresh_from_db()
    assert organization.licence_unchecked
    assert User.objects.get(pk=claimed.pk).is_active and not _checks(organization)


def test_a_reviewers_approval_is_the_check(
    claimed: User, organization: Organization, handler: Handler, reviewer: User
) -> None:
    with at(FRIDAY):
        draft = online_draft(claimed, handler)
        services.submit(claimed, draft.number)
        pay_online(draft.number, claimed)
        page = Client()
        page.force_login(reviewer)
        shown = page.get(f"/console/applications/{draft.number}/").content.decode()
        assert 'id="licence-unchecked"' in shown
        review.approve(reviewer, draft.number)
    organization.refresh_from_db()
    assert not organization.licence_unchecked
    [event] = _checks(organization)
    assert event.after["via"] == "review" and event.actor == reviewer.label()


@pytest.mark.parametrize("typed", [REAL_NAME, "冒名公司"], ids=["the-same-name", "another-name"])
def test_a_certificate_naming_the_uscc_is_the_check(
    admin: User, claimed: User, organization: Organization, typed: str
) -> None:
    """The certificate proves its holder, not the registration: the name is public, so a
    squatter types it as easily as the enterprise does; disowned either way, and told why."""
    organization.name = typed
    organization.save(update_fields=["name"])
    licence.checked_by_certificate(admin, organization, REAL_NAME)
    organization.refresh_from_db()
    assert not organization.licence_unchecked and organization.name == REAL_NAME
    assert not User.objects.get(pk=claimed.pk).is_active
    [event] = _checks(organization)
    assert event.after["via"] == "certificate"
    assert event.after["disowned_accounts"] == ["138****8000"]
    [sms] = SmsMessage.objects.filter(phone="13800138000", kind="account_disowned")
    assert "已停用" in sms.text and "数字证书登录核验" in sms.text and organization.uscc in sms.text


def test_the_counter_page_shows_the_check_instead_of_opening(
    clerk: User, claimed: User, organization: Organization
) -> None:
    page = Client()
    page.force_login(clerk)
    page.post("/console/counter/", {"point": "kejiyuan"})
    with at(FRIDAY):
        shown = page.get(f"/console/counter/?uscc={organization.uscc}").content.decode()
        assert 'id="licence-form"' in shown and 'id="open-form"' not in shown
        assert "138****8000" in shown
        done = page.post(
            f"/console/counter/organizations/{organization.pk}/licence",
            {
                "uscc": organization.uscc,
                "name": REAL_NAME,
                "legal_representative": "",
                "disown": "1",
            },
        )
        assert done.status_code == 303
        after = page.get(done["Location"]).content.decode()
    assert "已核对营业执照" in after and 'id="open-form"' in after and REAL_NAME in after
    assert not User.objects.get(pk=claimed.pk).is_active


def test_a_refused_licence_check_keeps_the_form_and_marks_its_field(
    clerk: User, claimed: User, organization: Organization
) -> None:
    """已核对营业执照 refused went back by a redirect with a notice (``act_and_return``): the
    name and legal representative typed were lost and nothing marked. The counter page again
    now, the licence form as typed, the refused field marked (``act_on_page``)."""
    page = Client()
    page.force_login(clerk)
    page.post("/console/counter/", {"point": "kejiyuan"})
    with at(FRIDAY):
        refused = page.post(
            f"/console/counter/organizations/{organization.pk}/licence",
            {"uscc": organization.uscc, "name": " ", "legal_representative": "赵六", "disown": "1"},
        )
    assert refused.status_code == 400
    shown = refused.content.decode()
    assert 'id="licence-form"' in shown and 'id="form-error"' in shown
    assert marked(shown) == ["name"]
    assert 'value="赵六"' in shown and 'id="disown" checked' in shown
    organization.refresh_from_db()
    assert organization.licence_unchecked
    assert User.objects.get(pk=claimed.pk).is_active and not _checks(organization)
