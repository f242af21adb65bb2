"""The refund application's state machine: one table for the online and the counter channel.

::

    submitted --approve (at or below the threshold)--> approved --batch--> batched --> paid
        |  \\--approve (above the threshold)--> first_approved --second officer--> approved
        |                                           |                         batched --> failed
        +--ask for more--> more_info --supplied--> submitted                             |
        +--reject (with a reason) --> rejected      (first_approved: reject / ask too)   |
                                                    approved <--corrected account--------+
                                     (above the threshold: first_approved <--corrected account)
                                     approved <--its batch cancelled before release-- batched

``paid`` and ``rejected`` are final: nothing is ever paid twice, and a rejected enterprise does
not apply again in the same programme (one application per enterprise per programme). A failed
payout goes back to ``approved`` once its account is corrected and is batched again; above the
threshold to ``first_approved``, the new account waiting for a second officer as the first did.
A batch cancelled before its release gives its applications back to ``approved`` (nothing was
sent to the bank), and they are batched again.

The payout batch's own machine (:data:`BATCHES`), maker-checker on the transfer file::

    pending_release --a second refund officer--> released   (the file may go to the bank)
          \\--either officer, before release--> cancelled   (its applications approved again)
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.db import models

from certhall.lifecycle import Lifecycle

if TYPE_CHECKING:
    from certhall.refunds.models import PayoutBatch, RefundApplication


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
    # approved again: its batch cancelled before release (refunds.payout.cancel)
    State.BATCHED: frozenset({State.PAID, State.FAILED, State.APPROVED}),
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


class BatchState(models.TextChoices):
    """A payout batch: made by one refund officer, released to the bank by another."""

    PENDING_RELEASE = "pending_release", "待复核"
    RELEASED = "released", "已放行"
    CANCELLED = "cancelled", "已撤销"


BATCH_TRANSITIONS: dict[str, frozenset[str]] = {
    BatchState.PENDING_RELEASE: frozenset({BatchState.RELEASED, BatchState.CANCELLED}),
    BatchState.RELEASED: frozenset(),
    BatchState.CANCELLED: frozenset(),
}


def batch_snapshot(batch: PayoutBatch) -> dict[str, Any]:
    return {
        "state": batch.state,
        "count": batch.count,
        "total": str(batch.total),
        "sha256": batch.sha256,
    }


BATCHES: Lifecycle[PayoutBatch] = Lifecycle(
    kind="refund_batch",
    model="refunds.PayoutBatch",
    states=BatchState,
    table=BATCH_TRANSITIONS,
    noun="拨付批次",
    key=attrgetter("number"),
    refused="refund_batch_state",
    changed="refund_batch_changed",
    snapshot=batch_snapshot,
    actions={
        BatchState.RELEASED: "refunds.batch.release",
        BatchState.CANCELLED: "refunds.batch.cancel",
    },
)
