"""The hall's one clock. Rules that depend on the moment (opening hours, the weekend rule, the
online renewal window, working-day deadlines) read the time here, never at the call sites, so
tests freeze it (time-machine) and every check in one request sees the same kind of "now"."""

from __future__ import annotations

from datetime import UTC, date, datetime

from certhall.rules import local


def now() -> datetime:
    """The current moment, UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def today() -> date:
    """Today's date in Shanghai (what deadlines and the weekend rule count)."""
    return local(now()).date()
