"""Reading the audit chain: the auditors' page (``/console/audit/``).

Only the home provider's auditors and CA administrators read it (``require_reader``). The list
is read newest first, a page at a time by ``seq`` (keyset: ``before`` for older rows, ``after``
for newer ones), never counted. Viewing
the list or an event is not recorded (reading writes nothing: an auditor paging through the
log would otherwise lengthen it with every click); running the verification is, as
``audit.verify`` with its result, since it states the chain's integrity at a moment. The
verification walks the whole chain (6.5 s for 100,000 events on SQLite, docs/performance.md
section 7), so it is rate-limited per actor and per provider (``VERIFY_BY_ACTOR``,
``VERIFY_BY_PROVIDER``) and the page shows the last recorded one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet

from certhall import clock, ratelimit
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import passes, require_active, require_provider
from certhall.accounts.services import home_provider
from certhall.audit import checkpoints
from certhall.audit import services as audit
from certhall.audit.models import OBJECT_ID_LENGTH, AuditEvent, AuditHead
from certhall.errors import Forbidden, InvalidInput, NotFound
from certhall.messages import text

READER_ROLES = frozenset({Role.AUDITOR, Role.CA_ADMIN})
PAGE = 50
#: The filters' bounds (the columns' lengths).
ACTION_LENGTH = 64
ACTOR_LENGTH = 150
ID_LENGTH = OBJECT_ID_LENGTH
RESULTS = (audit.OK, audit.REFUSED)
#: The dates the filters take (far wider than any chain; the ends of ``date`` overflow).
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)
VERIFY = "audit.verify"
#: One verification per reader in 10 minutes, 6 an hour for the whole provider (its readers
#: together): at most a minute of a web worker an hour on a chain of 100,000 events.
VERIFY_BY_ACTOR = ratelimit.Limit("audit_verify_actor", 1, 600, "rate_limited_audit_verify")
VERIFY_BY_PROVIDER = ratelimit.Limit(
    "audit_verify_provider", 6, 3600, "rate_limited_audit_verify_provider"
)


def is_reader(actor: User) -> bool:
    return passes(require_reader, actor)


def require_reader(actor: User) -> None:
    require_active(actor)
    if actor.role not in READER_ROLES:
        raise Forbidden(code="audit_role_required")
    require_provider(actor, home_provider().pk)  # this instance's CA's staff only


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to: an action's prefix (``refunds.``), an object's id and an
    actor's label (exact), a result, Shanghai dates (both included), and rows before a seq."""

    action: str = ""
    object_id: str = ""
    actor: str = ""
    result: str = ""
    since: date | None = None
    until: date | None = None
    before: int | None = None
    #: Rows after a seq (the way back to newer rows), oldest of them first.
    after: int | None = None


def parse_day(text: str) -> date | None:
    """A date typed into the form (``2026-12-05``): None when left empty."""
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(code="audit_date") from None
    if not FIRST_DAY <= day <= LAST_DAY:  # 9999-12-31 + 1 day, 0001-01-01 in UTC: overflow
        raise InvalidInput(code="audit_date_range", first=FIRST_DAY, last=LAST_DAY)
    return day


def _checked(filters: Filters) -> None:
    if filters.result and filters.result not in RESULTS:
        raise InvalidInput(code="audit_result")
    if filters.since and filters.until and filters.since > filters.until:
        raise InvalidInput(code="audit_date_order")
    if filters.before is not None and filters.after is not None:
        raise InvalidInput(code="audit_paging")


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=clock.SHANGHAI)


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    #: The ``before`` of the next (older) page, None on the last.
    older: int | None
    #: The ``after`` of the previous (newer) page, None on the newest.
    newer: int | None = None


def filtered(filters: Filters) -> QuerySet[AuditEvent]:
    """The events the filters (not the paging) keep, newest first (the list and the export)."""
    _checked(filters)
    rows: QuerySet[AuditEvent] = AuditEvent.objects.order_by("-seq")
    if filters.action:
        rows = rows.filter(action__startswith=filters.action)
    if filters.object_id:
        rows = rows.filter(object_id=filters.object_id)
    if filters.actor:
        rows = rows.filter(actor=filters.actor)
    if filters.result:
        rows = rows.filter(result=filters.result)
    if filters.since:
        rows = rows.filter(at__gte=_start_of(filters.since))
    if filters.until:
        rows = rows.filter(at__lt=_start_of(filters.until + timedelta(days=1)))
    return rows


def events(actor: User, filters: Filters) -> Page:
    """A page of events, newest first: the newest ones, the ones ``before`` a seq, or the
    ones ``after`` a seq (the page just newer than it)."""
    require_reader(actor)
    rows = filtered(filters)
    if filters.after is not None:
        found = list(rows.filter(seq__gt=filters.after).order_by("seq")[: PAGE + 1])
        shown = found[:PAGE][::-1]
        newer = shown[0].seq if len(found) > PAGE else None
        more = bool(shown) and rows.filter(seq__lt=shown[-1].seq).exists()
        return Page(shown, shown[-1].seq if more else None, newer)
    if filters.before is not None:
        rows = rows.filter(seq__lt=filters.before)
    found = list(rows[: PAGE + 1])
    older = found[PAGE - 1].seq if len(found) > PAGE else None
    shown = found[:PAGE]
    newer = None
    if filters.before is not None and shown:
        newer = shown[0].seq if filtered(filters).filter(seq__gt=shown[0].seq).exists() else None
    return Page(shown, older, newer)


#: The largest ``seq`` the column holds (PostgreSQL's bigint): a larger one in a link is missing,
#: not a database error.
MAX_SEQ = 2**63 - 1


def event(actor: User, seq: int) -> AuditEvent:
    require_reader(actor)
    found = AuditEvent.objects.filter(seq=seq).first() if 0 < seq <= MAX_SEQ else None
    if found is None:
        raise NotFound(code="audit_event_missing", seq=seq)
    return found


@dataclass(frozen=True)
class State:
    """The chain's head (last seq and time) and the last signed checkpoint, cheap to read."""

    seq: int
    at: datetime | None
    checkpoint: checkpoints.Checkpoint | None
    checkpoint_at: datetime | None
    #: The last recorded verification (``audit.verify``, ok or not; refusals are not one).
    verified: AuditEvent | None = None


def state(actor: User) -> State:
    require_reader(actor)
    head = AuditHead.objects.filter(pk=1).first()
    last = next((c for c in reversed(checkpoints.read()) if c is not None), None)
    at = datetime.fromisoformat(last.at) if last is not None else None
    verified = AuditEvent.objects.filter(action=VERIFY, result=audit.OK).order_by("-seq").first()
    return State(head.seq if head else 0, head.at if head else None, last, at, verified)


def verify(actor: User) -> audit.Verification:
    """Walk the whole chain (``audit.verify``, as slow as the chain is long) and record the
    verification, with its result, as ``audit.verify`` (a refusal too: of the rate limits only
    the first of a window, as ``audit.refusals_recorded`` records them)."""
    with audit.refusals_recorded(actor, VERIFY, object_type="audit_chain"):
        require_reader(actor)
        ratelimit.reserve(
            [
                (VERIFY_BY_ACTOR, f"user:{actor.pk}"),
                (VERIFY_BY_PROVIDER, f"provider:{actor.provider_id}"),
            ]
        )
    result = audit.verify()
    audit.record(
        actor,
        VERIFY,
        object_type="audit_chain",
        after={
            "ok": result.ok,
            "checked": result.checked,
            "seq": result.seq,
            "problem": result.problem,
            "anchors": result.anchors,
            "code": result.code,
            "params": result.params,
        },
    )
    return result


def verified_text(event: AuditEvent) -> str:
    """What a recorded verification found, in the catalogue's words."""
    after = event.after or {}
    if after.get("ok"):
        return text("done_audit_verified", checked=after.get("checked", 0))
    code = after.get("code")
    problem = text(f"audit_chain.{code}", **after.get("params", {})) if code else ""
    if after.get("seq") is None:
        return text("audit_chain_failed", problem=problem)
    return text("audit_chain_broken", seq=after["seq"], problem=problem)
