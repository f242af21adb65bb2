"""The working-day calendar: the State Council's arrangement of each year, or a provisional count.

* A *working day* is a Monday-Friday that is not a statutory holiday, or a make-up working day
  (调休上班, a Saturday or Sunday the State Council declares a working day).
* A *statutory holiday* (法定节假日) is every day of an official holiday period, including the
  weekend days swapped into it (the whole 放假调休 block, e.g. 春节 2026-02-15..2026-02-23).

Where a year's arrangement comes from, first match wins:

1. ``imported``: the operator loaded the State Council's notice (``certhall calendar import``);
2. ``package``: ``chinese-calendar`` knows the year (2004-2026 in 1.11.0);
3. ``provisional``: nobody has published it yet. The hall must not stop for want of data, so the
   year is counted with weekends and the law's statutory holidays alone (:mod:`statutory`), and
   every date derived from it says so (:attr:`Deadline.provisional`, shown as 预计).

The Django side installs a provider of imported years (:func:`install`); without one only the
package and the law are used. All functions take ``datetime.date`` values in Shanghai local time.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.metadata import PackageNotFoundError, version

import chinese_calendar

from certhall import messages
from certhall.errors import InvalidInput
from certhall.rules.statutory import FIRST_LAW_YEAR, LAST_LUNAR_YEAR, statutory_holidays

__all__ = [
    "Arrangement",
    "CalendarUnknown",
    "DayKind",
    "Deadline",
    "Source",
    "WorkCalendar",
    "YearStatus",
    "add_working_days",
    "current",
    "day_kind",
    "holiday_name",
    "install",
    "is_working_day",
    "known_years",
    "skipped_days",
    "working_deadline",
]


class CalendarUnknown(InvalidInput):
    """A year nobody can count: before the packaged calendar and outside the law's range."""

    code = "calendar_unknown"


class DayKind(enum.StrEnum):
    WORKDAY = "workday"  # Monday-Friday, no holiday
    MAKEUP_WORKDAY = "makeup_workday"  # 调休上班: a Saturday/Sunday that is a working day
    WEEKEND = "weekend"  # an ordinary Saturday/Sunday
    STATUTORY_HOLIDAY = "statutory_holiday"  # any day of an official holiday period


class Source(enum.StrEnum):
    IMPORTED = "imported"
    PACKAGE = "package"
    PROVISIONAL = "provisional"


@dataclass(frozen=True)
class YearStatus:
    year: int
    source: Source
    #: The notice's title, the package and its version, or the law the provisional count uses.
    text: str

    @property
    def provisional(self) -> bool:
        return self.source is Source.PROVISIONAL

    def as_json(self) -> dict[str, object]:
        return {
            "year": self.year,
            "source": self.source.value,
            "official": not self.provisional,
            "provisional": self.provisional,
            "text": self.text,
        }


@dataclass(frozen=True)
class Deadline:
    due: date
    #: Some day counted lies in a year without an official arrangement: the date is 预计.
    provisional: bool


#: A date in an arrangement file: ASCII digits (``\d`` is true of other scripts' digits).
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


#: The lists' names in refusals: a CA administrator pasting the notice in the console sees
#: them too, and the file's keys mean nothing to them.
LIST_NAMES = {key: messages.text(f"rules_label.list.{key}") for key in ("holidays", "workdays")}


def _where(key: str, index: int) -> str:
    """Which item of a list a refusal is about (放假日期第3个（holidays[2]）): written only
    when one is refused (a file of 40,000 days is read in well under a second)."""
    name = LIST_NAMES[key]
    return messages.text("rules_label.list_item", name=name, n=index + 1, key=key, index=index)


def _iso_day(text: object, key: str, index: int, year: int) -> date:
    if not isinstance(text, str):
        where = _where(key, index)
        raise InvalidInput(code="calendar_date", variant="type", where=where, text=text)
    try:
        # YYYY-MM-DD as the message says: fromisoformat also reads 20261231 and the week date
        # 2026-W53-4 (2026-12-31), which nobody checking the file against the notice reads so
        if not ISO_DAY.fullmatch(text):
            raise ValueError(text)
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(code="calendar_date", where=_where(key, index), text=text) from None
    if not arranged_by(day, year):
        where = _where(key, index)
        raise InvalidInput(code="calendar_date", variant="year", where=where, text=text, year=year)
    return day


def arranged_by(day: date, year: int) -> bool:
    """Whether ``year``'s notice may arrange ``day``: a day of the year, or of its December
    before (元旦's block and its make-up days)."""
    return day.year == year or (day.year == year - 1 and day.month == 12)


def _day_list(data: Mapping[str, object], key: str, year: int) -> frozenset[date]:
    raw = data.get(key)
    if not isinstance(raw, list):
        raise InvalidInput(code="calendar_dates", key=key)
    name = LIST_NAMES[key]
    days = [_iso_day(item, key, i, year) for i, item in enumerate(raw)]
    # counted once (list.count for each day was quadratic: 8,000 days took 1 s until 12-06)
    repeated = sorted(d for d, n in Counter(days).items() if n > 1)
    if repeated:
        raise InvalidInput(
            code="calendar_dates",
            variant="repeated",
            key=key,
            name=name,
            days=", ".join(d.isoformat() for d in repeated),
        )
    return frozenset(days)


@dataclass(frozen=True)
class Arrangement:
    """One year's official arrangement (国务院办公厅关于YYYY年部分节假日安排的通知).

    ``holidays``: every day off of the holiday periods, weekend days swapped into them included;
    ``workdays``: the weekend days made working days (调休上班). Both may hold days of December of
    the year before: a notice arranges 元旦's block as a whole ("2018年12月30日至2019年1月1日放假
    调休…2018年12月29日（星期六）上班"), and those days override that year's own arrangement.
    """

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str

    KEYS = frozenset({"year", "holidays", "workdays", "source"})

    @classmethod
    def parse(cls, data: object) -> Arrangement:
        """Validate the import format ``{"year", "holidays", "workdays", "source"}``."""
        if not isinstance(data, Mapping):
            raise InvalidInput(code="calendar_format", variant="object")
        missing = sorted(cls.KEYS - set(data))
        unknown = sorted(set(data) - cls.KEYS)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(messages.text("rules_label.keys_missing", keys=", ".join(missing)))
            if unknown:
                parts.append(messages.text("rules_label.keys_unknown", keys=", ".join(unknown)))
            raise InvalidInput(code="calendar_format", problems="；".join(parts))
        year = data["year"]
        if isinstance(year, bool) or not isinstance(year, int):
            raise InvalidInput(code="calendar_year", variant="type", year=year)
        if not 2004 <= year <= LAST_LUNAR_YEAR:
            raise InvalidInput(code="calendar_year", year=year, last=LAST_LUNAR_YEAR)
        source = data["source"]
        if not isinstance(source, str) or not source.strip():
            raise InvalidInput(code="calendar_source")
        holidays = _day_list(data, "holidays", year)
        workdays = _day_list(data, "workdays", year)
        if not holidays:
            raise InvalidInput(code="calendar_holidays_empty")
        both = sorted(holidays & workdays)
        if both:
            days = ", ".join(d.isoformat() for d in both)
            raise InvalidInput(code="calendar_both", days=days)
        weekdays = sorted(d for d in workdays if d.weekday() < 5)
        if weekdays:
            days = ", ".join(d.isoformat() for d in weekdays)
            raise InvalidInput(code="calendar_weekday_workdays", days=days)
        return cls(year, holidays, workdays, source.strip())

    def as_json(self) -> dict[str, object]:
        return {
            "year": self.year,
            "holidays": [d.isoformat() for d in sorted(self.holidays)],
            "workdays": [d.isoformat() for d in sorted(self.workdays)],
            "source": self.source,
        }

    def missing_statutory_days(self) -> tuple[date, ...]:
        """The law's holidays this arrangement does not give off (a likely typo: warn)."""
        if self.year < FIRST_LAW_YEAR:
            return ()
        return tuple(sorted(set(statutory_holidays(self.year)) - self.holidays))


@cache
def _library_version() -> str:
    """Read once: the package's metadata is parsed from disk on every ``version()`` call, and a
    deadline asks 14 times (7 ms a quote, 97% of it here, until 12-06)."""
    try:
        return version("chinese-calendar")
    except PackageNotFoundError:  # pragma: no cover - installed from a checkout
        return "unknown"


def known_years() -> tuple[int, int]:
    """The first and last year the packaged calendar knows (2004-2026 for chinese-calendar
    1.11.0)."""
    days: dict[date, str] = chinese_calendar.holidays
    return min(days).year, max(days).year


def _package_detail(day: date) -> tuple[bool, str | None]:
    """chinese-calendar's ``get_holiday_detail`` (day off?, holiday name) for a day of a year the
    package knows, read from its tables: the function checks its range with ``min`` and ``max``
    over every day it knows on each call, 80% of a deadline's time (0.9 ms, until 12-06);
    :meth:`WorkCalendar.status` has already checked the year."""
    workdays: dict[date, str] = chinese_calendar.workdays
    holidays: dict[date, str] = chinese_calendar.holidays
    if day in workdays:
        return False, workdays[day]
    if day in holidays:
        return True, holidays[day]
    return day.weekday() >= 5, None


@cache
def _law_days(year: int) -> dict[date, str]:
    return statutory_holidays(year)


def _law_name_near(day: date, within: int) -> str | None:
    """The name of the law's holiday nearest ``day`` (for naming an imported block)."""
    best: tuple[int, str] | None = None
    for year in {day.year - 1, day.year, day.year + 1}:
        if not FIRST_LAW_YEAR <= year <= LAST_LUNAR_YEAR:
            continue
        for holiday, name in _law_days(year).items():
            distance = abs((holiday - day).days)
            if distance <= within and (best is None or distance < best[0]):
                best = (distance, name)
    return best[1] if best else None


class WorkCalendar:
    """The calendar with a given set of imported years; immutable once built."""

    def __init__(self, imported: Iterable[Arrangement] = ()) -> None:
        self._imported = {arrangement.year: arrangement for arrangement in imported}
        self._first, self._last = known_years()
        #: Days of December a following year's notice arranges (元旦's block, its make-up
        #: days): they override the year's own arrangement, which was published before.
        self._december: dict[date, DayKind] = {}
        for arrangement in self._imported.values():
            for day in arrangement.holidays:
                if day.year < arrangement.year:
                    self._december[day] = DayKind.STATUTORY_HOLIDAY
            for day in arrangement.workdays:
                if day.year < arrangement.year:
                    self._december[day] = DayKind.MAKEUP_WORKDAY

    @property
    def imported(self) -> Mapping[int, Arrangement]:
        return self._imported

    def status(self, year: int) -> YearStatus:
        if year in self._imported:
            return YearStatus(year, Source.IMPORTED, self._imported[year].source)
        if self._first <= year <= self._last:
            return YearStatus(year, Source.PACKAGE, f"chinese-calendar {_library_version()}")
        if FIRST_LAW_YEAR <= year <= LAST_LUNAR_YEAR:
            source = messages.text("rules_label.law_source")
            return YearStatus(year, Source.PROVISIONAL, source)
        raise CalendarUnknown(
            code="calendar_unknown", year=year, first=self._first, last=LAST_LUNAR_YEAR
        )

    def day_kind(self, day: date) -> DayKind:
        if day in self._december:
            return self._december[day]
        weekend = day.weekday() >= 5
        source = self.status(day.year).source
        if source is Source.IMPORTED:
            arrangement = self._imported[day.year]
            if day in arrangement.holidays:
                return DayKind.STATUTORY_HOLIDAY
            if day in arrangement.workdays:
                return DayKind.MAKEUP_WORKDAY
        elif source is Source.PACKAGE:
            is_holiday, name = _package_detail(day)
            if is_holiday and name is not None:
                return DayKind.STATUTORY_HOLIDAY
            if not is_holiday and weekend:
                return DayKind.MAKEUP_WORKDAY
        elif day in _law_days(day.year):
            return DayKind.STATUTORY_HOLIDAY
        return DayKind.WEEKEND if weekend else DayKind.WORKDAY

    def is_working_day(self, day: date) -> bool:
        return self.day_kind(day) in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY)

    def holiday_name(self, day: date) -> str | None:
        """The Chinese name of the holiday period ``day`` belongs to (春节, 国庆节, ...), also for
        the make-up working days of that holiday; ``None`` for ordinary days."""
        source = self.status(day.year).source
        if source is Source.PACKAGE and day not in self._december:
            _, name = _package_detail(day)
            if name is None:
                return None
            try:
                chinese: str = chinese_calendar.Holiday(name).chinese
            except ValueError:  # pragma: no cover - a holiday newer than this code
                return str(name)
            return chinese
        kind = self.day_kind(day)
        if kind is DayKind.STATUTORY_HOLIDAY:
            return _law_name_near(day, within=7)
        if kind is DayKind.MAKEUP_WORKDAY:
            return _law_name_near(day, within=14)
        return None

    def working_deadline(self, start: date, n: int) -> Deadline:
        """The ``n``-th working day after ``start`` (自受理之日起N个工作日).

        ``start`` itself never counts, whether or not it is a working day: from Friday
        2026-02-13, 3 working days are Saturday 02-14 (调休上班), Tuesday 02-24 and Wednesday
        02-25 (春节 is 02-15..02-23), so the result is 2026-02-25. ``n`` must be at least 1.
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise InvalidInput(code="working_days_invalid", got=n)
        day = start
        counted = 0
        provisional = False
        while counted < n:
            day += timedelta(days=1)
            provisional = provisional or self.status(day.year).provisional
            if self.is_working_day(day):
                counted += 1
        return Deadline(day, provisional)

    def add_working_days(self, start: date, n: int) -> date:
        return self.working_deadline(start, n).due

    def skipped_days(self, start: date, due: date) -> tuple[date, ...]:
        """The non-working days strictly between ``start`` and ``due`` (explaining a deadline)."""
        out: list[date] = []
        day = start + timedelta(days=1)
        while day < due:
            if not self.is_working_day(day):
                out.append(day)
            day += timedelta(days=1)
        return tuple(out)


@cache
def _builtin() -> WorkCalendar:
    return WorkCalendar()


_provider: Callable[[], WorkCalendar] = _builtin


def install(provider: Callable[[], WorkCalendar] | None) -> None:
    """Make ``provider`` the source of the current calendar (``None``: the built-in one)."""
    global _provider
    _provider = provider if provider is not None else _builtin


def current() -> WorkCalendar:
    return _provider()


def day_kind(day: date) -> DayKind:
    return current().day_kind(day)


def is_working_day(day: date) -> bool:
    return current().is_working_day(day)


def holiday_name(day: date) -> str | None:
    return current().holiday_name(day)


def working_deadline(start: date, n: int) -> Deadline:
    return current().working_deadline(start, n)


def add_working_days(start: date, n: int) -> date:
    return current().add_working_days(start, n)


def skipped_days(start: date, due: date) -> tuple[date, ...]:
    return current().skipped_days(start, due)
