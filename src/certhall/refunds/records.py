"""Programmes and the records they judge: look-ups, and the hall's own paid orders fed in as fee
records (no file needed for what this platform itself was paid). An imported record's serial is
read as a typed one is (``pki.serials.parse_serial``, ``refunds.imports``).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from certhall.errors import NotFound
from certhall.hall.models import ApplicationItem
from certhall.hall.states import State as HallState
from certhall.portal.models import Notice
from certhall.portal.states import NoticeState
from certhall.reads import Prepared
from certhall.refunds.models import FeeRecord, Programme, ProgrammeCA, RefundApplication, Source
from certhall.rules import local

# The reads of an enterprise's programme page, compiled once (certhall.reads): with the
# eligibility statement they were most of the page's CPU.
_BY_SLUG = Prepared(lambda slug: Programme.objects.filter(slug=slug))
_CAS = Prepared(
    lambda key: ProgrammeCA.objects.filter(programme_id=key).order_by("position", "pk"),
    related=("provider",),
)
_APPLICATION = Prepared(
    lambda key, uscc: RefundApplication.objects.filter(programme_id=key, uscc=uscc).order_by("pk")
)

_NOTICE = Prepared(
    lambda key: Notice.objects.filter(pk=key, state=NoticeState.PUBLISHED), fields=("title",)
)


def get_programme(slug: str) -> Programme:
    programme = _BY_SLUG.first(slug)
    if programme is None:
        known = "、".join(Programme.objects.order_by("slug").values_list("slug", flat=True))
        raise NotFound(code="refund_programme_unknown", slug=slug, known=known or "无")
    return programme


def participating(programme: Programme) -> list[ProgrammeCA]:
    return _CAS.rows(programme.pk)


def application_of(programme: Programme, uscc: str) -> RefundApplication | None:
    """The enterprise's application of the programme (there is at most one that counts)."""
    return _APPLICATION.first(programme.pk, uscc)


def notice_of(programme: Programme) -> Notice | None:
    """The portal's notice that announces ``programme``, while it is published (a withdrawn
    one is not linked to)."""
    return _NOTICE.first(programme.notice_id) if programme.notice_id else None


def programme_summary(programme: Programme) -> dict[str, Any]:
    """What ``certhall refund programmes --json`` and the API list of programmes give."""
    return {
        "slug": programme.slug,
        "name": programme.name,
        "apply_from": programme.apply_from.isoformat(),
        "apply_to": programme.apply_to.isoformat(),
        "business_from": programme.business_from.isoformat(),
        "business_to": programme.business_to.isoformat(),
        "businesses": list(programme.businesses),
        "hotline": programme.hotline,
        "second_review_above": str(programme.second_review_above),
        "notice": programme.notice_id,
        "cas": [
            {"slug": pca.provider.slug, "name": pca.provider.name, "counters": pca.counters}
            for pca in participating(programme)
        ],
    }


def is_open(programme: Programme, day: date) -> bool:
    return programme.apply_from <= day <= programme.apply_to


def feed_hall_orders(programme: Programme, *, uscc: str | None = None) -> int:
    """Fee records for the hall's own paid business lines (idempotent; returns how many rows
    are new): each line of a paid, not refunded application with a certificate (the one it
    issued, else the one it worked on), dated the Shanghai day of payment, at the line's fee.

    With ``uscc`` (one enterprise's page, on every view) only that enterprise's rows are read
    and counted, and nothing is written when they are all there already.
    """
    stored = FeeRecord.objects.filter(programme=programme)
    if uscc is None:
        items: Any = _paid_lines().select_related(*_LINE_PARTS).iterator(chunk_size=2000)
    else:
        items, stored = _PAID_LINES.rows(uscc), stored.filter(uscc=uscc)
    rows = []
    for item in items:
        application = item.application
        cert = item.result_certificate or item.target_certificate
        if cert is None or application.paid_at is None:  # excluded by the query
            continue
        rows.append(
            FeeRecord(
                programme=programme,
                provider_id=application.provider_id,
                serial=cert.serial,
                uscc=item.uscc,
                enterprise_name=item.org_name,
                business=item.business,
                paid_on=local(application.paid_at).date(),
                amount=item.fee,
                source=Source.HALL,
                source_ref=application.number,
            )
        )
    if rows and uscc is not None:
        have = set(stored.values_list("provider_id", "serial", "business", "paid_on"))
        rows = [r for r in rows if (r.provider_id, r.serial, r.business, r.paid_on) not in have]
    if not rows:
        return 0
    fed = stored.filter(source=Source.HALL)
    with transaction.atomic():
        before = fed.count()
        FeeRecord.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        return fed.count() - before


def _paid_lines() -> QuerySet[ApplicationItem]:
    return (
        ApplicationItem.objects.filter(application__paid_at__isnull=False)
        .exclude(application__state=HallState.REFUNDED)
        .filter(Q(result_certificate__isnull=False) | Q(target_certificate__isnull=False))
    )


_LINE_PARTS = ("application", "result_certificate", "target_certificate")
#: One enterprise's lines, on every view of its programme page: all of a programme's are
#: streamed instead (on PostgreSQL a cursor of its own, three more round trips).
_PAID_LINES = Prepared(
    lambda uscc: _paid_lines().filter(uscc=uscc),
    related={
        "application": ("provider", "paid_at", "number"),
        "result_certificate": ("serial",),
        "target_certificate": ("serial",),
    },
)
