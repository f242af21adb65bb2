"""The notifier: one call sends a message kind to a person by SMS and, where the kind allows
it and an address is known, by email.

    from certhall.notify.notifier import notify
    notify("review_result", phone=handler.phone, email=user.email, actor=reviewer,
           context={"organization": ..., "business": "新办", "application": "A2026...",
                    "result": "已通过", "reason": ""})

* SMS goes through the configured SMS backend (the outbox by default; ``send_sms``), inside the
  caller's transaction;
* email is queued in the caller's transaction and handed to SMTP after it commits
  (``certhall.notify.mail``); it is skipped for kinds without an email text (PINs, codes) and
  when no SMTP server is configured.

With an ``actor`` the sending is audited (kind, masked phone, whether an email was queued;
never the text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db import transaction

from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.errors import InvalidInput
from certhall.notify import mail
from certhall.notify.messages import Kind, render, template
from certhall.notify.models import OutgoingEmail, SmsMessage, mask_phone
from certhall.notify.services import send_sms


@dataclass(frozen=True)
class Delivery:
    kind: Kind
    sms: SmsMessage | None
    email: OutgoingEmail | None


def mask_email(address: str) -> str:
    name, _, domain = address.partition("@")
    return f"{name[:1]}***@{domain}" if domain else "***"


def notify(
    kind: Kind | str,
    *,
    context: Mapping[str, object],
    phone: str | None = None,
    email: str | None = None,
    actor: User | None = None,
) -> Delivery:
    """Send one message of ``kind``; at least one of ``phone`` and ``email`` must be given."""
    tpl = template(kind)
    if not phone and not email:
        raise InvalidInput(code="message_no_recipient", kind=tpl.kind.value)
    rendered = render(tpl.kind, context)
    # Joins the caller's transaction without a savepoint: a message that fails to be written
    # fails the change it reports (nobody catches it), and ``audit.deferred`` allows it.
    with transaction.atomic(savepoint=False):
        sms = send_sms(phone, rendered.sms, tpl.kind.value) if phone else None
        queued = None
        if email and rendered.email is not None and rendered.subject and mail.enabled():
            queued = mail.queue_email(email, rendered.subject, rendered.email, tpl.kind.value)
        if actor is not None:
            audit.record(
                actor,
                "notify.send",
                object_type="notification",
                object_id=tpl.kind.value,
                after={
                    "kind": tpl.kind.value,
                    "sms": sms.pk if sms else None,
                    "phone": mask_phone(sms.phone) if sms else None,
                    "email": queued.pk if queued else None,
                    "to": mask_email(queued.to) if queued else None,
                },
            )
    return Delivery(tpl.kind, sms, queued)
