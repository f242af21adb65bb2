"""Demo data of ``certhall setup --demo``: a programme whose application window includes today
(the announced business window, the same four CAs), and fee and usage records for the demo
enterprise (online path) and a deregistered one (counter path), so that a new user sees an
explained amount at once; the announced programme named by the portal's seeded notice of it.
Idempotent: a second run changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from certhall import clock
from certhall.accounts.models import Provider
from certhall.messages import day_text
from certhall.portal import search
from certhall.portal.models import Notice
from certhall.portal.seed import REFUND_KEY
from certhall.refunds import programmes
from certhall.refunds.models import FeeRecord, Programme, ProgrammeCA, UsageRecord

ANNOUNCED = "sz-2021"
DEMO = "demo"
DEMO_ORG_USCC = "91350100M000100Y43"  # certhall.cli.setup_cmd.DEMO_ORG
DEMO_ORG_NAME = "深圳市演示医疗科技有限公司"
GONE_USCC = "91440300MA5GNE2RPM"
GONE_NAME = "深圳市已注销演示贸易有限公司"
PLATFORM = "深圳市电子政务平台"

_ORG = (DEMO_ORG_USCC, DEMO_ORG_NAME)
_GONE = (GONE_USCC, GONE_NAME)

#: (uscc, name, ca, serial, business, paid_on, amount, used_on or None)
RECORDS: list[tuple[str, str, str, str, str, date, str, date | None]] = [
    (*_ORG, "szca", "5a1c0001", "new", date(2018, 3, 12), "300.00", date(2018, 4, 2)),
    (*_ORG, "szca", "5a1c0002", "new", date(2018, 3, 12), "150.00", date(2019, 6, 18)),
    (*_ORG, "szca", "5a1c0002", "renew", date(2019, 3, 8), "150.00", date(2019, 6, 18)),
    (*_ORG, "szca", "5a1c0002", "replace", date(2020, 5, 20), "50.00", date(2020, 7, 1)),
    (*_ORG, "szca", "5a1c0001", "unlock", date(2019, 1, 9), "0.00", date(2018, 4, 2)),
    (*_ORG, "netca", "3f00a1", "new", date(2017, 12, 30), "200.00", date(2018, 1, 5)),
    (*_ORG, "netca", "3f00a2", "new", date(2020, 11, 2), "200.00", None),
    (*_GONE, "szca", "5a1c0100", "new", date(2019, 8, 1), "300.00", date(2019, 9, 3)),
    (*_GONE, "gdca", "77aa01", "renew", date(2020, 12, 31), "180.00", date(2020, 12, 31)),
]  # fmt: skip


#: The demo programme shows the 2021 announcement it copies, whose 申请时间 (即日起至2022年1月20日)
#: is not its own: said above it.
DEMO_NOTE = (
    "本项目为演示项目：沿用下文2021年12月公告的返还条件和办理点，申请时间改为{start}至{end}，"
    "以便试用线上和线下申请。下文中的申请时间以本页为准。\n\n"
)


def seed(today: date | None = None) -> list[str]:
    """Create what is missing; returns lines to print."""
    today = today or clock.today()
    out: list[str] = link_announcement()
    with transaction.atomic():
        announced = Programme.objects.get(slug=ANNOUNCED)
        start, end = today - timedelta(days=7), today + timedelta(days=30)
        demo, created = Programme.objects.get_or_create(
            slug=DEMO,
            defaults={
                "name": "数字证书费用返还（演示项目，申请期含今天）",
                "announcement": DEMO_NOTE.format(start=day_text(start), end=day_text(end))
                + announced.announcement,
                "announced_on": start,
                "apply_from": start,
                "apply_to": end,
                "business_from": announced.business_from,
                "business_to": announced.business_to,
                "businesses": list(announced.businesses),
                "second_review_above": Decimal("500.00"),
            },
        )
        if created:
            for pca in announced.cas.all():
                ProgrammeCA.objects.create(
                    programme=demo,
                    provider=pca.provider,
                    counters=pca.counters,
                    position=pca.position,
                )
            out.append(
                f"refund programme '{DEMO}': applications {demo.apply_from} to {demo.apply_to}"
            )
        search.put(programmes.programme_document(demo))  # as saving a programme does
        providers = {p.slug: p for p in Provider.objects.all()}
        for uscc, name, ca, serial, business, paid_on, amount, used_on in RECORDS:
            FeeRecord.objects.get_or_create(
                programme=demo,
                provider=providers[ca],
                serial=serial,
                business=business,
                paid_on=paid_on,
                defaults={
                    "uscc": uscc,
                    "enterprise_name": name,
                    "amount": Decimal(amount),
                    "source_ref": "demo",
                },
            )
            if used_on is not None:
                UsageRecord.objects.get_or_create(
                    programme=demo,
                    provider=providers[ca],
                    serial=serial,
                    platform=PLATFORM,
                    used_on=used_on,
                    defaults={"source_ref": "demo"},
                )
    return out


def link_announcement() -> list[str]:
    """Let the announced programme name the portal's seeded notice of it (seed 000's, made by
    ``portal.seed.seed_demo``), when both are there and neither is linked yet; lines to print."""
    notice = Notice.objects.filter(seed_key=REFUND_KEY, refund_programme=None).first()
    if notice is None:
        return []
    linked = Programme.objects.filter(slug=ANNOUNCED, notice=None).update(notice=notice)
    return [f"refund programme '{ANNOUNCED}': announced by notice {notice.pk}"] if linked else []
