"""The State Council's notice as its text (``rules.notice``): the real notices of 2018-2026,
typed in ``notices/`` as published (2020 left out: its 春节 was extended by a second notice,
国办发明电〔2020〕1号, which the package follows), read into the arrangement chinese-calendar
1.11.0 holds for each year; the ways of writing a day; and every line it cannot read refused,
named, never guessed."""

from __future__ import annotations

import time
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest

from certhall.errors import InvalidInput
from certhall.rules.notice import parse_notice
from certhall.rules.workdays import Arrangement, WorkCalendar

NOTICES = Path(__file__).parent / "notices"
YEARS = (2018, 2019, 2021, 2022, 2023, 2024, 2025, 2026)

#: The weekends beside a "…放假，与周末连休" day that chinese-calendar lists among the holidays
#: in some years and not in others (2018's 元旦, 端午 and 中秋 and 2024's 端午 not; these yes).
#: The notice gives the named day off; the weekend stays a weekend (the same working days).
PACKAGE_WEEKENDS = {
    2019: {date(2019, 4, 6), date(2019, 4, 7), date(2019, 6, 8), date(2019, 6, 9)}
    | {date(2019, 9, 14), date(2019, 9, 15)},
    2024: {date(2023, 12, 30), date(2023, 12, 31)},
}


def notice(name: str) -> str:
    return (NOTICES / f"{name}.txt").read_text("utf-8")


def window(year: int) -> list[date]:
    """The days a year's notice arranges: its 元旦 block may start in the December before, and
    the last days of its own December belong to the next year's notice."""
    first, last = date(year - 1, 12, 21), date(year, 12, 20)
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


@pytest.mark.parametrize("year", YEARS)
def test_a_real_notice_is_the_year_chinese_calendar_holds(year: int) -> None:
    parsed = parse_notice(notice(str(year)))
    arrangement = parsed.arrangement
    days = window(year)
    package_holidays = {d for d in days if d in chinese_calendar.holidays}
    package_workdays = {d for d in days if d in chinese_calendar.workdays and d.weekday() >= 5}
    extra = PACKAGE_WEEKENDS.get(year, set())
    assert extra <= package_holidays and all(d.weekday() >= 5 for d in extra)
    assert arrangement.year == year
    assert arrangement.holidays == package_holidays - extra
    assert arrangement.workdays == package_workdays
    assert arrangement.source == f"国务院办公厅关于{year}年部分节假日安排的通知"
    assert arrangement.missing_statutory_days() == ()
    calendar = WorkCalendar([arrangement])
    assert [calendar.is_working_day(d) for d in days] == [
        chinese_calendar.is_workday(d) for d in days
    ]


def test_the_items_are_the_blocks_with_their_lines() -> None:
    parsed = parse_notice(notice("2024"))  # the whole notice: title, number, greeting, advice
    assert [(b.line, b.name, len(b.days_off), len(b.workdays)) for b in parsed.blocks] == [
        (6, "元旦", 1, 0),
        (7, "春节", 8, 2),
        (8, "清明节", 3, 1),
        (9, "劳动节", 5, 2),
        (10, "端午节", 1, 0),
        (11, "中秋节", 3, 1),
        (12, "国庆节", 7, 2),
    ]
    assert date(2024, 2, 9) not in parsed.arrangement.holidays  # 除夕（2月9日）: advice only
    both = parse_notice(notice("2023")).blocks[5]
    assert (both.name, both.days_off[0], both.days_off[-1]) == (
        "中秋节、国庆节",
        date(2023, 9, 29),
        date(2023, 10, 6),
    )


def test_the_december_before_and_a_range_across_the_turn() -> None:
    parsed = parse_notice(notice("2019"))
    first = parsed.blocks[0]
    assert first.days_off == (date(2018, 12, 30), date(2018, 12, 31), date(2019, 1, 1))
    assert first.workdays == (date(2018, 12, 29),)


def test_full_width_and_half_width_are_read_alike() -> None:
    full = "一、元旦：１月１日（周五）至３日（周日）放假，共３天。"
    half = "一、 元旦: 1月1日(周五)至3日(周日)放假, 共3天.\n"
    mixed = "一．元旦：1 月 1 日 至 3 日 放假，共 3 天；1月9日（星期六）上班。"
    days = (date(2021, 1, 1), date(2021, 1, 2), date(2021, 1, 3))
    assert parse_notice(full, 2021).blocks[0].days_off == days
    assert parse_notice(mixed, 2021).blocks[0].workdays == (date(2021, 1, 9),)
    assert parse_notice(half, 2021).blocks[0].days_off == days


def test_the_ways_of_one_day_off() -> None:
    text = (
        "一、元旦：1月1日（周三）放假1天，不调休。\n"
        "二、清明节：4月4日放假，共1天。\n"
        "三、端午节：5月31日至6月2日放假，共3天。\n"
        "四、中秋节：10月6日放假。\n"
    )
    blocks = parse_notice(text, 2025).blocks
    assert [b.days_off[0] for b in blocks] == [
        date(2025, 1, 1),
        date(2025, 4, 4),
        date(2025, 5, 31),
        date(2025, 10, 6),
    ]
    assert blocks[2].days_off[-1] == date(2025, 6, 2)


def test_the_year_from_the_title_or_the_form_and_they_must_agree() -> None:
    assert parse_notice(notice("2026")).arrangement.year == 2026
    assert parse_notice(notice("2026"), 2026).arrangement.year == 2026
    with pytest.raises(InvalidInput, match="通知标题是2026年的安排，与所填年份2027不符"):
        parse_notice(notice("2026"), 2027)
    body = notice("2026").split("\n", 1)[1]
    with pytest.raises(InvalidInput, match="请填写年份"):
        parse_notice(body)
    assert parse_notice(body, 2026).arrangement == parse_notice(notice("2026")).arrangement


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("二、春节：2月15日至23日放假调休，共8天。", "写共8天，但所列日期是9天"),
        ("二、春节：2月15日到23日放假。", "通知第2行无法识别：“2月15日到23日放假”"),
        ("二、春节：2月30日放假。", "通知第2行：“2月30日放假”中有不存在的日期"),
        ("二、春节：2月23日至15日放假。", "结束日早于开始日"),
        ("二、春节：二月十五日至二十三日放假。", "通知第2行无法识别"),
        ("二、春节：2月14日（周六）上班。", "通知第2行没有放假日期"),
        ("2月14日（周六）、2月28日（周六）上班。", "通知第2行有放假或上班日期，但不在编号的条目中"),
        ("二、春节：2月15日至23日放假调休，共9天。2月14日补班。", "无法识别：“2月14日补班”"),
        ("二、春节：2月15日至23日放假。\u200b2月14日上班。", r"无法识别：“⟨U\+200B⟩2月14日上班”"),
        ("二、春节：2月15日至23日放\u202e假。", r"无法识别：“2月15日至23日放⟨U\+202E⟩假”"),
        ("二\u200b、春节：2月15日放假。", r"不在编号的条目中.*：“二⟨U\+200B⟩、春节:2月15日放假。”"),
        ("二、春节：2025年11月30日放假。", "通知第2行：“2025年11月30日放假”中的日期不在2026年内"),
        ("二、春节：2月15日至2027年1月1日放假。", "2027年1月1日放假”中的日期不在2026年内"),
        ("二、春节：1月2日至5日放假。", "通知第2行：2026-01-02、2026-01-03在前面的条目中已放假"),
    ],
)  # fmt: skip
def test_a_line_it_cannot_read_is_refused_naming_it(line: str, words: str) -> None:
    text = f"一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。\n{line}\n"
    with pytest.raises(InvalidInput, match=words) as refused:
        parse_notice(text, 2026)
    assert refused.value.code.startswith("calendar_notice")


def test_what_the_arrangement_refuses_is_refused_as_for_the_json_file() -> None:
    """The JSON import's one check, not a second: a weekday made a working day, a day in both
    lists, a day outside the year."""
    cases = {
        "一、元旦：1月1日至3日放假调休，共3天。1月5日（周一）上班。": (
            "calendar_weekday_workdays", "调休上班日期（workdays）只列调休上班的周六、周日"
        ),
        "一、元旦：1月1日至3日放假调休，共3天。1月3日上班。": ("calendar_both", "2026-01-03"),
        "一、元旦：1月1日放假。2025年11月29日（周六）上班。": (
            "calendar_date", "调休上班日期第1个（workdays[0]）：2025-11-29 不在 2026 年内"
        ),
        "一、元旦：1月1日放假。1月3日（周六）、1月3日（周六）上班。": (
            "calendar_dates", "调休上班日期（workdays）中日期重复：2026-01-03"
        ),
    }  # fmt: skip
    for text, (code, words) in cases.items():
        with pytest.raises(InvalidInput) as refused:
            parse_notice(text, 2026)
        # the lists named as the console's administrator reads them, the file's key beside
        assert (refused.value.code, words in refused.value.message) == (code, True), text
    with pytest.raises(InvalidInput) as empty:
        parse_notice("国务院办公厅关于2026年部分节假日安排的通知\n各省、自治区、直辖市人民政府：")
    assert empty.value.code == "calendar_notice_empty"


def test_a_law_day_left_out_is_a_warning_of_the_arrangement() -> None:
    without_national_day = notice("2027-example").replace(
        "七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。",
        "",
    )
    arrangement = parse_notice(without_national_day).arrangement
    assert arrangement.missing_statutory_days() == (
        date(2027, 10, 1),
        date(2027, 10, 2),
        date(2027, 10, 3),
    )


def test_a_paste_made_to_count_out_days_is_refused_at_once() -> None:
    """The page takes 20,000 characters. A range to the year 9999 (2.9 million days: 6 s and
    380 MB a line) and a thousand lines of a whole year each (the days counted out, then
    compared with each other, quadratically: a minute and more) before 12-06; now refused at the
    first line that shows it, in well under a second."""
    to_9999 = "一、元旦：1月1日至9999年12月31日放假。\n" * 600
    whole_years = "一、元旦：1月1日至12月31日放假。\n" * 1000
    for text, words in ((to_9999, "通知第1行"), (whole_years, "通知第2行")):
        started = time.perf_counter()
        with pytest.raises(InvalidInput, match=words):
            parse_notice(text[:20_000], 2026)
        assert time.perf_counter() - started < 0.5


def test_the_json_file_s_repeated_days_are_counted_once() -> None:
    """``Arrangement.parse`` compared each day with every other (40,000 days: half a minute)."""
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as refused:
        Arrangement.parse({"year": 2026, "holidays": ["2026-01-01"] * 40_000, "workdays": [],
                           "source": "x"})  # fmt: skip
    assert refused.value.code == "calendar_dates"
    assert time.perf_counter() - started < 1
