"""The refund officers' dashboard: counts and amounts by CA, by state and by day, a bar chart
drawn in the page (inline SVG, no script, no CDN), and the CSV export of the applications."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.money import grouped
from certhall.refunds.models import RefundApplication, RefundLine
from certhall.refunds.records import get_programme, participating
from certhall.refunds.states import State
from certhall.rules import SHANGHAI, local
from certhall.spreadsheet import as_text

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Row:
    label: str
    count: int
    amount: Decimal

    @property
    def amount_text(self) -> str:
        return grouped(self.amount)


@dataclass(frozen=True)
class Bar:
    """One day's bar, in the chart's own coordinates (viewBox 0 0 WIDTH HEIGHT)."""

    x: float
    y: float
    width: float
    height: float
    day: date
    count: int
    amount: Decimal


CHART_WIDTH = 600
CHART_HEIGHT = 200
CHART_BASE = 180  # the x axis; labels below it


def _bars(rows: list[tuple[date, int, Decimal]]) -> list[Bar]:
    if not rows:
        return []
    top = max(amount for _, _, amount in rows) or Decimal(1)
    slot = CHART_WIDTH / len(rows)
    width = min(40.0, max(2.0, slot * 0.7))
    bars = []
    for i, (day, count, amount) in enumerate(rows):
        height = float(amount / top) * (CHART_BASE - 10)
        bars.append(
            Bar(
                x=round(i * slot + (slot - width) / 2, 1),
                y=round(CHART_BASE - height, 1),
                width=round(width, 1),
                height=round(height, 1),
                day=day,
                count=count,
                amount=amount,
            )
        )
    return bars


def _yuan(value: Decimal | None) -> Decimal:
    """A database sum as yuan with two places (SQLite's sums drop them)."""
    return Decimal(value or 0).quantize(ZERO)


def _row(label: str, found: Any) -> Row:
    if found is None:
        return Row(label, 0, ZERO)
    return Row(label, int(found["n"]), _yuan(found["total"]))


def dashboard(actor: User, programme_slug: str) -> dict[str, Any]:
    require_role(actor, Role.REFUND_OFFICER)
    programme = get_programme(programme_slug)
    apps = RefundApplication.objects.filter(programme=programme)
    by_state_rows: dict[str, Any] = {
        r["state"]: r for r in apps.values("state").annotate(n=Count("pk"), total=Sum("amount"))
    }
    by_state = [_row(str(s.label), by_state_rows.get(s)) for s in State]
    lines = RefundLine.objects.filter(application__programme=programme).exclude(
        application__state=State.REJECTED
    )
    by_ca_rows: dict[int, Any] = {
        r["fee__provider"]: r
        for r in lines.values("fee__provider").annotate(
            n=Count("application", distinct=True), total=Sum("amount")
        )
    }
    by_ca = [
        _row(pca.provider.name, by_ca_rows.get(pca.provider_id)) for pca in participating(programme)
    ]
    days = (
        apps.annotate(day=TruncDate("created_at", tzinfo=SHANGHAI))
        .values("day")
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by("day")
    )
    by_day = [(r["day"], r["n"], _yuan(r["total"])) for r in days]
    total = apps.aggregate(n=Count("pk"), total=Sum("amount"))
    return {
        "programme": programme,
        "total": Row("合计", total["n"], _yuan(total["total"])),
        "by_state": by_state,
        "by_ca": by_ca,
        "by_day": [Row(f"{d:%Y-%m-%d}", n, amount) for d, n, amount in by_day],
        "bars": _bars(by_day),
        "chart": {"width": CHART_WIDTH, "height": CHART_HEIGHT, "base": CHART_BASE},
    }


EXPORT_HEADER = [
    "application", "programme", "channel", "uscc", "enterprise_name", "state", "amount_yuan",
    "ca", "special_case", "payee_kind", "account_name", "account_number", "bank_name",
    "created_at", "decided_at", "paid_at",
]  # fmt: skip


def export_csv(actor: User, programme_slug: str) -> str:
    """Every application of the programme, one CSV line each (UTF-8 with a BOM, for Excel).
    It holds every account number in full, as a payout batch's transfer file does: each export
    is audited (``refunds.export``, with the hash of its UTF-8 bytes and its line count)."""
    require_role(actor, Role.REFUND_OFFICER)
    programme = get_programme(programme_slug)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(EXPORT_HEADER)
    rows = (
        RefundApplication.objects.filter(programme=programme)
        .select_related("provider")
        .order_by("pk")
    )
    count = 0
    for a in rows.iterator(chunk_size=2000):
        count += 1
        writer.writerow(
            [
                a.number, programme.slug, a.channel, a.uscc, as_text(a.enterprise_name),
                a.state, f"{a.amount:.2f}", a.provider.slug if a.provider else "",
                a.special_case, a.payee_kind, as_text(a.account_name), a.account_number,
                as_text(a.bank_name),
                f"{local(a.created_at):%Y-%m-%d %H:%M:%S}",
                f"{local(a.decided_at):%Y-%m-%d %H:%M:%S}" if a.decided_at else "",
                f"{local(a.paid_at):%Y-%m-%d %H:%M:%S}" if a.paid_at else "",
            ]
        )  # fmt: skip
    content = "\ufeff" + out.getvalue()
    audit.record(
        actor,
        "refunds.export",
        object_type="refund_programme",
        object_id=programme.slug,
        after={"sha256": hashlib.sha256(content.encode("utf-8")).hexdigest(), "count": count},
    )
    return content
