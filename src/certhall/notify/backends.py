"""SMS backends. The default is the outbox: no SMS carrier is reachable from this platform.

A backend gets a saved :class:`~certhall.notify.models.SmsMessage` inside the sender's
transaction and sets its ``status`` (and ``sent_at`` / ``error``). A carrier backend would hand
the message over once the transaction commits (``transaction.on_commit``), so a message for an
action that rolls back is never sent.

The setting ``CERTHALL_SMS_BACKEND`` (dotted path) chooses one; unset means the outbox.
"""

from __future__ import annotations

from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from certhall.errors import ConfigurationError
from certhall.notify.models import SmsMessage

DEFAULT_SMS_BACKEND = "certhall.notify.backends.OutboxSmsBackend"


class SmsBackend(Protocol):
    name: str

    def deliver(self, message: SmsMessage) -> None:
        """Deliver (or queue) a saved message and update its status fields (not saved here)."""
        ...


class OutboxSmsBackend:
    """Keeps every message in the outbox (status ``outbox``); staff read it with
    ``certhall outbox``. This is the SMS "carrier" of development and of this platform."""

    name = "outbox"

    def deliver(self, message: SmsMessage) -> None:
        message.status = SmsMessage.Status.OUTBOX


def sms_backend() -> SmsBackend:
    path = getattr(settings, "CERTHALL_SMS_BACKEND", DEFAULT_SMS_BACKEND)
    try:
        backend: SmsBackend = import_string(path)()
    except ImportError:
        raise ConfigurationError(f"CERTHALL_SMS_BACKEND {path!r} cannot be imported") from None
    return backend
