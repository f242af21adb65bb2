"""The refund application's state machine: one table for the online and the counter channel.

::

    submitted --approve (at or below the threshold)--> approved --batch--> batched --> paid
        |  \\--approve (above the threshold)--> first_approved --second officer--> approved
        |                                           |                         batched --> failed
        +--ask for more--> more_info --supplied--> submitted                             |
        +--reject (with a reason) --> rejected      (first_approved: reject / ask too)   |
                                                    approved <--corrected account--------+
                                     (above the threshold: first_approved <--corrected account)

``paid`` and ``rejected`` are final: nothing is ever paid twice, and a rejected enterprise does
not apply again in the same programme (one application per enterprise per programme). A failed
payout goes back to ``approved`` once its account is corrected and is batched again; above the
threshold to ``first_approved``, the new account waiting for a second officer as the first did.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.db import models

from certhall.lifecycle import Lifecycle

if TYPE_CHECKING:
    from certhall.refunds.models import RefundApplication


class State(models.TextChoices):
    SUBMITTED = "submitted", "已提交，待审核"
    MORE_INFO = "more_info", "待补充材料"
    FIRST_APPROVED = "first_approved", "初审通过，待复核"
    APPROVED = "approved", "审核通过，待拨付"
    REJECTED = "rejected", "不予返还"
    BATCHED = "batched", "拨付中"
    PAID = "paid", "已拨付"
    FAILED = "failed", "拨付失败，待更正账户"


TRANSITIONS: dict[str, frozenset[str]] = {
    State.SUBMITTED: frozenset(
        {State.APPROVED, State.FIRST_APPROVED, State.REJECTED, State.MORE_INFO}
    ),
    State.MORE_INFO: frozenset({State.SUBMITTED}),
    State.FIRST_APPROVED: frozenset({State.APPROVED, State.REJECTED, State.MORE_INFO}),
    State.APPROVED: frozenset({State.BATCHED}),
    State.BATCHED: frozenset({State.PAID, State.FAILED}),
    # a corrected account: a first approval, whatever the amount (a second officer approves
    # the account one officer typed: refunds.review.correct_account)
    State.FAILED: frozenset({State.FIRST_APPROVED}),
    State.PAID: frozenset(),
    State.REJECTED: frozenset(),
}

#: Waiting for a refund officer.
IN_REVIEW = frozenset({State.SUBMITTED, State.FIRST_APPROVED})
#: The application still claims its fee records (a rejected one gives them back).
CLAIMING = frozenset(s.value for s in State if s != State.REJECTED)
#: Decided in the enterprise's favour (counted as approved amounts on the dashboard).
APPROVED_OR_LATER = frozenset({State.APPROVED, State.BATCHED, State.PAID, State.FAILED})


def snapshot(application: RefundApplication) -> dict[str, Any]:
    return {
        "state": application.state,
        "amount": str(application.amount),
        "account_name": application.account_name,
        "account_number": application.account_number,
        "bank_name": application.bank_name,
    }


APPLICATIONS: Lifecycle[RefundApplication] = Lifecycle(
    kind="refund_application",
    model="refunds.RefundApplication",
    states=State,
    table=TRANSITIONS,
    noun="返还申请",
    key=attrgetter("number"),
    refused="refund_state",
    changed="refund_changed",
    snapshot=snapshot,
    touch="updated_at",
    actions={
        State.SUBMITTED: "refunds.application.resubmit",
        State.MORE_INFO: "refunds.application.ask_more",
        State.FIRST_APPROVED: "refunds.application.first_approve",
        State.APPROVED: "refunds.application.approve",
        State.REJECTED: "refunds.application.reject",
        State.BATCHED: "refunds.application.batch",
        State.PAID: "refunds.application.paid",
        State.FAILED: "refunds.application.payout_failed",
    },
)
