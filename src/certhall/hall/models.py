"""Applications (申请), their business lines and their documents.

One ``Application`` is one visit or one online submission of one organisation; it holds one or
more ``ApplicationItem`` lines (several businesses at once, e.g. 变更 and 续期 of the same
certificate) and the ``Document`` s handed in for them. States and transitions:
:mod:`certhall.hall.states`; the services are in this package, never on the models.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models

from certhall.accounts.models import Handler, Organization, Provider, User
from certhall.accounts.visibility import VisibleQuerySet
from certhall.ca.models import Certificate
from certhall.hall.states import State
from certhall.ukeys.models import Ukey


class Channel(models.TextChoices):
    ONLINE = "online", "网上营业厅"
    ONSITE = "onsite", "现场办理"


class Project(models.TextChoices):
    """The certificate project applied for; the seed knows one."""

    SZ_MEDICAL_INSURANCE = "sz_medical_insurance", "深圳医保在线签约"


class Delivery(models.TextChoices):
    MAIL = "mail", "邮寄（邮费自付）"
    PICKUP = "pickup", "自取"
    ONLINE_UPDATE = "online_update", "在线更新（证书助手）"


class Business(models.TextChoices):
    NEW = "new", "新办"
    RENEW = "renew", "续期"
    CHANGE = "change", "变更"
    UNLOCK = "unlock", "解锁"
    REPLACE = "replace", "介质补办"
    REVOKE = "revoke", "吊销"


class CertType(models.TextChoices):
    ORG = "org", "机构证书(ODC证书)"
    PERSONAL = "personal", "机构个人证书(法人证书)"


#: The longest application number (a request's longer one is no application's).
NUMBER_LENGTH = 24
#: A reason a person gives for a change (a review's, a cancellation's, a refund's).
REASON_LENGTH = 200


class Application(models.Model):
    State = State
    Channel = Channel
    Project = Project
    Delivery = Delivery

    #: SQ<YYYYMMDD>-<NNNNNN>: the Shanghai date of creation and the row id.
    number = models.CharField("申请编号", max_length=NUMBER_LENGTH, unique=True)
    project = models.CharField(
        max_length=32, choices=Project.choices, default=Project.SZ_MEDICAL_INSURANCE
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="applications")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="applications"
    )
    handler = models.ForeignKey(
        Handler, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    #: The service point (rules catalog slug) of an on-site application.
    point = models.CharField(max_length=32, blank=True)
    entered_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", help_text="录入人：申请人或受理员"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.DRAFT)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    #: When the documents were complete and nothing was left to pay: the review clock starts.
    complete_at = models.DateTimeField(null=True, blank=True)
    #: The processing deadline (online: 3 working days from complete_at; on site: that day).
    #: Null while unknown.
    due_date = models.DateField(null=True, blank=True)
    #: The deadline counts days of a year without an official holiday arrangement (预计).
    due_provisional = models.BooleanField(default=False)
    paid_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    #: ``host:pid`` of the process that claimed the application for issuance (``issuing``):
    #: how recovery knows an interrupted issuance (``certhall.ukeys.writes``).
    issuing_owner = models.CharField(max_length=128, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="cancelled or refunded")
    fee_total = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0.00"))
    postage = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    delivery = models.CharField(max_length=16, choices=Delivery.choices, blank=True)
    recipient_name = models.CharField(max_length=64, blank=True)
    recipient_phone = models.CharField(max_length=11, blank=True)
    address = models.CharField(max_length=200, blank=True)
    pickup_point = models.CharField(max_length=32, blank=True)
    carrier = models.CharField(max_length=32, blank=True)
    tracking_number = models.CharField(max_length=40, blank=True)
    payment_reference = models.CharField(max_length=32, blank=True)
    #: The reviewer's general remark when the application was last returned.
    return_note = models.CharField(max_length=500, blank=True)
    #: The token of the 证书新办 form that made this draft (``hall.web.applicant_new``): the
    #: same form posted again, also twice at once (a double tap), changes this draft.
    form_token = models.CharField(max_length=64, blank=True)

    objects = VisibleQuerySet["Application"].as_manager()

    class Meta:
        verbose_name = "申请"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["provider", "state", "due_date"]),
            models.Index(fields=["organization", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                name="application_state_known",
                condition=models.Q(state__in=[s.value for s in State]),
            ),
            models.CheckConstraint(
                name="application_onsite_has_point",
                condition=~models.Q(channel="onsite") | ~models.Q(point=""),
            ),
            models.CheckConstraint(
                name="application_amounts_not_negative",
                condition=models.Q(fee_total__gte=0, postage__gte=0),
            ),
            models.UniqueConstraint(
                fields=["entered_by", "form_token"],
                condition=~models.Q(form_token=""),
                name="application_form_token_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.state})"

    @property
    def total(self) -> Decimal:
        """What the customer pays: the items' fees plus postage of a mailed Ukey."""
        return self.fee_total + self.postage

    @property
    def is_online_renewal(self) -> bool:
        """网厅续期: an online application renewing a certificate (then its only line). The
        customer's certificate helper writes the new certificate: no documents, no review, no
        issuance or delivery by staff. Reads the prefetched lines when there are."""
        return any(line.is_online_renewal for line in self.items.all())

    @property
    def mail_address_missing(self) -> bool:
        """Mailed, but the recipient, the phone or the address is not filled in."""
        return self.delivery == Delivery.MAIL and not (
            self.recipient_name and self.recipient_phone and self.address
        )

    @property
    def pickup_point_missing(self) -> bool:
        """Picked up, but at no chosen service point."""
        return self.delivery == Delivery.PICKUP and not self.pickup_point


class ApplicationItem(models.Model):
    """One business line: what is done, for which certificate type, at what fee, on what."""

    Business = Business
    CertType = CertType

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="items")
    business = models.CharField(max_length=10, choices=Business.choices)
    cert_type = models.CharField(max_length=10, choices=CertType.choices)
    years = models.PositiveSmallIntegerField(null=True, blank=True)
    fee = models.DecimalField(max_digits=10, decimal_places=2)
    #: The subscriber data the certificate will certify (snapshot at entry; 变更: the new data).
    org_name = models.CharField(max_length=128)
    uscc = models.CharField(max_length=18)
    person_name = models.CharField(max_length=64, blank=True)
    person_id_number = models.CharField(max_length=18, blank=True)
    #: The existing certificate of 续期 / 变更 / 解锁 / 介质补办 / 吊销.
    target_certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.PROTECT, related_name="hall_items"
    )
    #: The Ukey worked on: a new one from stock (新办, 介质补办), the customer's own (续期,
    #: 变更, 解锁).
    token = models.ForeignKey(
        Ukey, null=True, blank=True, on_delete=models.PROTECT, related_name="hall_items"
    )
    #: 介质补办: the lost or damaged Ukey.
    old_token = models.ForeignKey(
        Ukey, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    result_certificate = models.ForeignKey(
        Certificate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revocation_reason = models.CharField(max_length=32, blank=True)
    replace_cause = models.CharField(max_length=10, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "申请业务"
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                name="item_business_known",
                condition=models.Q(business__in=[b.value for b in Business]),
            ),
            models.CheckConstraint(name="item_fee_not_negative", condition=models.Q(fee__gte=0)),
            models.CheckConstraint(
                name="item_existing_business_has_target",
                condition=models.Q(business="new") | models.Q(target_certificate__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.business}/{self.cert_type}"

    @property
    def is_online_renewal(self) -> bool:
        """A 续期 line of an online application: renewed by the customer's certificate helper
        with the certificate's own key (no documents, no Ukey from stock)."""
        return self.business == Business.RENEW and self.application.channel == Channel.ONLINE


class Document(models.Model):
    """A document handed in: an upload (stored by its SHA-256 outside the web root) or, at the
    counter, a paper copy ticked on the checklist."""

    class Medium(models.TextChoices):
        UPLOAD = "upload", "上传"
        PAPER = "paper", "纸质（柜台收取）"

    class Status(models.TextChoices):
        PENDING = "pending", "待审核"
        ACCEPTED = "accepted", "已通过"
        RETURNED = "returned", "已退回"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="documents")
    #: A rules-catalog document id (licence_copy, ...) or handler_id_front / handler_id_back.
    kind = models.CharField(max_length=32)
    medium = models.CharField(max_length=10, choices=Medium.choices)
    filename = models.CharField(max_length=120, blank=True)
    sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    size = models.PositiveIntegerField(default=0)
    #: Sniffed from the content (never taken from the client).
    content_type = models.CharField(max_length=40, blank=True)
    #: 注2: the original was checked at the counter.
    original_seen = models.BooleanField(default=False)
    original_seen_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    review_reason = models.CharField(max_length=REASON_LENGTH, blank=True)
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    #: A newer document of the same kind replaced this one (kept for the record).
    superseded = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name = "申请资料"
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "kind"],
                condition=models.Q(superseded=False),
                name="document_one_current_per_kind",
            ),
            models.CheckConstraint(
                name="document_upload_has_content",
                condition=~models.Q(medium="upload")
                | (~models.Q(sha256="") & models.Q(size__gt=0)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.kind} ({self.status})"


class CalendarYear(models.Model):
    """A year's official holiday arrangement as an operator imported it (overrides the package).

    ``holidays`` and ``workdays`` are ISO date lists in the import format of
    ``certhall calendar import`` (docs/rules.md, "Working-day calendar").
    """

    year = models.PositiveSmallIntegerField(unique=True)
    holidays = models.JSONField()
    workdays = models.JSONField()
    source = models.CharField(max_length=200)
    imported_at = models.DateTimeField()
    imported_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "节假日安排"
        ordering = ["year"]

    def __str__(self) -> str:
        return f"{self.year}: {self.source}"


class IdentityCheck(models.Model):
    """经办人实名核验 of an online 新办: the handler scans a QR code, photographs both sides of the
    ID card on the phone and passes a liveness check with the provider (``hall.identity``).

    The photos are the application's ``handler_id_front`` / ``handler_id_back`` documents; the
    check records their SHA-256, so a passed check counts only for the photos it verified.
    """

    class State(models.TextChoices):
        WAITING = "waiting", "待扫码上传证件"
        PHOTOS = "photos", "证件已上传，待活体检测"
        VERIFYING = "verifying", "活体检测中"
        PASSED = "passed", "核验通过"
        FAILED = "failed", "核验未通过"
        TIMED_OUT = "timed_out", "核验超时"
        CANCELLED = "cancelled", "已作废"

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="identity_checks"
    )
    handler = models.ForeignKey(Handler, on_delete=models.PROTECT, related_name="+")
    #: The secret in the QR code's URL (the phone has no session): 256 bits, short-lived.
    token = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.WAITING)
    provider = models.CharField(max_length=32)
    #: The provider's session of the liveness check.
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    front_sha256 = models.CharField(max_length=64, blank=True)
    back_sha256 = models.CharField(max_length=64, blank=True)
    #: The provider's reason for a failure, as it should be shown to the customer.
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "经办人实名核验"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.state}"
