"""A fixed-window rate limiter in the database, per client address.

A database table rather than Django's cache: gunicorn runs several worker processes and the
default cache is per process. One row per (scope, client, window); the increment is an UPDATE
of ``count + 1`` inside a transaction, so concurrent requests are counted exactly. Rows older
than a day are deleted when a new window starts.

The client is ``REMOTE_ADDR``; behind a reverse proxy, the proxy must limit (or pass the real
address in a way the deployment trusts) — ``X-Forwarded-For`` is not believed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import F

from certhall.certlogin import conf
from certhall.certlogin.errors import RateLimited
from certhall.certlogin.models import RateCounter


@dataclass(frozen=True)
class Hit:
    count: int
    limit: int
    retry_after: int

    @property
    def over(self) -> bool:
        return self.count > self.limit

    @property
    def first_refusal(self) -> bool:
        """The first refused request of the window (the one worth an audit event)."""
        return self.count == self.limit + 1


def hit(scope: str, client: str | None, at: datetime | None = None) -> Hit:
    """Count one request of ``scope`` from ``client``."""
    limit, seconds = conf.get().rate_limits[scope]
    now = at or datetime.now(UTC)
    epoch = int(now.timestamp())
    start = datetime.fromtimestamp(epoch - epoch % seconds, UTC)
    key = (client or "unknown")[:64]
    with transaction.atomic():
        counter, created = RateCounter.objects.get_or_create(
            scope=scope, client=key, window_start=start
        )
        RateCounter.objects.filter(pk=counter.pk).update(count=F("count") + 1)
        count = RateCounter.objects.values_list("count", flat=True).get(pk=counter.pk)
    if created:
        RateCounter.objects.filter(window_start__lt=now - timedelta(days=1)).delete()
    retry_after = max(1, int((start + timedelta(seconds=seconds) - now).total_seconds()))
    return Hit(count, limit, retry_after)


def check(scope: str, client: str | None, at: datetime | None = None) -> Hit:
    """Count one request; RateLimited when the window's limit is exceeded."""
    result = hit(scope, client, at)
    if result.over:
        raise RateLimited(result.retry_after)
    return result
