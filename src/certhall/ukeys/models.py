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
    """The write-ahead record of one issuance onto a Ukey, or of one Ukey put in stock
    (``certhall.ukeys.writes``).

    Issuance: committed before the token is touched, given the certificate in the transaction
    that signs it, and closed in the transaction that hands the Ukey over: an open record whose
    process is gone is an interrupted issuance, which recovery undoes (certificate revoked, key
    deleted).

    Putting in stock (``kind=format``): committed before the token is formatted, with the new
    token's label (``key_label``), the provider whose stock it joins and the SO PIN sealed with
    the label as its context (the serial is only known after formatting); no Ukey yet. Closed
    in the transaction that records the Ukey (``ukey`` set then). Recovery finishes an open one
    whose process is gone: the token under that label recorded in stock, or, absent, the record
    closed as abandoned.
    """

    class State(models.TextChoices):
        OPEN = "open", "进行中"
        DONE = "done", "已完成"
        UNDONE = "undone", "已回滚"

    class Kind(models.TextChoices):
        STOCK = "stock", "库存Ukey制证"
        REKEY = "rekey", "客户Ukey更换密钥"
        FORMAT = "format", "Ukey入库"

    #: Unset only while a Ukey put in stock is not recorded yet (``kind=format``).
    ukey = models.ForeignKey(
        Ukey, null=True, blank=True, on_delete=models.PROTECT, related_name="writes"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    #: The key pair's label on the token; for ``kind=format`` the new token's label.
    key_label = models.CharField(max_length=64)
    #: ``kind=format``: whose stock the Ukey joins, and its SO PIN sealed with the label as its
    #: context (``certhall.ukeys.sealing.seal_ahead``); never shown, logged or audited.
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    so_pin_sealed = models.BinaryField(editable=False, default=b"")
    #: ``kind=format``: the store the token is formatted in when it is not the instance's Ukey
    #: store (``certhall token init --module/--conf``), where recovery looks for it; blank: the
    #: instance's module / configuration.
    store_module = models.CharField(max_length=1024, blank=True, default="")
    store_conf = models.CharField(max_length=1024, blank=True, default="")
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
            models.UniqueConstraint(
                fields=["key_label"],
                condition=models.Q(state="open", kind="format"),
                name="one_open_format_per_label",
            ),
            models.CheckConstraint(
                name="token_write_ukey_unless_format",
                condition=models.Q(ukey__isnull=False) | models.Q(kind="format"),
            ),
        ]

    def __str__(self) -> str:
        on = f"Ukey {self.ukey_id}" if self.ukey_id is not None else self.key_label
        return f"TokenWrite {self.pk} ({self.kind} on {on}, {self.state})"
