"""The Ukey inventory: every token the CA formatted, who holds it, what is on it."""

from __future__ import annotations

from django.db import models

from certhall.accounts.models import Organization, Provider
from certhall.accounts.visibility import VisibleQuerySet
from certhall.ca.models import Certificate
from certhall.ukeys.lifecycle import Status

#: The longest serial an inventory record holds (a request's longer one is no Ukey's).
SERIAL_LENGTH = 32


class Ukey(models.Model):
    """One token (Ukey). Found by its PKCS#11 serial; the SO PIN is stored sealed only."""

    Status = Status

    serial = models.CharField("PKCS#11 token serial", max_length=SERIAL_LENGTH)
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


class TokenWrite(models.Model):
    """The write-ahead record of one issuance onto a Ukey (``certhall.ukeys.writes``).

    Committed before the token is touched, given the certificate in the transaction that signs
    it, and closed in the transaction that hands the Ukey over: an open record whose process is
    gone is an interrupted issuance, which recovery undoes (certificate revoked, key deleted).
    """

    class State(models.TextChoices):
        OPEN = "open", "进行中"
        DONE = "done", "已完成"
        UNDONE = "undone", "已回滚"

    class Kind(models.TextChoices):
        STOCK = "stock", "库存Ukey制证"
        REKEY = "rekey", "客户Ukey更换密钥"

    ukey = models.ForeignKey(Ukey, on_delete=models.PROTECT, related_name="writes")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    key_label = models.CharField(max_length=64)
    certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    application = models.CharField(max_length=32, blank=True)
    #: ``host:pid`` of the process doing the issuance (how recovery knows it is gone).
    owner = models.CharField(max_length=128)
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["ukey"],
                condition=models.Q(state="open"),
                name="one_open_write_per_ukey",
            ),
        ]

    def __str__(self) -> str:
        return f"TokenWrite {self.pk} ({self.kind} on Ukey {self.ukey_id}, {self.state})"
