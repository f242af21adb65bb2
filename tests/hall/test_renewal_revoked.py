"""An online renewal whose certificate the CA revoked before the helper renewed it (12-06, h1).

The CA revokes a certificate by its own command (``certhall ca revoke``: ``ca.services.revoke``)
while the customer's online renewal of it is open. The helper can no longer renew it
(``ca.renewal`` refuses a revoked certificate), so the jobs' round closes it as it closes one
whose certificate ended (``renewal.close_ended``): refunded when paid, cancelled otherwise, the
reason worded for the revocation. Before, nothing closed it until the certificate's notAfter,
possibly a year later: the money stayed held and the page kept offering 在线更新证书."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode

import pytest
from django.test import Client

from certhall import jobs
from certhall.accounts.models import Handler, Organization, User
from certhall.audit.models import AuditEvent
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.errors import Conflict
from certhall.hall import renewal
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.notify.models import SmsMessage
from certhall.payments import notify as payment_notify
from certhall.payments import sandbox
from certhall.payments.models import Order, SandboxTrade
from certhall.rules import SHANGHAI
from tests.hall.conftest import FRIDAY, MONDAY, PHONE, at, pay_online
from tests.hall.test_renewal import issued_unrecorded, signed
from tests.hall.test_year_end import counter_refusal, keyed_ending_at, paid_at_the_cashier

pytestmark = pytest.mark.django_db

#: Within the 90 days of the online renewal on FRIDAY (2026-11-20).
ENDS = datetime(2027, 1, 10, 10, 0, tzinfo=SHANGHAI)
#: The CA revokes the certificate on Monday 2026-11-23 at 10:00; the round runs at 10:01.
ROUND = datetime(2026, 11, 23, 10, 1, tzinfo=SHANGHAI)


def revoked_by_the_ca(ca_admin: User, certificate: Certificate) -> None:
    """``certhall ca revoke SERIAL --reason keyCompromise`` on MONDAY."""
    with at(MONDAY):
        ca_services.revoke(ca_admin, certificate.serial, "keyCompromise")


def test_a_paid_online_renewal_whose_certificate_is_revoked_is_refunded_in_the_next_round(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    ca_admin: User,
    clerk: User,
    handler: Handler,
) -> None:
    """Paid on Friday, the certificate revoked by the CA on Monday: before (12-06), the round
    left it ``approved`` with its order paid until the certificate's end on 2027-01-10, the page
    kept offering 在线更新证书 and the helper's request was refused (certificate_revoked). Now
    the page stops offering it at once and says what follows, and the next round refunds it
    (once: a second round does nothing), tells the account by SMS and says why on the page."""
    key, old = keyed_ending_at(admin, organization, ENDS)
    with at(FRIDAY):
        number = renewal.start(applicant, old.serial, 1).number
        paid_at_the_cashier(number, applicant)
    assert Application.objects.get(number=number).state == State.APPROVED
    revoked_by_the_ca(ca_admin, old)

    web = Client()
    with at(ROUND):
        web.force_login(applicant)
        page = web.get(f"/hall/applications/{number}/").content.decode()
        assert 'id="renew-panel"' not in page and "请用证书助手在线更新证书" not in page
        assert f"证书 {old.serial} 已于 2026-11-23 10:00 吊销，已不能在线更新" in page
        assert "本申请将自动关闭，已付的款项原路退回" in page
        assert "已不能在线更新，本申请将自动关闭并退款" in page  # the next step's box
        with pytest.raises(Conflict) as refused:  # the helper: as before
            renewal.request_renewal(applicant, number, **signed(key, old.serial, 1))  # type: ignore[arg-type]
        assert refused.value.code == "certificate_revoked"
        jobs.run_due_jobs()
        jobs.run_due_jobs()  # again: nothing more

        application = Application.objects.get(number=number)
        assert application.state == State.REFUNDED
        order = Order.objects.get(reference=application.payment_reference)
        assert order.status == Order.Status.REFUNDED
        assert order.refund_sent_at is not None  # back through the gateway in the same round
        events = AuditEvent.objects.filter(action="hall.application.refund", object_id=number)
        assert [e.result for e in events] == ["ok"]
        reason = events.get().after["reason"]
        assert "已于 2026-11-23 10:00 吊销" in reason and "已付的 150.00 元已退款" in reason
        assert "到期" not in reason and "续期" in reason and "新办" in reason
        texts = list(SmsMessage.objects.filter(phone=PHONE).values_list("kind", "text"))
        told = [t for k, t in texts if k == "application_status" and number in t]
        assert len(told) == 1 and "吊销" in told[0] and "已退款" in told[0]

        page = web.get(f"/hall/applications/{number}/").content.decode()
        assert 'id="renew-panel"' not in page and 'id="renewal-ended"' in page
        assert f"证书 {old.serial} 已于 2026-11-23 10:00 吊销，已不能在线续期" in page
        assert "已付的 150.00 元已退款，原路退回付款账户" in page
        api = web.get(f"/api/hall/applications/{number}").json()
        assert api["state"] == "refunded" and api["history"][-1]["reason"] == reason
        mine = web.get("/my/").content.decode()
        row = mine[mine.index(f'data-serial="{old.serial}"') :]
        row = row[: row.index("</tbody>")]
        assert '<span class="tag error">已吊销</span>' in row
        assert "renew-link" not in row and "受理点现场办理续期" not in row
        # the certificate is held by no application: what the counter says is that it is revoked
        assert renewal.lookup(applicant, old.serial, 1).open_application is None
        line = ItemRequest(business="revoke", serial=old.serial, revocation_reason="keyCompromise")
        assert counter_refusal(clerk, organization, handler, line) == "revoked"


def test_unpaid_and_free_online_renewals_of_revoked_certificates_are_cancelled(
    admin: User, hall_ca: object, applicant: User, organization: Organization, ca_admin: User
) -> None:
    """One awaiting payment is cancelled with its order (a payment after that is 多余到账 and
    goes back), a free ODC renewal is cancelled; one whose certificate is still valid stays."""
    _, unpaid_cert = keyed_ending_at(admin, organization, ENDS)
    _, odc = keyed_ending_at(admin, organization, ENDS, "org")
    _, valid = keyed_ending_at(admin, organization, ENDS)
    with at(FRIDAY):
        unpaid = renewal.start(applicant, unpaid_cert.serial, 1).number
        free = renewal.start(applicant, odc.serial, 1).number
        waiting = renewal.start(applicant, valid.serial, 1).number
        pay_online(waiting, applicant)
    assert Application.objects.get(number=unpaid).state == State.AWAITING_PAYMENT
    assert Application.objects.get(number=free).state == State.APPROVED
    revoked_by_the_ca(ca_admin, unpaid_cert)
    revoked_by_the_ca(ca_admin, odc)

    web = Client()
    with at(ROUND):
        web.force_login(applicant)
        page = web.get(f"/hall/applications/{free}/").content.decode()
        assert 'id="renew-panel"' not in page and "请用证书助手在线更新证书" not in page
        assert "本申请将自动取消" in page and "款项" not in page
        assert sorted(renewal.close_ended()) == sorted([unpaid, free])
        assert renewal.close_ended() == []
    assert Application.objects.get(number=unpaid).state == State.CANCELLED
    order = Order.objects.get(reference=Application.objects.get(number=unpaid).payment_reference)
    assert order.status == Order.Status.CANCELLED
    assert Application.objects.get(number=free).state == State.CANCELLED
    assert Application.objects.get(number=waiting).state == State.APPROVED
    texts = list(SmsMessage.objects.filter(phone=PHONE).values_list("text", flat=True))
    assert any(unpaid in t and "吊销" in t and "申请与订单已取消" in t for t in texts)
    assert any(free in t and "吊销" in t and "申请已取消" in t for t in texts)
    with at(ROUND):
        page = web.get(f"/hall/applications/{free}/").content.decode()
    assert 'id="renewal-ended"' in page and f"证书 {odc.serial} 已于 2026-11-23 10:00 吊销" in page


def test_an_online_renewal_issued_before_the_revocation_but_not_recorded_is_left_alone(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    ca_admin: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its new certificate was issued on Friday and a failure put the application back before it
    recorded it; the CA revoked the old certificate on Monday. The round leaves it (its refund
    would leave the customer the money and the certificate), and the helper's retry records it
    (``ca.renewal.renew`` finds the renewal by its key) and finishes it. This one passed before
    the change too: it keeps the revoked case from closing more than the ended one did."""
    key, old = keyed_ending_at(admin, organization, ENDS)
    with at(FRIDAY):
        number = renewal.start(applicant, old.serial, 1).number
        pay_online(number, applicant)
        request = issued_unrecorded(applicant, key, old, number, 1, monkeypatch)
    revoked_by_the_ca(ca_admin, old)
    with at(ROUND):
        assert renewal.close_ended() == []
        assert Application.objects.get(number=number).state == State.APPROVED
        assert Order.objects.get(object_id=number).status == Order.Status.PAID
        assert not AuditEvent.objects.filter(
            action="hall.application.refund", object_id=number
        ).exists()
        done = renewal.request_renewal(applicant, number, **request)  # type: ignore[arg-type]
        assert done.new_certificate is not None
        assert Application.objects.get(number=number).state == State.ISSUED
        # written to the Ukey: the old certificate is revoked already, and it ends as any other
        assert renewal.confirm_installed(applicant, number).state == State.DELIVERED


def chip(page: str) -> str:
    """The state's chip at the head of an application's page."""
    found = re.search(r'id="application-state">([^<]*)<', page)
    assert found is not None
    return found.group(1)


def list_row(page: str, number: str) -> str:
    """The row of ``number`` in 我的申请."""
    start = page.index(number)
    return page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]


def test_the_chip_and_my_applications_say_what_the_progress_line_says(
    admin: User, hall_ca: object, applicant: User, organization: Organization, ca_admin: User
) -> None:
    """Until the round closes it, a paid renewal of a revoked certificate said 已不能在线更新，
    本申请将自动关闭并退款 in its progress line while its chip, and its row in 我的申请, still
    said 待在线更新 (12-07). Now the chip and the row say it too, from the line's own predicate
    (``renewal.ended_waiting``); one whose certificate is still valid keeps 待在线更新."""
    _, revoked = keyed_ending_at(admin, organization, ENDS)
    _, valid = keyed_ending_at(admin, organization, ENDS)
    with at(FRIDAY):
        closing = renewal.start(applicant, revoked.serial, 1).number
        waiting = renewal.start(applicant, valid.serial, 1).number
        pay_online(closing, applicant)
        pay_online(waiting, applicant)
    revoked_by_the_ca(ca_admin, revoked)

    web = Client()
    web.force_login(applicant)
    with at(ROUND):
        page = web.get(f"/hall/applications/{closing}/").content.decode()
        other = web.get(f"/hall/applications/{waiting}/").content.decode()
        mine = web.get("/hall/applications/").content.decode()
    assert "已不能在线更新，本申请将自动关闭并退款" in page
    assert chip(page) == "已不能在线更新" and 'class="state warn"' in page
    assert chip(other) == "待在线更新"
    row = list_row(mine, closing)
    assert "已不能在线更新</span>" in row and "待在线更新" not in row
    assert "已不能在线更新，本申请将自动关闭并退款" in row
    assert "待在线更新</span>" in list_row(mine, waiting)


def test_an_unpaid_online_renewal_of_a_revoked_certificate_cannot_be_paid(
    admin: User, hall_ca: object, applicant: User, organization: Organization, ca_admin: User
) -> None:
    """Until the round cancels it (a minute), an unpaid renewal of a certificate the CA revoked
    could still be paid, and the round then refunded it (12-07). Now starting the payment is
    refused, saying why and what to do: the application's page offers no 去支付 or cashier,
    the order's page and the API no way to pay, the cashier refuses. A payment the gateway took
    before is handled as before (recorded; the round refunds it), and the round cancels it."""
    _, cert = keyed_ending_at(admin, organization, ENDS)
    _, earlier = keyed_ending_at(admin, organization, ENDS)
    with at(FRIDAY):
        number = renewal.start(applicant, cert.serial, 1).number
        taken = renewal.start(applicant, earlier.serial, 1).number
        # paid at the cashier before the revocation; the gateway's notification comes after
        trade = sandbox.pay(
            applicant, Application.objects.get(number=taken).payment_reference, "alipay"
        )
    revoked_by_the_ca(ca_admin, cert)
    revoked_by_the_ca(ca_admin, earlier)
    reference = Application.objects.get(number=number).payment_reference

    web = Client()
    web.force_login(applicant)
    with at(ROUND):
        page = web.get(f"/hall/applications/{number}/").content.decode()
        order_page = web.get(f"/payments/orders/{reference}").content.decode()
        api = web.get(f"/api/payments/orders/{reference}").json()
        cashier = web.get(f"/payments/sandbox/{reference}?gateway=alipay")
        pressed = web.post(f"/payments/sandbox/{reference}?gateway=alipay", {"action": "pay"})
        with pytest.raises(Conflict) as refused:
            sandbox.pay(applicant, reference, "wechat")
        body = urlencode(sandbox.notification(trade)).encode("utf-8")
        assert payment_notify.handle("alipay", body, source="127.0.0.1").result == "paid"
    why = refused.value.message
    assert refused.value.code == "renewal_not_payable"
    assert f"证书 {cert.serial} 已于 2026-11-23 10:00 吊销" in why and "不能再付款" in why
    assert "吊销的证书不能续期" in why and "新办" in why and "受理点" in why
    assert 'id="pay-options"' not in page and "/payments/sandbox/" not in page
    assert why in page and "去支付" not in page
    assert chip(page) == "已不能在线更新" and "无需付款" in page
    assert 'id="pay-options"' not in order_page and "去支付" not in order_page
    assert 'id="pay-refused"' in order_page and why in order_page
    assert api["status"] == "pending" and api["payment_options"] == []
    assert api["payment_refused"] == why
    assert cashier.status_code == pressed.status_code == 409
    assert why in cashier.content.decode() and why in pressed.content.decode()
    assert not SandboxTrade.objects.filter(out_trade_no=reference).exists()
    # the money the gateway took before: recorded as today, then refunded by the round
    assert Application.objects.get(number=taken).state == State.APPROVED
    with at(ROUND):
        assert sorted(renewal.close_ended()) == sorted([number, taken])
    assert Application.objects.get(number=number).state == State.CANCELLED
    assert Application.objects.get(number=taken).state == State.REFUNDED


def test_a_valid_certificates_unpaid_renewal_is_still_offered_its_payment(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    _, cert = keyed_ending_at(admin, organization, ENDS)
    with at(FRIDAY):
        number = renewal.start(applicant, cert.serial, 1).number
    reference = Application.objects.get(number=number).payment_reference
    web = Client()
    web.force_login(applicant)
    with at(ROUND):
        page = web.get(f"/hall/applications/{number}/").content.decode()
        api = web.get(f"/api/payments/orders/{reference}").json()
        assert web.get(f"/payments/sandbox/{reference}?gateway=alipay").status_code == 200
    assert 'id="pay-options"' in page and chip(page) == "待付款"
    assert api["payment_options"] and api["payment_refused"] == ""
