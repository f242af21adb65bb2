"""The platform's one rate limiter: sliding windows counted in the database.

A :class:`Limit` is "at most ``max_events`` counted events of ``scope`` for one key in the last
``window`` seconds". The events are rows of one table (``accounts.RateLimitEvent``) rather than
Django's cache, which is per process: every gunicorn worker, the API and the pages share the
count. Users: SMS codes, password/SMS logins and registrations (accounts), certificate login
challenges and attempts (certlogin), public status look-ups (web.status).

**Why a sliding window** (not a fixed one): a fixed window lets twice the limit through around
its edge (a burst at 12:00:59 and another at 12:01:00) and tells every refused client the same
"come back at the window's end"; a sliding window refuses exactly when ``max_events`` happened in
the last ``window`` seconds, and the wait it announces is exact (until the oldest counted event
leaves). It can also give a slot back (:func:`release`), which limits on *failures* need: a
login reserves a slot before trying and releases it when the attempt succeeded, so N
simultaneous guesses cannot all slip in under the limit. The price is one row per counted event
(at most ``max_events`` per key and window), deleted after a day.

:func:`reserve` checks every given limit and, only when all of them allow it, counts one event
for each: a refused request counts for nothing, so a flood cannot extend its own ban. Checking
and counting happen under a lock per (scope, key) — SQLite's ``BEGIN IMMEDIATE`` serialises
writers, PostgreSQL takes a transaction-level advisory lock — so simultaneous requests from any
number of processes are counted exactly.

A refusal is :class:`~certhall.errors.TooManyRequests` (HTTP 429, ``retry_after`` seconds, code
``rate_limited``) with the limit's own words from the message catalogue. Its ``first_refusal``
is true once per window and key: callers audit or log that one, not every request of a flood
(the audit chain is not a place to amplify a flood into). Only that first refusal is stored.

**Tallies** (:func:`tally`) serve the other side of a flood: events that must be known but
must not each be written down, such as the audit events of refused unauthenticated requests
(forged payment notifications). The first event of a key in a window is to be reported; the
ones after it are only counted (one row per key, its ``count`` going up), and the count is
handed to the next report of that key, or to :func:`unreported` once the window is over (the
jobs). A flood from one source is then one audit event per window with the number in it.

Keys are stored as a keyed hash: the table holds no phone number or address in clear. A
client is counted by :func:`client_key` of its :func:`client_address`: ``REMOTE_ADDR`` (a
proxy's ``X-Forwarded-For`` is not believed: behind a reverse proxy, the proxy must limit too),
IPv6 clients by their /64, since one subscriber line usually holds a whole /64.
"""

from __future__ import annotations

import ipaddress
import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Sum
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from certhall import clock, messages
from certhall.accounts.models import RATE_SCOPE_LENGTH, RateLimitEvent
from certhall.errors import TooManyRequests

#: Events older than this are deleted (longer than the longest window in use).
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most ``max_events`` events of ``scope`` per key in any ``window`` seconds.

    ``message`` is the catalogue code of the refusal's words; its template may use ``{wait}``
    (the wait in words: "45秒", "3分钟") and ``{retry_after}`` (seconds)."""

    scope: str
    max_events: int
    window: int
    message: str = "rate_limited"

    def __post_init__(self) -> None:
        # Limits are module constants or built from the validated config: fail at import.
        if not 0 < len(self.scope) <= RATE_SCOPE_LENGTH:
            raise ValueError(
                f"rate limit scope {self.scope!r}: 1 to {RATE_SCOPE_LENGTH} characters"
            )
        if self.max_events < 1 or not 1 <= self.window <= KEEP.total_seconds():
            raise ValueError(f"rate limit {self.scope}: at least 1 event in 1 s to 1 day")
        if self.message not in messages.CATALOGUE:
            raise ValueError(f"rate limit {self.scope}: no message {self.message!r}")


@dataclass(frozen=True)
class Reservation:
    """The events a :func:`reserve` counted (to :func:`release` them)."""

    event_ids: tuple[int, ...]


def hashed_key(scope: str, key: str) -> str:
    digest = salted_hmac("certhall.ratelimit", f"{scope}\0{key}", algorithm="sha256")
    return digest.hexdigest()[:48]


def client_address(request: HttpRequest) -> str | None:
    """The client's address as sent by the socket (None when it is not an address)."""
    try:
        return str(ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")))
    except ValueError:
        return None


def client_key(address: str | None) -> str:
    """Whom a per-client limit counts: the IPv4 address, the /64 of an IPv6 one, or
    ``unknown``."""
    try:
        parsed = ipaddress.ip_address(address or "")
    except ValueError:
        return "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


def wait_text(seconds: int) -> str:
    """A wait in words: "45秒", "3分钟" (rounded up)."""
    if seconds < 120:
        return f"{seconds}秒"
    return f"{math.ceil(seconds / 60)}分钟"


def check(limit: Limit, key: str, *, now: datetime | None = None) -> None:
    """Count one event of ``limit`` for ``key``; TooManyRequests over the limit."""
    reserve([(limit, key)], now=now)


def reserve(limits: Sequence[tuple[Limit, str]], *, now: datetime | None = None) -> Reservation:
    """Count one event for each (limit, key) when every limit allows it; TooManyRequests (with
    the first exceeded limit's words) otherwise, and nothing is counted."""
    now = now or clock.now()
    hashed = [(limit, hashed_key(limit.scope, key)) for limit, key in limits]
    with transaction.atomic():
        _lock([(limit.scope, key) for limit, key in hashed])
        refusal = None
        for limit, key in hashed:
            refusal = _refusal(limit, key, now)
            if refusal is not None:
                break
        if refusal is None:
            ids = tuple(
                RateLimitEvent.objects.create(scope=limit.scope, key=key, at=now).pk
                for limit, key in hashed
            )
            RateLimitEvent.objects.filter(at__lt=now - KEEP).delete()
            return Reservation(ids)
    # Raised after the commit: the stored first refusal must not roll back with it.
    raise refusal


def release(reservation: Reservation) -> None:
    """Give the slots of a reservation back (the attempt succeeded and must not count)."""
    RateLimitEvent.objects.filter(pk__in=reservation.event_ids).delete()


def _lock(keys: Sequence[tuple[str, str]]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: the IMMEDIATE transaction already holds the database write lock
    with connection.cursor() as cursor:
        for scope, key in sorted(set(keys)):
            digest = salted_hmac("certhall.lock", f"{scope}\0{key}", algorithm="sha256").digest()[
                :8
            ]
            (number,) = struct.unpack(">q", digest)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def _refusal(limit: Limit, key: str, now: datetime) -> TooManyRequests | None:
    since = now - timedelta(seconds=limit.window)
    events = RateLimitEvent.objects.filter(scope=limit.scope, key=key, at__gt=since)
    counted = events.filter(refused=False)
    if counted.count() < limit.max_events:
        return None
    oldest = counted.order_by("at").values_list("at", flat=True)[:1].get()
    wait = max(1, math.ceil((oldest + timedelta(seconds=limit.window) - now).total_seconds()))
    first = not events.filter(refused=True).exists()
    if first:
        RateLimitEvent.objects.create(scope=limit.scope, key=key, at=now, refused=True)
    return TooManyRequests(
        retry_after=wait,
        message_code=limit.message,
        scope=limit.scope,
        first_refusal=first,
        wait=wait_text(wait),
    )


@dataclass(frozen=True)
class Tally:
    """What :func:`tally` decided: ``report`` this event now (with ``earlier`` events of the
    same key that were only counted since the last report), or only count it."""

    report: bool
    earlier: int
    #: The key as stored (a keyed hash): names the source in reports without its address.
    key: str


@dataclass(frozen=True)
class Unreported:
    """Events of one key that were counted in a window now over and never reported."""

    scope: str
    key: str
    count: int
    since: datetime


def tally(limit: Limit, key: str, *, now: datetime | None = None) -> Tally:
    """One event of ``limit``'s kind for ``key``: to be reported when fewer than
    ``limit.max_events`` were reported in the last ``limit.window`` seconds, counted otherwise."""
    now = now or clock.now()
    hashed = hashed_key(limit.scope, key)
    with transaction.atomic():
        _lock([(limit.scope, hashed)])
        rows = RateLimitEvent.objects.filter(scope=limit.scope, key=hashed)
        reported = rows.filter(refused=False, at__gt=now - timedelta(seconds=limit.window))
        counted = rows.filter(refused=True)
        if reported.count() >= limit.max_events:
            if not counted.update(count=F("count") + 1):
                RateLimitEvent.objects.create(
                    scope=limit.scope, key=hashed, at=now, refused=True, count=1
                )
            return Tally(False, 0, hashed)
        earlier = counted.aggregate(n=Sum("count"))["n"] or 0
        counted.delete()
        RateLimitEvent.objects.create(scope=limit.scope, key=hashed, at=now)
        return Tally(True, earlier, hashed)


def unreported(limit: Limit, *, now: datetime | None = None) -> list[Unreported]:
    """Take the counts of every key of ``limit`` whose window is over without another report
    (the caller reports them; each then counts as that key's report at ``now``)."""
    now = now or clock.now()
    since = now - timedelta(seconds=limit.window)
    found = []
    with transaction.atomic():
        pending = RateLimitEvent.objects.filter(scope=limit.scope, refused=True)
        for row in pending.select_for_update().order_by("at"):
            rows = RateLimitEvent.objects.filter(scope=limit.scope, key=row.key)
            if rows.filter(refused=False, at__gt=since).count() >= limit.max_events:
                continue  # still inside its window: the next report carries it
            found.append(Unreported(limit.scope, row.key, row.count, row.at))
            row.delete()
            RateLimitEvent.objects.create(scope=limit.scope, key=row.key, at=now)
    return found
