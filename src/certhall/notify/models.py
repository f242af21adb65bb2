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
