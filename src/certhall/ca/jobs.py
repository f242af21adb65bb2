"""Scheduled CA jobs: recover interrupted issuance, keep CRLs and OCSP responder certificates
fresh before anyone asks."""

from __future__ import annotations

import logging

from certhall import clock
from certhall.ca import crls, ocsp, ocsp_store
from certhall.ca.models import CertificateAuthority

log = logging.getLogger(__name__)


def run_due_jobs() -> None:
    from certhall.accounts.services import system_actor
    from certhall.hall.issuance import recover  # interrupted issuance onto Ukeys

    for number in recover(system_actor("recovery")):
        log.warning("recovered the interrupted issuance of %s", number)
    from certhall.audit import checkpoints
    from certhall.audit.services import record_counted_refusals

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
    from certhall.notify.jobs import run_due_notifications  # renewal reminders, email retries

    run_due_notifications(now)
    from certhall.hall import calendar  # the hall's deadlines count this calendar

    warning = calendar.next_year_warning(clock.today())
    if warning:
        log.warning("%s", warning)
