"""Issuance onto real SoftHSM2 Ukeys with a real CA: online 新办 end to end, the counter's
介质补办, 续期 + 变更 on the customer's own Ukey, 解锁, 吊销; retries after a failure."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from certhall.accounts.models import Handler, Organization, User
from certhall.audit.services import verify as verify_audit
from certhall.ca.models import Certificate
from certhall.errors import Conflict, Forbidden, InvalidInput, RuleViolation, TokenError
from certhall.hall import issuance, review, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.notify.models import SmsMessage
from certhall.pki.profiles import add_years
from certhall.tokens import pin_status
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.hall.conftest import (
    CUSTOMER_PIN,
    FRIDAY,
    MONDAY,
    PHONE,
    at,
    at_counter,
    issued_ukey,
    online_draft,
    pay_online,
    sms_pin,
    token_serials,
)

pytestmark = [pytest.mark.softhsm, pytest.mark.django_db]


def test_online_new_end_to_end(
    hall_ca: object,
    applicant: User,
    handler: Handler,
    reviewer: User,
    issuer: User,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    ukey = stock("ukey-0001")
    with at(FRIDAY):
        draft = online_draft(applicant, handler, years=2)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    with at(MONDAY):
        review.approve(reviewer, draft.number)
        line = draft.items.get()
        with pytest.raises(InvalidInput) as refused:
            issuance.issue_application(issuer, draft.number, store=ukey_store)
        assert refused.value.code == "token_missing"
        issued = issuance.issue_application(
            issuer, draft.number, tokens={line.pk: ukey.serial}, store=ukey_store
        )
    assert issued.state == State.ISSUED
    line.refresh_from_db()
    cert = line.result_certificate
    assert cert is not None and line.done_at is not None and line.token == ukey
    assert (cert.profile, cert.person_name, cert.uscc) == ("personal", "王五", "91350100M000100Y43")
    assert cert.organization == draft.organization
    assert (cert.not_after - cert.not_before).days in (730, 731)
    ukey.refresh_from_db()
    assert ukey.status == "issued" and ukey.organization == draft.organization
    # the PIN went to the handler by SMS; with it the certificate is on the Ukey
    assert SmsMessage.objects.get(kind="ukey.pin").phone == PHONE
    assert cert.serial in token_serials(ukey_store, ukey.label, sms_pin())

    with at(MONDAY):
        with pytest.raises(InvalidInput):
            issuance.deliver(issuer, draft.number, tracking_number="x")
        with pytest.raises(InvalidInput) as carrier:  # was cut to 32 characters and stored
            issuance.deliver(
                issuer, draft.number, tracking_number="SF1234567890", carrier="顺" * 33
            )
        assert carrier.value.message == "快递公司不能超过32个字，请核对后重新填写。"
        with pytest.raises(InvalidInput) as hidden:  # the customer's SMS reads it
            issuance.deliver(
                issuer, draft.number, tracking_number="SF1234567890", carrier="顺丰\u202e速运"
            )
        assert hidden.value.code == "text_chars"
        delivered = issuance.deliver(
            issuer, draft.number, tracking_number="SF1234567890", carrier="顺丰速运"
        )
    assert delivered.state == State.DELIVERED
    assert (delivered.tracking_number, delivered.carrier) == ("SF1234567890", "顺丰速运")
    mailed = SmsMessage.objects.get(kind="application_status")
    assert "SF1234567890" in mailed.text and mailed.phone == PHONE
    approval = SmsMessage.objects.get(kind="review_result")
    assert "审核通过" in approval.text and draft.number in approval.text
    assert [h["state"] for h in services.history(applicant, delivered)] == [
        "draft",
        "awaiting_payment",
        "paid",
        "approved",
        "issuing",
        "issued",
        "delivered",
    ]
    assert verify_audit().ok


def test_a_clerk_does_not_issue_online_applications(
    hall_ca: object,
    applicant: User,
    handler: Handler,
    reviewer: User,
    clerk: User,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    ukey = stock("ukey-0001")
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
        review.approve(reviewer, draft.number)
        with pytest.raises(Forbidden):
            issuance.issue_application(
                clerk, draft.number, tokens={draft.items.get().pk: ukey.serial}, store=ukey_store
            )
    assert Application.objects.get(pk=draft.pk).state == State.APPROVED


def test_counter_replacement_of_a_lost_ukey(
    hall_ca: object,
    clerk: User,
    reviewer: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    old, old_cert = issued_ukey(issuer, stock, ukey_store, organization)
    new = stock("ukey-new")
    with at(FRIDAY):
        application = at_counter(
            clerk,
            handler,
            ItemRequest(business="replace", serial=old_cert.serial, replace_cause="lost"),
        )
        assert application.state == State.PAID and application.total == 50  # personal: 50 yuan
        review.approve(reviewer, application.number)
        line = application.items.get()
        done = issuance.issue_application(
            clerk, application.number, tokens={line.pk: new.serial}, store=ukey_store
        )
    # issued on the spot and handed over, the history in the catalogue's words (the service
    # wrote "现场办理，领取方式:自取" with a half-width colon until 12-07)
    assert done.state == State.DELIVERED and done.delivered_at is not None
    assert services.history(clerk, done)[-1]["reason"] == "现场办理，领取方式：自取。"
    old_cert.refresh_from_db()
    assert (old_cert.status, old_cert.revocation_reason) == ("revoked", "keyCompromise")
    old.refresh_from_db()
    assert old.status == "retired" and old.replaced_by == new
    line.refresh_from_db()
    fresh = line.result_certificate
    assert fresh is not None and fresh.status == "valid"
    assert (fresh.person_name, fresh.id_number) == (old_cert.person_name, old_cert.id_number)
    # 介质补办 replaces the medium, not the term: the old end date is kept to the second
    assert fresh.not_after == old_cert.not_after
    new.refresh_from_db()
    assert new.status == "issued"
    assert fresh.serial in token_serials(ukey_store, new.label, sms_pin())


def test_renewal_and_change_on_the_customers_own_ukey(
    hall_ca: object,
    clerk: User,
    reviewer: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    """变更 and 续期 of one certificate in one visit: one new certificate with the new name
    and the renewed term (the old end date plus the years paid), on the same Ukey; the old one
    revoked and its key removed."""
    ukey, old_cert = issued_ukey(issuer, stock, ukey_store, organization, years=1)
    with at(FRIDAY):
        application = at_counter(
            clerk,
            handler,
            ItemRequest(
                business="change", serial=old_cert.serial, org_name="深圳市新名医疗科技有限公司"
            ),
            ItemRequest(business="renew", serial=old_cert.serial, years=2),
        )
        assert application.total == 300  # change free, renewal 150 x 2
        review.approve(reviewer, application.number)
        with pytest.raises(InvalidInput) as refused:
            issuance.issue_application(clerk, application.number, store=ukey_store)
        assert refused.value.code == "pin_missing"
        with pytest.raises(TokenError):
            issuance.issue_application(clerk, application.number, pin="000000", store=ukey_store)
        # a wrong PIN changed nothing and the application can be issued again
        assert Application.objects.get(pk=application.pk).state == State.APPROVED
        done = issuance.issue_application(
            clerk, application.number, pin=CUSTOMER_PIN, store=ukey_store
        )
    assert done.state == State.DELIVERED
    results = {line.result_certificate for line in done.items.all()}
    assert len(results) == 1
    fresh = results.pop()
    assert fresh is not None
    assert fresh.org_name == "深圳市新名医疗科技有限公司"
    # what was left of the old certificate is kept: its end date plus the two paid years
    assert fresh.not_after == add_years(old_cert.not_after, 2)
    old_cert.refresh_from_db()
    assert (old_cert.status, old_cert.revocation_reason) == ("revoked", "affiliationChanged")
    organization.refresh_from_db()
    assert organization.name == "深圳市新名医疗科技有限公司"
    on_token = token_serials(ukey_store, ukey.label, CUSTOMER_PIN)
    assert fresh.serial in on_token and old_cert.serial not in on_token
    assert set(ukey.certificates.values_list("serial", flat=True)) == {
        old_cert.serial,
        fresh.serial,
    }


def test_unlock_and_revoke_at_the_counter(
    hall_ca: object,
    clerk: User,
    reviewer: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    ukey, cert = issued_ukey(issuer, stock, ukey_store, organization)
    _, other = issued_ukey(issuer, stock, ukey_store, organization, label="ukey-two")
    with at(FRIDAY):
        application = at_counter(
            clerk,
            handler,
            ItemRequest(business="unlock", serial=cert.serial),
            ItemRequest(
                business="revoke", serial=other.serial, revocation_reason="cessationOfOperation"
            ),
        )
        assert application.state == State.SUBMITTED  # both free: straight to review
        review.approve(reviewer, application.number)
        done = issuance.issue_application(clerk, application.number, store=ukey_store)
    assert done.state == State.DELIVERED
    other.refresh_from_db()
    assert (other.status, other.revocation_reason) == ("revoked", "cessationOfOperation")
    # the new PIN went to the handler; the old one no longer works
    new_pin = sms_pin("ukey.unlock_pin")
    assert cert.serial in token_serials(ukey_store, ukey.label, new_pin)
    with pytest.raises(TokenError):
        token_serials(ukey_store, ukey.label, CUSTOMER_PIN)


def test_a_failed_issuance_goes_back_to_approved_and_a_retry_finishes(
    hall_ca: object,
    applicant: User,
    handler: Handler,
    reviewer: User,
    issuer: User,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ukey = stock("ukey-0001")
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
        review.approve(reviewer, draft.number)
        line = draft.items.get()

        def broken(*args: object, **kwargs: object) -> None:
            raise Conflict("the token was pulled out", code="token_removed")

        monkeypatch.setattr(issuance.ukeys, "issue_onto_token", broken)
        with pytest.raises(Conflict):
            issuance.issue_application(
                issuer, draft.number, tokens={line.pk: ukey.serial}, store=ukey_store
            )
        failed = Application.objects.get(pk=draft.pk)
        assert failed.state == State.APPROVED
        assert services.history(issuer, failed)[-1]["reason"].startswith("制证未完成")
        monkeypatch.undo()
        done = issuance.issue_application(issuer, draft.number, store=ukey_store)  # same Ukey
    assert done.state == State.ISSUED
    assert Certificate.objects.filter(person_name="王五", status="valid").count() == 1


NEW_NAME = "深圳市新名医疗有限公司"


def test_change_and_replacement_in_one_application_rename_both_certificates(
    hall_ca: object,
    clerk: User,
    reviewer: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    """变更 of the 机构个人证书 and 介质补办 of the 机构证书 in one visit: the new name goes into
    both new certificates, not only the changed one (the replaced ODC kept the old name)."""
    _, personal = issued_ukey(issuer, stock, ukey_store, organization, label="ukey-personal")
    _, org = issued_ukey(issuer, stock, ukey_store, organization, label="ukey-org", profile="org")
    new = stock("ukey-new")
    with at(FRIDAY):
        application = at_counter(
            clerk,
            handler,
            ItemRequest(
                business="change", serial=personal.serial, org_name="深圳市新名医疗有限公司"
            ),
            ItemRequest(business="replace", serial=org.serial, replace_cause="damaged"),
        )
        review.approve(reviewer, application.number)
        replace_line = application.items.get(business="replace")
        done = issuance.issue_application(
            clerk,
            application.number,
            tokens={replace_line.pk: new.serial},
            pin=CUSTOMER_PIN,
            store=ukey_store,
        )
    names = {line.business: line.result_certificate.org_name for line in done.items.all()}  # type: ignore[union-attr]
    assert names == {"change": NEW_NAME, "replace": NEW_NAME}
    replaced = done.items.get(business="replace").result_certificate
    assert replaced is not None and replaced.not_after == org.not_after


def test_a_renewal_that_would_outlive_the_ca_is_refused_before_payment(
    hall_ca: object,
    clerk: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    _, cert = issued_ukey(issuer, stock, ukey_store, organization, years=5)
    with at(FRIDAY), pytest.raises(RuleViolation) as refused:
        at_counter(clerk, handler, ItemRequest(business="renew", serial=cert.serial, years=5))
    assert refused.value.code == "renewal_beyond_ca"
    assert "超过签发CA的有效期" in refused.value.message
    assert not Application.objects.filter(items__target_certificate=cert).exists()


def test_an_empty_pin_is_no_pin_and_costs_the_customer_no_try(
    hall_ca: object,
    clerk: User,
    reviewer: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    """The console sends no PIN when the field is left empty; the API's ``"pin": ""`` was tried
    on the customer's own Ukey as a PIN, a wrong one: one of its tries gone for nothing."""
    ukey, old_cert = issued_ukey(issuer, stock, ukey_store, organization, years=1)
    before = pin_status(ukey_store.module, ukey.label, conf=ukey_store.conf).tries_left
    with at(FRIDAY):
        application = at_counter(
            clerk, handler, ItemRequest(business="renew", serial=old_cert.serial, years=1)
        )
        review.approve(reviewer, application.number)
        with pytest.raises(InvalidInput) as refused:
            issuance.issue_application(clerk, application.number, pin="", store=ukey_store)
    assert refused.value.code == "pin_missing"
    assert pin_status(ukey_store.module, ukey.label, conf=ukey_store.conf).tries_left == before
    assert Application.objects.get(pk=application.pk).state == State.APPROVED


@pytest.mark.parametrize("pin", ["123", "1" * 256])
def test_a_pin_of_a_length_no_ukey_takes_is_refused_before_issuance_starts(
    hall_ca: object,
    clerk: User,
    reviewer: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
    pin: str,
) -> None:
    """A 续期 PIN shorter than 4 or longer than 255 bytes is refused (pin_length) before the
    application is claimed for issuance: no try of the customer's Ukey, no failed issuance in
    the history."""
    ukey, old_cert = issued_ukey(issuer, stock, ukey_store, organization, years=1)
    before = pin_status(ukey_store.module, ukey.label, conf=ukey_store.conf).tries_left
    with at(FRIDAY):
        application = at_counter(
            clerk, handler, ItemRequest(business="renew", serial=old_cert.serial, years=1)
        )
        review.approve(reviewer, application.number)
        history = services.history(clerk, application)
        with pytest.raises(TokenError) as refused:
            issuance.issue_application(clerk, application.number, pin=pin, store=ukey_store)
        assert refused.value.code == "pin_length"
        assert services.history(clerk, Application.objects.get(pk=application.pk)) == history
    assert pin_status(ukey_store.module, ukey.label, conf=ukey_store.conf).tries_left == before
    assert Application.objects.get(pk=application.pk).state == State.APPROVED


def test_an_unexpected_failure_is_told_in_chinese_in_the_history(
    hall_ca: object,
    applicant: User,
    handler: Handler,
    reviewer: User,
    issuer: User,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An issuance that fails with something other than a refusal goes back to 审核通过 with
    the reason in the history, which the customer reads too: it said "制证未完成：OSError"."""
    ukey = stock("ukey-0001")
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
        review.approve(reviewer, draft.number)
        line = draft.items.get()

        def broken(*args: object, **kwargs: object) -> None:
            raise OSError("device unplugged")

        monkeypatch.setattr(issuance.ukeys, "issue_onto_token", broken)
        with pytest.raises(OSError):
            issuance.issue_application(
                issuer, draft.number, tokens={line.pk: ukey.serial}, store=ukey_store
            )
    failed = Application.objects.get(pk=draft.pk)
    assert failed.state == State.APPROVED
    for reader in (applicant, issuer):
        reason = services.history(reader, failed)[-1]["reason"]
        assert reason == "制证未完成：系统繁忙，请稍后再试。", reason
