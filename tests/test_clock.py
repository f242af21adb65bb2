"""The one clock (certhall.clock): UTC to the second, today's date in Shanghai, and no other
reader of the time in src/ (tests freeze it with time-machine)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import time_machine

from certhall import clock

SRC = Path(__file__).resolve().parents[1] / "src"
#: The ways to ask for the current moment or date, each of them the clock's business.
READS_THE_TIME = re.compile(
    r"\b(?:datetime\.(?:now|utcnow|today)|timezone\.now|date\.today|time\.time)\("
    r"|\btimezone\.local(?:date|time)\(\)"
)


def test_now_is_utc_to_the_second_and_today_is_shanghais() -> None:
    with time_machine.travel(datetime(2026, 12, 31, 16, 30, 5, 987654, tzinfo=UTC), tick=False):
        assert clock.now() == datetime(2026, 12, 31, 16, 30, 5, tzinfo=UTC)
        assert clock.now().tzinfo is UTC
        assert clock.today() == date(2027, 1, 1)  # 00:30 in Shanghai


def test_only_the_clock_reads_the_time() -> None:
    found = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "clock.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if READS_THE_TIME.search(line) and not line.lstrip().startswith("#")
    ]
    assert not found, "the time read outside certhall.clock:\n" + "\n".join(found)
