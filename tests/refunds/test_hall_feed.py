"""The hall's own paid orders feed in as fee records without a file: a paid line with its
certificate becomes a record dated the Shanghai day of payment; unpaid and refunded ones do
not; feeding twice changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from certhall.accounts.models import Organization, Provider, User
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.hall.models import Application, ApplicationItem
from certhall.refunds.eligibility import explain
from certhall.refunds.models import FeeRecord, Programme, UsageRecord
from certhall.refunds.records import feed_hall_orders
from tests.refunds.conftest import NAME, USCC

pytestmark = pytest.mark.django_db

#: 2019-06-30 23:30 UTC is 2019-07-01 07:30 in Shanghai.
PAID = datetime(2019, 6, 30, 23, 30, tzinfo=UTC)


def _application(
    n: int, org: Organization, provider: Provider, admin: User, state: str, paid: bool
) -> Application:
    return Application.objects.create(
        number=f"SQ20190630-{n:06d}",
        provider=provider,
        organization=org,
        channel="online",
        entered_by=admin,
        state=state,
        created_at=PAID,
        updated_at=PAID,
        paid_at=PAID if paid else None,
    )


def test_paid_hall_lines_become_fee_records(
    programme: Programme, providers: dict[str, Provider], admin: User, enterprise: Organization
) -> None:
    szca = providers["szca"]
    authority = CertificateAuthority.objects.create(
        provider=szca, slug="test-ca", name="测试CA", kind="issuing", certificate_der=b"\x30",
        key_ref="none", key_type="ec",
    )  # fmt: skip
    certificates = [
        Certificate.objects.create(
            ca=authority,
            serial=f"{n:x}",
            profile="org",
            subject="CN=测试",
            not_before=PAID,
            not_after=PAID + timedelta(days=365),
            der=b"\x30",
            fingerprint_sha256=f"{n:064x}",
        )
        for n in (0xA1, 0xA2, 0xA3)
    ]
    cases = [("delivered", True), ("awaiting_payment", False), ("refunded", True)]
    for n, ((state, paid), cert) in enumerate(zip(cases, certificates, strict=True)):
        application = _application(n, enterprise, szca, admin, state, paid)
        ApplicationItem.objects.create(
            application=application, business="new", cert_type="org", fee=Decimal("300.00"),
            org_name=NAME, uscc=USCC, result_certificate=cert, created_at=PAID,
        )  # fmt: skip
    assert feed_hall_orders(programme) == 1
    assert feed_hall_orders(programme) == 0
    record = FeeRecord.objects.get()
    assert (record.serial, record.paid_on, record.amount, record.source) == (
        "a1",
        date(2019, 7, 1),
        Decimal("300.00"),
        "hall",
    )
    assert record.source_ref == "SQ20190630-000000"
    UsageRecord.objects.create(
        programme=programme, provider=szca, serial="a1", platform="p", used_on=date(2019, 8, 1)
    )
    assert explain(programme, USCC).amount.yuan == Decimal("300.00")
