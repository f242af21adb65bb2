"""The Ukey inventory: every token the CA formatted, who holds it, what is on it."""

from __future__ import annotations

from django.db import models

from certhall.accounts.models import Organization, Provider
from certhall.accounts.visibility import VisibleQuerySet
from certhall.ca.models import Certificate
from certhall.ukeys.lifecycle import Status


class Ukey(models.Model):
    """One token (Ukey). Found by its PKCS#11 serial; the SO PIN is stored sealed only."""

    Status = Status

    serial = models.CharField("PKCS#11 token serial", max_length=32)
    model = models.CharField(max_length=64)
    manufacturer = models.CharField(max_length=64, blank=True)
    label = models.CharField(max_length=32)
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="ukeys")
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ukeys",
        help_text="The holder (unset while in stock)",
    )
    handler_phone = models.CharField(
        max_length=11, blank=True, help_text="Where the Ukey's PIN messages go (经办人)"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.IN_STOCK)
    #: AES-GCM sealed SO PIN (certhall.ukeys.sealing); never shown, logged or audited.
    so_pin_sealed = models.BinaryField(editable=False)
    certificates = models.ManyToManyField(Certificate, blank=True, related_name="ukeys")
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaces"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = VisibleQuerySet["Ukey"].as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "Ukey"
        constraints = [
            models.UniqueConstraint(fields=["model", "serial"], name="ukey_serial_once"),
            models.CheckConstraint(
                name="ukey_status_known",
                condition=models.Q(status__in=[s.value for s in Status]),
            ),
        ]

    def __str__(self) -> str:
        return f"Ukey {self.serial} ({self.label}, {self.status})"

    def snapshot(self) -> dict[str, object]:
        """What the audit log records of a Ukey (never the SO PIN)."""
        return {
            "serial": self.serial,
            "label": self.label,
            "status": self.status,
            "organization": self.organization_id,
        }
