"""What payments tell the customer, through the one notifier (``certhall.notify.notifier``):
that a refunded order's money has been sent back (by the gateway's refund or by finance's
transfer), with when, the reference to look for on the statement and the link to the order.
By SMS and email to the enterprise's active online-hall accounts; inside the transaction that
records the sending, so a record that rolls back tells nobody.
"""

from __future__ import annotations

from certhall.accounts.models import Role, User
from certhall.notify.messages import Kind
from certhall.notify.notifier import notify
from certhall.payments.models import Order
from certhall.rules import local
from certhall.web import paths


def refund_sent(actor: User, order: Order, *, by_gateway: bool) -> None:
    accounts = User.objects.filter(
        organization_id=order.organization_id, role=Role.APPLICANT, is_active=True
    ).order_by("pk")
    what = "退款单号" if by_gateway else "流水号"
    sent_at = order.refund_sent_at
    context = {
        "organization": order.organization.name,
        "order": order.reference,
        "amount": f"{order.amount:.2f}",
        "date": f"{local(sent_at):%Y-%m-%d}" if sent_at else "",
        "reference": f"{what}{order.refund_sent_reference}",
        "link": paths.absolute("payments-order", order.reference),
    }
    phones = dict.fromkeys(a.phone for a in accounts if a.phone)
    emails = dict.fromkeys(a.email for a in accounts if a.email)
    for phone in phones:
        notify(Kind.REFUND_SENT, context=context, phone=phone, actor=actor)
    for email in emails:
        notify(Kind.REFUND_SENT, context=context, email=email, actor=actor)
