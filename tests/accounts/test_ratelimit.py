"""The sliding-window limiter: windows, keys stored hashed, releases, and exact counting of
simultaneous requests (PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from django.db import connection

from certhall.accounts import codes, ratelimit
from certhall.accounts.errors import TooManyRequests
from certhall.accounts.models import RateLimitEvent
from certhall.notify.models import SmsMessage
from tests.accounts.conftest import CLIENT, PHONE, START

LIMIT = ratelimit.Limit("test", 3, 60, "稍后再试（{wait}）")


@pytest.mark.parametrize(
    ("seconds", "text"), [(1, "1秒"), (60, "60秒"), (119, "119秒"), (120, "2分钟"), (121, "3分钟")]
)
def test_wait_text(seconds: int, text: str) -> None:
    assert ratelimit.wait_text(seconds) == text


@pytest.mark.django_db
def test_sliding_window() -> None:
    at = [START + timedelta(seconds=s) for s in (0, 10, 20)]
    for moment in at:
        ratelimit.reserve([(LIMIT, "k")], now=moment)
    with pytest.raises(TooManyRequests) as refused:
        ratelimit.reserve([(LIMIT, "k")], now=START + timedelta(seconds=59))
    assert refused.value.retry_after == 1 and refused.value.message == "稍后再试（1秒）"
    assert refused.value.first_refusal
    with pytest.raises(TooManyRequests) as again:
        ratelimit.reserve([(LIMIT, "k")], now=START + timedelta(seconds=59))
    assert not again.value.first_refusal
    ratelimit.reserve([(LIMIT, "k")], now=START + timedelta(seconds=60))  # the first left
    ratelimit.reserve([(LIMIT, "other")], now=START + timedelta(seconds=60))  # keys apart


@pytest.mark.django_db
def test_all_limits_or_none() -> None:
    roomy = ratelimit.Limit("roomy", 10, 60, "{wait}")
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


def test_simultaneous_code_requests_send_one(audit_flushable: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    outcomes: list[str] = []
    barrier = threading.Barrier(4)
    now = datetime.now().astimezone()

    def request() -> None:
        barrier.wait()
        try:
            codes.request_code(PHONE, "register", client=CLIENT, now=now)
            outcomes.append("sent")
        except TooManyRequests:
            outcomes.append("limited")
        finally:
            connection.close()

    threads = [threading.Thread(target=request) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["limited", "limited", "limited", "sent"]
    assert SmsMessage.objects.filter(phone=PHONE).count() == 1
