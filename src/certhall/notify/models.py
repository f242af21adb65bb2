"""Outgoing notifications. Today: text messages (SMS), kept in an outbox."""

from __future__ import annotations

from django.db import models


class SmsMessage(models.Model):
    """One text message to a mainland mobile number.

    With the default backend (no SMS carrier is reachable from this platform) the message stays
    in the outbox: ``status`` ``outbox``. A carrier backend sets ``sent`` or ``failed``. The text
    may carry a PIN (an unlocked Ukey's new PIN is sent this way, as the seed says): it is stored
    here, and nowhere else (not in the audit log, not in logs).
    """

    class Status(models.TextChoices):
        OUTBOX = "outbox", "待发送（发件箱）"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    phone = models.CharField(max_length=11, db_index=True)
    text = models.TextField()
    kind = models.CharField(max_length=32, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OUTBOX)
    backend = models.CharField(max_length=64)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "短信"

    def __str__(self) -> str:
        # Never the text: it may hold a PIN.
        return f"SMS #{self.pk} {self.kind} to {mask_phone(self.phone)} ({self.status})"


def mask_phone(phone: str) -> str:
    """``138****5678``: how a phone number appears in the audit log and in listings' logs."""
    if len(phone) != 11:
        return "***"
    return f"{phone[:3]}****{phone[7:]}"


class OutgoingEmail(models.Model):
    """One email, handed to the SMTP server after the sender's transaction committed.

    Only notices go by email (status changes, review results, renewal reminders): never a PIN
    or a verification code. ``failed`` messages are tried again by the job runner.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "待发送"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    to = models.EmailField()
    subject = models.CharField(max_length=200)
    body = models.TextField()
    kind = models.CharField(max_length=32, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "邮件"

    def __str__(self) -> str:
        return f"email #{self.pk} {self.kind} ({self.status})"


class RenewalReminder(models.Model):
    """One renewal reminder of one certificate at one threshold (30 or 7 days before expiry).

    Unique per (certificate, threshold): the reminder job sends each one once, however often it
    runs. ``skipped`` is a 30-day reminder that was never sent because the job first saw the
    certificate inside 7 days (the 7-day one went instead); ``no_contact`` means the holder has
    no phone and no email on file.
    """

    class Status(models.TextChoices):
        SENT = "sent", "已发送"
        SKIPPED = "skipped", "已跳过（已发送更近的提醒）"
        NO_CONTACT = "no_contact", "无联系方式"

    certificate = models.ForeignKey(
        "ca.Certificate", on_delete=models.PROTECT, related_name="renewal_reminders"
    )
    threshold_days = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices)
    sms_count = models.PositiveSmallIntegerField(default=0)
    email_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "续期提醒"
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "threshold_days"], name="renewal_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return (
            f"reminder {self.threshold_days}d of certificate {self.certificate_id} ({self.status})"
        )
