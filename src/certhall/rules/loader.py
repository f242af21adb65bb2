"""Load and validate the rules catalog (``catalog.json``).

Validation is complete and happens once, at load: unknown or missing keys, a business or a
business x certificate type combination missing, a document id that does not exist, a fee per
year on a business without a term, a ``fee_text`` whose words disagree with ``fee_yuan`` or
``fee_per``, opening hours that are malformed, overlapping or disagree with the seed's 服务时间
text, a channel refused without the rule's words... Any problem raises
:class:`~certhall.errors.ConfigurationError` naming the file and the JSON path.

**When:** :func:`default_catalog` is called by the hall's ``AppConfig.ready()``, so the packaged
catalog is parsed and validated once when the platform starts (``certhall serve``, ``setup``,
every command that loads Django, each gunicorn worker): a broken catalog stops the process with
one line instead of failing the first request that quotes a fee.

**Decision: a hand-written reader, not pydantic.** The frozen dataclasses of
:mod:`certhall.rules.catalog` are what the rules code reads; pydantic models would define each
type a second time (or turn the dataclasses into pydantic types for the core), and most checks
here are across fields and sections (documents named by offers, channels described by the
business, sessions against the hours text, fee words against the fee), which would be validators
either way. The reader is small, gives the JSON path of every problem in one form, and keeps
``certhall.rules`` free of a validation framework.
"""

from __future__ import annotations

import enum
import functools
import json
import re
from collections.abc import Iterable
from datetime import time
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import NoReturn

from certhall import money
from certhall.errors import ConfigurationError, InvalidInput
from certhall.rules.catalog import (
    Business,
    BusinessSpec,
    Catalog,
    CertType,
    CertTypeSpec,
    Channel,
    ChannelSpec,
    Contact,
    Delivery,
    DocumentSpec,
    Offer,
    OnlineRenewal,
    Payee,
    Postage,
    ProcessingSpec,
    ServicePoint,
    Session,
    WeekendRule,
)

__all__ = ["SCHEMA", "default_catalog", "load_catalog", "parse_catalog"]

#: The catalog layout this loader understands.
SCHEMA = 1

WEEKDAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}
DELIVERY_METHODS = frozenset({"pickup", "mail", "online_update", "none"})
FEE_PER = frozenset({"certificate", "year"})
PROCESSING_KINDS = frozenset({"same_day", "working_days"})
_SLUG = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_ID = re.compile(r"[a-z][a-z0-9_]*")
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_ACCOUNT = re.compile(r"[0-9]+(?: [0-9]+)*")  # not \d: ６２２２ would be printed on the forms
#: A service line as it is dialled and printed: 0755-12345678, 400-123-4567, 95105813. ASCII
#: digits (\d took full-width ones, typed in an IME's full-width mode: a tel: link that does not
#: dial) and at most :data:`_PHONE_LENGTH` characters (one unbroken line on a phone's page).
_PHONE = re.compile(r"[0-9]{3,}(?:-[0-9]{2,})*")
_PHONE_LENGTH = 20
#: An amount in a fee's words and what follows it: "150元/个/年", "300元", "99.50元/个".
_FEE_IN_TEXT = re.compile(r"(\d+(?:\.\d{1,2})?)元((?:/[个年])*)")
#: The fee words the loader reads in the catalog's texts (input, as the pattern above): a free
#: fee's, the unit of an amount, and what follows a yearly one.
FREE = "免费"
YUAN = "元"
PER_YEAR = "/年"


class _Reader:
    """Typed access to the raw JSON with the path of every value for error messages."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, problem: str) -> NoReturn:
        raise ConfigurationError(
            code="rules_catalog_invalid", source=self.source, path=path, problem=problem
        )

    def obj(
        self, raw: object, path: str, required: Iterable[str], optional: Iterable[str] = ()
    ) -> dict[str, object]:
        if not isinstance(raw, dict):
            self.fail(path, f"expected an object, got {type(raw).__name__}")
        required, optional = set(required), set(optional)
        unknown = sorted(set(raw) - required - optional)
        if unknown:
            self.fail(path, f"unknown key(s) {', '.join(map(repr, unknown))}")
        missing = sorted(required - set(raw))
        if missing:
            self.fail(path, f"missing key(s) {', '.join(map(repr, missing))}")
        return raw

    def mapping(self, raw: object, path: str) -> dict[str, object]:
        """A non-empty object with free keys."""
        if not isinstance(raw, dict):
            self.fail(path, f"expected an object, got {type(raw).__name__}")
        if not raw:
            self.fail(path, "must not be empty")
        return raw

    def keyed[E: enum.StrEnum](self, raw: object, path: str, kind: type[E]) -> dict[E, object]:
        """An object whose keys are exactly the members of ``kind``."""
        data = self.obj(raw, path, [member.value for member in kind])
        return {member: data[member.value] for member in kind}

    def partial[E: enum.StrEnum](self, raw: object, path: str, kind: type[E]) -> dict[E, object]:
        """An object whose keys are some (at least one) members of ``kind``."""
        data = self.obj(raw, path, [], [member.value for member in kind])
        if not data:
            self.fail(path, "must not be empty")
        return {kind(key): value for key, value in data.items()}

    def text(self, raw: object, path: str) -> str:
        if not isinstance(raw, str) or not raw.strip():
            self.fail(path, "expected a non-empty string")
        if raw != raw.strip() or "\xa0" in raw or "\n" in raw:
            self.fail(path, "no leading/trailing, non-breaking or line-breaking spaces")
        return raw

    def optional_text(self, raw: object, path: str) -> str | None:
        return None if raw is None else self.text(raw, path)

    def integer(self, raw: object, path: str, lowest: int, highest: int | None = None) -> int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            self.fail(path, f"expected a whole number, got {raw!r}")
        if raw < lowest or (highest is not None and raw > highest):
            bound = f"{lowest}..{highest}" if highest is not None else f">= {lowest}"
            self.fail(path, f"{raw} is out of range ({bound})")
        return raw

    def flag(self, raw: object, path: str) -> bool:
        if not isinstance(raw, bool):
            self.fail(path, f"expected true or false, got {raw!r}")
        return raw

    def array(self, raw: object, path: str, *, nonempty: bool = True) -> list[object]:
        if not isinstance(raw, list):
            self.fail(path, f"expected a list, got {type(raw).__name__}")
        if nonempty and not raw:
            self.fail(path, "must not be empty")
        return raw

    def texts(self, raw: object, path: str, *, nonempty: bool = False) -> tuple[str, ...]:
        items = self.array(raw, path, nonempty=nonempty)
        return tuple(self.text(item, f"{path}[{i}]") for i, item in enumerate(items))

    def members[E: enum.StrEnum](self, raw: object, path: str, kind: type[E]) -> frozenset[E]:
        items = self.array(raw, path)
        out: list[E] = []
        for i, item in enumerate(items):
            if not isinstance(item, str) or item not in {m.value for m in kind}:
                self.fail(f"{path}[{i}]", f"unknown value {item!r}")
            out.append(kind(item))
        if len(set(out)) != len(out):
            self.fail(path, "duplicate values")
        return frozenset(out)

    def choice(self, raw: object, path: str, choices: frozenset[str]) -> str:
        if not isinstance(raw, str) or raw not in choices:
            self.fail(path, f"{raw!r} is not one of {', '.join(sorted(choices))}")
        return raw

    def yuan(self, raw: object, path: str) -> Decimal:
        """A fee in yuan: a whole number, or a string with at most two decimals (fen); as
        Decimal yuan with two places, like every stored amount (:mod:`certhall.money`)."""
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            self.fail(path, f"expected yuan as a number or a decimal string, got {raw!r}")
        try:
            return money.parse(raw).yuan
        except InvalidInput:
            self.fail(path, f"{raw!r} is not an amount in yuan (>= 0, at most 2 decimals)")

    def clock(self, raw: object, path: str) -> time:
        match = _CLOCK.fullmatch(raw) if isinstance(raw, str) else None
        if match is None:
            self.fail(path, f"expected a time HH:MM, got {raw!r}")
        return time(int(match.group(1)), int(match.group(2)))


def _document(r: _Reader, key: str, raw: object, path: str) -> DocumentSpec:
    if not _ID.fullmatch(key):
        r.fail(path, "document ids are lower_case_with_underscores")
    flags = ("shared_when_both_types", "original_checked_onsite", "onsite_only")
    data = r.obj(raw, path, ["text", *flags])
    return DocumentSpec(
        id=key,
        text=r.text(data["text"], f"{path}.text"),
        shared_when_both_types=r.flag(
            data["shared_when_both_types"], f"{path}.shared_when_both_types"
        ),
        original_checked_onsite=r.flag(
            data["original_checked_onsite"], f"{path}.original_checked_onsite"
        ),
        onsite_only=r.flag(data["onsite_only"], f"{path}.onsite_only"),
    )


def _channel(r: _Reader, channel: Channel, raw: object, path: str) -> ChannelSpec:
    data = r.obj(raw, path, ["how", "delivery", "notes"])
    dpath = f"{path}.delivery"
    delivery = r.obj(
        data["delivery"], dpath, ["method", "text", "postage_paid_by_customer"], ["step"]
    )
    method = r.choice(delivery["method"], f"{dpath}.method", DELIVERY_METHODS)
    postage = r.flag(delivery["postage_paid_by_customer"], f"{dpath}.postage_paid_by_customer")
    if postage and method != "mail":
        r.fail(dpath, "postage only applies to a mailed Ukey (method 'mail')")
    notes = r.texts(data["notes"], f"{path}.notes")
    step = delivery.get("step")  # 1 is ``how``
    step = None if step is None else r.integer(step, f"{dpath}.step", 2, len(notes) + 2)
    return ChannelSpec(
        channel=channel,
        how=r.text(data["how"], f"{path}.how"),
        delivery=Delivery(method, r.text(delivery["text"], f"{dpath}.text"), postage, step),
        notes=notes,
    )


def _fee_text_agrees(r: _Reader, path: str, text: str, fee: Decimal, *, per_year: bool) -> None:
    """The words customers read say the fee the platform charges: 免费 for 0, otherwise every
    amount in the words is ``fee``, "/年" after it exactly when the fee is per year."""
    amounts = _FEE_IN_TEXT.findall(text)
    if not fee:
        if FREE not in text or amounts:
            r.fail(path, f"{text!r} disagrees with fee_yuan 0: free fees say {FREE}, no amount")
        return
    if FREE in text or not amounts:
        r.fail(path, f"{text!r} disagrees with fee_yuan {fee}: no amount in {YUAN}")
    for amount, units in amounts:
        if money.parse(amount).yuan != fee:
            r.fail(path, f"{text!r} says {amount}{YUAN}, fee_yuan is {fee}")
        if (PER_YEAR in units) != per_year:
            basis = "per year" if per_year else "per certificate"
            r.fail(path, f"{text!r} disagrees with fee_per: the fee is {basis}")


def _offer(
    r: _Reader,
    business: Business,
    has_term: bool,
    cert_type: CertType,
    channels: frozenset[Channel],
    documents: dict[str, DocumentSpec],
    raw: object,
    path: str,
) -> Offer:
    keys = ["fee_yuan", "fee_per", "fee_text", "channels", "channel_rule", "documents", "notes"]
    data = r.obj(raw, path, keys)
    fee_per = r.choice(data["fee_per"], f"{path}.fee_per", FEE_PER)
    if fee_per == "year" and not has_term:
        r.fail(f"{path}.fee_per", f"a fee per year needs a term, and {business} has none")
    allowed = r.members(data["channels"], f"{path}.channels", Channel)
    if not allowed <= channels:
        extra = ", ".join(sorted(allowed - channels))
        r.fail(f"{path}.channels", f"{extra} not described under the business's channels")
    rule = r.optional_text(data["channel_rule"], f"{path}.channel_rule")
    if rule is None and allowed != frozenset(Channel):
        r.fail(f"{path}.channel_rule", "a refused channel needs the rule's words")
    if rule is not None and allowed == frozenset(Channel):
        r.fail(f"{path}.channel_rule", "must be null when every channel is allowed")
    ids = r.array(data["documents"], f"{path}.documents")
    docs: list[DocumentSpec] = []
    for i, doc_id in enumerate(ids):
        if not isinstance(doc_id, str) or doc_id not in documents:
            r.fail(f"{path}.documents[{i}]", f"unknown document {doc_id!r}")
        docs.append(documents[doc_id])
    if len(set(ids)) != len(ids):
        r.fail(f"{path}.documents", "duplicate documents")
    fee_yuan = r.yuan(data["fee_yuan"], f"{path}.fee_yuan")
    fee_text = r.text(data["fee_text"], f"{path}.fee_text")
    _fee_text_agrees(r, f"{path}.fee_text", fee_text, fee_yuan, per_year=fee_per == "year")
    return Offer(
        business=business,
        cert_type=cert_type,
        fee_yuan=fee_yuan,
        fee_per=fee_per,
        fee_text=fee_text,
        channels=allowed,
        channel_rule=rule,
        documents=tuple(docs),
        notes=r.texts(data["notes"], f"{path}.notes"),
    )


def _business(
    r: _Reader, key: Business, documents: dict[str, DocumentSpec], raw: object, path: str
) -> BusinessSpec:
    data = r.obj(raw, path, ["name", "summary", "has_term", "channels", "cert_types"])
    has_term = r.flag(data["has_term"], f"{path}.has_term")
    channels = {
        channel: _channel(r, channel, spec, f"{path}.channels.{channel}")
        for channel, spec in r.partial(data["channels"], f"{path}.channels", Channel).items()
    }
    offers = {
        cert_type: _offer(
            r,
            key,
            has_term,
            cert_type,
            frozenset(channels),
            documents,
            spec,
            f"{path}.cert_types.{cert_type}",
        )
        for cert_type, spec in r.keyed(data["cert_types"], f"{path}.cert_types", CertType).items()
    }
    return BusinessSpec(
        key=key,
        name=r.text(data["name"], f"{path}.name"),
        summary=r.text(data["summary"], f"{path}.summary"),
        has_term=has_term,
        channels=MappingProxyType(channels),
        offers=MappingProxyType(offers),
    )


def _point(r: _Reader, raw: object, path: str) -> ServicePoint:
    keys = [
        "slug",
        "name",
        "address",
        "hours_text",
        "open_weekdays",
        "sessions",
        "closed_on_statutory_holidays",
        "open_on_makeup_workdays",
    ]
    data = r.obj(raw, path, keys)
    slug = r.text(data["slug"], f"{path}.slug")
    if not _SLUG.fullmatch(slug):
        r.fail(f"{path}.slug", f"{slug!r} is not a slug (lower-case letters, digits, hyphens)")
    days = r.array(data["open_weekdays"], f"{path}.open_weekdays")
    weekdays: set[int] = set()
    for i, day in enumerate(days):
        if not isinstance(day, str) or day not in WEEKDAYS:
            r.fail(f"{path}.open_weekdays[{i}]", f"{day!r} is not one of {', '.join(WEEKDAYS)}")
        if WEEKDAYS[day] in weekdays:
            r.fail(f"{path}.open_weekdays", f"{day} appears twice")
        weekdays.add(WEEKDAYS[day])
    sessions: list[Session] = []
    for i, raw_session in enumerate(r.array(data["sessions"], f"{path}.sessions")):
        spath = f"{path}.sessions[{i}]"
        pair = r.array(raw_session, spath)
        if len(pair) != 2:
            r.fail(spath, "expected [start, end]")
        session = Session(r.clock(pair[0], f"{spath}[0]"), r.clock(pair[1], f"{spath}[1]"))
        if session.start >= session.end:
            r.fail(spath, "a session must end after it starts")
        if sessions and session.start < sessions[-1].end:
            r.fail(spath, "sessions must be in order and must not overlap")
        sessions.append(session)
    hours_text = r.text(data["hours_text"], f"{path}.hours_text")
    rendered = ",".join(session.text() for session in sessions)
    if rendered not in hours_text:
        r.fail(f"{path}.sessions", f"{rendered} disagrees with hours_text {hours_text!r}")
    return ServicePoint(
        slug=slug,
        name=r.text(data["name"], f"{path}.name"),
        address=r.text(data["address"], f"{path}.address"),
        hours_text=hours_text,
        open_weekdays=frozenset(weekdays),
        sessions=tuple(sessions),
        closed_on_statutory_holidays=r.flag(
            data["closed_on_statutory_holidays"], f"{path}.closed_on_statutory_holidays"
        ),
        open_on_makeup_workdays=r.flag(
            data["open_on_makeup_workdays"], f"{path}.open_on_makeup_workdays"
        ),
    )


def _processing(r: _Reader, channel: Channel, raw: object, path: str) -> ProcessingSpec:
    data = r.obj(raw, path, ["kind", "working_days", "text"])
    kind = r.choice(data["kind"], f"{path}.kind", PROCESSING_KINDS)
    days: int | None = None
    if kind == "working_days":
        days = r.integer(data["working_days"], f"{path}.working_days", 1, 60)
    elif data["working_days"] is not None:
        r.fail(f"{path}.working_days", "must be null for same-day processing")
    return ProcessingSpec(channel, kind, days, r.text(data["text"], f"{path}.text"))


def parse_catalog(raw: object, source: str = "<data>") -> Catalog:
    """Validate decoded JSON and build the :class:`Catalog`."""
    r = _Reader(source)
    top = [
        "schema",
        "version",
        "source",
        "online_hall_url",
        "cert_types",
        "documents",
        "document_notes",
        "businesses",
        "service_points",
        "weekend_rule",
        "processing",
        "online_renewal",
        "payee",
        "postage",
    ]
    data = r.obj(raw, "$", top, ["contact"])
    schema = r.integer(data["schema"], "$.schema", SCHEMA, SCHEMA)
    url = r.text(data["online_hall_url"], "$.online_hall_url")
    if not url.startswith("https://"):
        r.fail("$.online_hall_url", "expected an https:// address")

    raw_documents = r.mapping(data["documents"], "$.documents")
    documents = {
        key: _document(r, key, spec, f"$.documents.{key}") for key, spec in raw_documents.items()
    }
    businesses = {
        key: _business(r, key, documents, spec, f"$.businesses.{key}")
        for key, spec in r.keyed(data["businesses"], "$.businesses", Business).items()
    }
    used = {doc.id for b in businesses.values() for o in b.offers.values() for doc in o.documents}
    unused = sorted(set(documents) - used)
    if unused:
        r.fail("$.documents", f"document(s) never required: {', '.join(unused)}")

    points = tuple(
        _point(r, spec, f"$.service_points[{i}]")
        for i, spec in enumerate(r.array(data["service_points"], "$.service_points"))
    )
    slugs = [point.slug for point in points]
    if len(set(slugs)) != len(slugs):
        r.fail("$.service_points", "duplicate slugs")

    processing = {
        channel: _processing(r, channel, spec, f"$.processing.{channel}")
        for channel, spec in r.keyed(data["processing"], "$.processing", Channel).items()
    }
    return Catalog(
        schema=schema,
        version=r.text(data["version"], "$.version"),
        source=r.text(data["source"], "$.source"),
        online_hall_url=url,
        cert_types=MappingProxyType(_cert_types(r, data["cert_types"])),
        documents=MappingProxyType(documents),
        document_notes=_document_notes(r, data["document_notes"]),
        businesses=MappingProxyType(businesses),
        points=points,
        weekend_rule=_weekend_rule(r, data["weekend_rule"]),
        processing=MappingProxyType(processing),
        online_renewal=_online_renewal(r, data["online_renewal"]),
        payee=_payee(r, data["payee"]),
        postage=_postage(r, data["postage"]),
        contact=_contact(r, data.get("contact")),
    )


def _cert_types(r: _Reader, raw: object) -> dict[CertType, CertTypeSpec]:
    cert_types: dict[CertType, CertTypeSpec] = {}
    for cert_type, spec in r.keyed(raw, "$.cert_types", CertType).items():
        path = f"$.cert_types.{cert_type}"
        fields = r.obj(spec, path, ["name", "min_years", "max_years"])
        lowest = r.integer(fields["min_years"], f"{path}.min_years", 1, 50)
        highest = r.integer(fields["max_years"], f"{path}.max_years", lowest, 50)
        cert_types[cert_type] = CertTypeSpec(
            cert_type, r.text(fields["name"], f"{path}.name"), lowest, highest
        )
    return cert_types


def _document_notes(r: _Reader, raw: object) -> tuple[tuple[str, frozenset[Channel]], ...]:
    notes: list[tuple[str, frozenset[Channel]]] = []
    for i, note in enumerate(r.array(raw, "$.document_notes", nonempty=False)):
        path = f"$.document_notes[{i}]"
        fields = r.obj(note, path, ["text", "channels"])
        notes.append(
            (
                r.text(fields["text"], f"{path}.text"),
                r.members(fields["channels"], f"{path}.channels", Channel),
            )
        )
    return tuple(notes)


def _weekend_rule(r: _Reader, raw: object) -> WeekendRule:
    path = "$.weekend_rule"
    weekend = r.obj(raw, path, ["text", "cert_types", "applies_on_makeup_workdays"])
    return WeekendRule(
        text=r.text(weekend["text"], f"{path}.text"),
        cert_types=r.members(weekend["cert_types"], f"{path}.cert_types", CertType),
        applies_on_makeup_workdays=r.flag(
            weekend["applies_on_makeup_workdays"], f"{path}.applies_on_makeup_workdays"
        ),
    )


def _online_renewal(r: _Reader, raw: object) -> OnlineRenewal:
    path = "$.online_renewal"
    renewal = r.obj(raw, path, ["days_before_expiry", "too_early_rule", "expired_rule"])
    return OnlineRenewal(
        days_before_expiry=r.integer(
            renewal["days_before_expiry"], f"{path}.days_before_expiry", 1, 366
        ),
        too_early_rule=r.text(renewal["too_early_rule"], f"{path}.too_early_rule"),
        expired_rule=r.text(renewal["expired_rule"], f"{path}.expired_rule"),
    )


def _payee(r: _Reader, raw: object) -> Payee:
    data = r.obj(raw, "$.payee", ["company", "bank", "account"])
    account = r.text(data["account"], "$.payee.account")
    if not _ACCOUNT.fullmatch(account):
        r.fail("$.payee.account", "expected digits in groups separated by single spaces")
    return Payee(
        company=r.text(data["company"], "$.payee.company"),
        bank=r.text(data["bank"], "$.payee.bank"),
        account=account,
    )


def _contact(r: _Reader, raw: object) -> Contact | None:
    """The optional service line: absent or null when the operator configured none."""
    if raw is None:
        return None
    data = r.obj(raw, "$.contact", ["phone", "hours"])
    phone = r.text(data["phone"], "$.contact.phone")
    if len(phone) > _PHONE_LENGTH or not _PHONE.fullmatch(phone):
        r.fail(
            "$.contact.phone",
            f"expected a telephone number: ASCII digits in groups joined by -, "
            f"at most {_PHONE_LENGTH} characters",
        )
    return Contact(phone=phone, hours=r.text(data["hours"], "$.contact.hours"))


def _postage(r: _Reader, raw: object) -> Postage:
    data = r.obj(raw, "$.postage", ["fee_yuan", "text"])
    return Postage(
        fee_yuan=r.yuan(data["fee_yuan"], "$.postage.fee_yuan"),
        text=r.text(data["text"], "$.postage.text"),
    )


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _decode(text: str, source: str) -> object:
    try:
        decoded: object = json.loads(text, object_pairs_hook=_no_duplicates)
    except ValueError as error:  # JSONDecodeError is a ValueError, so is a duplicate key
        raise ConfigurationError(
            code="rules_catalog_invalid", variant="json", source=source, error=error
        ) from None
    return decoded


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Read and validate a catalog file; without ``path``, the packaged ``catalog.json``."""
    if path is None:
        source = "certhall/rules/catalog.json"
        text = resources.files("certhall.rules").joinpath("catalog.json").read_text("utf-8")
    else:
        source = str(path)
        try:
            text = Path(path).read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigurationError(
                code="rules_catalog_invalid", variant="read", source=source, error=error
            ) from None
    return parse_catalog(_decode(text, source), source)


@functools.cache
def default_catalog() -> Catalog:
    """The packaged catalog, loaded and validated once per process."""
    return load_catalog()
