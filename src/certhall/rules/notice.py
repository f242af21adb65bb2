"""The State Council's notice (国务院办公厅关于YYYY年部分节假日安排的通知) as its text, read
into the :class:`~certhall.rules.workdays.Arrangement` the JSON import builds (docs/rules.md,
"Working-day calendar": the notice pasted in the console, or ``certhall calendar import
--notice``).

What is read: the numbered items as the State Council writes them, one a line::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。…
    五、端午节：6月10日放假，与周末连休。
    一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。

Each sentence of an item (up to 。, ； or a half-width .) is a range of days off
("A至B放假[调休][，共N天]", "A放假，与周末连休", "A放假1天，不调休"; B may leave out the year
and the month), a list of make-up working days ("A、B上班"), or a sentence without a day or the
words 放假 / 上班 (the notice's 鼓励… advice), which is passed over; lines that are not items
(the title, the greeting, the closing words, the date) are passed over too. Full-width and
half-width characters are read alike (NFKC), spaces are ignored, and so are the parenthesised
notes (（周五）, （农历除夕、周二）, （星期六）): the date says the day. A day without a year is
in the notice's year. A range's ends must both be days the year's notice arranges (the year,
or its December before) before its days are counted out.

"与周末连休" gives the named day off: the weekend beside it stays an ordinary weekend (the notice
says so; a working-day count is the same either way).

Never a guess: a sentence that is none of these, a count (共N天) that is not the range's, a day
that is not a date, an arrangement on a line without an item number (a wrapped line: join it to
its item), are refused naming the line, quoted with its invisible characters written as code
points (``identity.marked``: a zero-width space in the pasted text left "2月4日、2月18日上班"
refused as unreadable while it read as written, until 12-06). Whatever the arrangement itself
must be (a weekday among the make-up days, a day in both lists, a day outside the year or its
December before) is checked by :meth:`Arrangement.parse`, the JSON import's one check, and so
are the law's days missing (:meth:`Arrangement.missing_statutory_days`, a warning).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from certhall import messages
from certhall.errors import InvalidInput
from certhall.pki.identity import marked
from certhall.rules.workdays import Arrangement, arranged_by

__all__ = ["Block", "Notice", "notice_title", "parse_notice"]

#: The notice's title, which names its year.
TITLE = re.compile(r"关于([0-9]{4})年部分节假日安排的通知")
#: An item: 一、元旦：… (after NFKC the colon is ASCII).
ITEM = re.compile(r"([一二三四五六七八九十]+)[、.]([^0-9:]{1,20}):(.*)")
#: A day, its year optional (2025年12月30日, 1月1日).
DAY = r"(?:([0-9]{4})年)?([0-9]{1,2})月([0-9]{1,2})日"
#: The end of a range: year and month optional (至3日, 至2月4日, 至2026年1月1日).
END = r"(?:(?:([0-9]{4})年)?([0-9]{1,2})月)?([0-9]{1,2})日"
OFF = re.compile(
    rf"{DAY}(?:至{END})?放假(调休)?(?:,?共([0-9]+)天|([0-9]+)天)?(?:,(?:与周末连休|不调休))?"
)
WORK = re.compile(rf"{DAY}(?:[、,]{DAY})*上班")
ANY_DAY = re.compile(DAY)
#: The words of a sentence that arranges days: one without a day or either word is the
#: notice's advice, passed over; a line holding both outside an item is refused.
ARRANGING = ("放假", "上班")
NOTE = re.compile(r"\([^()]*\)")
SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Block:
    """One item of the notice: its line, the holiday's name as written, its days."""

    line: int
    name: str
    days_off: tuple[date, ...]
    workdays: tuple[date, ...]


@dataclass(frozen=True)
class Notice:
    arrangement: Arrangement
    blocks: tuple[Block, ...]


def notice_title(year: int) -> str:
    return messages.text("rules_label.notice_title", year=year)


def _day(groups: tuple[str | None, ...], year: int, line: int, text: str) -> date:
    y, m, d = groups
    try:
        return date(int(y) if y else year, int(m or 0), int(d or 0))
    except ValueError:
        refused = InvalidInput(
            code="calendar_notice_line", variant="date", line=line, text=marked(text)
        )
        raise refused from None


def _days_off(match: re.Match[str], year: int, line: int, text: str) -> list[date]:
    g = match.groups()
    first = _day(g[0:3], year, line, text)
    if g[5] is None:  # one day
        last = first
    else:
        last = _day((g[3] or str(first.year), g[4] or str(first.month), g[5]), year, line, text)
    if last < first:
        raise InvalidInput(
            code="calendar_notice_line", variant="order", line=line, text=marked(text)
        )
    if not (arranged_by(first, year) and arranged_by(last, year)):
        # before the days are counted out: "1月1日至9999年12月31日" was 2.9 million of them
        # (6 s and 380 MB a line, a 20,000-character paste the worker's end) until 12-06
        raise InvalidInput(
            code="calendar_notice_line", variant="year", line=line, text=marked(text), year=year
        )
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    said = g[7] or g[8]
    if said is not None and int(said) != len(days):
        raise InvalidInput(
            code="calendar_notice_line",
            variant="count",
            line=line,
            text=marked(text),
            said=said,
            days=len(days),
        )
    return days


def _sentence(text: str, year: int, line: int) -> tuple[list[date], list[date]]:
    """(days off, make-up working days) of one sentence; ([], []) for the notice's advice."""
    if match := OFF.fullmatch(text):
        return _days_off(match, year, line, text), []
    if WORK.fullmatch(text):
        days = [_day(m.groups(), year, line, text) for m in ANY_DAY.finditer(text)]
        return [], days
    if not re.search(r"[0-9]", text) and not any(word in text for word in ARRANGING):
        return [], []
    raise InvalidInput(code="calendar_notice_line", line=line, text=marked(text))


def _year(text: str, year: int | None) -> int:
    found = {int(y) for y in TITLE.findall(text)}
    if len(found) > 1 or (found and year is not None and year not in found):
        raise InvalidInput(
            code="calendar_notice_year",
            found="、".join(str(y) for y in sorted(found)),
            year=year if year is not None else "",
        )
    if found:
        return found.pop()
    if year is None:
        raise InvalidInput(code="calendar_notice_year", variant="missing")
    return year


def parse_notice(text: str, year: int | None = None) -> Notice:
    """The notice's ``text`` as an arrangement of ``year`` (or of the year its title names;
    both given, they must agree)."""
    normal = unicodedata.normalize("NFKC", text)
    year = _year(normal, year)
    blocks: list[Block] = []
    seen: set[date] = set()
    for number, raw in enumerate(normal.splitlines(), start=1):
        line = SPACE.sub("", raw)
        item = ITEM.fullmatch(line)
        if item is None:
            if ANY_DAY.search(line) and any(word in line for word in ARRANGING):
                raise InvalidInput(
                    code="calendar_notice_line",
                    variant="unnumbered",
                    line=number,
                    text=marked(raw.strip()),
                )
            continue
        off: list[date] = []
        work: list[date] = []
        for sentence in re.split(r"[。;.]", NOTE.sub("", item.group(3))):
            if sentence:
                days_off, workdays = _sentence(sentence, year, number)
                off += days_off
                work += workdays
        if not off:
            raise InvalidInput(
                code="calendar_notice_line",
                variant="nothing",
                line=number,
                text=marked(raw.strip()),
            )
        if again := sorted(seen.intersection(off)):
            # here, not only in Arrangement.parse: a paste of a thousand whole years, each
            # counted out and then compared, took a second of the worker before 12-06
            days = "、".join(d.isoformat() for d in again[:10])
            raise InvalidInput(
                code="calendar_notice_line", variant="repeated", line=number, days=days
            )
        seen.update(off)
        blocks.append(Block(number, item.group(2), tuple(off), tuple(work)))
    if not blocks:
        raise InvalidInput(code="calendar_notice_empty")
    arrangement = Arrangement.parse(
        {
            "year": year,
            "holidays": [d.isoformat() for b in blocks for d in b.days_off],
            "workdays": [d.isoformat() for b in blocks for d in b.workdays],
            "source": notice_title(year),
        }
    )
    return Notice(arrangement, tuple(blocks))
