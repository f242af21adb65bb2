"""Renewal reminders (续期提醒): 30 and 7 days before a certificate expires, once each.

Run by the job runner (``certhall jobs``, every minute with ``--loop``). A certificate is due
for the 30-day reminder when it is valid, one of ours (``org`` / ``personal`` profile) and
expires within 30 days; for the 7-day one within 7 days. A :class:`RenewalReminder` row per
(certificate, threshold) — a unique constraint — makes each reminder happen once however often
the job runs, also with two job runners at the same time (the loser's insert fails and it moves
on). If the job first sees a certificate inside 7 days, it sends the 7-day reminder only and
records the 30-day one as ``skipped``: two reminders at once would only be noise.

Recipients (docs/notifications.md): by SMS the handler phone of every Ukey that holds the
certificate (the 经办人 who received its PIN) and the phone of every active online-hall account
of the holder organisation; by email the addresses of the organisation's active applicant
accounts. Duplicates are sent once. Each reminder is audited by the actor ``system-jobs``.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from certhall import clock
from certhall.accounts.models import EnterpriseAccount, Organization, Role, User
from certhall.audit import services as audit
from certhall.ca.models import Certificate
from certhall.messages import day_text
from certhall.notify import mail
from certhall.notify.messages import Kind
from certhall.notify.models import RenewalReminder, mask_phone
from certhall.notify.notifier import notify
from certhall.web import paths

log = logging.getLogger(__name__)

THRESHOLDS = (30, 7)  # days before notAfter, largest first
PROFILES = ("org", "personal")
CERT_TYPES = {"org": "机构证书（ODC证书）", "personal": "机构个人证书（法人证书）"}


def _due(now: datetime, threshold: int) -> list[Certificate]:
    """Valid certificates inside ``threshold`` days (and outside the next smaller threshold),
    without a reminder at that threshold yet."""
    smaller = [t for t in THRESHOLDS if t < threshold]
    lower = now + timedelta(days=max(smaller)) if smaller else now
    return list(
        Certificate.objects.filter(
            status=Certificate.Status.VALID,
            profile__in=PROFILES,
            not_after__gt=lower,
            not_after__lte=now + timedelta(days=threshold),
        )
        .exclude(renewal_reminders__threshold_days=threshold)
        .select_related("organization")
        .order_by("not_after", "pk")
    )


def send_renewal_reminders(now: datetime | None = None) -> list[RenewalReminder]:
    """Send every reminder that is due now; return the reminders recorded by this run."""
    now = now or clock.now()
    done: list[RenewalReminder] = []
    for threshold in THRESHOLDS:
        for cert in _due(now, threshold):
            reminder = _remind(cert, threshold, now)
            if reminder is not None:
                done.append(reminder)
    return done


def _organization(cert: Certificate) -> Organization | None:
    if cert.organization is not None:
        return cert.organization
    if cert.uscc:
        return Organization.objects.filter(uscc=cert.uscc).first()
    return None


def contacts(cert: Certificate) -> tuple[list[str], list[str]]:
    """(phones, emails) that hear about this certificate, without duplicates, in a stable
    order: Ukey handler phones, then account phones; account emails."""
    phones: list[str] = []
    emails: list[str] = []
    for ukey_phone in (
        cert.ukeys.exclude(handler_phone="").order_by("pk").values_list("handler_phone", flat=True)
    ):
        phones.append(ukey_phone)
    org = _organization(cert)
    if org is not None:
        phones += (
            EnterpriseAccount.objects.filter(organization=org, user__is_active=True)
            .order_by("pk")
            .values_list("phone", flat=True)
        )
        emails += (
            User.objects.filter(organization=org, role=Role.APPLICANT, is_active=True)
            .exclude(email="")
            .order_by("pk")
            .values_list("email", flat=True)
        )
    return list(dict.fromkeys(phones)), list(dict.fromkeys(e.lower() for e in emails))


def _context(cert: Certificate, now: datetime) -> dict[str, object]:
    org = _organization(cert)
    expires = cert.not_after.astimezone(clock.SHANGHAI).date()
    kind = CERT_TYPES.get(cert.profile, cert.profile)
    if cert.profile == "personal" and cert.person_name:
        kind = f"{kind}（{cert.person_name}）"
    return {
        "organization": org.name if org else cert.org_name,
        "cert_type": kind,
        "serial": cert.serial,
        "expires": day_text(expires),
        "days": max(0, (expires - now.astimezone(clock.SHANGHAI).date()).days),
        "link": paths.absolute("hall-applicant:renew", query={"serial": cert.serial}),
    }


def _remind(cert: Certificate, threshold: int, now: datetime) -> RenewalReminder | None:
    from certhall.accounts.services import system_actor

    actor = system_actor("jobs")
    phones, emails = contacts(cert)
    if not mail.enabled():
        emails = []
    try:
        with transaction.atomic():
            reminder = RenewalReminder.objects.create(
                certificate=cert,
                threshold_days=threshold,
                status=RenewalReminder.Status.SENT,
                created_at=now,
            )
            skipped = [
                RenewalReminder.objects.create(
                    certificate=cert,
                    threshold_days=larger,
                    status=RenewalReminder.Status.SKIPPED,
                    created_at=now,
                ).threshold_days
                for larger in THRESHOLDS
                if larger > threshold
                and not RenewalReminder.objects.filter(
                    certificate=cert, threshold_days=larger
                ).exists()
            ]
            context = _context(cert, now)
            sms_ids: list[int] = []
            email_ids: list[int] = []
            for phone in phones:
                sms = notify(Kind.RENEWAL_REMINDER, context=context, phone=phone).sms
                if sms is not None:
                    sms_ids.append(sms.pk)
            for address in emails:
                queued = notify(Kind.RENEWAL_REMINDER, context=context, email=address).email
                if queued is not None:
                    email_ids.append(queued.pk)
            status = (
                RenewalReminder.Status.SENT
                if sms_ids or email_ids
                else RenewalReminder.Status.NO_CONTACT
            )
            reminder.status = status
            reminder.sms_count, reminder.email_count = len(sms_ids), len(email_ids)
            reminder.save(update_fields=["status", "sms_count", "email_count"])
            audit.record(
                actor,
                "notify.reminder.renewal",
                object_type="certificate",
                object_id=cert.serial,
                after={
                    "threshold_days": threshold,
                    "status": status,
                    "not_after": cert.not_after.isoformat(),
                    "sms": sms_ids,
                    "phones": [mask_phone(p) for p in phones],
                    "emails": email_ids,
                    "skipped_thresholds": skipped,
                },
            )
    except IntegrityError:
        # Another job runner recorded this reminder first: it is theirs to send.
        log.info("renewal reminder %sd of %s already recorded", threshold, cert.serial)
        return None
    log.info("renewal reminder %sd of %s: %s", threshold, cert.serial, status)
    return reminder
