"""Fixtures for the rules tests: the packaged catalog (also as raw JSON to break on purpose) and
named moments in Shanghai local time. No database, no wall clock."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime
from importlib import resources
from typing import Any

import pytest

from certhall.rules import SHANGHAI, Catalog, default_catalog, quote, workdays


def sh(
    year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0
) -> datetime:
    """A moment in Shanghai local time."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


# Named moments (2026; weekdays checked in test_workdays.py).
MONDAY = sh(2026, 11, 23)  # an ordinary Monday
SATURDAY = sh(2026, 11, 21)  # an ordinary Saturday
SUNDAY = sh(2026, 11, 22)  # an ordinary Sunday
SPRING_FESTIVAL = sh(2026, 2, 17)  # Tuesday inside 春节 2026-02-15..02-23
NATIONAL_DAY = sh(2026, 10, 5)  # Monday inside 国庆节 2026-10-01..10-07
MAKEUP_SATURDAY = sh(2026, 2, 14)  # 调休上班 for 春节
MAKEUP_SUNDAY = sh(2026, 9, 20)  # 调休上班 for 国庆节


@pytest.fixture(autouse=True)
def builtin_calendar() -> Iterator[None]:
    """The rules alone: the packaged calendar and the law, no imported years (no database)."""
    workdays.install(None)
    yield
    from certhall.hall import calendar

    workdays.install(calendar.provider)


@pytest.fixture
def catalog() -> Catalog:
    return default_catalog()


@pytest.fixture
def raw_catalog() -> dict[str, Any]:
    """A fresh, mutable copy of the packaged catalog.json."""
    text = resources.files("certhall.rules").joinpath("catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return copy.deepcopy(data)


#: The seed's own words, as the rules quote them.
WEEKEND_WORDS = "注:周末无法办理机构证书(ODC证书),机构个人证书可正常办理"
ONLY_PERSONAL_ONLINE = "注:仅支持机构个人证书网厅办理。"
ODC_NEW_FEE = "机构证书(ODC证书):300元(只能办理1年期)"
ODC_RENEW_FEE = "机构证书(ODC证书):免费(只能办理1年期)"
PERSONAL_FEE = "机构个人证书(法人证书):150元/个/年(可办理1-5年期)"


def onsite(business: str, cert: str, years: int | None = None, **kw: Any) -> Any:
    """quote() at a counter: 科技园 on a Monday morning unless told otherwise."""
    kw.setdefault("point", "kejiyuan")
    kw.setdefault("at", MONDAY)
    return quote(business, cert, years=years, channel="onsite", **kw)
