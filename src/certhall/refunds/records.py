"""Programmes and the records they judge: look-ups, serial normalisation, and the hall's own paid
orders fed in as fee records (no file needed for what this platform itself was paid).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Q

from certhall.errors import InvalidInput, NotFound
from certhall.refunds.models import FeeRecord, Programme, ProgrammeCA, Source
from certhall.rules import local

_HEX = frozenset("0123456789abcdef")


def normalise_serial(value: str) -> str:
    """A certificate serial as the registry keeps it: lower-case hex without leading zeros
    (``00:AB:cd`` and ``0xABCD`` are accepted)."""
    text = "".join(value.split()).lower().replace(":", "").removeprefix("0x")
    if not text or len(text) > 64 or not set(text) <= _HEX:
        raise InvalidInput(code="refund_serial_invalid", value=value[:80])
    return text.lstrip("0") or "0"


def get_programme(slug: str) -> Programme:
    programme = Programme.objects.filter(slug=slug).first()
    if programme is None:
        known = "、".join(Programme.objects.order_by("slug").values_list("slug", flat=True))
        raise NotFound(code="refund_programme_unknown", slug=slug, known=known or "无")
    return programme


def participating(programme: Programme) -> list[ProgrammeCA]:
    return list(programme.cas.select_related("provider").order_by("position", "pk"))


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
    """
    from certhall.hall.models import ApplicationItem
    from certhall.hall.states import State as HallState

    items = (
        ApplicationItem.objects.filter(application__paid_at__isnull=False)
        .exclude(application__state=HallState.REFUNDED)
        .filter(Q(result_certificate__isnull=False) | Q(target_certificate__isnull=False))
        .select_related("application", "result_certificate", "target_certificate")
    )
    if uscc is not None:
        items = items.filter(uscc=uscc)
    rows = []
    for item in items.iterator(chunk_size=2000):
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
    if not rows:
        return 0
    with transaction.atomic():
        before = FeeRecord.objects.filter(programme=programme, source=Source.HALL).count()
        FeeRecord.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        return FeeRecord.objects.filter(programme=programme, source=Source.HALL).count() - before
