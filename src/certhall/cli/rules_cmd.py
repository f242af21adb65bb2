"""certhall rules quote | deadline | points

The rules are pure functions over the packaged catalog (docs/rules.md); ``quote`` and
``deadline`` start Django only to read the operator's imported holiday arrangements.

Exit codes: ``quote`` exits 0 when the business is allowed and 3 (RuleViolation's code) when a
rule refuses it, printing the quote either way; malformed input, an unknown service point or a
date outside the known holiday calendar exits 2 with a one-line error (no JSON).
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, timedelta
from typing import Any

from certhall import clock, money
from certhall.cli.output import print_json
from certhall.errors import InvalidInput, RuleViolation
from certhall.rules import (
    SHANGHAI,
    Business,
    CertType,
    Channel,
    Quote,
    ServicePoint,
    day_kind,
    default_catalog,
    holiday_name,
    quote,
    skipped_days,
)
from certhall.rules.workdays import current, working_deadline

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def register(commands: Any) -> None:
    rules = commands.add_parser("rules")
    sub = rules.add_subparsers(dest="rules_command", required=True, parser_class=type(rules))

    p = sub.add_parser("quote", help="fee, documents, and whether the rules allow a business")
    p.add_argument("--business", required=True, choices=[b.value for b in Business])
    p.add_argument("--cert", required=True, choices=[c.value for c in CertType])
    p.add_argument("--years", type=int, help="term in years (新办/续期)")
    p.add_argument("--channel", required=True, choices=[c.value for c in Channel])
    p.add_argument("--point", help="service point slug (on site): see `certhall rules points`")
    p.add_argument("--at", help="local time in Shanghai, e.g. 2026-11-21T10:00 (default: now)")
    p.add_argument("--cert-expiry", help="expiry date of the certificate to renew (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=quote_)

    p = sub.add_parser("deadline", help="the N-th working day after a date (start not counted)")
    p.add_argument("--from", dest="start", required=True, help="YYYY-MM-DD")
    p.add_argument("--working-days", type=int, default=3)
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=deadline)

    p = sub.add_parser("points", help="service points and opening hours")
    p.add_argument("--json", action="store_true")
    p.set_defaults(handler=points, needs_django=False)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(code="cli_date", option=option, text=text) from None


def _moment(text: str | None) -> datetime:
    if text is None:
        return clock.now().astimezone(SHANGHAI)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(code="cli_moment", text=text) from None
    # Without an offset the time is Shanghai local time; with one it is converted.
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment


def _print_json(data: object) -> None:
    print_json(data)


def quote_(args: argparse.Namespace) -> int:
    expiry = _date(args.cert_expiry, "--cert-expiry") if args.cert_expiry else None
    answer = quote(
        args.business,
        args.cert,
        years=args.years,
        channel=args.channel,
        point=args.point,
        at=_moment(args.at),
        cert_expiry=expiry,
    )
    if args.json:
        _print_json(answer.as_json())
    else:
        _print_quote(answer)
    return 0 if answer.allowed else RuleViolation.exit_code


def _print_quote(answer: Quote) -> None:
    term = f" {answer.years}年" if answer.years is not None else ""
    where = f" {answer.point.name}({answer.point.slug})" if answer.point else " 网上营业厅"
    print(f"{answer.business_name} {answer.cert_name}{term}{where} {answer.at:%Y-%m-%d %H:%M}")
    if answer.allowed:
        print("allowed")
    else:
        print("REFUSED:")
        for refusal in answer.refusals:
            print(f"  - {refusal.words}  [{refusal.rule}: {refusal.detail}]")
    print(f"fee: {money.grouped(answer.fee_yuan)} 元  ({answer.fee_text})")
    if answer.delivery is not None and answer.delivery.postage_paid_by_customer:
        print("     postage of the mailed Ukey not included (邮费自付)")
    print("documents:")
    for doc in answer.documents:
        print(f"  - {doc.text}")
    if answer.notes:
        print("notes:")
        for note in answer.notes:
            print(f"  - {note}")
    print(f"processing: {answer.processing.text}; due {answer.processing.due.isoformat()}")
    if answer.delivery is not None:
        print(f"delivery: {answer.delivery.text}")
    if answer.payee is not None:
        payee = answer.payee
        print(f"bank transfer: {payee.company} / {payee.bank} / {payee.account}")


def _day(day: date) -> dict[str, object]:
    return {"date": day.isoformat(), "kind": day_kind(day).value, "holiday": holiday_name(day)}


def deadline(args: argparse.Namespace) -> int:
    start = _date(args.start, "--from")
    deadline = working_deadline(start, args.working_days)
    due = deadline.due
    years = [current().status(year) for year in range(start.year, due.year + 1)]
    skipped = set(skipped_days(start, due))
    between = [start + timedelta(days=i) for i in range(1, (due - start).days + 1)]
    counted = [_day(day) for day in between if day not in skipped]
    if args.json:
        _print_json(
            {
                "due": due.isoformat(),
                "provisional": deadline.provisional,
                "from": start.isoformat(),
                "working_days": args.working_days,
                "start_day_counts": False,
                "counted": counted,
                "skipped": [_day(day) for day in sorted(skipped)],
                "calendar": [year.as_json() for year in years],
            }
        )
        return 0
    print(f"{due.isoformat()}{' (provisional: 预计)' if deadline.provisional else ''}")
    print(f"  {args.working_days} working day(s) after {start.isoformat()} (start not counted)")
    for day in between:
        info = _day(day)
        state = "skipped" if day in skipped else "counted"
        name = f" {info['holiday']}" if info["holiday"] else ""
        print(f"  {state} {info['date']} {info['kind']}{name}")
    for year in years:
        if year.provisional:
            print(f"  {year.year}: no official holiday arrangement yet; counted with {year.text}")
    return 0


def _point_json(point: ServicePoint) -> dict[str, object]:
    return {
        "slug": point.slug,
        "name": point.name,
        "address": point.address,
        "hours_text": point.hours_text,
        "open_weekdays": [WEEKDAY_KEYS[day - 1] for day in sorted(point.open_weekdays)],
        "sessions": [[f"{s.start:%H:%M}", f"{s.end:%H:%M}"] for s in point.sessions],
        "closed_on_statutory_holidays": point.closed_on_statutory_holidays,
        "open_on_makeup_workdays": point.open_on_makeup_workdays,
    }


def points(args: argparse.Namespace) -> int:
    catalog = default_catalog()
    if args.json:
        _print_json(
            {
                "catalog_version": catalog.version,
                "points": [_point_json(point) for point in catalog.points],
            }
        )
        return 0
    for point in catalog.points:
        print(f"{point.slug:<14} {point.name}")
        print(f"{'':<14} {point.address}")
        print(f"{'':<14} 服务时间:{point.hours_text}")
    return 0
