"""The rules catalog: what the seed says, as typed, frozen data.

``catalog.json`` (package data, next to this module) holds the certificate types, the six
businesses with their fee, documents and channels per certificate type, the service points and
their hours, the weekend rule, processing times, the online renewal window, the payee and the
postage of a mailed Ukey. The
loader in :mod:`certhall.rules.loader` validates it completely and builds these objects; the
functions in :mod:`certhall.rules.quote` only read them. A fee change is a change of
``catalog.json`` (and of its ``version``), not of code.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal

from certhall.errors import InvalidInput
from certhall.messages import text

__all__ = [
    "Business",
    "BusinessSpec",
    "Catalog",
    "CertType",
    "CertTypeSpec",
    "Channel",
    "ChannelSpec",
    "Delivery",
    "DocumentSpec",
    "Offer",
    "OnlineRenewal",
    "Payee",
    "Postage",
    "ProcessingSpec",
    "ServicePoint",
    "Session",
    "WeekendRule",
]


class Business(enum.StrEnum):
    NEW = "new"  # 新办
    RENEW = "renew"  # 续期
    CHANGE = "change"  # 变更
    UNLOCK = "unlock"  # 解锁
    REPLACE = "replace"  # 介质补办
    REVOKE = "revoke"  # 吊销


class CertType(enum.StrEnum):
    ORG = "org"  # 机构证书 (ODC证书)
    PERSONAL = "personal"  # 机构个人证书 (法人证书)


class Channel(enum.StrEnum):
    ONSITE = "onsite"  # 现场办理 at a 受理点
    ONLINE = "online"  # 网上营业厅


def parse_enum[E: enum.StrEnum](kind: type[E], value: E | str, what: str) -> E:
    """``value`` as a member of ``kind``; :class:`InvalidInput` naming the choices otherwise.
    ``what`` names the choice: its label's code ``rules_label.<what>`` (``business``)."""
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        label = text(f"rules_label.{what}")
        raise InvalidInput(
            code="unknown_choice", what=label, value=value, choices=choices
        ) from None


@dataclass(frozen=True)
class CertTypeSpec:
    key: CertType
    name: str
    min_years: int
    max_years: int


@dataclass(frozen=True)
class DocumentSpec:
    id: str
    text: str
    #: 注3: provided once when 机构证书 and 机构个人证书 are applied for together.
    shared_when_both_types: bool
    #: 注2: the original is checked at the counter (现场办理时...须核验原件收复印件).
    original_checked_onsite: bool
    #: Only handed over at the counter (the Ukey); dropped from online quotes.
    onsite_only: bool


@dataclass(frozen=True)
class Delivery:
    method: str  # pickup | mail | online_update | none
    text: str
    postage_paid_by_customer: bool
    #: Where the seed numbers this line among the channel's steps (1 is ``how``, 2 the first
    #: note): 新办's mailing is step 4, before 5, the PIN by SMS. None: after the steps.
    step: int | None = None


@dataclass(frozen=True)
class ChannelSpec:
    channel: Channel
    how: str
    delivery: Delivery
    notes: tuple[str, ...]

    @property
    def steps(self) -> tuple[str, ...]:
        """The steps after ``how`` as the seed numbers them: the notes, and the delivery line
        at its own step where it has one."""
        if self.delivery.step is None:
            return self.notes
        at = self.delivery.step - 2
        return (*self.notes[:at], self.delivery.text, *self.notes[at:])


@dataclass(frozen=True)
class Offer:
    """One business for one certificate type: its fee, channels and documents."""

    business: Business
    cert_type: CertType
    fee_yuan: Decimal
    fee_per: str  # "certificate" | "year"
    #: The seed's 收费标准 line; also the words quoted when the term is refused.
    fee_text: str
    channels: frozenset[Channel]
    #: The words quoted when the requested channel is not in ``channels``.
    channel_rule: str | None
    documents: tuple[DocumentSpec, ...]
    notes: tuple[str, ...]

    def fee_for(self, years: int) -> Decimal:
        return self.fee_yuan * years if self.fee_per == "year" else self.fee_yuan


@dataclass(frozen=True)
class BusinessSpec:
    key: Business
    name: str
    summary: str
    #: Whether the customer chooses a term (years): 新办 and 续期.
    has_term: bool
    channels: Mapping[Channel, ChannelSpec]
    offers: Mapping[CertType, Offer]


@dataclass(frozen=True)
class Session:
    """Opening session ``[start, end)``: open at ``start``, closed from ``end`` on."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end

    def text(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


def _clock(moment: time) -> str:
    return f"{moment.hour}:{moment.minute:02d}"


@dataclass(frozen=True)
class ServicePoint:
    slug: str
    name: str
    address: str
    #: The seed's 服务时间 line, verbatim.
    hours_text: str
    #: ISO weekdays (1 = Monday ... 7 = Sunday) of the ordinary week.
    open_weekdays: frozenset[int]
    sessions: tuple[Session, ...]
    closed_on_statutory_holidays: bool
    #: Open on a 调休 Saturday/Sunday that the State Council made a working day.
    open_on_makeup_workdays: bool

    @property
    def hours_rule(self) -> str:
        """The words quoted when the point is closed."""
        return text("rules_label.hours_rule", point=self.name, hours=self.hours_text)


@dataclass(frozen=True)
class WeekendRule:
    text: str
    cert_types: frozenset[CertType]
    #: Whether the rule also refuses on a 调休 Saturday/Sunday (a working day).
    applies_on_makeup_workdays: bool


@dataclass(frozen=True)
class ProcessingSpec:
    channel: Channel
    kind: str  # "same_day" | "working_days"
    working_days: int | None
    text: str


@dataclass(frozen=True)
class OnlineRenewal:
    days_before_expiry: int
    too_early_rule: str
    expired_rule: str

    def opens(self, expiry: date) -> date:
        """The first day a certificate expiring on ``expiry`` renews online."""
        return expiry - timedelta(days=self.days_before_expiry)

    def is_open(self, today: date, expiry: date) -> bool:
        return self.opens(expiry) <= today <= expiry


@dataclass(frozen=True)
class Payee:
    company: str
    bank: str
    account: str


@dataclass(frozen=True)
class Postage:
    """Postage of a mailed Ukey: 邮费自付, the customer pays it with the fee. The seed gives no
    amount; the catalog's is the operator's tariff (docs/rules.md)."""

    fee_yuan: Decimal
    #: The words of the order's and receipt's line for it.
    text: str


@dataclass(frozen=True)
class Contact:
    """The CA's customer service line (客服), as the operator configures it. The seeds name
    none: the packaged catalog has none, and no page invents one (docs/rules.md)."""

    phone: str
    #: When the line answers, in the operator's words ("周一至周五 9:00-18:00").
    hours: str


@dataclass(frozen=True)
class Catalog:
    schema: int
    version: str
    source: str
    online_hall_url: str
    cert_types: Mapping[CertType, CertTypeSpec]
    documents: Mapping[str, DocumentSpec]
    #: (text, channels the note applies to): 注1-注3.
    document_notes: tuple[tuple[str, frozenset[Channel]], ...]
    businesses: Mapping[Business, BusinessSpec]
    points: tuple[ServicePoint, ...]
    weekend_rule: WeekendRule
    processing: Mapping[Channel, ProcessingSpec]
    online_renewal: OnlineRenewal
    payee: Payee
    postage: Postage
    #: The service line, or None where the operator configured none (the seed-derived catalog).
    contact: Contact | None = None

    def point(self, slug: str) -> ServicePoint:
        for point in self.points:
            if point.slug == slug:
                return point
        choices = ", ".join(p.slug for p in self.points)
        what = text("rules_label.point")
        raise InvalidInput(code="unknown_choice", what=what, value=slug, choices=choices)

    def offer(self, business: Business, cert_type: CertType) -> Offer:
        return self.businesses[business].offers[cert_type]
