"""SMS backends. The default is the outbox: no SMS carrier is reachable from this platform.

A backend gets a saved :class:`~certhall.notify.models.SmsMessage` inside the sender's
transaction and sets its ``status`` (and ``sent_at`` / ``error``). A carrier backend would hand
the message over once the transaction commits (``transaction.on_commit``), so a message for an
action that rolls back is never sent.

The setting ``CERTHALL_SMS_BACKEND`` (dotted path) chooses one; unset means the outbox.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.db import transaction
from django.utils.module_loading import import_string

from certhall import clock, config
from certhall.errors import ConfigurationError
from certhall.notify.models import SmsMessage

log = logging.getLogger(__name__)


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


class CarrierError(Exception):
    """A carrier refused or could not take a message (the text goes on the row, shortened)."""


class CarrierSmsBackend:
    """The base of a real SMS carrier (短信服务商) backend. No carrier is reachable from this
    platform, so none ships; a deployment that has one subclasses this and implements
    :meth:`submit` (one HTTPS call to the carrier's API, say), then sets
    ``CERTHALL_SMS_BACKEND`` to the subclass's dotted path.

    ``deliver`` leaves the message ``outbox`` (pending) and hands it to the carrier once the
    sender's transaction commits: a message of an action that rolled back is never sent, and a
    slow carrier holds no database lock. The outcome (``sent`` with ``sent_at``, or ``failed``
    with the error) is saved on the message; an error is never raised into the action, which
    already happened.
    """

    name = "carrier"

    def submit(self, phone: str, text: str) -> None:
        """Hand one message to the carrier; raise :class:`CarrierError` if it refuses."""
        raise NotImplementedError

    def deliver(self, message: SmsMessage) -> None:
        message.status = SmsMessage.Status.OUTBOX
        pk, phone, text = message.pk, message.phone, message.text
        transaction.on_commit(lambda: self._hand_over(pk, phone, text))

    def _hand_over(self, pk: int, phone: str, text: str) -> None:
        try:
            self.submit(phone, text)
        except (CarrierError, OSError) as error:
            SmsMessage.objects.filter(pk=pk).update(
                status=SmsMessage.Status.FAILED, error=str(error)[:200]
            )
            log.warning("SMS #%s not sent by %s: %s", pk, self.name, str(error)[:200])
            return
        SmsMessage.objects.filter(pk=pk).update(
            status=SmsMessage.Status.SENT, sent_at=clock.now(), error=""
        )


def sms_backend() -> SmsBackend:
    path = config.get().sms_backend
    try:
        backend: SmsBackend = import_string(path)()
    except ImportError:
        raise ConfigurationError(code="sms_backend_import", path=path) from None
    return backend
