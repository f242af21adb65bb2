"""Whether a service point (受理点) is open at a moment, in Shanghai local time.

Decisions where the seed is silent (docs/rules.md, "Opening hours"):

* Sessions are half-open ``[start, end)``: open at 9:00:00 and 13:30:00, closed from 12:00:00
  and 18:00:00 on (a customer arriving at 18:00 is not served).
* 法定节假日 is every day of an official holiday period, weekend days swapped into it included.
* A 调休 Saturday/Sunday (a make-up working day) is a working day: a point with
  ``open_on_makeup_workdays`` is open on it with its usual sessions, even when the seed says
  "周六日...休息" (the catalog sets this for all three points; flip the flag to change it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from certhall.clock import SHANGHAI
from certhall.errors import InvalidInput
from certhall.messages import text
from certhall.rules.catalog import ServicePoint
from certhall.rules.workdays import DayKind, current, day_kind, holiday_name

__all__ = [
    "SHANGHAI",
    "PointStatus",
    "day_label",
    "estimate_note",
    "is_open",
    "is_service_day",
    "local",
    "point_status",
]


def local(at: datetime) -> datetime:
    """``at`` in Shanghai local time. Naive datetimes are refused rather than guessed at."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(code="naive_datetime", at=at.isoformat())
    return at.astimezone(SHANGHAI)


@dataclass(frozen=True)
class PointStatus:
    point: ServicePoint
    at: datetime
    open: bool
    #: Why it is closed: "statutory_holiday", "closed_day" or "hours"; ``None`` when open.
    rule: str | None
    detail: str


def day_label(day: date) -> str:
    """``2027-02-05 星期五``: a day as the refusals and the calendar's pages write it."""
    weekday = text(f"rules_label.weekday.{day.isoweekday()}")
    return text("rules_label.day", day=day.isoformat(), weekday=weekday)


def estimate_note(day: date) -> str:
    """What a refusal on ``day`` adds while its year is counted provisionally: the day's kind
    is the law's alone, a swapped day off or a 调休 working day may turn it round (12-06)."""
    if not current().status(day.year).provisional:
        return ""
    return text("rules_label.estimate", year=day.year)


def _closed_day(point: ServicePoint, day: date) -> tuple[str, str] | None:
    """(rule, detail) when the point does not open at all on ``day``."""
    kind = day_kind(day)
    if kind is DayKind.STATUTORY_HOLIDAY and point.closed_on_statutory_holidays:
        detail = text(
            "rule_detail.statutory_holiday",
            day=day_label(day),
            holiday=holiday_name(day),
            estimate=estimate_note(day),
        )
        return "statutory_holiday", detail
    if kind is DayKind.MAKEUP_WORKDAY and point.open_on_makeup_workdays:
        return None
    if day.isoweekday() in point.open_weekdays:
        return None
    detail = text(
        "rule_detail.closed_day", day=day_label(day), point=point.name, estimate=estimate_note(day)
    )
    return "closed_day", detail


def is_service_day(point: ServicePoint, day: date) -> bool:
    return _closed_day(point, day) is None


def point_status(point: ServicePoint, at: datetime) -> PointStatus:
    moment = local(at)
    closed = _closed_day(point, moment.date())
    if closed is not None:
        return PointStatus(point, moment, False, closed[0], closed[1])
    clock = moment.time().replace(tzinfo=None)
    if any(session.contains(clock) for session in point.sessions):
        return PointStatus(point, moment, True, None, "")
    sessions = ",".join(session.text() for session in point.sessions)
    detail = text("rule_detail.hours", time=f"{moment:%H:%M}", sessions=sessions)
    return PointStatus(point, moment, False, "hours", detail)


def is_open(point: ServicePoint, at: datetime) -> bool:
    return point_status(point, at).open
