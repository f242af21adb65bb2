"""Notification services: send a text message (to the outbox by default), list the outbox.

``send_sms`` joins the caller's transaction: if the action that sends the message rolls back,
the message disappears with it (an unlock that failed never "sends" its PIN).
"""

from __future__ import annotations

import re

from django.db import transaction

from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import InvalidInput
from certhall.notify.backends import sms_backend
from certhall.notify.messages import SMS_LIMIT, template
from certhall.notify.models import SmsMessage, mask_phone
from certhall.phones import mainland_mobile

MAX_TEXT = SMS_LIMIT
KIND = re.compile(r"[a-z][a-z0-9_.-]{0,31}")
OUTBOX_LIMIT = 200


def normalise_phone(phone: str) -> str:
    """A mainland mobile number as 11 digits; blanks, dashes and a +86 / 0086 prefix are
    accepted (``phones.mainland_mobile``). InvalidInput otherwise."""
    number = mainland_mobile(phone)
    if number is None:
        raise InvalidInput(code="phone_invalid")
    return number


def send_sms(phone: str, text: str, kind: str, *, actor: User | None = None) -> SmsMessage:
    """Send one text message through the configured backend (the outbox by default).

    ``kind`` says what it is for (``ukey.pin``, ``ukey.unlock_pin`` ...). With an ``actor`` the
    sending is audited: kind, masked number, message id; never the text.
    """
    number = normalise_phone(phone)
    if not text or not text.strip():
        raise InvalidInput(code="sms_empty")
    if len(text) > MAX_TEXT:
        raise InvalidInput(code="sms_too_long", limit=MAX_TEXT)
    if not KIND.fullmatch(kind):
        raise InvalidInput(code="sms_kind_invalid", kind=kind)
    backend = sms_backend()
    with transaction.atomic(savepoint=False):  # as notifier.notify's
        message = SmsMessage.objects.create(
            phone=number, text=text, kind=kind, backend=backend.name
        )
        backend.deliver(message)
        message.save(update_fields=["status", "sent_at", "error"])
        if actor is not None:
            audit.record(
                actor,
                "notify.sms.send",
                object_type="sms",
                object_id=message.pk,
                after={
                    "phone": mask_phone(number),
                    "kind": kind,
                    "backend": backend.name,
                    "status": message.status,
                },
            )
    return message


def list_outbox(
    actor: User, *, phone: str | None = None, kind: str | None = None, limit: int = OUTBOX_LIMIT
) -> list[SmsMessage]:
    """The newest messages, for CA administrators (they may hold PINs: reading is audited)."""
    with audit.refusals_recorded(actor, "notify.outbox.read", object_type="sms"):
        require_role(actor, Role.CA_ADMIN)  # inside: a refusal on role is audited too
        query = SmsMessage.objects.all()
        number = normalise_phone(phone) if phone else None
        if number:
            query = query.filter(phone=number)
        if kind:  # one of the catalogue's kinds (a typo is refused, not an empty list)
            query = query.filter(kind=template(kind).kind.value)
        if not 1 <= limit <= 10_000:
            raise InvalidInput(code="limit_invalid", low=1, high=10000)
        messages = list(query.order_by("-created_at", "-pk")[:limit])
        audit.record(
            actor,
            "notify.outbox.read",
            object_type="sms",
            after={
                "phone": mask_phone(number) if number else None,
                "kind": kind,
                "count": len(messages),
            },
        )
    return messages
