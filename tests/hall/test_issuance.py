"""Issuance onto real SoftHSM2 Ukeys with a real CA: online 新办 end to end, the counter's
介质补办, 续期 + 变更 on the customer's own Ukey, 解锁, 吊销; retries after a failure."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import pytest
from cryptography import x509
from django.test import Client
from django.urls import reverse

from certhall.accounts.models import Handler, Organization, User
from certhall.agent.ukey import Ukeys
from certhall.audit.models import AuditEvent
from certhall.audit.services import verify as verify_audit
from certhall.ca.models import Certificate
from certhall.certlogin.models import Renewal
from certhall.errors import Conflict, Forbidden, InvalidInput, RuleViolation, TokenError
from certhall.hall import counter, documents, issuance, payment, renewal, review, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.notify.models import SmsMessage
from certhall.payments.models import Order
from certhall.pki.profiles import add_years
from certhall.rules import SHANGHAI
from certhall.tokens import change_pin, list_certificates, pin_status, user_login
from certhall.ukeys import services as ukeys
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.agent.support import fingerprint
from tests.hall.conftest import (
    FRIDAY,
    MONDAY,
    ORG_SUBSCRIBER,
    PERSON_SUBSCRIBER,
    PHONE,
    at,
    online_draft,
    pay_online,
)

pytestmark = [pytest.mark.softhsm, pytest.mark.django_db]

PIN_IN_TEXT = re.compile(r"PIN码）为(\d{6})")
CUSTOMER_PIN = "135790"


def sms_pin(kind: str = "ukey.pin") -> str:
    message = SmsMessage.objects.filter(kind=kind).order_by("-pk").first()
    assert message is not None
    match = PIN_IN_TEXT.search(message.text)
    assert match, message.text
    return match.group(1)


def token_serials(store: UkeyStore, label: str, pin: str) -> set[str]:
    with user_login(store.module, label, pin, conf=store.conf, allow_must_change=True) as s:
        return {c.serial_hex for c in list_certificates(s) if not c.is_ca}


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


def issued_ukey(
    issuer: User,
    stock: Callable[[str], Ukey],
    store: UkeyStore,
    organization: Organization,
    label: str = "ukey-old",
    profile: str = "personal",
    years: int = 3,
) -> tuple[Ukey, Certificate]:
    """A Ukey the customer holds (issued in January), its PIN changed to CUSTOMER_PIN."""
    ukey = stock(label)
    with at(datetime(2026, 1, 12, 10, 0, tzinfo=SHANGHAI)):
        cert = ukeys.issue_onto_token(
            issuer,
            ukey,
            profile,
            years if profile == "personal" else 1,
            PERSON_SUBSCRIBER if profile == "personal" else ORG_SUBSCRIBER,
            phone=PHONE,
            organization=organization,
            store=store,
        )
    change_pin(store.module, ukey.label, sms_pin(), CUSTOMER_PIN, conf=store.conf)
    ukey.refresh_from_db()
    return ukey, cert


def at_counter(clerk: User, handler: Handler, *requests: ItemRequest) -> Application:
    """Open, add the lines, tick every document with originals, submit (and pay if due)."""
    draft = counter.open_application(
        clerk,
        point="kejiyuan",
        customer=counter.Customer(uscc=handler.organization.uscc),
        handler_id=handler.pk,
    )
    for request in requests:
        services.add_item(clerk, draft.number, request)
    for kind in documents.required(draft, list(draft.items.all())):
        documents.check_at_counter(clerk, draft.number, kind, original_seen=True)
    submitted = services.submit(clerk, draft.number)
    if submitted.state == State.AWAITING_PAYMENT:
        payment.take_counter_payment(clerk, draft.number, method="cash")
    return Application.objects.get(pk=draft.pk)


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
    # issued on the spot and handed over (领取方式:自取)
    assert done.state == State.DELIVERED and done.delivered_at is not None
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


def test_a_ukey_lost_before_the_online_renewal_was_written(
    hall_ca: object,
    applicant: User,
    clerk: User,
    reviewer: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
) -> None:
    """A paid online renewal, the new certificate issued onto a new key on the Ukey, and the Ukey
    lost before the helper wrote it. The counter's 介质补办 of the renewed certificate (the old
    one is refused, with the way out) revokes both, ends the renewal and its application in
    its transaction, and puts a certificate to the renewed end date on the new Ukey: the paid
    years are kept, the renewal is not charged again. The customer's pages say what happened."""
    old_ukey, old_cert = issued_ukey(issuer, stock, ukey_store, organization, years=1)
    helper = Ukeys(ukey_store.module, ukey_store.conf)
    entry = helper.find(fingerprint(x509.load_der_x509_certificate(bytes(old_cert.der))))
    web = Client()
    web.force_login(applicant)
    with at(FRIDAY):
        number = renewal.start(applicant, old_cert.serial, 2).number
        pay_online(number, applicant)
        ticket = renewal.ticket(applicant, number)
        with helper.login(entry, CUSTOMER_PIN) as session:
            prep = helper.prepare_renewal(session, entry, ticket.origin, ticket.years)
        issued = renewal.request_renewal(
            applicant, number, csr=prep.csr_pem, signature=prep.signature, origin=prep.signed_origin
        )
        renewed = issued.new_certificate
        assert renewed is not None and renewed.not_after > old_cert.not_after
        # meanwhile: the renewal's page and 我的证书 say what is pending and the way out
        page = web.get(reverse("hall-applicant:detail", args=[number])).content.decode()
        assert "新证书已签发，待写入Ukey" in page
        assert f"对新证书 <code>{renewed.serial}</code> 办理介质补办" in page
        mine = web.get("/my/").content.decode()
        assert f"续期中：新证书 <code>{renewed.serial}</code> 已签发，待写入Ukey" in mine
        assert f"待写入Ukey（原证书 <code>{old_cert.serial}</code>）" in mine
        # and the counter's list of the enterprise's certificates, on a new draft
        draft = counter.open_application(
            clerk,
            point="kejiyuan",
            customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )
        console = Client()
        console.force_login(clerk)
        listing = console.get(reverse("hall-staff:application", args=[draft.number]))
        listed = listing.content.decode()
        assert f"网厅续期中，新证书 {renewed.serial} 尚未写入Ukey" in listed
        assert f"网厅续期的新证书，尚未写入Ukey（原证书 {old_cert.serial}）" in listed

    with at(MONDAY):
        # the lost Ukey at the counter: the old certificate is the renewal's; the counter is told
        # which certificate to replace
        with pytest.raises(Conflict) as refused:
            at_counter(
                clerk,
                handler,
                ItemRequest(business="replace", serial=old_cert.serial, replace_cause="lost"),
            )
        assert refused.value.code == "certificate_busy"
        assert f"请对新证书 {renewed.serial} 办理介质补办" in refused.value.message
        application = at_counter(
            clerk,
            handler,
            ItemRequest(business="replace", serial=renewed.serial, replace_cause="lost"),
        )
        assert application.total == 50  # the 介质补办's fee, not the renewal's again
        review.approve(reviewer, application.number)
        line = application.items.get()
        new = stock("ukey-after-renewal")
        issuance.issue_application(
            clerk, application.number, tokens={line.pk: new.serial}, store=ukey_store
        )

    for cert in (old_cert, renewed):
        cert.refresh_from_db()
        assert (cert.status, cert.revocation_reason) == ("revoked", "keyCompromise")
    old_ukey.refresh_from_db()
    assert old_ukey.status == "retired" and old_ukey.replaced_by == new
    line.refresh_from_db()
    fresh = line.result_certificate
    assert fresh is not None and fresh.status == "valid"
    assert fresh.not_after == renewed.not_after  # the renewed term, not the old one
    assert fresh.serial in token_serials(ukey_store, new.label, sms_pin())

    # the renewal and its application are over, audited, by the clerk who did the 介质补办
    record = Renewal.objects.get(pk=issued.pk)
    assert record.state == Renewal.State.REPLACED
    done = Application.objects.get(number=number)
    assert done.state == State.DELIVERED
    closing = AuditEvent.objects.get(
        action="hall.application.deliver", object_type="application", object_id=number
    )
    assert closing.actor == f"clerk:{clerk.username}"
    assert renewed.serial in closing.after["reason"] and "介质补办" in closing.after["reason"]
    # one order for the renewal, paid once; nothing refunded or charged again
    orders = Order.objects.filter(reference=done.payment_reference)
    assert [o.status for o in orders] == ["paid"]
    assert verify_audit().ok

    page = web.get(reverse("hall-applicant:detail", args=[number])).content.decode()
    assert "待写入Ukey" not in page and 'id="renew-panel"' not in page
    assert 'id="application-state">已办结' in page
    assert f"续期的新证书 <code>{renewed.serial}</code>" in page
    assert f"补办后的证书：序列号 <code>{fresh.serial}</code>" in page
    assert "无需再次续期或付款" in page  # the history's reason too
    mine = web.get("/my/").content.decode()
    assert "待写入Ukey" not in mine
    # the renewal in the staff console: ended, the history says how and by whom
    console.force_login(clerk)
    staff_page = console.get(reverse("hall-staff:application", args=[number])).content.decode()
    last = staff_page.rindex('<li><span class="state state-')
    assert staff_page[last:].startswith('<li><span class="state state-delivered">已交付</span>')
    assert f"受理员 {clerk.username}" in staff_page[last:]
    assert f"续期的新证书 {renewed.serial} 未写入该Ukey" in staff_page[last:]
