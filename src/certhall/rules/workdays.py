"""The working-day calendar: the Chinese statutory calendar of the State Council (国务院办公厅
关于节假日安排的通知), as packaged by ``chinese-calendar``.

* A *working day* is a Monday-Friday that is not a statutory holiday, or a make-up working day
  (调休上班, a Saturday or Sunday the State Council declares a working day).
* A *statutory holiday* (法定节假日) is every day of an official holiday period, including the
  weekend days swapped into it (the whole 放假调休 block, e.g. 春节 2026-02-15..2026-02-23).
* A date outside the years the calendar knows is an explicit :class:`CalendarUnknown` error:
  the holidays of a year are published by the State Council late in the previous year, and a
  guess ("just skip the weekends") would give wrong deadlines around every festival.

All functions take ``datetime.date`` values in Shanghai local time; callers convert datetimes
first (see :func:`certhall.rules.hours.local`).
"""

from __future__ import annotations

import enum
from datetime import date, timedelta
from importlib.metadata import PackageNotFoundError, version

import chinese_calendar

from certhall.errors import InvalidInput

__all__ = [
    "CalendarUnknown",
    "DayKind",
    "add_working_days",
    "day_kind",
    "holiday_name",
    "is_working_day",
    "known_years",
    "skipped_days",
]


class CalendarUnknown(InvalidInput):
    """The official holiday calendar of the year is not known (not published yet, or not yet in
    the installed ``chinese-calendar``). Never guessed."""

    code = "calendar_unknown"


class DayKind(enum.StrEnum):
    WORKDAY = "workday"  # Monday-Friday, no holiday
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班: a Saturday/Sunday that is a working day
    WEEKEND = "weekend"  # an ordinary Saturday/Sunday
    STATUTORY_HOLIDAY = "statutory_holiday"  # any day of an official holiday period


def _library_version() -> str:
    try:
        return version("chinese-calendar")
    except PackageNotFoundError:  # pragma: no cover - installed from a checkout
        return "unknown"


def known_years() -> tuple[int, int]:
    """The first and last year the installed calendar knows (2004-2026 for chinese-calendar
    1.11.0)."""
    days: dict[date, str] = chinese_calendar.holidays
    return min(days).year, max(days).year


def _check_known(day: date) -> None:
    first, last = known_years()
    if first <= day.year <= last:
        return
    when = "is not published/known yet" if day.year > last else "is not known"
    raise CalendarUnknown(
        f"the official holiday calendar for {day.year} {when} "
        f"(chinese-calendar {_library_version()} covers {first}-{last}): "
        f"cannot tell whether {day.isoformat()} is a working day; "
        f"{day.year}年法定节假日安排未知,无法计算工作日"
    )


def _detail(day: date) -> tuple[bool, str | None]:
    _check_known(day)
    is_holiday, name = chinese_calendar.get_holiday_detail(day)
    return bool(is_holiday), (str(name) if name is not None else None)


def day_kind(day: date) -> DayKind:
    is_holiday, name = _detail(day)
    weekend = day.weekday() >= 5
    if is_holiday:
        return DayKind.STATUTORY_HOLIDAY if name is not None else DayKind.WEEKEND
    return DayKind.MAKEUP_WORKDAY if weekend else DayKind.WORKDAY


def is_working_day(day: date) -> bool:
    return day_kind(day) in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)


def holiday_name(day: date) -> str | None:
    """The Chinese name of the holiday period ``day`` belongs to (春节, 国庆节, ...), also for the
    make-up working days of that holiday; ``None`` for ordinary days."""
    _, name = _detail(day)
    if name is None:
        return None
    try:
        chinese: str = chinese_calendar.Holiday(name).chinese
    except ValueError:  # pragma: no cover - a holiday newer than this code
        return name
    return chinese


def add_working_days(start: date, n: int) -> date:
    """The ``n``-th working day after ``start`` (自受理之日起N个工作日).

    ``start`` itself never counts, whether or not it is a working day: from Friday 2026-02-13,
    3 working days are Saturday 02-14 (调休上班), Tuesday 02-24 and Wednesday 02-25 (春节 is
    02-15..02-23), so the result is 2026-02-25. ``n`` must be at least 1. Raises
    :class:`CalendarUnknown` when the count reaches a year the calendar does not know.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidInput(f"the number of working days must be a whole number >= 1, not {n!r}")
    day = start
    counted = 0
    while counted < n:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def skipped_days(start: date, due: date) -> tuple[date, ...]:
    """The non-working days strictly between ``start`` and ``due`` (for explaining a deadline)."""
    out: list[date] = []
    day = start + timedelta(days=1)
    while day < due:
        if not is_working_day(day):
            out.append(day)
        day += timedelta(days=1)
    return tuple(out)
