"""A Ukey lost before its online renewal was written: the counter's 介质补办 of the renewed
certificate ends the renewal and its application, revokes both, keeps the renewed term."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography import x509
from django.test import Client
from django.urls import reverse

from certhall.accounts.models import Handler, Organization, User
from certhall.agent.ukey import Ukeys
from certhall.audit.models import AuditEvent
from certhall.audit.services import verify as verify_audit
from certhall.certlogin.models import Renewal
from certhall.errors import Conflict
from certhall.hall import counter, issuance, payment, renewal, review
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.payments.models import Order
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.agent.support import fingerprint
from tests.hall.conftest import (
    CUSTOMER_PIN,
    FRIDAY,
    MONDAY,
    at,
    at_counter,
    issued_ukey,
    pay_online,
    sms_pin,
    token_serials,
)

pytestmark = [pytest.mark.softhsm, pytest.mark.django_db]


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
    last = staff_page.rindex('<li><span class="state ')
    assert staff_page[last:].startswith('<li><span class="state ok">已交付</span>')
    assert f"受理员 {clerk.username}" in staff_page[last:]
    assert f"续期的新证书 {renewed.serial} 未写入该Ukey" in staff_page[last:]


def test_a_ukey_lost_after_paying_a_renewal_that_was_never_issued(
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
    """Paid online, the Ukey lost before the helper asked for the new certificate: nothing was
    issued, so there is nothing to carry. The counter's 介质补办 of the certificate is refused
    with the way out (refund that application first); after the refund it goes through."""
    old_ukey, old_cert = issued_ukey(issuer, stock, ukey_store, organization, years=1)
    with at(FRIDAY):
        number = renewal.start(applicant, old_cert.serial, 2).number
        pay_online(number, applicant)
    with at(MONDAY):
        with pytest.raises(Conflict) as refused:
            at_counter(
                clerk,
                handler,
                ItemRequest(business="replace", serial=old_cert.serial, replace_cause="lost"),
            )
        assert refused.value.code == "certificate_busy"
        assert f"在线续期申请 {number}（审核通过，待制证）" in refused.value.message
        assert "已付款的先为该申请办理退款" in refused.value.message
        payment.refund_application(clerk, number, "Ukey遗失，续期未签发")
        application = at_counter(
            clerk,
            handler,
            ItemRequest(business="replace", serial=old_cert.serial, replace_cause="lost"),
        )
        review.approve(reviewer, application.number)
        line = application.items.get()
        new = stock("ukey-after-unissued-renewal")
        issuance.issue_application(
            clerk, application.number, tokens={line.pk: new.serial}, store=ukey_store
        )
    assert Application.objects.get(number=number).state == State.REFUNDED
    assert not Renewal.objects.filter(old_certificate=old_cert).exists()
    old_cert.refresh_from_db()
    assert old_cert.status == "revoked"
    line.refresh_from_db()
    fresh = line.result_certificate
    assert fresh is not None and fresh.not_after == old_cert.not_after
    assert fresh.serial in token_serials(ukey_store, new.label, sms_pin())
    old_ukey.refresh_from_db()
    assert old_ukey.status == "retired" and old_ukey.replaced_by == new
    assert verify_audit().ok
