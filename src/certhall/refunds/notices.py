"""What the refund programme tells the enterprise, through the one notifier
(``certhall.notify.notifier``): a decision it has to act on (补充材料, a failed transfer) or
that it waits for (审核通过, 不予返还, 已拨付), and an offline application's number when the
counter enters it, by SMS to the phone given with the application and,
for an online application, by email to the enterprise's account when it has an address. The
message ends with the link to where the enterprise follows its application: its page after
certificate login (online), the progress query by SMS code (offline).

Sent inside the caller's transaction, like the change of state it reports: if the change rolls
back (a bank file with a refused line applies nothing), so does the SMS.
"""

from __future__ import annotations

from certhall.accounts.models import Role, User
from certhall.messages import text
from certhall.notify.messages import Kind
from certhall.notify.notifier import notify
from certhall.refunds.models import Channel, RefundApplication
from certhall.refunds.states import State
from certhall.web import paths

#: The states the enterprise hears of (a first approval waits for the second officer: not yet).
TOLD = frozenset({State.APPROVED, State.MORE_INFO, State.REJECTED, State.PAID, State.FAILED})
#: ... and an offline application's entry at the counter: the number it is followed by (进度查询
#: asks for it) reached the enterprise only aloud from the clerk before (12-07). An online
#: applicant reads it on the page it applied on.
TOLD_OFFLINE = TOLD | {State.SUBMITTED}


def told(actor: User, application: RefundApplication) -> RefundApplication:
    """Send the message for the state ``application`` has just entered (nothing for the
    states not in :data:`TOLD`); returns ``application``."""
    state = State(application.state)
    online = application.channel == Channel.ONLINE
    if state not in (TOLD if online else TOLD_OFFLINE):
        return application
    entered_by = application.entered_by
    email = entered_by.email if online and entered_by.role == Role.APPLICANT else ""
    notify(
        Kind.REFUND_STATUS,
        context={
            "organization": application.enterprise_name,
            "application": application.number,
            "status": state.label,
            "detail": _detail(application, state, online),
            # online: its page, after certificate login or, on a phone, the query by SMS code
            # it sends to; offline: that query, the number filled in
            "link": paths.absolute("refunds:application", application.number)
            if online
            else paths.absolute("refunds:progress", query={"number": application.number}),
        },
        phone=application.phone or None,
        email=email or None,
        actor=actor,
    )
    return application


def _detail(application: RefundApplication, state: State, online: bool) -> str:
    code = f"refund_notice.{state.value}"
    if state in (State.MORE_INFO, State.SUBMITTED) and not online:
        code += ".offline"
    programme = application.programme
    return text(
        code,
        amount=f"{application.amount:.2f}",
        tail=application.account_number[-4:],
        note=application.note,
        hotline=programme.hotline,
        hotline_name=programme.hotline_name,
    )
