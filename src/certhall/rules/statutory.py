"""The statutory holidays of the law, for a year whose official arrangement is not known yet.

《全国年节及纪念日放假办法》 (as amended on 2024-11-10, in force since 2025-01-01) gives 13 days:
元旦 1 (1 January), 春节 4 (除夕 and 正月初一 to 初三), 清明节 1 (the day of the 清明 solar term),
劳动节 2 (1-2 May), 端午节 1 (五月初五), 中秋节 1 (八月十五), 国庆节 3 (1-3 October).

Each year the State Council's notice (国务院办公厅关于部分节假日安排的通知) then swaps weekend
days in to make longer breaks and declares make-up working days (调休上班). That cannot be
computed: until an operator imports the notice, the platform counts with the law's days alone
and marks every date it derives as provisional (docs/rules.md, "Working-day calendar").
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
from chinese_calendar import Holiday
from chinese_calendar.solar_terms import SolarTerms
from lunardate import LunarDate

from certhall import messages
from certhall.errors import InvalidInput

__all__ = ["FIRST_LAW_YEAR", "statutory_holidays"]

#: The law as amended applies from this year on; earlier years are in the packaged calendar.
FIRST_LAW_YEAR = 2025
#: lunardate's tables end with lunar year 2099.
LAST_LUNAR_YEAR = 2099


def _lunar(year: int, month: int, day: int) -> date:
    solar: date = LunarDate(year, month, day).to_solar_date()
    return solar


def _qingming(year: int) -> date:
    start, end = date(year, 4, 1), date(year, 4, 10)
    for day, name in chinese_calendar.get_solar_terms(start, end):
        if name == SolarTerms.pure_brightness.value[1]:  # the library's own name, 清明
            found: date = day
            return found
    raise AssertionError(f"no Qingming between {start} and {end}")  # pragma: no cover - astronomy


def statutory_holidays(year: int) -> dict[date, str]:
    """The law's holiday days of ``year`` with the holiday's Chinese name."""
    if not FIRST_LAW_YEAR <= year <= LAST_LUNAR_YEAR:
        raise InvalidInput(
            code="statutory_year", first=FIRST_LAW_YEAR, last=LAST_LUNAR_YEAR, year=year
        )
    spring = _lunar(year, 1, 1)
    law: dict[date, Holiday] = {date(year, 1, 1): Holiday.new_years_day}
    for offset in (-1, 0, 1, 2):  # 除夕, 初一, 初二, 初三
        law[spring + timedelta(days=offset)] = Holiday.spring_festival
    law[_qingming(year)] = Holiday.tomb_sweeping_day
    law[date(year, 5, 1)] = law[date(year, 5, 2)] = Holiday.labour_day
    law[_lunar(year, 5, 5)] = Holiday.dragon_boat_festival
    law[_lunar(year, 8, 15)] = Holiday.mid_autumn_festival
    for day in (1, 2, 3):
        law[date(year, 10, day)] = Holiday.national_day
    # the law's names, from the catalogue (the library's own are shorter: 端午, 中秋, 清明)
    return {day: messages.text(f"rules_label.holiday.{h.name}") for day, h in law.items()}
