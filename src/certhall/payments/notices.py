"""What payments tell the customer, through the one notifier (``certhall.notify.notifier``):
that a refunded order's money has been sent back (by the gateway's refund or by finance's
transfer), and that money which arrived for an order no longer waiting for it (多余到账,
``payments.surplus``) has been sent back, with when, the reference to look for on the
statement and the link to the order. By SMS and email to the enterprise's active online-hall
accounts; inside the transaction that records the sending, so a record that rolls back tells
nobody.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from certhall.accounts.models import Role, User
from certhall.notify.messages import Kind
from certhall.notify.notifier import notify
from certhall.payments.models import Order
from certhall.rules import local
from certhall.web import paths

if TYPE_CHECKING:
    from certhall.payments.models import SurplusPayment


def refund_sent(actor: User, order: Order, *, by_gateway: bool) -> None:
    what = "退款单号" if by_gateway else "流水号"
    context = _context(order, order.refund_sent_at, f"{what}{order.refund_sent_reference}")
    _tell(actor, order, Kind.REFUND_SENT, context | {"amount": f"{order.amount:.2f}"})


def surplus_returned(actor: User, surplus: SurplusPayment, *, by_gateway: bool) -> None:
    """The second payment of ``surplus``'s order went back to the payer."""
    what = "退款单号" if by_gateway else "流水号"
    context = _context(surplus.order, surplus.returned_at, f"{what}{surplus.returned_reference}")
    context |= {"amount": f"{surplus.amount:.2f}", "gateway": surplus.gateway_label}
    _tell(actor, surplus.order, Kind.SURPLUS_RETURNED, context)


def _context(order: Order, sent_at: datetime | None, reference: str) -> dict[str, str]:
    return {
        "organization": order.organization.name,
        "order": order.reference,
        "date": f"{local(sent_at):%Y-%m-%d}" if sent_at else "",
        "reference": reference,
        "link": paths.absolute("payments-order", order.reference),
    }


def _tell(actor: User, order: Order, kind: Kind, context: dict[str, str]) -> None:
    """``kind`` by SMS and email to each of ``order``'s enterprise's online-hall accounts."""
    accounts = User.objects.filter(
        organization_id=order.organization_id, role=Role.APPLICANT, is_active=True
    ).order_by("pk")
    phones = dict.fromkeys(a.phone for a in accounts if a.phone)
    emails = dict.fromkeys(a.email for a in accounts if a.email)
    for phone in phones:
        notify(kind, context=context, phone=phone, actor=actor)
    for email in emails:
        notify(kind, context=context, email=email, actor=actor)
