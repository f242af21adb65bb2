"""Eligibility, set-based in the database: every fee record with the reason it is excluded, or
none (counted). The same query serves one enterprise (the online page, the counter, the CLI) and
every enterprise at once (the dashboard, the bench); it is plain SQL that SQLite and PostgreSQL
both run (``CASE`` over correlated ``EXISTS``).

The announcement's two conditions: a paid fee for a covered business in the business window,
and use of the same certificate (CA and serial) on an e-government platform in that window.
The reasons, in the order they are decided (the first that applies is given):

====================  =========================================================
``ca_not_participating``  the issuing CA is not one of the programme's
``business_not_covered``  解锁 or 吊销 (or another business the programme leaves out)
``outside_window``        paid before or after the business window
``unpaid``                nothing paid (amount zero)
``never_used``            no use of the certificate on any platform reported
``used_outside_window``   used, but never inside the business window
``already_refunded``      the same fee is claimed by another application (another
                          enterprise's, or one of another programme) that was not rejected
====================  =========================================================
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)

from certhall.messages import text
from certhall.money import Money, grouped, parse
from certhall.reads import Prepared
from certhall.refunds.models import (
    Business,
    FeeRecord,
    Programme,
    ProgrammeCA,
    RefundLine,
    UsageRecord,
)
from certhall.refunds.records import feed_hall_orders, participating
from certhall.refunds.states import CLAIMING

#: The reasons' codes, in the order above; their words are the catalogue's
#: ``refund_reason.<code>`` (``certhall.messages.refunds``), shown to enterprises and officers.
REASONS: tuple[str, ...] = (
    "ca_not_participating",
    "business_not_covered",
    "outside_window",
    "unpaid",
    "never_used",
    "used_outside_window",
    "already_refunded",
)
COUNTED = ""


def annotated(
    programme: Programme,
    fees: QuerySet[FeeRecord] | None = None,
    participating: Sequence[int] | None = None,
) -> QuerySet[Any]:
    """The programme's fee records (or ``fees`` of it), each with ``reason`` (``""``: counted)
    and ``first_use`` (the first day of use inside the business window). ``participating``:
    the programme's CAs (provider keys), when the caller has read them already."""
    start, end = programme.business_from, programme.business_to
    usage = UsageRecord.objects.filter(
        programme=programme, provider=OuterRef("provider"), serial=OuterRef("serial")
    )
    used_in = usage.filter(used_on__gte=start, used_on__lte=end)
    claimed = (
        RefundLine.objects.filter(
            fee__provider=OuterRef("provider"),
            fee__serial=OuterRef("serial"),
            fee__business=OuterRef("business"),
            fee__paid_on=OuterRef("paid_on"),
            application__state__in=sorted(CLAIMING),
        )
        # the enterprise's own application of this programme is not "another" one
        .exclude(Q(application__programme=programme) & Q(application__uscc=OuterRef("uscc")))
    )
    # A handful of CAs: a list in the statement, not a look-up per fee record.
    if participating is None:
        participating = participating_cas(programme)
    covered = [b for b in programme.businesses if b in Business.values]
    reason = Case(
        When(~Q(provider_id__in=list(participating)), then=Value("ca_not_participating")),
        When(~Q(business__in=covered), then=Value("business_not_covered")),
        When(Q(paid_on__lt=start) | Q(paid_on__gt=end), then=Value("outside_window")),
        When(amount__lte=0, then=Value("unpaid")),
        # used in the window is asked first: a counted record then costs one probe, not two
        When(
            ~Exists(used_in),
            then=Case(
                When(Exists(usage), then=Value("used_outside_window")),
                default=Value("never_used"),
            ),
        ),
        When(Exists(claimed), then=Value("already_refunded")),
        default=Value(COUNTED),
        output_field=CharField(),
    )
    base = fees if fees is not None else FeeRecord.objects.filter(programme=programme)
    return base.annotate(
        reason=reason,
        first_use=Subquery(used_in.order_by("used_on").values("used_on")[:1]),
    )


@dataclass(frozen=True)
class Line:
    fee_id: int
    ca: str
    ca_name: str
    serial: str
    business: str
    paid_on: date
    amount: Decimal
    enterprise_name: str
    reason: str
    first_use: date | None

    @property
    def counted(self) -> bool:
        return self.reason == COUNTED

    @property
    def business_label(self) -> str:
        return str(Business(self.business).label)

    @property
    def reason_text(self) -> str:
        if self.counted:
            return ""
        # business_not_covered names the record's own business: a programme covers the
        # businesses its officers chose
        return text(f"refund_reason.{self.reason}", business=self.business_label)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "serial": self.serial,
            "ca": self.ca,
            "ca_name": self.ca_name,
            "business": self.business,
            "paid_on": self.paid_on.isoformat(),
            "amount_yuan": str(self.amount),
        }
        if self.counted:
            data["first_use"] = self.first_use.isoformat() if self.first_use else None
        else:
            data["reason"] = self.reason
            data["reason_text"] = self.reason_text
        return data


@dataclass(frozen=True)
class Eligibility:
    programme: Programme
    uscc: str
    lines: tuple[Line, ...]

    @property
    def counted(self) -> list[Line]:
        return [line for line in self.lines if line.counted]

    @property
    def excluded(self) -> list[Line]:
        return [line for line in self.lines if not line.counted]

    @property
    def amount(self) -> Money:
        return sum((parse(line.amount) for line in self.counted), Money(0))

    @property
    def eligible(self) -> bool:
        return bool(self.amount)

    @property
    def enterprise_name(self) -> str:
        return self.lines[-1].enterprise_name if self.lines else ""

    def as_json(self) -> dict[str, Any]:
        return {
            "programme": self.programme.slug,
            "uscc": self.uscc,
            "eligible": self.eligible,
            "amount_yuan": str(self.amount),
            "amount_grouped": grouped(self.amount),
            "counted": [line.as_json() for line in self.counted],
            "excluded": [line.as_json() for line in self.excluded],
        }


def participating_cas(programme: Programme, cas: Sequence[ProgrammeCA] | None = None) -> list[int]:
    """The keys of the programme's CAs (``cas``: its CAs, when the caller has read them)."""
    return sorted(pca.provider_id for pca in (participating(programme) if cas is None else cas))


def explain(
    programme: Programme, uscc: str, cas: Sequence[ProgrammeCA] | None = None
) -> Eligibility:
    """Every fee record of the enterprise in the programme, counted or excluded with its reason
    (the hall's own paid orders are fed in first). ``cas``: the programme's CAs, when the
    caller has read them already (the programme page shows them)."""
    feed_hall_orders(programme, uscc=uscc)
    lines = tuple(
        Line(
            fee_id=row.pk,
            ca=row.provider.slug,
            ca_name=row.provider.name,
            serial=row.serial,
            business=row.business,
            paid_on=row.paid_on,
            amount=row.amount,
            enterprise_name=row.enterprise_name,
            reason=row.reason,
            first_use=row.first_use,
        )
        for row in _explained(programme, participating_cas(programme, cas)).rows(uscc)
    )
    return Eligibility(programme, uscc, lines)


#: One enterprise's explained records, the statement compiled once per programme as it stands:
#: its windows, businesses and CAs are constants of the statement, the enterprise the value
#: (the ORM's compile of it was a third of the programme page's CPU).
_EXPLAINED: dict[tuple[Any, ...], Prepared[Any]] = {}


def _explained(programme: Programme, participating: list[int]) -> Prepared[Any]:
    shape = (
        programme.pk,
        programme.business_from,
        programme.business_to,
        tuple(programme.businesses),
        tuple(participating),
    )
    read = _EXPLAINED.get(shape)
    if read is None:
        if len(_EXPLAINED) >= 64:  # programmes edited again and again: start afresh
            _EXPLAINED.clear()
        read = _EXPLAINED[shape] = Prepared(
            lambda uscc: annotated(
                programme, FeeRecord.objects.filter(programme=programme, uscc=uscc), participating
            ).order_by("paid_on", "serial", "pk"),
            related={"provider": ("slug", "name")},
            annotations=("reason", "first_use"),
        )
    return read


def amounts_by_enterprise(programme: Programme) -> QuerySet[Any]:
    """One row per enterprise: ``uscc`` and ``eligible_amount`` (the sum of its counted fees).
    Set-based over the whole programme."""
    counted = Case(
        When(reason=COUNTED, then=F("amount")),
        default=Value(Decimal("0.00")),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )
    rows: QuerySet[Any] = (
        annotated(programme).values("uscc").annotate(eligible_amount=Sum(counted)).order_by("uscc")
    )
    return rows
