"""What the rules forbid is refused through the hall's services with the rule's own words,
in every channel, and audited; fees come from the rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from certhall.accounts.models import Handler, Organization, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput, NotFound
from certhall.hall import counter, documents, renewal, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application, ApplicationItem
from certhall.rules import SHANGHAI, QuoteRefused
from tests.hall.conftest import (
    FRIDAY,
    LEGAL_REP_ID,
    SATURDAY,
    at,
    online_draft,
    software_certificate,
)

pytestmark = pytest.mark.django_db

WEEKEND_WORDS = "注:周末无法办理机构证书(ODC证书),机构个人证书可正常办理"
TERM_WORDS = "机构个人证书(法人证书):150元/个/年(可办理1-5年期)"
ONLINE_NEW_WORDS = "注:仅支持机构个人证书网厅办理。"
TOO_EARLY_WORDS = "网厅续期须在证书到期前90天内办理"


def counter_draft(clerk: User, handler: Handler, point: str = "kejiyuan") -> Application:
    return counter.open_application(
        clerk,
        point=point,
        customer=counter.Customer(uscc=handler.organization.uscc),
        handler_id=handler.pk,
    )


def person(years: int) -> ItemRequest:
    return ItemRequest(
        business="new",
        cert_type="personal",
        years=years,
        person_name="王五",
        person_id_number=LEGAL_REP_ID,
    )


def refused_add(actor: User, number: str, request: ItemRequest) -> QuoteRefused:
    with pytest.raises(QuoteRefused) as refused:
        services.add_item(actor, number, request)
    assert not ApplicationItem.objects.filter(application__number=number).exists()
    event = AuditEvent.objects.filter(action="hall.item.add", object_id=number).last()
    assert event is not None and event.result == "refused"
    assert event.after["message"] == refused.value.message
    return refused.value


def test_odc_on_saturday_at_the_counter(clerk: User, handler: Handler) -> None:
    with at(SATURDAY):
        draft = counter_draft(clerk, handler)
        refusal = refused_add(clerk, draft.number, ItemRequest(business="new", cert_type="org"))
        # the day refused is said (no form holds it: docs/rules.md), the type is marked
        assert refusal.message == f"{WEEKEND_WORDS}（办理时间：2026-11-21 星期六 10:00）。"
        assert refusal.fields == ("at", "cert_type")
        # the organisation-personal certificate as usual on the same Saturday at 科技园
        item = services.add_item(clerk, draft.number, person(1))
    assert item.fee == Decimal("150.00")


def test_saturday_at_longgang_is_closed_for_everything(clerk: User, handler: Handler) -> None:
    with at(SATURDAY):
        draft = counter_draft(clerk, handler, point="longgang")
        refusal = refused_add(clerk, draft.number, person(1))
    # the point and the moment refused, both in the words (neither in a form: nothing marked)
    assert refusal.message == (
        "龙岗受理点 服务时间:周一至周五:9:00-12:00,13:30-18:00  周六日及法定节假日休息"
        "（办理时间：2026-11-21 星期六 10:00）。"
    )


def test_a_draft_opened_on_friday_is_refused_when_submitted_on_saturday(
    clerk: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = counter_draft(clerk, handler)
        services.add_item(clerk, draft.number, ItemRequest(business="new", cert_type="org"))
        for kind in ("org_form", "licence_copy", "legal_rep_id_copy", "handler_id_copy"):
            documents.check_at_counter(clerk, draft.number, kind, original_seen=True)
    with at(SATURDAY), pytest.raises(QuoteRefused) as refused:
        services.submit(clerk, draft.number)
    assert refused.value.message == f"{WEEKEND_WORDS}（办理时间：2026-11-21 星期六 10:00）。"
    assert Application.objects.get(pk=draft.pk).state == "draft"


def test_a_customer_served_before_noon_is_finished_after_noon(
    clerk: User, handler: Handler
) -> None:
    """The hours are checked when the business is taken; the same visit ends after 12:00."""
    with at(datetime(2026, 11, 20, 11, 55, tzinfo=SHANGHAI)):
        draft = counter_draft(clerk, handler)
        services.add_item(clerk, draft.number, ItemRequest(business="new", cert_type="org"))
        for kind in ("org_form", "licence_copy", "legal_rep_id_copy", "handler_id_copy"):
            documents.check_at_counter(clerk, draft.number, kind, original_seen=True)
    with at(datetime(2026, 11, 20, 12, 5, tzinfo=SHANGHAI)):
        refusal = refused_add(clerk, counter_draft(clerk, handler).number, person(1))
        assert "服务时间" in refusal.message  # a new customer now: closed
        submitted = services.submit(clerk, draft.number)
    assert submitted.state == "awaiting_payment"


def test_six_years_is_refused_in_both_channels(
    applicant: User, clerk: User, handler: Handler
) -> None:
    with at(FRIDAY):
        online = services.create_draft(applicant)
        assert refused_add(applicant, online.number, person(6)).message == TERM_WORDS
        onsite = counter_draft(clerk, handler)
        assert refused_add(clerk, onsite.number, person(6)).message == TERM_WORDS
        assert services.add_item(clerk, onsite.number, person(5)).fee == Decimal("750.00")


def test_online_odc_new_is_refused(applicant: User) -> None:
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        refusal = refused_add(applicant, draft.number, ItemRequest(business="new", cert_type="org"))
    assert refusal.message == ONLINE_NEW_WORDS


@pytest.mark.parametrize("business", ["change", "unlock", "replace", "revoke"])
def test_onsite_only_businesses_are_refused_online(
    admin: User, hall_ca: object, applicant: User, organization: Organization, business: str
) -> None:
    _, cert = software_certificate(admin, organization)
    with at(FRIDAY):
        draft = services.create_draft(applicant)
        request = ItemRequest(
            business=business,
            serial=cert.serial,
            revocation_reason="keyCompromise",
            replace_cause="lost",
        )
        refusal = refused_add(applicant, draft.number, request)
    assert [r.rule for r in refusal.quote.refusals] == ["channel"]
    assert refusal.message.endswith("办理途径:现场办理")


def test_online_renewal_120_days_before_expiry_is_refused(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    _, cert = software_certificate(admin, organization)  # expires 2027-01-10
    early = datetime(2026, 9, 12, 10, 0, tzinfo=SHANGHAI)  # 120 days before
    with at(early):
        answer = renewal.lookup(applicant, cert.serial)
        assert not answer.quote.allowed and answer.quote.reasons == (TOO_EARLY_WORDS,)
        with pytest.raises(QuoteRefused) as refused:
            renewal.start(applicant, cert.serial)
    assert refused.value.message == TOO_EARLY_WORDS
    assert not Application.objects.exists()
    event = AuditEvent.objects.filter(action="hall.renewal.start").last()
    assert event is not None and event.result == "refused"
    with at(FRIDAY):  # 51 days before: inside the window; the ODC renewal is free
        application = renewal.start(applicant, cert.serial)
    assert application.state == "approved" and application.total == Decimal("0.00")


def test_renewal_of_another_organisations_certificate_is_refused(
    admin: User, hall_ca: object, stranger: User, organization: Organization
) -> None:
    _, cert = software_certificate(admin, organization)
    with at(FRIDAY):  # answered as a serial that does not exist (no 403 oracle)
        with pytest.raises(NotFound):
            renewal.lookup(stranger, cert.serial)
        with pytest.raises(NotFound):
            renewal.start(stranger, cert.serial)


def test_counter_lines_check_the_certificate(
    admin: User, hall_ca: object, clerk: User, handler: Handler, other_organization: Organization
) -> None:
    _, foreign = software_certificate(admin, other_organization)
    _, own = software_certificate(admin, handler.organization)
    with at(FRIDAY):
        draft = counter_draft(clerk, handler)
        with pytest.raises(Forbidden):
            services.add_item(
                clerk,
                draft.number,
                ItemRequest(
                    business="revoke", serial=foreign.serial, revocation_reason="keyCompromise"
                ),
            )
        with pytest.raises(InvalidInput):
            services.add_item(
                clerk,
                draft.number,
                ItemRequest(
                    business="revoke", serial=own.serial, revocation_reason="certificateHold"
                ),
            )
        services.add_item(
            clerk,
            draft.number,
            ItemRequest(business="revoke", serial=own.serial, revocation_reason="keyCompromise"),
        )
        with pytest.raises(Conflict) as refused:
            services.add_item(
                clerk,
                draft.number,
                ItemRequest(business="revoke", serial=own.serial, revocation_reason="superseded"),
            )
        assert refused.value.code == "duplicate"
        # a certificate on no Ukey of ours cannot be renewed on a Ukey at the counter
        other_draft = counter_draft(clerk, handler)
        with pytest.raises(Conflict) as refused:
            services.add_item(
                clerk, other_draft.number, ItemRequest(business="renew", serial=own.serial)
            )
        assert refused.value.code == "certificate_busy"
        _, loose = software_certificate(admin, handler.organization)
        with pytest.raises(Conflict) as refused:
            services.add_item(
                clerk, other_draft.number, ItemRequest(business="renew", serial=loose.serial)
            )
        assert refused.value.code == "no_ukey"


def test_fees_come_from_the_rules(applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler, years=3)
    assert draft.items.get().fee == Decimal("450.00")


def test_an_expired_certificate_is_renewed_not_changed_replaced_or_revoked(
    admin: User, hall_ca: object, clerk: User, handler: Handler
) -> None:
    """The seed's 变更 is for a certificate "有效期内"; 介质补办 keeps the end date and 吊销 ends
    it: for an expired certificate each is refused when the line is entered, saying what to do
    (before, the line was accepted, paid and approved, and issuance failed with the money
    taken). 续期 and 解锁 (to renew with the Ukey) are not refused for it."""
    _, expired = software_certificate(admin, handler.organization)  # to 2027-01-10 10:00
    with at(datetime(2027, 1, 11, 10, 0, tzinfo=SHANGHAI)):
        draft = counter_draft(clerk, handler)
        for request in (
            ItemRequest(business="change", serial=expired.serial),
            ItemRequest(business="replace", serial=expired.serial, replace_cause="lost"),
        ):
            with pytest.raises(Conflict) as refused:
                services.add_item(clerk, draft.number, request)
            assert refused.value.code == "expired"
            assert refused.value.message.startswith(
                f"证书 {expired.serial} 已于 2027-01-10 到期，不能办理"
            )
            assert "请办理续期（持原Ukey到受理点现场办理）" in refused.value.message
        revoke = ItemRequest(
            business="revoke", serial=expired.serial, revocation_reason="keyCompromise"
        )
        with pytest.raises(Conflict) as refused:
            services.add_item(clerk, draft.number, revoke)
        assert refused.value.message.endswith("已不能使用，无需吊销。")
        for business in ("renew", "unlock"):  # refused only for want of its Ukey here
            with pytest.raises(Conflict) as refused:
                services.add_item(clerk, draft.number, ItemRequest(business, serial=expired.serial))
            assert refused.value.code == "no_ukey"
    assert not ApplicationItem.objects.filter(application=draft).exists()


def test_a_certificate_that_expires_before_submission_is_refused_then(
    admin: User, hall_ca: object, clerk: User, handler: Handler
) -> None:
    """A line entered while its certificate was valid is asked again at submission, before any
    order: the certificate ended in between."""
    monday = datetime(2027, 1, 11, 9, 30, tzinfo=SHANGHAI)
    _, ending = software_certificate(
        admin, handler.organization, when=datetime(2026, 1, 11, 2, 0, tzinfo=UTC)
    )
    with at(monday):  # valid until 10:00 in Shenzhen
        draft = counter_draft(clerk, handler)
        services.add_item(
            clerk,
            draft.number,
            ItemRequest(business="revoke", serial=ending.serial, revocation_reason="superseded"),
        )
        for kind in documents.required(draft, list(draft.items.all())):
            documents.check_at_counter(clerk, draft.number, kind, original_seen=True)
    with at(monday + timedelta(hours=1)), pytest.raises(Conflict) as refused:
        services.submit(clerk, draft.number)
    assert refused.value.code == "expired"
    draft.refresh_from_db()
    assert draft.state == "draft" and draft.payment_reference == ""
