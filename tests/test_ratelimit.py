"""The one rate limiter (certhall.ratelimit): sliding windows, all-or-nothing reservations,
releases, keys stored hashed, the first refusal of a window, client keys, and exact counting of
simultaneous requests from several connections (PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test import RequestFactory

from certhall import messages, ratelimit
from certhall.accounts import codes
from certhall.accounts.models import RateLimitEvent
from certhall.errors import TooManyRequests
from certhall.notify.models import SmsMessage
from tests.accounts.conftest import CLIENT, PHONE, START
from tests.support.threads import together

LIMIT = ratelimit.Limit("test", 3, 60, "rate_limited_code_phone_hour")


@pytest.mark.parametrize(
    ("seconds", "text"), [(1, "1秒"), (60, "60秒"), (119, "119秒"), (120, "2分钟"), (121, "3分钟")]
)
def test_wait_text(seconds: int, text: str) -> None:
    assert ratelimit.wait_text(seconds) == text


@pytest.mark.parametrize(
    ("scope", "max_events", "window", "message"),
    [
        ("", 1, 60, "rate_limited"),
        ("x" * 33, 1, 60, "rate_limited"),
        ("test", 0, 60, "rate_limited"),
        ("test", 1, 0, "rate_limited"),
        ("test", 1, 86_401, "rate_limited"),
        ("test", 1, 60, "no_such_message"),
    ],
)
def test_a_bad_limit_fails_where_it_is_defined(
    scope: str, max_events: int, window: int, message: str
) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        ratelimit.Limit(scope, max_events, window, message)


@pytest.mark.django_db
def test_sliding_window() -> None:
    for moment in (START + timedelta(seconds=s) for s in (0, 10, 20)):
        ratelimit.check(LIMIT, "k", now=moment)
    with pytest.raises(TooManyRequests) as refused:
        ratelimit.check(LIMIT, "k", now=START + timedelta(seconds=59))
    assert refused.value.code == "rate_limited" and refused.value.http_status == 429
    assert refused.value.retry_after == 1 and refused.value.scope == "test"
    assert refused.value.message == messages.text("rate_limited_code_phone_hour", wait="1秒")
    assert refused.value.first_refusal
    with pytest.raises(TooManyRequests) as again:
        ratelimit.check(LIMIT, "k", now=START + timedelta(seconds=59))
    assert not again.value.first_refusal
    ratelimit.check(LIMIT, "k", now=START + timedelta(seconds=60))  # the first left
    ratelimit.check(LIMIT, "other", now=START + timedelta(seconds=60))  # keys apart


@pytest.mark.django_db
def test_the_generic_words_count_seconds() -> None:
    plain = ratelimit.Limit("plain", 1, 60)
    ratelimit.check(plain, "k", now=START)
    with pytest.raises(TooManyRequests) as refused:
        ratelimit.check(plain, "k", now=START + timedelta(seconds=15))
    assert refused.value.message == "操作过于频繁，请 45 秒后再试。"


@pytest.mark.django_db
def test_a_flood_stores_one_refusal_per_window() -> None:
    flood = ratelimit.Limit("flood", 1, 60)
    firsts = []
    for second in range(120):
        moment = START + timedelta(seconds=second)
        try:
            ratelimit.check(flood, "k", now=moment)
        except TooManyRequests as refusal:
            firsts.append(refusal.first_refusal)
    # counted at 0, refused 1-59, counted again at 60, refused 61-119
    assert firsts.count(True) == 2 and len(firsts) == 118
    assert RateLimitEvent.objects.filter(scope="flood", refused=True).count() == 2


@pytest.mark.django_db
def test_all_limits_or_none() -> None:
    roomy = ratelimit.Limit("roomy", 10, 60)
    for _ in range(3):
        ratelimit.reserve([(roomy, "a"), (LIMIT, "b")], now=START)
    with pytest.raises(TooManyRequests):
        ratelimit.reserve([(roomy, "a"), (LIMIT, "b")], now=START)
    counted = RateLimitEvent.objects.filter(scope="roomy", refused=False).count()
    assert counted == 3  # the refused request counted nowhere


@pytest.mark.django_db
def test_release_and_purge() -> None:
    first = ratelimit.reserve([(LIMIT, "k")], now=START)
    ratelimit.release(first)
    assert not RateLimitEvent.objects.exists()
    ratelimit.reserve([(LIMIT, "k")], now=START)
    ratelimit.reserve([(LIMIT, "j")], now=START + timedelta(days=1, seconds=1))
    assert RateLimitEvent.objects.count() == 1  # the day-old event was deleted


@pytest.mark.django_db
def test_keys_are_stored_hashed() -> None:
    ratelimit.reserve([(LIMIT, PHONE), (codes.SEND_LIMIT_CLIENT, CLIENT)], now=START)
    stored = " ".join(RateLimitEvent.objects.values_list("key", flat=True))
    assert PHONE not in stored and CLIENT not in stored
    assert ratelimit.hashed_key("test", PHONE) in stored


def test_client_address_and_key() -> None:
    def address(remote: str) -> str | None:
        return ratelimit.client_address(RequestFactory().get("/", REMOTE_ADDR=remote))

    assert address("198.51.100.7") == "198.51.100.7"
    assert address("not an address") is None
    key = ratelimit.client_key
    assert key("198.51.100.7") == "198.51.100.7"
    # the same /64 of an IPv6 client is one client
    assert key("2001:db8:1:2::1") == key("2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert key("2001:db8:1:3::1") != key("2001:db8:1:2::1")
    assert key("::ffff:198.51.100.7") == "198.51.100.7"
    assert key(None) == key("not an address") == "unknown"


def _simultaneously(count: int, call: Callable[[], object]) -> list[str]:
    results = together(*[call] * count)
    return sorted("limited" if isinstance(r, TooManyRequests) else "counted" for r in results)


def test_simultaneous_requests_are_counted_exactly(audit_flushable: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    two = ratelimit.Limit("concurrent", 2, 60)
    outcomes = _simultaneously(6, lambda: ratelimit.check(two, CLIENT))
    assert outcomes == ["counted"] * 2 + ["limited"] * 4
    assert RateLimitEvent.objects.filter(scope="concurrent", refused=False).count() == 2


def test_simultaneous_code_requests_send_one(audit_flushable: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    now = datetime.now().astimezone()
    outcomes = _simultaneously(
        4, lambda: codes.request_code(PHONE, "register", client=CLIENT, now=now)
    )
    assert outcomes == ["counted", "limited", "limited", "limited"]
    assert SmsMessage.objects.filter(phone=PHONE).count() == 1
