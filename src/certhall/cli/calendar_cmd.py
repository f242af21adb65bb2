"""certhall calendar import | show | status: the working-day calendar as the operator's data."""

from __future__ import annotations

import argparse
import json
from datetime import date, timedelta
from typing import Any

from certhall.cli.output import print_json, read_input
from certhall.errors import InvalidInput


def register(commands: Any) -> None:
    cal = commands.add_parser("calendar")
    sub = cal.add_subparsers(dest="calendar_command", required=True, parser_class=type(cal))

    p = sub.add_parser(
        "import",
        help="load one year's official holiday arrangement (JSON, or the notice's text)",
    )
    given = p.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "file", nargs="?", help='{"year", "holidays": [...], "workdays": [...], "source"}'
    )
    given.add_argument(
        "--notice",
        metavar="FILE.txt",
        help="the State Council's notice as text (UTF-8), its numbered items as published",
    )
    p.add_argument("--year", type=int, help="with --notice: the year (else its title's)")
    p.set_defaults(handler=import_)

    p = sub.add_parser("show", help="every non-ordinary day of a year, and where it comes from")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=show)

    p = sub.add_parser("status", help="which years are official, from where, which provisional")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=status)


def import_(args: argparse.Namespace) -> int:
    from certhall.accounts.services import system_actor
    from certhall.hall import calendar
    from certhall.rules.notice import parse_notice
    from certhall.rules.workdays import Arrangement

    if args.notice is not None:
        try:
            text = read_input(args.notice).decode("utf-8-sig")  # a BOM: Notepad's UTF-8
        except UnicodeDecodeError as error:
            raise InvalidInput(code="cli_not_text", path=args.notice, error=error) from None
        arrangement = parse_notice(text, args.year).arrangement
    else:
        if args.year is not None:
            raise InvalidInput(code="cli_year_without_notice")
        try:
            data = json.loads(read_input(args.file))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise InvalidInput(code="cli_not_json", path=args.file, error=error) from None
        arrangement = Arrangement.parse(data)
    result = calendar.import_year(system_actor(), arrangement)
    for day in result.missing_statutory_days:
        print(f"warning: {day.isoformat()} is a statutory holiday by law but not in 'holidays'")
    for day, counts in result.overridden:
        other = day.year if counts == arrangement.year else counts
        print(
            f"warning: {day.isoformat()} is arranged otherwise by the import of {other}:"
            f" {counts}'s notice counts for it"
        )
    if not result.changed:
        print(f"{result.year}: unchanged (already imported)")
        return 0
    what = "imported" if result.created else "replaced"
    print(f"{result.year}: {what} ({arrangement.source})")
    print(f"deadlines recomputed: {len(result.recomputed)}")
    for number, old, new in result.recomputed:
        print(f"  {number}: {old.isoformat() if old else '-'} -> {new.isoformat() if new else '-'}")
    return 0


def show(args: argparse.Namespace) -> int:
    from certhall.hall import calendar

    cal = calendar.provider()
    state = cal.status(args.year)
    day, days = date(args.year, 1, 1), []
    while day.year == args.year:
        kind = cal.day_kind(day)
        if kind.value in ("statutory_holiday", "makeup_workday"):
            days.append(
                {"date": day.isoformat(), "kind": kind.value, "holiday": cal.holiday_name(day)}
            )
        day += timedelta(days=1)
    if args.json:
        print_json(
            {
                **state.as_json(),
                "holidays": [d["date"] for d in days if d["kind"] == "statutory_holiday"],
                "workdays": [d["date"] for d in days if d["kind"] == "makeup_workday"],
                "days": days,
            }
        )
        return 0
    label = "PROVISIONAL" if state.provisional else "official"
    print(f"{args.year}: {label}, {state.source.value}: {state.text}")
    for entry in days:
        name = f" {entry['holiday']}" if entry["holiday"] else ""
        print(f"  {entry['date']} {entry['kind']}{name}")
    return 0


def status(args: argparse.Namespace) -> int:
    from certhall import clock
    from certhall.hall import calendar
    from certhall.rules.workdays import known_years

    cal = calendar.provider()
    this_year = clock.today().year
    first = min([known_years()[0], *cal.imported])
    last = max([this_year + 1, *cal.imported])
    years = [cal.status(year) for year in range(first, last + 1)]
    warning = calendar.next_year_warning(clock.today(), cal)
    if args.json:
        print_json({"years": [y.as_json() for y in years], "warning": warning})
        return 0
    for year in years:
        label = "PROVISIONAL" if year.provisional else "official"
        print(f"{year.year}  {label:<11} {year.source.value:<11} {year.text}")
    if warning:
        print(f"warning: {warning}")
    return 0
