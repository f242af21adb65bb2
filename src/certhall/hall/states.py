"""The application state machine: one table of allowed transitions for all six businesses.

The seed's own order is followed (证书办理须知: "提交资料--->缴费--->领取证书"; online 新办:
"在线支付宝/微信支付证书费用后,等待三个工作日深圳CA审核"): the customer submits complete
documents, **pays, then the CA reviews**, issues and delivers::

    draft --submit--> awaiting_payment --paid--> paid ----+
      |                      |                            |--approve--> approved --> issuing
      +--submit (free)--> submitted ----------------------+                ^    |     |
                                                          |--return--> returned |     v
                     resubmitted <--resubmit-- returned <-+            (back on |  issued
                          |                                             failure)    |
                          +--approve / return                                   delivered

    cancelled: nothing was paid (draft, awaiting_payment, submitted, returned, resubmitted,
               approved of a free application)
    refunded:  the fee was paid and refunded before issuance (paid, returned, resubmitted,
               approved)

``submitted`` and ``paid`` are the same place in the flow (in the review queue, the working-day
clock running); ``submitted`` is for a free business (nothing to pay, e.g. 变更, 解锁, an ODC
续期), ``paid`` for one whose fee was paid. ``issuing`` claims the application for one issuer at
a time (two simultaneous issuances give one certificate); a failure goes back to ``approved``
with what was already done kept on the items. Everything not in the table is refused.

Whether ``cancelled`` or ``refunded`` applies also depends on whether money was paid; that is a
guard in the services (``services.cancel``, ``payment.refund_application``), not a transition.
"""

from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.db import models

from certhall.lifecycle import Lifecycle

if TYPE_CHECKING:
    from certhall.hall.models import Application


class State(models.TextChoices):
    DRAFT = "draft", "草稿"
    AWAITING_PAYMENT = "awaiting_payment", "待付款"
    SUBMITTED = "submitted", "已提交，待审核"
    PAID = "paid", "已付款，待审核"
    RETURNED = "returned", "已退回补正"
    RESUBMITTED = "resubmitted", "已补正，待审核"
    APPROVED = "approved", "审核通过，待制证"
    ISSUING = "issuing", "制证中"
    ISSUED = "issued", "已制证"
    DELIVERED = "delivered", "已交付"
    CANCELLED = "cancelled", "已取消"
    REFUNDED = "refunded", "已退款"


#: A state's pill (web/site.css ``.state`` levels), for the customer and the staff alike: whose
#: turn it is. ``warn`` the customer must act (pay, correct documents), ``info`` the CA has it in
#: hand (an issued certificate still awaits delivery), ``ok`` done, ``closed`` ended.
TONES: dict[str, str] = {
    State.DRAFT: "info",
    State.AWAITING_PAYMENT: "warn",
    State.SUBMITTED: "info",
    State.PAID: "info",
    State.RETURNED: "warn",
    State.RESUBMITTED: "info",
    State.APPROVED: "info",
    State.ISSUING: "info",
    State.ISSUED: "info",
    State.DELIVERED: "ok",
    State.CANCELLED: "closed",
    State.REFUNDED: "closed",
}

TRANSITIONS: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset({State.AWAITING_PAYMENT, State.SUBMITTED, State.CANCELLED}),
    State.AWAITING_PAYMENT: frozenset({State.PAID, State.CANCELLED}),
    State.SUBMITTED: frozenset({State.APPROVED, State.RETURNED, State.CANCELLED}),
    State.PAID: frozenset({State.APPROVED, State.RETURNED, State.REFUNDED}),
    State.RETURNED: frozenset({State.RESUBMITTED, State.CANCELLED, State.REFUNDED}),
    State.RESUBMITTED: frozenset({State.APPROVED, State.RETURNED, State.CANCELLED, State.REFUNDED}),
    State.APPROVED: frozenset({State.ISSUING, State.CANCELLED, State.REFUNDED}),
    State.ISSUING: frozenset({State.ISSUED, State.APPROVED}),
    State.ISSUED: frozenset({State.DELIVERED}),
    State.DELIVERED: frozenset(),
    State.CANCELLED: frozenset(),
    State.REFUNDED: frozenset(),
}

#: In the review queue (审核): documents complete, nothing to pay or paid.
IN_REVIEW = frozenset({State.SUBMITTED, State.PAID, State.RESUBMITTED})
#: The application is over; its items no longer hold their certificates.
FINAL = frozenset({State.DELIVERED, State.CANCELLED, State.REFUNDED})
#: The customer may still change data, items and documents.
EDITABLE = frozenset({State.DRAFT, State.RETURNED})


#: Businesses whose line makes no certificate (nothing is 制证), and what is done when finished.
NO_CERTIFICATE = {"unlock": "已解锁", "revoke": "已吊销"}


def done_words(businesses: Iterable[str]) -> str | None:
    """已解锁 / 已吊销 / 已解锁、已吊销 when every one of ``businesses`` makes no certificate;
    None when one of them makes a certificate (or there are none)."""
    kinds = list(dict.fromkeys(businesses))
    if not kinds or any(kind not in NO_CERTIFICATE for kind in kinds):
        return None
    return "、".join(NO_CERTIFICATE[kind] for kind in kinds)


#: An online renewal is not reviewed or issued by staff: once paid the customer updates it
#: with the certificate helper.
ONLINE_RENEWAL_LABELS = {
    State.PAID: "已付款",
    State.APPROVED: "待在线更新",
    State.ISSUING: "在线更新中",
    State.ISSUED: "新证书已签发，待写入Ukey",
}


def state_label(state: str, businesses: Iterable[str], online_renewal: bool = False) -> str:
    """The state's label in the words of the application's businesses: an application that
    makes no certificate (解锁, 吊销 only) never says 制证 (待制证, 制证中, 已制证), and an
    online renewal says what its customer's helper does."""
    if online_renewal and state in ONLINE_RENEWAL_LABELS:
        return ONLINE_RENEWAL_LABELS[State(state)]
    done = done_words(businesses)
    if done is not None:
        words = {
            State.APPROVED: "审核通过，待办理",
            State.ISSUING: "办理中",
            State.ISSUED: done,
            State.DELIVERED: f"{done}，已办结",
        }
        if state in words:
            return words[State(state)]
    return str(State(state).label)


def snapshot(application: Application) -> dict[str, Any]:
    """What the audit log records of an application before and after a change."""
    return {
        "state": application.state,
        "fee_total": str(application.fee_total),
        "postage": str(application.postage),
        "due_date": application.due_date.isoformat() if application.due_date else None,
        "due_provisional": application.due_provisional,
        "payment_reference": application.payment_reference,
    }


APPLICATIONS: Lifecycle[Application] = Lifecycle(
    kind="application",
    model="hall.Application",
    states=State,
    table=TRANSITIONS,
    noun="申请",
    key=attrgetter("number"),
    refused="application_state",
    changed="application_changed",
    snapshot=snapshot,
    touch="updated_at",
)
