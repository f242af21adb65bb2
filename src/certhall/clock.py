"""The platform's one clock. Every rule that depends on the moment (validity periods, opening
hours, the weekend rule, the renewal window, working-day deadlines, rate limits) reads the time
here, never from ``datetime.now()`` at the call site: tests freeze it with time-machine, and all
the timestamps of one action agree to the second (the row, its audit event, its certificate).

Framework-free: the cores (``pki``, ``rules``) read it too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

#: China has one time zone, without daylight saving time.
SHANGHAI = ZoneInfo("Asia/Shanghai")


def now() -> datetime:
    """The current moment, UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def today() -> date:
    """Today's date in Shanghai (what deadlines, age checks and the weekend rule count)."""
    return now().astimezone(SHANGHAI).date()
