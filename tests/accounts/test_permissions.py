from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from certhall.accounts.models import Organization, Provider, Role, User
from certhall.accounts.permissions import (
    require_different_person,
    require_organization,
    require_provider,
    require_role,
)
from certhall.errors import Forbidden, InvalidInput


@pytest.mark.django_db
def test_roles(make_user) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user(Role.CLERK)
    require_role(clerk, Role.CLERK, Role.ISSUER)
    with pytest.raises(Forbidden, match="审核员"):
        require_role(clerk, Role.REVIEWER)
    clerk.is_active = False
    with pytest.raises(Forbidden, match="已停用"):
        require_role(clerk, Role.CLERK)


@pytest.mark.django_db
def test_staff_see_only_their_provider(make_user, other_provider: Provider) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user(Role.CLERK)
    require_provider(clerk, clerk.provider_id)
    with pytest.raises(Forbidden, match="其他电子认证服务机构"):
        require_provider(clerk, other_provider.pk)
    with pytest.raises(Forbidden):
        require_provider(clerk, None)


@pytest.mark.django_db
def test_enterprises_see_only_their_own(make_user) -> None:  # type: ignore[no-untyped-def]
    applicant = make_user(Role.APPLICANT)
    other = Organization.objects.create(name="另一家公司", uscc="91440300MA5FXXXX1X")
    require_organization(applicant, applicant.organization_id)
    with pytest.raises(Forbidden, match="其他单位"):
        require_organization(applicant, other.pk)


@pytest.mark.django_db
def test_an_applicant_is_refused_another_organizations_handlers(make_user) -> None:  # type: ignore[no-untyped-def]
    from certhall.accounts import profile

    applicant = make_user(Role.APPLICANT)
    other = Organization.objects.create(name="另一家公司", uscc="91440300MA5FXXXX1X")
    assert profile.list_handlers(applicant) == []  # its own organisation by default
    with pytest.raises(Forbidden) as err:
        profile.list_handlers(applicant, other.pk)
    assert (err.value.code, err.value.message) == ("other_organization", "无权查看其他单位的信息。")
    with pytest.raises(Forbidden) as err:
        profile.add_handler(
            applicant, other.pk, name="张三", id_kind="id_card", id_number="x", phone="x"
        )
    assert (err.value.code, err.value.message) == (
        "other_organization",
        "无权为其他单位登记经办人。",
    )


@pytest.mark.django_db
def test_an_empty_handler_form_names_every_field_it_lacks(make_user) -> None:  # type: ignore[no-untyped-def]
    """Not the phone alone (found by a probe): one refusal naming what is missing."""
    from certhall.accounts import profile
    from certhall.accounts.models import Handler

    applicant = make_user(Role.APPLICANT)
    with pytest.raises(InvalidInput) as err:
        profile.add_handler(
            applicant, None, name=" ", id_kind="resident_id", id_number="", phone=""
        )
    assert err.value.message == "请填写经办人姓名、证件号码、手机号码。"
    with pytest.raises(InvalidInput) as err:  # one field left: that field's own refusal
        profile.add_handler(
            applicant, None, name="张三", id_kind="resident_id", id_number="", phone="13800138000"
        )
    assert "经办人姓名" not in err.value.message
    assert not Handler.objects.exists()


@pytest.mark.django_db
def test_separation_of_duties(make_user) -> None:  # type: ignore[no-untyped-def]
    clerk, reviewer = make_user(Role.CLERK), make_user(Role.REVIEWER)
    require_different_person(reviewer, clerk.pk, "approve")
    with pytest.raises(Forbidden, match="职责分离：本人录入的申请须由他人审核。"):
        require_different_person(clerk, clerk.pk, "审核")
    with pytest.raises(Forbidden, match="本人审核通过的申请须由他人制证"):
        require_different_person(reviewer, reviewer.pk, "制证", did="审核通过")


@pytest.mark.django_db
def test_role_invariants_are_database_constraints(provider: Provider) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="orphan-applicant", role=Role.APPLICANT)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="orphan-clerk", role=Role.CLERK)
    User.objects.create(username="officer", role=Role.REFUND_OFFICER)
    User.objects.create(username="clerk", role=Role.CLERK, provider=provider)


@pytest.mark.django_db
def test_handlers_are_validated_and_scoped(make_user, organization: Organization) -> None:  # type: ignore[no-untyped-def]
    from certhall.accounts.services import add_handler
    from certhall.audit.models import AuditEvent
    from certhall.errors import Conflict, InvalidInput

    applicant = make_user(Role.APPLICANT)
    handler = add_handler(
        applicant,
        organization.pk,
        name="李四",
        id_kind="resident_id",
        id_number="11010519491231002x",
        phone="13800138000",
    )
    assert handler.id_number == "11010519491231002X"
    assert AuditEvent.objects.filter(action="accounts.handler.add").count() == 1
    with pytest.raises(Conflict):
        add_handler(
            applicant,
            organization.pk,
            name="李四",
            id_kind="resident_id",
            id_number="11010519491231002X",
            phone="13800138000",
        )
    with pytest.raises(InvalidInput):
        add_handler(
            applicant,
            organization.pk,
            name="王五",
            id_kind="resident_id",
            id_number="110105194912310021",
            phone="13800138000",
        )
    with pytest.raises(InvalidInput):
        add_handler(
            applicant,
            organization.pk,
            name="王五",
            id_kind="passport",
            id_number="E12345678",
            phone="12345",
        )
    other = Organization.objects.create(name="另一家公司", uscc="91440300MA5FXXXX1X")
    with pytest.raises(Forbidden):
        add_handler(
            applicant,
            other.pk,
            name="赵六",
            id_kind="passport",
            id_number="E12345678",
            phone="13800138000",
        )
    clerk = make_user(Role.CLERK)
    add_handler(
        clerk,
        other.pk,
        name="赵六",
        id_kind="hk_macau_permit",
        id_number="H12345678",
        phone="13800138001",
    )
