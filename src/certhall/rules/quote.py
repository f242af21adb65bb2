"""Quote and enforce one business: the single place every channel (web, API, counter, CLI) asks.

:func:`quote` answers what a business costs, what to bring, how long it takes and whether the
rules allow it at that moment, with every refusing rule's own words. :func:`enforce` is the same
question for services that are about to do the business: it raises :class:`QuoteRefused` (a
:class:`~certhall.errors.RuleViolation`) carrying the quote.

Malformed requests (an unknown business, certificate type, channel or service point, a missing
term, a naive datetime, a date the holiday calendar does not know) raise
:class:`~certhall.errors.InvalidInput`; they are not refusals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from certhall.errors import InvalidInput, RuleViolation
from certhall.messages import text
from certhall.rules.catalog import (
    Business,
    Catalog,
    CertType,
    Channel,
    Delivery,
    DocumentSpec,
    Offer,
    Payee,
    ServicePoint,
    parse_enum,
)
from certhall.rules.hours import day_label, estimate_note, local, point_status
from certhall.rules.loader import default_catalog
from certhall.rules.workdays import DayKind, day_kind, working_deadline

__all__ = ["Processing", "Quote", "QuoteRefused", "Refusal", "enforce", "quote"]


@dataclass(frozen=True)
class Refusal:
    #: Stable identifier: term, channel, statutory_holiday, closed_day, hours, weekend,
    #: renewal_too_early, renewal_expired.
    rule: str
    #: The rule's own words (Chinese), quoted from the seed or from the recorded decision.
    words: str
    #: Why the rule applies to this request.
    detail: str
    #: The inputs of :func:`quote` the rule is about, by its parameters' names (``years``,
    #: ``business``, ``cert_type``, ``channel``, ``point``, ``at``, ``cert_expiry``): a form
    #: marks its fields holding them (:attr:`QuoteRefused.fields`, ``web.refused``).
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Processing:
    kind: str  # "same_day" | "working_days"
    working_days: int | None
    #: Same day: the local date of ``at``; online: ``add_working_days(date of at, n)``.
    due: date
    text: str
    #: ``due`` counts days of a year whose official holiday arrangement is not known yet (预计).
    provisional: bool = False


@dataclass(frozen=True)
class Quote:
    business: Business
    business_name: str
    cert_type: CertType
    cert_name: str
    years: int | None
    channel: Channel
    point: ServicePoint | None
    at: datetime  # Shanghai local time
    fee_yuan: Decimal  # the tariff for the request as asked; postage not included
    fee_text: str
    refusals: tuple[Refusal, ...]
    documents: tuple[DocumentSpec, ...]
    notes: tuple[str, ...]
    processing: Processing
    delivery: Delivery | None  # None when the channel is refused for this business
    payee: Payee | None  # for a bank transfer; None when free
    catalog_version: str

    @property
    def allowed(self) -> bool:
        return not self.refusals

    @property
    def reasons(self) -> tuple[str, ...]:
        return tuple(refusal.words for refusal in self.refusals)

    def as_json(self) -> dict[str, object]:
        """The JSON shape of ``certhall rules quote --json`` (and of API answers)."""
        point = self.point
        delivery = self.delivery
        payee = self.payee
        return {
            "allowed": self.allowed,
            "fee_yuan": json_number(self.fee_yuan),
            "reasons": list(self.reasons),
            "refusals": [
                {"rule": r.rule, "words": r.words, "detail": r.detail} for r in self.refusals
            ],
            "business": self.business.value,
            "business_name": self.business_name,
            "cert": self.cert_type.value,
            "cert_name": self.cert_name,
            "years": self.years,
            "channel": self.channel.value,
            "point": point.slug if point is not None else None,
            "point_name": point.name if point is not None else None,
            "at": self.at.isoformat(),
            "fee_text": self.fee_text,
            "documents": [
                {
                    "id": doc.id,
                    "text": doc.text,
                    "shared_when_both_types": doc.shared_when_both_types,
                    "original_checked_onsite": doc.original_checked_onsite,
                }
                for doc in self.documents
            ],
            "notes": list(self.notes),
            "processing": {
                "kind": self.processing.kind,
                "working_days": self.processing.working_days,
                "due": self.processing.due.isoformat(),
                "text": self.processing.text,
                "provisional": self.processing.provisional,
            },
            "delivery": None
            if delivery is None
            else {
                "method": delivery.method,
                "text": delivery.text,
                "postage_paid_by_customer": delivery.postage_paid_by_customer,
            },
            "payee": None
            if payee is None
            else {"company": payee.company, "bank": payee.bank, "account": payee.account},
            "catalog_version": self.catalog_version,
        }


def json_number(amount: Decimal) -> int | float:
    """A fee as a JSON number: whole yuan as an integer."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


#: The rules about the moment at a service point (``_point_refusals``): their refusal says when.
AT_THE_POINT = frozenset(("statutory_holiday", "closed_day", "hours", "weekend"))


class QuoteRefused(RuleViolation):
    """:func:`enforce` refused; ``quote`` has every refusal. The message quotes the rules."""

    def __init__(self, *, quote: Quote) -> None:
        reasons = "；".join(quote.reasons)
        if any(refusal.rule in AT_THE_POINT for refusal in quote.refusals):
            # a refusal about the moment at a counter (the day, the hours) says which: no form
            # holds it, no field is marked (docs/rules.md, "Refused on a day or at an hour")
            moment = local(quote.at)
            when = f"{day_label(moment.date())} {moment:%H:%M}"
            super().__init__(code="rule_violation", variant="quote_at", reasons=reasons, when=when)
        else:
            super().__init__(code="rule_violation", variant="quote", reasons=reasons)
        self.quote = quote
        # every refusing rule's inputs, once each: the caller renames them to its form's fields
        # (``errors.renamed``: a line's certificate is its serial)
        self.naming(*dict.fromkeys(name for r in quote.refusals for name in r.inputs))


def _years(offer: Offer, catalog: Catalog, has_term: bool, years: int | None) -> int | None:
    spec = catalog.cert_types[offer.cert_type]
    if not has_term:
        if years is not None:
            raise InvalidInput(
                code="term_not_applicable", business=catalog.businesses[offer.business].name
            )
        return None
    if years is None:
        if spec.min_years == spec.max_years:
            return spec.min_years
        raise InvalidInput(
            code="term_missing",
            min_years=spec.min_years,
            max_years=spec.max_years,
            business=catalog.businesses[offer.business].name,
            cert_type=spec.name,
        )
    if isinstance(years, bool) or not isinstance(years, int) or years < 1:
        raise InvalidInput(code="term_invalid", got=years)
    return years


#: What the online renewal window is about: the day, and the end of the certificate renewed.
_WINDOW = ("at", "cert_expiry")


def _renewal_refusals(
    catalog: Catalog, moment: datetime, ends: date | datetime | None
) -> list[Refusal]:
    """The online renewal window. ``ends`` is the certificate's notAfter (a moment) or its
    Shanghai date: with the moment, the expiry day itself is open only until that moment (a
    certificate ending at 10:00 on 2027-01-01 cannot be renewed online at 10:30: the helper's
    request would be refused after payment, ``ca.renewal``)."""
    if ends is None:
        raise InvalidInput(code="cert_expiry_missing")
    today = moment.date()
    expiry = local(ends).date() if isinstance(ends, datetime) else ends
    ended = moment >= ends if isinstance(ends, datetime) else today > expiry
    window = catalog.online_renewal
    opens = window.opens(expiry)
    if ended:
        detail = text("rule_detail.renewal_expired", expiry=expiry.isoformat())
        return [Refusal("renewal_expired", window.expired_rule, detail, _WINDOW)]
    if today < opens:
        detail = text(
            "rule_detail.renewal_too_early", expiry=expiry.isoformat(), opens=opens.isoformat()
        )
        return [Refusal("renewal_too_early", window.too_early_rule, detail, _WINDOW)]
    return []


def _point_refusals(
    catalog: Catalog, where: ServicePoint, cert_type: CertType, moment: datetime
) -> list[Refusal]:
    """On site: the point's opening hours, and the weekend rule."""
    refusals = []
    status = point_status(where, moment)
    if status.rule is not None:
        refusals.append(Refusal(status.rule, where.hours_rule, status.detail, ("at", "point")))
    weekend = catalog.weekend_rule
    today = moment.date()
    rest_day = today.weekday() >= 5 and (
        day_kind(today) is not DayKind.MAKEUP_WORKDAY or weekend.applies_on_makeup_workdays
    )
    if cert_type in weekend.cert_types and rest_day:
        detail = text("rule_detail.weekend", day=today.isoformat(), estimate=estimate_note(today))
        # the day, and the certificate's type: the other type is done on a weekend
        refusals.append(Refusal("weekend", weekend.text, detail, ("at", "cert_type")))
    return refusals


def _offer_refusals(
    catalog: Catalog, offer: Offer, channel: Channel, term: int | None
) -> list[Refusal]:
    """The offer's own rules: the term it is sold for, the channels it is done through."""
    refusals = []
    spec = catalog.businesses[offer.business]
    cert = catalog.cert_types[offer.cert_type]
    if term is not None and not cert.min_years <= term <= cert.max_years:
        detail = text(
            "rule_detail.term",
            years=term,
            cert=cert.name,
            min_years=cert.min_years,
            max_years=cert.max_years,
        )
        refusals.append(Refusal("term", offer.fee_text, detail, ("years",)))
    if channel not in offer.channels:
        words = offer.channel_rule or ""  # the loader guarantees words for a refused channel
        how = text(f"rules_label.channel.{channel.value}")
        detail = text("rule_detail.channel", business=spec.name, cert=cert.name, channel=how)
        # a business done at the counter only (变更 ...), or only this type online (新办 ODC)
        chosen = "cert_type" if channel in spec.channels else "business"
        refusals.append(Refusal("channel", words, detail, ("channel", chosen)))
    return refusals


def _processing(catalog: Catalog, channel: Channel, today: date) -> Processing:
    """The processing time: on site that day, online the catalog's working days."""
    spec = catalog.processing[channel]
    if spec.working_days is None:
        due, provisional = today, False
    else:
        deadline = working_deadline(today, spec.working_days)
        due, provisional = deadline.due, deadline.provisional
    return Processing(spec.kind, spec.working_days, due, spec.text, provisional)


def _service_point(catalog: Catalog, channel: Channel, point: str | None) -> ServicePoint | None:
    """The counter's service point: required on site, refused online."""
    if channel is Channel.ONSITE:
        if point is None:
            raise InvalidInput(code="point_required")
        return catalog.point(point)
    if point is not None:
        raise InvalidInput(code="point_not_online")
    return None


def quote(
    business: Business | str,
    cert_type: CertType | str,
    *,
    years: int | None = None,
    channel: Channel | str,
    point: str | None = None,
    at: datetime,
    cert_expiry: date | datetime | None = None,
    catalog: Catalog | None = None,
) -> Quote:
    """Quote ``business`` for ``cert_type`` through ``channel`` at moment ``at`` (aware).

    ``years``: the term, for 新办/续期 only (defaults to 1 for the 1-year-only 机构证书; required
    for 机构个人证书). ``point``: a service point slug, required on site, refused online.
    ``cert_expiry``: the end of the certificate being renewed (its notAfter, or its Shanghai
    date), required for an online renewal. Every refusing rule is collected (not only the first).
    """
    if catalog is None:
        catalog = default_catalog()
    business = parse_enum(Business, business, "business")
    cert_type = parse_enum(CertType, cert_type, "cert_type")
    channel = parse_enum(Channel, channel, "channel")
    moment = local(at)
    today = moment.date()
    spec = catalog.businesses[business]
    offer = spec.offers[cert_type]
    term = _years(offer, catalog, spec.has_term, years)

    where = _service_point(catalog, channel, point)

    refusals = _offer_refusals(catalog, offer, channel, term)
    cert = catalog.cert_types[cert_type]
    if where is not None:
        refusals.extend(_point_refusals(catalog, where, cert_type, moment))
    if business is Business.RENEW and channel is Channel.ONLINE:
        refusals.extend(_renewal_refusals(catalog, moment, cert_expiry))

    channel_spec = spec.channels.get(channel)
    documents = tuple(
        doc for doc in offer.documents if channel is Channel.ONSITE or not doc.onsite_only
    )
    # the seed's notes 注1-注3 all, numbered as the seed does (注2 says itself that it is for
    # 现场办理): a page that showed 注1 and 注3 only would look as if one were missing
    notes = [note for note, _channels in catalog.document_notes]
    notes.extend(offer.notes)
    if channel_spec is not None:
        notes.extend(channel_spec.notes)
    fee = offer.fee_for(term or 1)
    return Quote(
        business=business,
        business_name=spec.name,
        cert_type=cert_type,
        cert_name=cert.name,
        years=term,
        channel=channel,
        point=where,
        at=moment,
        fee_yuan=fee,
        fee_text=offer.fee_text,
        refusals=tuple(refusals),
        documents=documents,
        notes=tuple(notes),
        processing=_processing(catalog, channel, today),
        delivery=channel_spec.delivery if channel_spec is not None else None,
        payee=catalog.payee if fee > 0 else None,
        catalog_version=catalog.version,
    )


def enforce(
    business: Business | str,
    cert_type: CertType | str,
    *,
    years: int | None = None,
    channel: Channel | str,
    point: str | None = None,
    at: datetime,
    cert_expiry: date | datetime | None = None,
    catalog: Catalog | None = None,
) -> Quote:
    """:func:`quote`, raising :class:`QuoteRefused` (a ``RuleViolation`` quoting every refusing
    rule's words) unless the business is allowed. Services call this before doing business."""
    answer = quote(
        business,
        cert_type,
        years=years,
        channel=channel,
        point=point,
        at=at,
        cert_expiry=cert_expiry,
        catalog=catalog,
    )
    if not answer.allowed:
        raise QuoteRefused(quote=answer)
    return answer
