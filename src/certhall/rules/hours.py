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

_WEEKDAY_NAMES = "一二三四五六日"


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
    return f"{day.isoformat()} 星期{_WEEKDAY_NAMES[day.weekday()]}"


def estimate_note(day: date) -> str:
    """What a refusal on ``day`` adds while its year is counted provisionally: the day's kind
    is the law's alone, a swapped day off or a 调休 working day may turn it round (12-06)."""
    if not current().status(day.year).provisional:
        return ""
    return f"（{day.year}年节假日安排尚未导入，按法定节假日预计，不含调休）"


def _closed_day(point: ServicePoint, day: date) -> tuple[str, str] | None:
    """(rule, detail) when the point does not open at all on ``day``."""
    kind = day_kind(day)
    if kind is DayKind.STATUTORY_HOLIDAY and point.closed_on_statutory_holidays:
        detail = f"{day_label(day)} 为法定节假日({holiday_name(day)})"
        return "statutory_holiday", detail + estimate_note(day)
    if kind is DayKind.MAKEUP_WORKDAY and point.open_on_makeup_workdays:
        return None
    if day.isoweekday() in point.open_weekdays:
        return None
    return "closed_day", f"{day_label(day)} 不是{point.name}的服务日{estimate_note(day)}"


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
    detail = f"{moment.strftime('%H:%M')} 不在服务时间 {sessions} 内"
    return PointStatus(point, moment, False, "hours", detail)


def is_open(point: ServicePoint, at: datetime) -> bool:
    return point_status(point, at).open
