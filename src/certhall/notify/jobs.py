"""The notification jobs the job runner (``certhall jobs``) runs with the CA's jobs."""

from __future__ import annotations

import logging
from datetime import datetime

from certhall import clock
from certhall.notify import mail, reminders

log = logging.getLogger(__name__)


def run_due_notifications(now: datetime | None = None) -> None:
    """Renewal reminders that are due, then another try for emails that failed."""
    now = now or clock.now()
    sent = reminders.send_renewal_reminders(now)
    if sent:
        log.info("renewal reminders: %d", len(sent))
    for email in mail.retry_failed(now):
        log.info("email #%s retried: %s", email.pk, email.status)
