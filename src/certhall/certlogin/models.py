"""Certificate login: trusted CAs of other providers, challenges, certificate accounts, rate
counters; and the online renewal records (see the note on :class:`Renewal`)."""

from __future__ import annotations

from django.db import models

from certhall.accounts.models import Organization, User
from certhall.ca.models import Certificate


class TrustedRoot(models.Model):
    """A CA certificate of another certification service provider, trusted for certificate
    login (the refund programme accepts the certificates of four CAs).

    Usually a root (a trust anchor). The CA certificate that issues end-entity certificates must
    also be imported, with the URL of its CRL: login refuses a certificate of an imported CA
    unless the CRL of its issuer is stored here and fresh. Our own CAs are not imported; they
    are trusted from ``ca.CertificateAuthority`` and checked against our registry.
    """

    name = models.CharField(max_length=128)
    subject = models.CharField(max_length=512)
    certificate_der = models.BinaryField()
    fingerprint_sha256 = models.CharField(max_length=64, unique=True)
    self_signed = models.BooleanField()
    not_after = models.DateTimeField()
    enabled = models.BooleanField(default=True)
    crl_url = models.CharField(max_length=500, blank=True)
    crl_der = models.BinaryField(null=True, blank=True)
    crl_number = models.BigIntegerField(null=True, blank=True)
    crl_this_update = models.DateTimeField(null=True, blank=True)
    crl_next_update = models.DateTimeField(null=True, blank=True)
    crl_entries = models.BigIntegerField(null=True, blank=True)
    crl_fetched_at = models.DateTimeField(null=True, blank=True)
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "受信任的CA"

    def __str__(self) -> str:
        return self.name


class LoginChallenge(models.Model):
    """32 random bytes the certificate's key signs; single use, valid for two minutes."""

    nonce = models.CharField(max_length=43, unique=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"challenge {self.nonce[:8]}…"


class CertificateAccount(models.Model):
    """The applicant account a certificate holder logs in to (created on first login).

    ``holder_key`` names the holder across renewals and CAs: the organisation's USCC for an
    organisation certificate, the USCC plus a hash of the person's ID number for a personal one.
    """

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="certificate_account")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    holder_key = models.CharField(max_length=64, unique=True)
    holder_name = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    last_login_serial = models.CharField(max_length=40, blank=True)
    last_login_issuer = models.CharField(max_length=512, blank=True)

    def __str__(self) -> str:
        return self.holder_key


class Renewal(models.Model):
    """An online renewal (续期) of one of our certificates onto a new key on the same Ukey.

    The service is ``certhall.ca.renewal``; the model lives in this app because the renewal is
    authenticated by the current certificate, like a certificate login, and the ``ca`` app's
    migrations belong to the CA core. States and transitions: ``certhall.ca.renewal.TRANSITIONS``.
    """

    class State(models.TextChoices):
        REQUESTED = "requested", "已申请"
        ISSUED = "issued", "新证书已签发"
        INSTALLED = "installed", "新证书已写入Ukey"
        COMPLETED = "completed", "已完成（原证书已吊销）"
        #: The Ukey was replaced (介质补办) before the new certificate was written to it: both
        #: certificates were revoked with it, the replacement carries the renewed term.
        REPLACED = "replaced", "未写入Ukey，已随介质补办结束"

    old_certificate = models.ForeignKey(
        Certificate, on_delete=models.PROTECT, related_name="renewals"
    )
    new_key_sha256 = models.CharField(max_length=64)
    csr_der = models.BinaryField()
    years = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=12, choices=State.choices, default=State.REQUESTED)
    new_certificate = models.OneToOneField(
        Certificate, null=True, blank=True, on_delete=models.PROTECT, related_name="renewed_from"
    )
    fee_yuan = models.DecimalField(max_digits=8, decimal_places=2)
    payment_ref = models.CharField(max_length=64, blank=True)
    requested_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["old_certificate", "new_key_sha256"], name="renewal_once_per_key"
            ),
            models.UniqueConstraint(
                fields=["old_certificate"],
                condition=~models.Q(state__in=["completed", "replaced"]),
                name="one_open_renewal_per_certificate",
            ),
            models.CheckConstraint(
                name="renewal_issued_has_certificate",
                condition=models.Q(state="requested", new_certificate__isnull=True)
                | (~models.Q(state="requested") & models.Q(new_certificate__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return f"renewal of {self.old_certificate_id} ({self.state})"
