"""CA records, the certificate registry, published CRLs and OCSP responders."""

from __future__ import annotations

from typing import Self

from django.db import models
from django.db.models import Q

from certhall.accounts.models import Organization, Provider, User
from certhall.accounts.visibility import VisibleQuerySet


class CertificateAuthority(models.Model):
    class Kind(models.TextChoices):
        ROOT = "root", "根CA"
        ISSUING = "issuing", "签发CA"

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="cas")
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT)
    certificate_der = models.BinaryField()
    key_ref = models.CharField(max_length=200, help_text="Where the private key lives")
    key_type = models.CharField(max_length=10)
    crl_number = models.BigIntegerField(default=0, help_text="Number of the last CRL issued")
    #: Revocations committed (``ca.services.revoke`` counts them in its transaction), and how
    #: many of them the newest CRL holds (read before its entries): the jobs re-sign a CRL
    #: that misses one (its revoking process died before publishing, say).
    revocations = models.BigIntegerField(default=0)
    crl_revocations = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "CA"

    def __str__(self) -> str:
        return self.name


class CertificateQuerySet(VisibleQuerySet["Certificate"]):
    provider_lookup = "ca__provider_id"

    def of_organization(self, organization_id: int) -> Self:
        """Issued to the organisation, or to its USCC (before it had an account with us) once
        the organisation is proven: a registration's claim (``licence_unchecked``) holds
        nobody else's certificates (docs/accounts.md, "Who proves an organisation")."""
        proven = Organization.objects.filter(pk=organization_id, licence_unchecked=False)
        uscc = proven.values("uscc")
        return self.filter(Q(organization_id=organization_id) | Q(uscc__in=uscc))


class Certificate(models.Model):
    """Every certificate a CA of ours ever issued, with its holder and status."""

    class Status(models.TextChoices):
        VALID = "valid", "有效"
        REVOKED = "revoked", "已吊销"

    ca = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="certs")
    # Lower-case hex without leading zeros, as `openssl x509 -serial` prints it (case aside).
    serial = models.CharField(max_length=40, unique=True)
    profile = models.CharField(max_length=20)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="certs"
    )
    org_name = models.CharField(max_length=128, blank=True)
    uscc = models.CharField(max_length=18, blank=True, db_index=True)
    person_name = models.CharField(max_length=64, blank=True)
    id_number = models.CharField(max_length=18, blank=True)
    subject = models.CharField(max_length=512)
    not_before = models.DateTimeField()
    not_after = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALID)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revocation_reason = models.CharField(max_length=32, blank=True)
    #: This certificate's CRL entry in DER (``pki.crl.encode_entry``), written with the
    #: revocation: a CRL of a million entries is then mostly their concatenation. NULL for rows
    #: revoked before it existed; ``ca.crls`` encodes those while it reads them.
    crl_entry = models.BinaryField(null=True, blank=True, editable=False)
    der = models.BinaryField()
    fingerprint_sha256 = models.CharField(max_length=64, unique=True)
    issued_by = models.ForeignKey(User, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = CertificateQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["ca", "status"])]
        constraints = [
            models.CheckConstraint(
                name="revoked_has_time_and_reason",
                condition=models.Q(status="valid", revoked_at__isnull=True)
                | models.Q(status="revoked", revoked_at__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.serial} {self.subject}"

    def belongs_to(self, organization: Organization | None) -> bool:
        """Held by ``organization``: issued to it, or to its USCC once it is proven
        (``of_organization``)."""
        return organization is not None and (
            self.organization_id == organization.pk
            or bool(
                self.uscc and self.uscc == organization.uscc and not organization.licence_unchecked
            )
        )


class CRL(models.Model):
    ca = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="crls")
    number = models.BigIntegerField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField()
    entries = models.BigIntegerField()
    der = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ca", "number"], name="crl_number_once")]

    def __str__(self) -> str:
        return f"CRL {self.ca_id}#{self.number}"


class OCSPResponder(models.Model):
    """A delegated OCSP signing certificate of a CA; the newest valid one answers."""

    ca = models.ForeignKey(CertificateAuthority, on_delete=models.PROTECT, related_name="ocsp")
    certificate = models.OneToOneField(Certificate, on_delete=models.PROTECT)
    key_ref = models.CharField(max_length=200)
    not_after = models.DateTimeField()

    def __str__(self) -> str:
        return f"OCSP responder of CA {self.ca_id} until {self.not_after:%Y-%m-%d}"


class OCSPResponse(models.Model):
    """The pre-signed OCSP answer about one certificate (RFC 5019: SHA-1 CertID, no nonce).

    Written by the jobs (new certificates, answers past half their validity) and by a revocation,
    in the revocation's own transaction. Every write takes a new ``generation`` from
    :class:`OCSPGeneration` under its row lock, so each serving process can follow the changes
    with ``generation > last seen`` and never miss one. An empty ``der`` withdraws the answer
    (the dynamic responder answers instead).
    """

    certificate = models.OneToOneField(
        Certificate, on_delete=models.CASCADE, related_name="ocsp_response"
    )
    ca = models.ForeignKey(CertificateAuthority, on_delete=models.CASCADE, related_name="+")
    #: The certificate's serial (hex), copied so that servers load answers without a join.
    serial = models.CharField(max_length=40)
    status = models.CharField(max_length=10)
    der = models.BinaryField()
    this_update = models.DateTimeField()
    next_update = models.DateTimeField(db_index=True)
    generation = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return f"OCSP answer {self.certificate_id} ({self.status}) until {self.next_update}"


class OCSPGeneration(models.Model):
    """One row: the last generation handed out to :class:`OCSPResponse` writes."""

    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"OCSP generation {self.value}"


class JobRound(models.Model):
    """One round of the scheduled jobs (``certhall.jobs``). ``slot`` is unique: of all the
    servers on one database, the one whose insert wins runs the round, and the others skip it."""

    slot = models.DateTimeField(unique=True)
    host = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"jobs round {self.slot:%Y-%m-%d %H:%M:%S} on {self.host}:{self.pid}"
