"""Progress of an application: its history as the enterprise reads it, and the offline
applicant's way in: application number + USCC + an SMS code sent to the phone registered with
the application (the platform's SMS code mechanism, ``accounts.codes``, purpose ``refund``).

Look-ups are rate limited per client (10 a minute): the number and the USCC together are not a
secret worth guessing, but nobody should try many. Wrong codes are limited per application too
(5 in 15 minutes, as for a login): a guesser with many addresses still gets five tries at the
six digits. Every successful opening is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction

from certhall import clock, ratelimit
from certhall.accounts import codes
from certhall.accounts.models import SmsCode
from certhall.accounts.services import system_actor
from certhall.accounts.validation import uscc as valid_uscc
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.errors import InvalidInput, NotFound
from certhall.pki.identity import dated_number
from certhall.refunds.models import RefundApplication
from certhall.refunds.services import NUMBER_PREFIX
from certhall.refunds.states import APPLICATIONS, State
from certhall.rules import local

LOOKUP_LIMIT = ratelimit.Limit("refund_progress", 10, 60)
CODE_LIMIT = ratelimit.Limit("refund_progress_code", 5, 900, "rate_limited_refund_code")

#: What each audited step is called on the progress page.
STEPS = {
    "refunds.application.submit": "提交申请",
    "refunds.application.ask_more": "审核：需补充材料",
    "refunds.application.resubmit": "已补充材料",
    "refunds.application.first_approve": "初审通过，待复核",
    "refunds.application.approve": "审核通过",
    "refunds.application.reject": "不予返还",
    "refunds.application.batch": "进入拨付批次",
    "refunds.application.unbatch": "拨付批次已撤销，待重新拨付",
    "refunds.application.paid": "已拨付",
    "refunds.application.payout_failed": "拨付失败",
    "refunds.application.correct_account": "收款账户已更正，待重新拨付",
}
#: A step whose words depend on where it led: (action, state after) -> label.
STEPS_TO: dict[tuple[str, str], str] = {
    ("refunds.application.correct_account", State.FIRST_APPROVED): (
        "收款账户已更正，待另一名审核人员复核后重新拨付"
    ),
}
#: Steps whose reason the enterprise reads (an officer's remark, the bank's message).
WITH_REASON = frozenset(
    {
        "refunds.application.ask_more",
        "refunds.application.reject",
        "refunds.application.payout_failed",
    }
)


@dataclass(frozen=True)
class Step:
    at: datetime
    label: str
    note: str


def history(application: RefundApplication) -> list[Step]:
    """The application's audited steps, oldest first (officers' names are not shown)."""
    events = AuditEvent.objects.filter(
        object_type=APPLICATIONS.kind, object_id=application.number, result=audit.OK
    ).order_by("seq")
    steps = []
    for event in events:
        after: dict[str, Any] = event.after or {}
        label = STEPS_TO.get((event.action, str(after.get("state")))) or STEPS.get(event.action)
        if label is None:
            continue
        note = ""
        if event.action in WITH_REASON:
            note = str(after.get("reason") or after.get("message") or "")
        steps.append(Step(event.at, label, note))
    return steps


def _lookup(number: str, uscc: str, client: str | None) -> RefundApplication:
    ratelimit.check(LOOKUP_LIMIT, ratelimit.client_key(client))
    return _find(number, uscc)


def _find(number: str, uscc: str) -> RefundApplication:
    code = valid_uscc(uscc)
    typed = dated_number(number, NUMBER_PREFIX, longer=True)
    found = RefundApplication.objects.filter(number=typed, uscc=code) if typed else None
    application = found.first() if found is not None else None
    if application is None:
        # one answer for a number unknown and a USCC not its own: both fields
        raise NotFound(code="refund_progress_not_found").naming("number", "uscc")
    return application


def request_code(number: str, uscc: str, *, client: str | None) -> codes.CodeSent:
    """Send a code to the application's registered phone (rate limited like every code)."""
    application = _lookup(number, uscc, client)
    return codes.request_code(application.phone, SmsCode.Purpose.REFUND, client=client)


def code_pending(number: str, uscc: str) -> bool:
    """Whether the application's phone holds a progress code still good: after a code asked
    again too soon (a sending limit's refusal, whose request passed the look-up's limit) the page
    keeps the code's field only then. The phone's limit counts every purpose's codes, so the
    code it got last may be another's (a counter's, a login's): no field for it then."""
    return codes.active_code(_find(number, uscc).phone, SmsCode.Purpose.REFUND)


def open_progress(
    number: str, uscc: str, code: str, *, client: str | None, at: datetime | None = None
) -> RefundApplication:
    """The application, once the code sent to its phone is given back (audited)."""
    application = _lookup(number, uscc, client)
    now = at or clock.now()
    guess = codes.reserve_guess(
        application.phone, SmsCode.Purpose.REFUND, [(CODE_LIMIT, application.number)], now=now
    )
    with transaction.atomic():
        try:
            codes.take(application.phone, SmsCode.Purpose.REFUND, code, now)
        except codes.CodeRefused as refused:  # a wrong code counts
            raise InvalidInput(code="refund_progress_code", reason=refused.message).naming(
                "code"
            ) from None
        ratelimit.release(guess)
        audit.record(
            system_actor("refunds"),
            "refunds.progress.open",
            object_type=APPLICATIONS.kind,
            object_id=application.number,
            after={"client": client, "via": "sms"},
        )
    return application


def summary(application: RefundApplication) -> dict[str, Any]:
    """What the progress page and the API show an enterprise of its application."""
    return {
        "number": application.number,
        "programme": application.programme.name,
        "enterprise_name": application.enterprise_name,
        "uscc": application.uscc,
        "channel": application.get_channel_display(),
        "state": application.state,
        "state_label": application.get_state_display(),
        "amount_yuan": str(application.amount),
        "note": application.note
        if application.state in (State.MORE_INFO, State.REJECTED, State.FAILED)
        else "",
        "account": f"{application.bank_name} ****{application.account_number[-4:]}",
        "history": [
            {"at": local(step.at).isoformat(), "label": step.label, "note": step.note}
            for step in history(application)
        ],
    }
