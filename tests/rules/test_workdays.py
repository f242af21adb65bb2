"""The working-day calendar: facts verified against chinese-calendar 1.11.0, deadlines across
春节 and 国庆节 2026, provisional counting and imported arrangements beyond the packaged years,
and properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certhall.errors import InvalidInput
from certhall.rules import (
    CalendarUnknown,
    DayKind,
    add_working_days,
    day_kind,
    holiday_name,
    is_working_day,
    known_years,
    skipped_days,
)
from certhall.rules.statutory import statutory_holidays
from certhall.rules.workdays import (
    Arrangement,
    Deadline,
    Source,
    WorkCalendar,
    current,
    working_deadline,
)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# --- the calendar facts the tests below rely on (verified, not remembered) -------------------


def test_known_years() -> None:
    assert known_years() == (2004, 2026)


def test_spring_festival_2026() -> None:
    holiday = days(date(2026, 2, 15), date(2026, 2, 23))  # Sunday .. Monday, 9 days
    assert all(day_kind(d) is DayKind.STATUTORY_HOLIDAY for d in holiday)
    assert {holiday_name(d) for d in holiday} == {"春节"}
    for makeup in (date(2026, 2, 14), date(2026, 2, 28)):  # both Saturdays
        assert makeup.isoweekday() == 6
        assert day_kind(makeup) is DayKind.MAKEUP_WORKDAY
        assert holiday_name(makeup) == "春节"
    assert day_kind(date(2026, 2, 13)) is DayKind.WORKDAY  # Friday before
    assert day_kind(date(2026, 2, 24)) is DayKind.WORKDAY  # Tuesday after
    assert day_kind(date(2026, 3, 1)) is DayKind.WEEKEND  # the Sunday after the make-up Saturday


def test_national_day_2026() -> None:
    holiday = days(date(2026, 10, 1), date(2026, 10, 7))  # Thursday .. Wednesday, 7 days
    assert all(day_kind(d) is DayKind.STATUTORY_HOLIDAY for d in holiday)
    assert {holiday_name(d) for d in holiday} == {"国庆节"}
    assert day_kind(date(2026, 10, 8)) is DayKind.WORKDAY
    # make-up days: Sunday 09-20 and Saturday 10-10
    assert date(2026, 9, 20).isoweekday() == 7
    assert date(2026, 10, 10).isoweekday() == 6
    for makeup in (date(2026, 9, 20), date(2026, 10, 10)):
        assert day_kind(makeup) is DayKind.MAKEUP_WORKDAY
        assert holiday_name(makeup) == "国庆节"
    # 中秋节 is a separate block that year: Friday 09-25 .. Sunday 09-27
    assert [day_kind(d) for d in days(date(2026, 9, 25), date(2026, 9, 27))] == [
        DayKind.STATUTORY_HOLIDAY
    ] * 3
    assert holiday_name(date(2026, 9, 25)) == "中秋"


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 11, 23), DayKind.WORKDAY),  # Monday
        (date(2026, 11, 21), DayKind.WEEKEND),  # Saturday
        (date(2026, 11, 22), DayKind.WEEKEND),  # Sunday
        (date(2026, 1, 1), DayKind.STATUTORY_HOLIDAY),  # 元旦, Thursday
        (date(2026, 1, 3), DayKind.STATUTORY_HOLIDAY),  # 元旦 block, Saturday
        (date(2026, 1, 4), DayKind.MAKEUP_WORKDAY),  # Sunday worked for 元旦
        (date(2026, 5, 9), DayKind.MAKEUP_WORKDAY),  # Saturday worked for 劳动节
        (date(2004, 1, 1), DayKind.STATUTORY_HOLIDAY),  # first known year
    ],
)
def test_day_kinds(day: date, kind: DayKind) -> None:
    assert day_kind(day) is kind
    assert is_working_day(day) is (kind in (DayKind.WORKDAY, DayKind.MAKEUP_WORKDAY))


# --- add_working_days: the n-th working day after the start day ------------------------------


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        # 春节 2026: Friday 02-13 -> Saturday 02-14 (调休, counts) -> 02-24 -> 02-25
        (date(2026, 2, 13), 1, date(2026, 2, 14)),
        (date(2026, 2, 13), 2, date(2026, 2, 24)),
        (date(2026, 2, 13), 3, date(2026, 2, 25)),
        (date(2026, 2, 14), 3, date(2026, 2, 26)),  # from the make-up Saturday
        (date(2026, 2, 16), 1, date(2026, 2, 24)),  # from inside the holiday
        (date(2026, 2, 16), 3, date(2026, 2, 26)),
        (date(2026, 2, 26), 3, date(2026, 3, 2)),  # counts make-up Saturday 02-28, skips Sunday
        (date(2026, 2, 27), 1, date(2026, 2, 28)),
        # 国庆节 2026: Wednesday 09-30 -> 10-08, 10-09, Saturday 10-10 (调休)
        (date(2026, 9, 30), 1, date(2026, 10, 8)),
        (date(2026, 9, 30), 3, date(2026, 10, 10)),
        (date(2026, 10, 1), 3, date(2026, 10, 10)),
        (date(2026, 9, 18), 1, date(2026, 9, 20)),  # Friday -> Sunday 09-20 (调休); Sat skipped
        (date(2026, 9, 24), 1, date(2026, 9, 28)),  # 中秋 Friday-Sunday skipped
        (date(2026, 9, 24), 3, date(2026, 9, 30)),
        # ordinary weeks: the start day never counts, weekends skipped
        (date(2026, 11, 23), 3, date(2026, 11, 26)),  # Monday -> Thursday
        (date(2026, 11, 20), 3, date(2026, 11, 25)),  # Friday -> Wednesday
        (date(2026, 11, 21), 1, date(2026, 11, 23)),  # Saturday -> Monday
        (date(2026, 12, 28), 3, date(2026, 12, 31)),  # the last date that can be computed
    ],
)
def test_add_working_days(start: date, n: int, due: date) -> None:
    assert add_working_days(start, n) == due


def test_skipped_days_across_spring_festival() -> None:
    assert skipped_days(date(2026, 2, 13), date(2026, 2, 25)) == tuple(
        days(date(2026, 2, 15), date(2026, 2, 23))
    )


@pytest.mark.parametrize("n", [0, -1, True])
def test_add_working_days_needs_a_positive_count(n: int) -> None:
    with pytest.raises(InvalidInput, match="工作日数须为不小于1的整数"):
        add_working_days(date(2026, 3, 2), n)


# --- beyond the packaged years: provisional, never a stop -----------------------------------


def test_2027_is_counted_provisionally_not_refused() -> None:
    # The hall used to stop here: 2026-12-29 + 3 working days runs into 2027.
    deadline = working_deadline(date(2026, 12, 29), 3)
    assert deadline == Deadline(date(2027, 1, 4), provisional=True)  # 12-30, 12-31, (元旦) 01-04
    assert working_deadline(date(2026, 12, 24), 3) == Deadline(date(2026, 12, 29), False)
    assert current().status(2027).source is Source.PROVISIONAL


def test_provisional_year_has_the_laws_thirteen_days() -> None:
    law = statutory_holidays(2027)
    assert len(law) == 13
    assert {d for d, name in law.items() if name == "春节"} == set(
        days(date(2027, 2, 5), date(2027, 2, 8))  # 除夕 02-05, 正月初一 02-06 .. 初三 02-08
    )
    assert law[date(2027, 4, 5)] == "清明节"
    assert law[date(2027, 6, 9)] == "端午节"
    assert law[date(2027, 9, 15)] == "中秋节"
    assert [law.get(date(2027, 5, d)) for d in (1, 2, 3)] == ["劳动节", "劳动节", None]
    assert day_kind(date(2027, 2, 8)) is DayKind.STATUTORY_HOLIDAY  # a Monday, by law
    assert holiday_name(date(2027, 2, 8)) == "春节"
    assert day_kind(date(2027, 2, 9)) is DayKind.WORKDAY  # no 调休 is guessed
    assert day_kind(date(2027, 2, 20)) is DayKind.WEEKEND  # no make-up day is guessed


def test_years_nobody_can_count_are_an_explicit_error() -> None:
    with pytest.raises(CalendarUnknown, match="2003 年的节假日安排未知") as caught:
        day_kind(date(2003, 12, 31))
    assert caught.value.code == "calendar_unknown"
    assert isinstance(caught.value, InvalidInput)
    with pytest.raises(CalendarUnknown):
        day_kind(date(2100, 1, 4))


# --- imported arrangements override the package and the law ----------------------------------

ARRANGEMENT_2027 = {
    "year": 2027,
    "holidays": [
        *(d.isoformat() for d in days(date(2027, 1, 1), date(2027, 1, 3))),
        *(d.isoformat() for d in days(date(2027, 2, 5), date(2027, 2, 13))),
        "2027-04-05",
        *(d.isoformat() for d in days(date(2027, 5, 1), date(2027, 5, 5))),
        "2027-06-09",
        "2027-09-15",
        *(d.isoformat() for d in days(date(2027, 10, 1), date(2027, 10, 7))),
    ],
    "workdays": ["2027-02-20", "2027-10-09"],
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试）",
}


def test_an_imported_year_is_official() -> None:
    calendar = WorkCalendar([Arrangement.parse(ARRANGEMENT_2027)])
    assert calendar.status(2027).source is Source.IMPORTED
    assert calendar.status(2027).text.startswith("国务院办公厅")
    assert calendar.day_kind(date(2027, 2, 9)) is DayKind.STATUTORY_HOLIDAY  # swapped in
    assert calendar.day_kind(date(2027, 2, 20)) is DayKind.MAKEUP_WORKDAY
    assert calendar.holiday_name(date(2027, 2, 12)) == "春节"
    assert calendar.holiday_name(date(2027, 2, 20)) == "春节"
    assert calendar.holiday_name(date(2027, 10, 9)) == "国庆节"
    assert calendar.holiday_name(date(2027, 3, 1)) is None
    # From Thursday 02-04: 02-05..02-13 off, then Monday 02-15 .. Wednesday 02-17.
    assert calendar.working_deadline(date(2027, 2, 4), 3) == Deadline(date(2027, 2, 17), False)
    assert calendar.working_deadline(date(2026, 12, 29), 3).provisional is False


def test_an_import_overrides_the_package() -> None:
    data = {"year": 2026, "holidays": ["2026-01-01", "2026-03-02"], "workdays": [], "source": "x"}
    calendar = WorkCalendar([Arrangement.parse(data)])
    assert calendar.day_kind(date(2026, 3, 2)) is DayKind.STATUTORY_HOLIDAY
    assert calendar.day_kind(date(2026, 2, 17)) is DayKind.WORKDAY  # only what was imported
    assert calendar.status(2026).source is Source.IMPORTED


def test_missing_statutory_days_are_reported() -> None:
    data = {
        **ARRANGEMENT_2027,
        "holidays": [d for d in ARRANGEMENT_2027["holidays"] if d != "2027-06-09"],
    }
    assert Arrangement.parse(data).missing_statutory_days() == (date(2027, 6, 9),)
    assert Arrangement.parse(ARRANGEMENT_2027).missing_statutory_days() == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"year": "2027"}, "须为整数年份"),
        ({"year": 1999}, "超出可导入范围"),
        ({"holidays": ["2028-01-01"]}, "不在 2027 年内"),
        ({"holidays": ["2027-13-01"]}, "不是日期"),
        ({"holidays": [20270101]}, "不是日期字符串"),
        ({"holidays": "2027-01-01"}, "须为日期列表"),
        ({"holidays": []}, "不能为空"),
        ({"holidays": ["2027-01-01", "2027-01-01"]}, "日期重复"),
        ({"workdays": ["2027-10-01"]}, "既是假日又是调休上班日"),
        ({"workdays": ["2027-10-08"]}, "本是工作日"),  # a Friday
        ({"source": " "}, "注明来源"),
        ({"extra": 1}, "未知字段 extra"),
    ],
)
def test_bad_arrangements_are_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Arrangement.parse({**ARRANGEMENT_2027, **change})


def test_missing_keys_are_named() -> None:
    with pytest.raises(InvalidInput, match="缺少 source, workdays"):
        Arrangement.parse({"year": 2027, "holidays": ["2027-01-01"]})
    with pytest.raises(InvalidInput, match="JSON 对象"):
        Arrangement.parse([2027])


def test_arrangement_round_trips() -> None:
    arrangement = Arrangement.parse(ARRANGEMENT_2027)
    assert Arrangement.parse(arrangement.as_json()) == arrangement


# --- properties ------------------------------------------------------------------------------

KNOWN = st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 11, 30))


@settings(max_examples=300, deadline=None)
@given(start=KNOWN, n=st.integers(min_value=1, max_value=20))
def test_result_is_a_working_day_strictly_after_start(start: date, n: int) -> None:
    due = add_working_days(start, n)
    assert due > start
    assert is_working_day(due)
    between = days(start + timedelta(days=1), due)
    assert sum(is_working_day(d) for d in between) == n  # exactly n working days counted


@settings(max_examples=200, deadline=None)
@given(start=KNOWN, n=st.integers(min_value=1, max_value=20))
def test_one_more_day_is_later(start: date, n: int) -> None:
    assert add_working_days(start, n + 1) > add_working_days(start, n)


@settings(max_examples=200, deadline=None)
@given(start=KNOWN, n=st.integers(min_value=1, max_value=10), m=st.integers(1, 10))
def test_adding_in_steps_is_the_same(start: date, n: int, m: int) -> None:
    assert add_working_days(add_working_days(start, n), m) == add_working_days(start, n + m)


@settings(max_examples=200, deadline=None)
@given(day=KNOWN)
def test_working_day_agrees_with_day_kind(day: date) -> None:
    kind = day_kind(day)
    if kind is DayKind.MAKEUP_WORKDAY or kind is DayKind.WEEKEND:
        assert day.isoweekday() >= 6
    if kind is DayKind.WORKDAY:
        assert day.isoweekday() <= 5
    assert (holiday_name(day) is not None) >= (kind is DayKind.STATUTORY_HOLIDAY)


def test_a_deadline_reads_the_package_metadata_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The packaged calendar's version names its source; it was read from the installed
    package's metadata (a file parsed from disk) 14 times for each deadline: 7 ms a quote."""
    from certhall.rules import workdays

    reads: list[str] = []
    real = workdays.version

    def counted(name: str) -> str:
        reads.append(name)
        return real(name)

    monkeypatch.setattr(workdays, "version", counted)
    workdays._library_version.cache_clear()
    for start in (date(2026, 9, 28), date(2026, 12, 29), date(2026, 2, 12)):
        working_deadline(start, 3)
    assert reads == ["chinese-calendar"]
    workdays._library_version.cache_clear()


def test_every_packaged_day_reads_as_the_package_says() -> None:
    """The calendar reads the package's tables, not its ``get_holiday_detail`` (whose range
    check scans every day it knows on each call): every day of every packaged year is the same
    working day or not, and the same holiday, as the package's own functions say."""
    import chinese_calendar

    calendar = WorkCalendar()
    first, last = known_years()
    for day in days(date(first, 1, 1), date(last, 12, 31)):
        off, name = chinese_calendar.get_holiday_detail(day)
        assert calendar.is_working_day(day) is not off, day
        if name is None:
            assert calendar.holiday_name(day) is None, day
        else:
            assert calendar.holiday_name(day) == chinese_calendar.Holiday(name).chinese, day


def test_a_deadline_does_not_call_the_packages_range_checked_lookup(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import chinese_calendar

    expected = working_deadline(date(2026, 9, 28), 3)

    def refused(day: date) -> None:
        raise AssertionError(f"get_holiday_detail({day}) called")

    monkeypatch.setattr(chinese_calendar, "get_holiday_detail", refused)
    assert working_deadline(date(2026, 9, 28), 3) == expected
