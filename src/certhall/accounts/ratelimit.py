"""Sliding-window rate limits in the database (shared by every gunicorn worker).

A limit is "at most ``limit`` counted events of ``scope`` for one key in the last ``seconds``".
:func:`reserve` checks every given limit and, only when all of them allow it, counts one event
for each: a refused request counts for nothing, so a flood cannot extend its own ban, and the
requests that were let through are exactly ``limit`` per window. Checking and counting happen
under a lock per (scope, key) — SQLite's ``BEGIN IMMEDIATE`` serialises writers, PostgreSQL
takes a transaction-level advisory lock — so simultaneous requests are counted exactly.

A caller that counts only failures (login attempts) reserves before trying and
:func:`release`\\ s the reservation when the attempt succeeded: a slot is taken while the
attempt runs, so N simultaneous guesses cannot all slip in under the limit.

Keys are stored as a keyed hash (the table holds no phone number or address in clear).
The first refusal of a window is audited; the rest of a flood is not (the audit chain is not a
place to amplify a flood into).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from certhall.accounts.errors import TooManyRequests
from certhall.accounts.models import RateLimitEvent

#: Events older than this are deleted (longer than the longest window in use).
KEEP = timedelta(days=1)


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` events per ``seconds`` of ``scope``; ``message`` is shown when
    exceeded, with ``{wait}`` replaced by the time until the next slot (e.g. "45秒")."""

    scope: str
    limit: int
    seconds: int
    message: str


@dataclass(frozen=True)
class Reservation:
    event_ids: tuple[int, ...]


def hashed_key(scope: str, key: str) -> str:
    return salted_hmac(
        "certhall.accounts.ratelimit", f"{scope}\0{key}", algorithm="sha256"
    ).hexdigest()[:48]


def wait_text(seconds: int) -> str:
    """A wait in words: "45秒", "3分钟" (rounded up)."""
    if seconds < 120:
        return f"{seconds}秒"
    return f"{math.ceil(seconds / 60)}分钟"


def _lock(keys: Sequence[tuple[str, str]]) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite: the IMMEDIATE transaction already holds the database write lock
    with connection.cursor() as cursor:
        for scope, key in sorted(set(keys)):
            digest = salted_hmac("certhall.lock", f"{scope}\0{key}").digest()[:8]
            (number,) = struct.unpack(">q", digest)
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [number])


def reserve(
    limits: Sequence[tuple[Limit, str | None]], *, now: datetime | None = None
) -> Reservation:
    """Count one event for each (limit, key) when every limit allows it; TooManyRequests (with
    the first exceeded limit's message) otherwise, and nothing is counted. A ``None`` key (an
    unknown client address) is limited as the key ``unknown``."""
    now = now or timezone.now()
    hashed = [(limit, hashed_key(limit.scope, key or "unknown")) for limit, key in limits]
    with transaction.atomic():
        _lock([(limit.scope, key) for limit, key in hashed])
        refusal = None
        for limit, key in hashed:
            refusal = _check(limit, key, now)
            if refusal is not None:
                break
        if refusal is None:
            ids = tuple(
                RateLimitEvent.objects.create(scope=limit.scope, key=key, at=now).pk
                for limit, key in hashed
            )
            RateLimitEvent.objects.filter(at__lt=now - KEEP).delete()
            return Reservation(ids)
    # Raised after the commit: the refusal's own event must not roll back with it.
    raise refusal


def _check(limit: Limit, key: str, now: datetime) -> TooManyRequests | None:
    since = now - timedelta(seconds=limit.seconds)
    counted = RateLimitEvent.objects.filter(scope=limit.scope, key=key, refused=False, at__gt=since)
    if counted.count() < limit.limit:
        return None
    oldest = counted.order_by("at").values_list("at", flat=True)[:1].get()
    wait = max(1, math.ceil((oldest + timedelta(seconds=limit.seconds) - now).total_seconds()))
    first = not RateLimitEvent.objects.filter(
        scope=limit.scope, key=key, refused=True, at__gt=since
    ).exists()
    RateLimitEvent.objects.create(scope=limit.scope, key=key, at=now, refused=True)
    return TooManyRequests(
        limit.message.format(wait=wait_text(wait)), wait, scope=limit.scope, first_refusal=first
    )


def release(reservation: Reservation) -> None:
    """Give the slots of a reservation back (the attempt succeeded and must not count)."""
    RateLimitEvent.objects.filter(pk__in=reservation.event_ids).delete()
