"""Who is who: CA providers, enterprises and the people acting for them or for a CA."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Provider(models.Model):
    """An electronic certification service provider (电子认证服务机构), e.g. 深圳CA.

    Our platform operates one provider's CA; the refund programme knows four. A provider's staff
    see only their provider's data.
    """

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=128)

    def __str__(self) -> str:
        return self.name


class Organization(models.Model):
    """An enterprise (单位) identified by its Unified Social Credit Code."""

    name = models.CharField(max_length=128)
    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True)
    legal_representative = models.CharField(max_length=64, blank=True)
    #: Created by an online registration, whose name and USCC nobody has yet held against the
    #: business licence (a clerk at the counter, a reviewer, a certificate naming the USCC):
    #: anyone may type any USCC there (docs/accounts.md, "Who proves an organisation").
    licence_unchecked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class Handler(models.Model):
    """经办人: the employee who does certificate business for an organisation."""

    class IdKind(models.TextChoices):
        RESIDENT_ID = "resident_id", "居民身份证"
        HK_MACAU_PERMIT = "hk_macau_permit", "港澳居民来往内地通行证"
        TAIWAN_PERMIT = "taiwan_permit", "台湾居民来往大陆通行证"
        PASSPORT = "passport", "护照"

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="handlers"
    )
    name = models.CharField(max_length=64)
    id_kind = models.CharField(max_length=20, choices=IdKind.choices)
    id_number = models.CharField(max_length=20)
    phone = models.CharField(max_length=11)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "id_kind", "id_number"], name="handler_once_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organization.name})"


class Role(models.TextChoices):
    APPLICANT = "applicant", "申请单位"
    CLERK = "clerk", "受理员"
    REVIEWER = "reviewer", "审核员"
    ISSUER = "issuer", "制证员"
    REFUND_OFFICER = "refund_officer", "返还审核员"
    CA_ADMIN = "ca_admin", "CA管理员"
    AUDITOR = "auditor", "审计员"


#: Roles that belong to a CA provider and see only that provider's data.
PROVIDER_ROLES = frozenset({Role.CLERK, Role.REVIEWER, Role.ISSUER, Role.CA_ADMIN, Role.AUDITOR})


class User(AbstractUser):
    """One account, one role: separation of duties is easier to reason about that way."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.APPLICANT)
    phone = models.CharField(max_length=20, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    is_system = models.BooleanField(
        default=False, help_text="A non-human actor (command line, scheduler); cannot log in."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="applicant_has_organization",
                condition=~models.Q(role="applicant")
                | models.Q(organization__isnull=False)
                | models.Q(is_superuser=True),
            ),
            models.CheckConstraint(
                name="provider_staff_has_provider",
                condition=~models.Q(role__in=sorted(r.value for r in PROVIDER_ROLES))
                | models.Q(provider__isnull=False),
            ),
        ]

    def label(self) -> str:
        """How this actor appears in the audit log."""
        kind = "system" if self.is_system else self.role
        return f"{kind}:{self.username}"


#: What the platform's own actors (``system_actor(name)``) are called on a page.
SYSTEM_ACTORS = {
    "hall": "营业厅（自动）",
    "payments": "支付系统",
    "gateway-alipay": "支付宝",
    "gateway-wechat": "微信支付",
    "gateway-bank": "银行转账对账",
    "renewal": "在线续期",
    "certlogin": "证书登录",
    "jobs": "定时任务",
    "scheduler": "定时任务",
    "ocsp": "OCSP服务",
    "crl": "CRL发布",
    "accounts": "账户系统",
    "refunds": "费用返还系统",
}


def describe_actor(label: str) -> str:
    """An audit actor label (``role:username``, ``system:system-hall``) as a person reads it:
    ``受理员 clerk01``, ``营业厅（自动）``."""
    kind, _, username = label.partition(":")
    if kind == "system":
        return SYSTEM_ACTORS.get(username.removeprefix("system-"), "系统")
    try:
        return f"{Role(kind).label} {username}"
    except ValueError:
        return username or label


class EnterpriseAccount(models.Model):
    """An applicant account registered on the online hall (网上营业厅) with a verified mobile.

    The phone logs in (password or SMS code) and is unique: one phone, one account.
    """

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="enterprise_account")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="enterprise_accounts"
    )
    phone = models.CharField("注册手机号", max_length=11, unique=True)
    registered_at = models.DateTimeField()
    registered_from = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = "网上营业厅账户"

    def __str__(self) -> str:
        return f"{self.user.username} ({self.organization.name})"


class SmsCode(models.Model):
    """A 6-digit verification code sent by SMS: stored as a keyed hash, never in plain text.

    States and transitions: ``certhall.accounts.codes.TRANSITIONS``. At most one active code per
    phone and purpose: a new code voids the previous one.
    """

    class Purpose(models.TextChoices):
        REGISTER = "register", "注册"
        LOGIN = "login", "登录"
        REFUND = "refund", "返还进度查询"
        REFUND_COUNTER = "refund_counter", "返还线下申请核验手机号"

    class State(models.TextChoices):
        ACTIVE = "active", "有效"
        USED = "used", "已使用"
        VOID = "void", "已作废"

    phone = models.CharField(max_length=11)
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    code_hash = models.CharField(max_length=100)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ACTIVE)
    client = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "短信验证码"
        indexes = [models.Index(fields=["phone", "purpose", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["phone", "purpose"],
                condition=models.Q(state="active"),
                name="one_active_sms_code",
            ),
            models.CheckConstraint(
                name="sms_code_state_known",
                condition=models.Q(state__in=["active", "used", "void"]),
            ),
        ]

    def __str__(self) -> str:
        # Never the phone in full, never the hash.
        return f"SMS code #{self.pk} {self.purpose} ({self.state})"


#: The longest name of a rate limit (``certhall.ratelimit.Limit.scope``).
RATE_SCOPE_LENGTH = 32


class RateLimitEvent(models.Model):
    """One counted request (or one refusal) of a rate-limited kind, for a sliding window.

    ``key`` is a keyed hash of the phone number, account name or client address: the table
    holds no personal data in clear.
    """

    scope = models.CharField(max_length=RATE_SCOPE_LENGTH)
    key = models.CharField(max_length=64)
    at = models.DateTimeField(db_index=True)
    refused = models.BooleanField(default=False)
    #: A tally's row of events not yet reported (``ratelimit.tally``): how many there were.
    count = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["scope", "key", "at"])]

    def __str__(self) -> str:
        return f"{self.scope} {self.key[:8]} {self.at:%H:%M:%S}{' refused' if self.refused else ''}"
