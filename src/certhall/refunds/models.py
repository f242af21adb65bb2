"""Refund programmes, the records they judge, and the applications they pay.

* :class:`Programme`: one run of the government's refund (seed 000 is one; a programme can be
  configured and run again): windows, covered businesses, hotline, the second-review threshold.
* :class:`ProgrammeCA`: a participating CA institution (a :class:`~certhall.accounts.models.
  Provider`) with its counters (办理点) and its application counter.
* :class:`FeeRecord` / :class:`UsageRecord`: what the CAs and the e-government platforms report,
  imported from CSV (``certhall.refunds.imports``) or fed from the hall's own paid orders.
* :class:`RefundApplication` with its :class:`RefundLine` s (the fee records it claims), and the
  :class:`PayoutBatch` es that pay it (:class:`PayoutItem`).

Amounts are ``DecimalField`` yuan with two places (``certhall.money`` reads and prints them).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Self

from django.db import models
from django.db.models import Q

from certhall.accounts.models import Organization, Provider, Role, User
from certhall.accounts.permissions import require_role
from certhall.accounts.visibility import VisibleQuerySet
from certhall.portal.models import Notice
from certhall.refunds.states import BatchState, State


class Business(models.TextChoices):
    """The businesses a fee record can be for (the hall's six, the import's column)."""

    NEW = "new", "申请"
    RENEW = "renew", "续期"
    CHANGE = "change", "变更"
    REPLACE = "replace", "补办"
    UNLOCK = "unlock", "解锁"
    REVOKE = "revoke", "吊销"


#: A hotline a phone can dial: digits, an optional leading +, blanks and hyphens between.
_DIALABLE = re.compile(r"\+?[0-9][0-9 -]*[0-9]|[0-9]")

#: The announcement's "包括申请、续期、变更、补办": 解锁 and 吊销 are not covered.
ANNOUNCED_BUSINESSES = [Business.NEW, Business.RENEW, Business.CHANGE, Business.REPLACE]


class Programme(models.Model):
    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    announcement = models.TextField(blank=True)
    announced_on = models.DateField(null=True, blank=True)
    #: 申请时间, both days included.
    apply_from = models.DateField()
    apply_to = models.DateField()
    #: The window the fee and the use must both fall in, both days included.
    business_from = models.DateField()
    business_to = models.DateField()
    #: Business values (``Business``) whose fees are refunded.
    businesses = models.JSONField(default=list)
    hotline = models.CharField(max_length=64, default="12345")
    hotline_name = models.CharField(max_length=64, default="深圳市12345政务服务便民热线")
    #: Amounts above this need a second refund officer (0: every application does).
    second_review_above = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("1000.00")
    )
    #: The portal's notice that announces it: the notice's 去办理费用返还 opens this programme,
    #: whose page links back to it. One programme a notice; none until an officer or the demo
    #: names it (a deleted notice leaves the programme without one).
    notice = models.OneToOneField(
        Notice,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="refund_programme",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "返还项目"
        ordering = ["-apply_from", "pk"]
        constraints = [
            models.CheckConstraint(
                name="programme_windows_ordered",
                condition=Q(apply_from__lte=models.F("apply_to"))
                & Q(business_from__lte=models.F("business_to")),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def covered_labels(self) -> list[str]:
        """The covered businesses' names, in ``Business``'s order (the page's 返还业务)."""
        return [str(b.label) for b in Business if b.value in self.businesses]

    @property
    def not_covered_labels(self) -> list[str]:
        return [str(b.label) for b in Business if b.value not in self.businesses]

    @property
    def hotline_tel(self) -> str:
        """The hotline as a ``tel:`` link dials it (a phone's tap on 12345), or "" when it is
        not a number (the editor takes any text)."""
        number = self.hotline.strip()
        return re.sub(r"[ -]", "", number) if _DIALABLE.fullmatch(number) else ""


class ProgrammeCA(models.Model):
    """A participating CA institution of a programme, with its counters (办理点)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="cas")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    #: [{"name", "address", "hours"}]: where the offline application is handed in.
    counters = models.JSONField(default=list)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "参与返还的数字证书机构"
        ordering = ["programme", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "provider"], name="programme_ca_once"),
        ]

    def __str__(self) -> str:
        return f"{self.programme.slug}:{self.provider.slug}"


class Source(models.TextChoices):
    IMPORT = "import", "文件导入"
    HALL = "hall", "本平台订单"


class FeeRecord(models.Model):
    """A fee a CA reports as paid for one business on one certificate.

    Natural key (what makes a second import of the same file change nothing): programme, CA,
    serial, business and date. ``serial`` is lower-case hex without leading zeros.
    """

    # No index of their own: (programme, uscc) and the unique key lead with them, and every
    # index costs on an import of millions of rows. No database constraint either
    # (docs/refunds.md, "Imports"): PostgreSQL checks a foreign key row by row, half of a
    # million-row import; the import resolves both once per file, and deletes go through the
    # ORM, which still applies CASCADE and PROTECT.
    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="fees",
        db_index=False,
        db_constraint=False,
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    serial = models.CharField(max_length=64)
    uscc = models.CharField(max_length=18)
    enterprise_name = models.CharField(max_length=128)
    business = models.CharField(max_length=10, choices=Business.choices)
    paid_on = models.DateField()
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.IMPORT)
    #: The import file's SHA-256 and line, or the hall order's reference.
    source_ref = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = "证书费用记录"
        ordering = ["paid_on", "pk"]
        # (programme, CA, serial) look-ups use the unique key's leading columns
        indexes = [models.Index(fields=["programme", "uscc"])]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "provider", "serial", "business", "paid_on"],
                name="fee_record_once",
            ),
            models.CheckConstraint(name="fee_amount_not_negative", condition=Q(amount__gte=0)),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.serial} {self.business} {self.paid_on} {self.amount}"


class UsageRecord(models.Model):
    """A use of a certificate on an e-government platform, as the platform reports it."""

    # as FeeRecord's: no index of their own (the (programme, provider, serial, used_on) index
    # leads with them), no database constraint
    programme = models.ForeignKey(
        Programme,
        on_delete=models.CASCADE,
        related_name="usages",
        db_index=False,
        db_constraint=False,
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    serial = models.CharField(max_length=64)
    platform = models.CharField(max_length=128)
    used_on = models.DateField()
    source_ref = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = "证书使用记录"
        indexes = [models.Index(fields=["programme", "provider", "serial", "used_on"])]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "provider", "serial", "platform", "used_on"],
                name="usage_record_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.serial} {self.platform} {self.used_on}"


class Channel(models.TextChoices):
    ONLINE = "online", "线上申请"
    OFFLINE = "offline", "线下（机构办理点）申请"


class SpecialCase(models.TextChoices):
    """The announcement's special cases that allow an offline application."""

    DEREGISTERED = "deregistered", "企业已注销"
    CHANGED = "changed", "企业已变更"
    EXPIRED = "expired", "数字证书已过期"
    LOST = "lost", "数字证书已丢失"


class PayeeKind(models.TextChoices):
    """Whose account receives the refund."""

    ENTERPRISE = "enterprise", "企业对公账户"
    LEGAL_REPRESENTATIVE = "legal_rep", "法定代表人/负责人本人银行卡"


#: A CA's staff who see the offline applications its counters took: the clerks who take them,
#: the CA's administrators and its auditors. Reviewers and issuers work on certificates; an
#: application holds the legal representative's ID and a bank account, so they see none.
CA_REFUND_ROLES = (Role.CLERK, Role.CA_ADMIN, Role.AUDITOR)


def certificate_holder(actor: User) -> Organization | None:
    """The enterprise of an applicant who logged in with its certificate, else None.

    The online programme knows an enterprise by its certificate (seed 000: 数字证书登录), never
    by the USCC an account was registered with: registering proves a phone number, not the
    USCC, and the refund is paid to the enterprise's name. Certificate holders' accounts are
    made by certificate login (``certlogin``) and have no password, so holding one is having
    logged in with the enterprise's certificate."""
    org = actor.organization  # read with the session's user: no query
    if actor.role != Role.APPLICANT or org is None:
        return None
    # certlogin's CertificateAccount, by its reverse accessor: one query, then cached on the
    # user (a page that asks, then calls a service that asks again, reads it once)
    account = getattr(actor, "certificate_account", None)
    return org if account is not None and account.organization_id == org.pk else None


class RefundApplicationQuerySet(VisibleQuerySet["RefundApplication"]):
    """The platform's one scoping rule (``accounts.visibility``) for refund applications: an
    enterprise sees its own, once logged in with its certificate (only a certificate login
    sees the amount: :func:`certificate_holder`, docs/refunds.md; an account registered
    with a password sees none, as a missing one), a CA's clerks, administrators and auditors
    see the offline applications their counters took (online ones have no provider), and
    refund officers see every one."""

    def visible_to(self, actor: User) -> Self:
        if actor.role == Role.REFUND_OFFICER:
            require_role(actor, Role.REFUND_OFFICER)
            return self.all()
        if actor.role != Role.APPLICANT:
            require_role(actor, *CA_REFUND_ROLES)
        elif certificate_holder(actor) is None:
            return self.none()
        return super().visible_to(actor)


class RefundApplication(models.Model):
    State = State

    #: FH<YYYYMMDD>-<NNNNNN>: the Shanghai date of creation and the row id.
    number = models.CharField("申请编号", max_length=24, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="applications")
    uscc = models.CharField(max_length=18)
    enterprise_name = models.CharField(max_length=128)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    #: The CA whose counter took an offline application (its staff see it); null online.
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    special_case = models.CharField(max_length=16, choices=SpecialCase.choices, blank=True)
    state = models.CharField(max_length=20, choices=State.choices, default=State.SUBMITTED)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    payee_kind = models.CharField(max_length=12, choices=PayeeKind.choices)
    account_name = models.CharField(max_length=128)
    account_number = models.CharField(max_length=34)
    bank_name = models.CharField(max_length=128)
    #: Where the progress query's SMS code goes.
    phone = models.CharField(max_length=11)
    #: The counter's checklist (offline): see ``certhall.refunds.counter.CHECKLIST``.
    checklist = models.JSONField(default=dict, blank=True)
    entered_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    first_approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    #: The last reason given: a rejection, a request for more material, a failed payout.
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    objects = RefundApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = "费用返还申请"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["programme", "state"])]
        constraints = [
            models.UniqueConstraint(fields=["programme", "uscc"], name="refund_one_per_enterprise"),
            models.CheckConstraint(
                name="refund_state_known", condition=Q(state__in=[s.value for s in State])
            ),
            models.CheckConstraint(
                name="refund_offline_has_provider_and_case",
                condition=Q(channel="online") | (Q(provider__isnull=False) & ~Q(special_case="")),
            ),
            models.CheckConstraint(name="refund_amount_positive", condition=Q(amount__gt=0)),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.state})"


class RefundLine(models.Model):
    """A fee record an application claims, with the amount counted for it."""

    application = models.ForeignKey(
        RefundApplication, on_delete=models.CASCADE, related_name="lines"
    )
    fee = models.ForeignKey(FeeRecord, on_delete=models.PROTECT, related_name="lines")
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "fee"], name="refund_line_once"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.fee_id} {self.amount}"


class PayoutBatch(models.Model):
    """One bank transfer file: approved applications, their total and the file's checksum.

    Maker-checker (``refunds.states.BATCHES``): the officer who made it does not release it;
    its file is downloaded and its bank return settled only once released."""

    State = BatchState

    number = models.CharField(max_length=24, unique=True)
    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="batches")
    state = models.CharField(
        max_length=20, choices=BatchState.choices, default=BatchState.PENDING_RELEASE
    )
    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField()
    #: Null on a released batch: made before batches were released (migration 0006).
    released_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    count = models.PositiveIntegerField()
    total = models.DecimalField(max_digits=14, decimal_places=2)
    #: SHA-256 of the file's lines above the checksum line.
    sha256 = models.CharField(max_length=64)
    content = models.TextField()

    class Meta:
        verbose_name = "拨付批次"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="batch_state_known", condition=Q(state__in=[s.value for s in BatchState])
            ),
            # the creator never releases (a second line of defence behind payout.release)
            models.CheckConstraint(
                name="batch_released_by_another",
                condition=Q(released_by__isnull=True) | ~Q(released_by=models.F("created_by")),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class PayoutResult(models.TextChoices):
    PENDING = "pending", "待银行回盘"
    PAID = "paid", "已拨付"
    FAILED = "failed", "拨付失败"
    #: Its batch cancelled before release: never sent to the bank.
    CANCELLED = "cancelled", "批次已撤销"


class PayoutItem(models.Model):
    """One transfer of a batch. At most one live (pending or paid) per application: a database
    constraint, so that nothing is ever paid twice."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="items")
    line = models.PositiveIntegerField()
    application = models.ForeignKey(
        RefundApplication, on_delete=models.PROTECT, related_name="payouts"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    account_name = models.CharField(max_length=128)
    account_number = models.CharField(max_length=34)
    bank_name = models.CharField(max_length=128)
    result = models.CharField(
        max_length=10, choices=PayoutResult.choices, default=PayoutResult.PENDING
    )
    bank_reference = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=200, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["batch", "line"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="payout_line_once"),
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(result__in=["pending", "paid"]),
                name="payout_one_live_per_application",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.line} {self.result}"
