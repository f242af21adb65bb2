"""What the hall tells the customer, through the one notifier (``certhall.notify.notifier``):
the review result of an online application, the mailing of its Ukey and an online renewal
closed because its certificate ended. SMS to the handler (an online renewal has none: to the
account that applied), email to the account that applied when it has an address, each with the
link to the application's page. Sent inside the caller's transaction
(the SMS rolls back with the action; the email leaves after the commit). On-site customers are
at the counter and are told there. The PIN itself is sent by ``ukeys`` when the Ukey is made.
"""

from __future__ import annotations

from certhall.accounts.models import User
from certhall.hall.models import Application, Business, Channel
from certhall.notify.notifier import notify
from certhall.web import paths


def _businesses(application: Application) -> str:
    names = dict.fromkeys(str(Business(i.business).label) for i in application.items.all())
    return "、".join(names) or "证书"


def _send(actor: User, application: Application, kind: str, context: dict[str, str]) -> None:
    if application.channel != Channel.ONLINE:
        return
    handler = application.handler
    phone = handler.phone if handler is not None else application.entered_by.phone or None
    email = application.entered_by.email or None
    if not phone and not email:
        return
    notify(
        kind,
        context={
            "organization": application.organization.name,
            "business": _businesses(application),
            "application": application.number,
            "link": paths.absolute("hall-applicant:detail", application.number),
            **context,
        },
        phone=phone,
        email=email,
        actor=actor,
    )


def review_result(actor: User, application: Application, *, approved: bool, reason: str) -> None:
    _send(
        actor,
        application,
        "review_result",
        {
            "result": "通过" if approved else "未通过，请补正资料后重新提交",
            "reason": reason,  # shortened in the SMS to fit (notify.messages); whole by email
        },
    )


def mailed(actor: User, application: Application) -> None:
    _send(
        actor,
        application,
        "application_status",
        {
            "status": "证书Ukey已寄出",
            "detail": f"{application.carrier}运单号{application.tracking_number}，"
            "证书密码已另行短信发送给经办人。",
        },
    )


def renewal_ended(actor: User, application: Application, reason: str) -> None:
    """An online renewal closed by the jobs because its certificate ended first (refunded, or
    cancelled): ``reason`` says why and that the counter renews it (``renewal.ended_reason``)."""
    _send(
        actor,
        application,
        "application_status",
        {"status": application.get_state_display(), "detail": reason},
    )
