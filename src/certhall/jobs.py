"""The scheduled jobs of every app: recover interrupted issuance, keep CRLs and OCSP responder
certificates fresh before anyone asks, then the notices, payments and bills due. Above the
apps: it calls each of them, none of them calls it (it lived in ``ca`` until 12-06, which made
``ca`` and ``hall``, ``ca`` and ``notify`` import each other).

Run once across all servers (docs/deployment.md, "Jobs"): every ``certhall serve`` starts a job
loop, and each round belongs to a time slot; the process whose insert of the slot's
:class:`JobRound` row wins runs it, the others skip it. The database's unique constraint is the
arbiter, the same on SQLite and PostgreSQL, and nothing is held between rounds, so a server that
dies simply stops winning slots.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import date, datetime, timedelta

from django.db import IntegrityError, transaction

from certhall import clock, config
from certhall.accounts.services import system_actor
from certhall.audit import checkpoints
from certhall.audit.services import record_counted_refusals
from certhall.ca import crls, ocsp, ocsp_store
from certhall.ca.models import CertificateAuthority, JobRound
from certhall.hall import calendar
from certhall.hall.issuance import recover
from certhall.hall.renewal import close_ended
from certhall.notify.jobs import run_due_notifications
from certhall.payments.gateway_bills import reconcile_due
from certhall.payments.refunding import send_due
from certhall.payments.sandbox import redeliver_due
from certhall.payments.surplus import resume_due

log = logging.getLogger(__name__)

#: A round still running after this long is taken for dead (its process was killed): the
#: next slot runs anyway.
STALE_ROUND = timedelta(minutes=10)
#: Rounds are kept this long, for operators asking "did the jobs run, and where".
KEEP_ROUNDS = timedelta(days=2)


def run_round(now: datetime | None = None) -> JobRound | None:
    """Claim the current slot and run the jobs; None when another process has it, or when an
    earlier round is still running."""
    now = now or clock.now()
    interval = config.get().jobs_interval
    slot = datetime.fromtimestamp(now.timestamp() // interval * interval, tz=now.tzinfo)
    running = JobRound.objects.filter(finished_at__isnull=True, started_at__gt=now - STALE_ROUND)
    if running.exclude(slot=slot).exists():
        return None
    try:
        with transaction.atomic():
            claimed = JobRound.objects.create(
                slot=slot, host=socket.gethostname(), pid=os.getpid(), started_at=now
            )
    except IntegrityError:
        return None
    log.info("ran round %s", slot.isoformat())
    try:
        run_due_jobs()
    finally:  # a failed round is over too: the next slot must not wait for it
        finished = clock.now()
        JobRound.objects.filter(pk=claimed.pk).update(finished_at=finished)
        JobRound.objects.filter(slot__lt=finished - KEEP_ROUNDS).delete()
    claimed.finished_at = finished
    return claimed


def run_due_jobs() -> None:
    for number in recover(system_actor("recovery")):  # interrupted issuance onto Ukeys
        log.warning("recovered the interrupted issuance of %s", number)
    summarised = record_counted_refusals(system_actor("jobs"))
    if summarised:
        log.warning("summarised %s refused unauthenticated requests in the audit log", summarised)
    mark = checkpoints.write_if_due()
    if mark is not None:
        log.info("audit checkpoint at event %s", mark.seq)
    for crl in crls.refresh_due():
        log.info("published CRL %s #%s", crl.ca.slug, crl.number)
    now = clock.now()
    for ca in CertificateAuthority.objects.all():
        ocsp.ensure_responder(ca, now)
    signed = ocsp_store.refresh_due(now)
    if signed:
        log.info("pre-signed %s OCSP answers", signed)
    for number in close_ended(now):  # online renewals whose certificate ended or was revoked
        log.info("closed the online renewal %s: its certificate ended or was revoked", number)
    run_due_notifications(now)  # renewal reminders, email retries
    redelivered = redeliver_due(now)  # the payment stand-in's retries
    if redelivered:
        log.warning("the payment sandbox redelivered %s notifications", redelivered)
    refunded = send_due(now)  # online refunds through the gateway
    if refunded:
        log.info("sent %s online refunds through their gateways", refunded)
    resumed = resume_due(now)  # 原路退回 calls whose answer was lost
    if resumed:
        log.warning("recorded %s surplus payments sent back by lost calls", resumed)
    reconciled = reconcile_due(now)  # yesterday's bills, once a day
    if reconciled:
        log.info("reconciled %s online gateways' daily bills", reconciled)
    for number, before, after in calendar.refresh_estimates(system_actor("jobs")):
        log.info("the deadline of %s is now %s (was %s, an estimate)", number, after, before)
    warn_calendar(clock.today())


#: The day the calendar's warning was last logged by this process.
_calendar_warned: list[date] = []


def warn_calendar(today: date) -> None:
    """The next year's holiday calendar missing: logged once a day, not every minute's round
    (the console shows it on every page until it is imported; the hall's deadlines count this
    calendar)."""
    warning = calendar.next_year_warning(today)
    if warning and _calendar_warned != [today]:
        _calendar_warned[:] = [today]
        log.warning("%s", warning)
