"""The append-only, hash-chained audit log.

Each event stores the hash of its predecessor and its own hash over its content, so changing,
deleting or reordering any row breaks the chain at that row. ``AuditHead`` remembers the last
sequence number and hash: it is the lock that serialises writers and it reveals truncation.
Database triggers (see the migration) refuse UPDATE and DELETE on events.
"""

from __future__ import annotations

from django.db import models

#: The column of the object's identifier (a longer one is recorded cut, with "…").
OBJECT_ID_LENGTH = 128


class AuditEvent(models.Model):
    seq = models.BigIntegerField(unique=True)
    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    actor_id = models.BigIntegerField(null=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=OBJECT_ID_LENGTH, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)
    result = models.CharField(max_length=16)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"]),
            # The auditors' page reads the last ``audit.verify`` on every view (and filters by
            # an action's beginning): without it, a chain never verified is scanned whole.
            models.Index(fields=["action", "seq"], name="audit_event_action_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id} {self.result}"


class AuditHead(models.Model):
    """A single row: the chain's last sequence number and hash."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)
    #: Events after this one are keyed (HMAC with the audit key); the ones up to it were written
    #: before the chain was keyed and are covered by the first checkpoint. Every checkpoint
    #: repeats it, so it cannot be moved unnoticed.
    keyed_from = models.BigIntegerField(default=0)
    #: The last event's time: events are never dated before it (a clock set back writes the
    #: same moment again), so verification can hold every row to it.
    at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"head #{self.seq} {self.hash[:12]}"
