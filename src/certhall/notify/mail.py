"""Email through SMTP (Django's SMTP EmailBackend as the ``default`` of ``MAILERS``,
configured from ``CERTHALL_SMTP_*``).

:func:`queue_email` stores the message in the sender's transaction and hands it to the SMTP
server once that transaction commits (``transaction.on_commit``): a notice of an action that
rolled back is never mailed, and a slow SMTP server never holds a database lock. A failure is
recorded on the row (``failed``, with the error) and never raised into the action that already
happened; :func:`retry_failed` (run by the job runner) tries again, up to ``MAX_ATTEMPTS``.

Without ``CERTHALL_SMTP_HOST`` email is off: :func:`enabled` is false and nothing is queued.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, mailers
from django.db import transaction

from certhall import clock, config
from certhall.notify.models import OutgoingEmail

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=5)


def enabled() -> bool:
    """Email goes out only with an SMTP host (``CERTHALL_SMTP_HOST``)."""
    return config.get().smtp.enabled


def queue_email(to: str, subject: str, body: str, kind: str) -> OutgoingEmail:
    row = OutgoingEmail.objects.create(to=to, subject=subject[:200], body=body, kind=kind)
    transaction.on_commit(lambda: deliver(row.pk))
    return row


def deliver(pk: int, now: datetime | None = None) -> OutgoingEmail:
    """Send one queued (or failed) email now; the row says how it went."""
    row = OutgoingEmail.objects.get(pk=pk)
    if row.status == OutgoingEmail.Status.SENT:
        return row
    message = EmailMessage(
        subject=row.subject,
        body=row.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.to],
    )
    row.attempts += 1
    row.last_attempt_at = now or clock.now()
    try:
        with mailers.default as connection:
            connection.send_messages([message])
    except (smtplib.SMTPException, OSError, UnicodeError) as error:
        row.status = OutgoingEmail.Status.FAILED
        row.error = f"{type(error).__name__}: {error}"[:200]
        log.warning("email #%s (%s) not sent: %s", row.pk, row.kind, row.error)
    else:
        row.status = OutgoingEmail.Status.SENT
        row.sent_at = row.last_attempt_at
        row.error = ""
    row.save(update_fields=["status", "attempts", "last_attempt_at", "sent_at", "error"])
    return row


def retry_failed(now: datetime | None = None) -> list[OutgoingEmail]:
    """Try the failed emails again (at most ``MAX_ATTEMPTS`` in all, 5 minutes apart)."""
    if not enabled():
        return []
    now = now or clock.now()
    due = OutgoingEmail.objects.filter(
        status=OutgoingEmail.Status.FAILED,
        attempts__lt=MAX_ATTEMPTS,
        last_attempt_at__lte=now - RETRY_AFTER,
    ).order_by("pk")[:100]
    return [deliver(row.pk, now) for row in due]
