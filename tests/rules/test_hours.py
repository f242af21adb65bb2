"""Opening hours of the three service points (seed 001, 办理地址 / 服务时间)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from certhall.errors import InvalidInput
from certhall.rules import Catalog, is_open, point_status
from tests.rules.conftest import (
    MAKEUP_SATURDAY,
    MAKEUP_SUNDAY,
    MONDAY,
    NATIONAL_DAY,
    SATURDAY,
    SPRING_FESTIVAL,
    SUNDAY,
    sh,
)

POINTS = ["kejiyuan", "longgang-hall", "longgang"]


def test_the_three_points_exactly_as_in_the_seed(catalog: Catalog) -> None:
    assert [(p.slug, p.name, p.address, p.hours_text) for p in catalog.points] == [
        (
            "kejiyuan",
            "科技园文化广场",
            "深圳市南山区科兴路10号科技园文化广场深圳CA受理中心",
            "周一至周日:9:00-12:00,13:30-18:00  法定节假日休息",
        ),
        (
            "longgang-hall",
            "龙岗行政服务大厅受理点",
            "深圳市龙岗区龙翔大道8033-1龙岗区行政服务大厅一楼36号窗口",
            "周一至周五:9:00-12:00,14:00-18:00  周六日及法定节假日休息",
        ),
        (
            "longgang",
            "龙岗受理点",
            "深圳市龙岗区黄阁北路龙岗天安数码新城2号楼A座一楼深圳CA受理中心",
            "周一至周五:9:00-12:00,13:30-18:00  周六日及法定节假日休息",
        ),
    ]


def test_named_moments_are_what_they_claim() -> None:
    assert MONDAY.isoweekday() == 1
    assert SATURDAY.isoweekday() == 6
    assert SUNDAY.isoweekday() == 7
    assert MAKEUP_SATURDAY.isoweekday() == 6
    assert MAKEUP_SUNDAY.isoweekday() == 7


# (hh, mm, ss) on an ordinary Monday -> open? for kejiyuan, longgang-hall, longgang
BOUNDARIES = [
    ((8, 59, 59), (False, False, False)),
    ((9, 0, 0), (True, True, True)),
    ((11, 59, 59), (True, True, True)),
    ((12, 0, 0), (False, False, False)),  # lunch break starts at 12:00 exactly
    ((13, 0, 0), (False, False, False)),
    ((13, 29, 59), (False, False, False)),
    ((13, 30, 0), (True, False, True)),  # longgang-hall reopens at 14:00
    ((13, 59, 59), (True, False, True)),
    ((14, 0, 0), (True, True, True)),
    ((17, 59, 59), (True, True, True)),
    ((18, 0, 0), (False, False, False)),  # closed at 18:00 exactly
    ((20, 0, 0), (False, False, False)),
    ((0, 0, 0), (False, False, False)),
]


@pytest.mark.parametrize(("clock", "expected"), BOUNDARIES)
def test_hours_and_lunch_break_on_a_monday(
    catalog: Catalog, clock: tuple[int, int, int], expected: tuple[bool, bool, bool]
) -> None:
    at = sh(2026, 11, 23, *clock)
    assert tuple(is_open(catalog.point(slug), at) for slug in POINTS) == expected
    for slug, open_ in zip(POINTS, expected, strict=True):
        status = point_status(catalog.point(slug), at)
        assert status.rule == (None if open_ else "hours")


@pytest.mark.parametrize("clock", [(10, 0, 0), (15, 0, 0)])
@pytest.mark.parametrize("moment", [SATURDAY, SUNDAY])
def test_weekends_only_kejiyuan(
    catalog: Catalog, moment: datetime, clock: tuple[int, int, int]
) -> None:
    at = moment.replace(hour=clock[0], minute=clock[1], second=clock[2])
    assert is_open(catalog.point("kejiyuan"), at)
    for slug in ("longgang-hall", "longgang"):
        status = point_status(catalog.point(slug), at)
        assert not status.open
        assert status.rule == "closed_day"


def test_weekend_lunch_break_at_kejiyuan(catalog: Catalog) -> None:
    assert not is_open(catalog.point("kejiyuan"), SATURDAY.replace(hour=12, minute=30))
    assert not is_open(catalog.point("kejiyuan"), SUNDAY.replace(hour=18))


@pytest.mark.parametrize(
    "moment",
    [
        SPRING_FESTIVAL,
        NATIONAL_DAY,
        sh(2026, 2, 15),  # a Sunday inside 春节: 科技园 opens on Sundays, not on this one
        sh(2026, 10, 3),  # a Saturday inside 国庆节
        sh(2026, 1, 1),  # 元旦
        sh(2026, 9, 25),  # 中秋
    ],
)
@pytest.mark.parametrize("slug", POINTS)
def test_statutory_holidays_closed_everywhere(
    catalog: Catalog, moment: datetime, slug: str
) -> None:
    status = point_status(catalog.point(slug), moment)
    assert not status.open
    assert status.rule == "statutory_holiday"
    assert "法定节假日" in status.detail


@pytest.mark.parametrize("moment", [MAKEUP_SATURDAY, MAKEUP_SUNDAY, sh(2026, 10, 10)])
@pytest.mark.parametrize("slug", POINTS)
def test_makeup_working_days_open_everywhere(catalog: Catalog, moment: datetime, slug: str) -> None:
    """Decision: a 调休 Saturday/Sunday is a working day, so the 周一至周五 points open on it."""
    point = catalog.point(slug)
    assert is_open(point, moment)
    assert not is_open(point, moment.replace(hour=12, minute=0))
    assert not is_open(point, moment.replace(hour=18, minute=0))


def test_makeup_flag_off_keeps_the_point_closed(catalog: Catalog) -> None:
    from dataclasses import replace

    point = replace(catalog.point("longgang"), open_on_makeup_workdays=False)
    status = point_status(point, MAKEUP_SATURDAY)
    assert not status.open
    assert status.rule == "closed_day"


def test_other_time_zones_are_converted(catalog: Catalog) -> None:
    kejiyuan = catalog.point("kejiyuan")
    assert is_open(kejiyuan, datetime(2026, 11, 23, 2, 0, tzinfo=UTC))  # 10:00 in Shenzhen
    assert not is_open(kejiyuan, datetime(2026, 11, 23, 4, 30, tzinfo=UTC))  # 12:30
    # 2026-11-22 23:00 UTC is Monday 07:00 in Shenzhen: closed, and it is Monday's status
    status = point_status(kejiyuan, datetime(2026, 11, 22, 23, 0, tzinfo=UTC))
    assert status.at.date().isoweekday() == 1
    assert status.rule == "hours"


def test_naive_datetimes_are_refused(catalog: Catalog) -> None:
    with pytest.raises(InvalidInput, match="没有时区"):
        is_open(catalog.point("kejiyuan"), datetime(2026, 11, 23, 10, 0))


@given(minute=st.integers(min_value=0, max_value=24 * 60 - 1))
def test_any_minute_of_a_monday(minute: int) -> None:
    from certhall.rules import default_catalog

    catalog = default_catalog()
    at = sh(2026, 11, 23).replace(hour=0) + timedelta(minutes=minute)
    clock = at.time().replace(tzinfo=None)
    morning = time(9) <= clock < time(12)
    assert is_open(catalog.point("kejiyuan"), at) == (morning or time(13, 30) <= clock < time(18))
    assert is_open(catalog.point("longgang-hall"), at) == (morning or time(14) <= clock < time(18))
