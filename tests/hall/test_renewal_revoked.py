"""An online renewal whose certificate the CA revoked before the helper renewed it (12-06, h1).

The CA revokes a certificate by its own command (``certhall ca revoke``: ``ca.services.revoke``)
while the customer's online renewal of it is open. The helper can no longer renew it
(``ca.renewal`` refuses a revoked certificate), so the jobs' round closes it as it closes one
whose certificate ended (``renewal.close_ended``): refunded when paid, cancelled otherwise, the
reason worded for the revocation. Before, nothing closed it until the certificate's notAfter,
possibly a year later: the money stayed held and the page kept offering 在线更新证书."""

from __future__ import annotations

from datetime import datetime

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
from certhall.payments.models import Order
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
        row = row[: row.index("</tr>")]
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
