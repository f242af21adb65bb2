"""The hall's own paid orders feed in as fee records without a file: a paid line with its
certificate becomes a record dated the Shanghai day of payment; unpaid and refunded ones do
not; feeding twice changes nothing. One enterprise's page feeds only its own lines, and writes
nothing once they are there."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certhall.accounts.models import Organization, Provider, User
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.hall.models import Application, ApplicationItem
from certhall.refunds.eligibility import explain
from certhall.refunds.models import FeeRecord, Programme, UsageRecord
from certhall.refunds.records import feed_hall_orders
from tests.refunds.conftest import OTHER_NAME, OTHER_USCC, USCC

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


def _certificates(provider: Provider, serials: tuple[int, ...]) -> list[Certificate]:
    authority = CertificateAuthority.objects.get_or_create(
        slug="test-ca",
        defaults={
            "provider": provider, "name": "测试CA", "kind": "issuing", "certificate_der": b"\x30",
            "key_ref": "none", "key_type": "ec",
        },
    )[0]  # fmt: skip
    return [
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
        for n in serials
    ]


def _paid_line(
    n: int, org: Organization, provider: Provider, admin: User, cert: Certificate, state: str,
    paid: bool,
) -> None:  # fmt: skip
    application = _application(n, org, provider, admin, state, paid)
    ApplicationItem.objects.create(
        application=application, business="new", cert_type="org", fee=Decimal("300.00"),
        org_name=org.name, uscc=org.uscc, result_certificate=cert, created_at=PAID,
    )  # fmt: skip


def test_paid_hall_lines_become_fee_records(
    programme: Programme, providers: dict[str, Provider], admin: User, enterprise: Organization
) -> None:
    szca = providers["szca"]
    certificates = _certificates(szca, (0xA1, 0xA2, 0xA3))
    cases = [("delivered", True), ("awaiting_payment", False), ("refunded", True)]
    for n, ((state, paid), cert) in enumerate(zip(cases, certificates, strict=True)):
        _paid_line(n, enterprise, szca, admin, cert, state, paid)
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


def test_one_enterprise_is_fed_alone_and_once(
    programme: Programme,
    providers: dict[str, Provider],
    admin: User,
    enterprise: Organization,
    other_enterprise: Organization,
) -> None:
    szca = providers["szca"]
    mine, theirs = _certificates(szca, (0xB1, 0xB2))
    _paid_line(1, enterprise, szca, admin, mine, "delivered", True)
    _paid_line(2, other_enterprise, szca, admin, theirs, "delivered", True)

    assert feed_hall_orders(programme, uscc=USCC) == 1
    assert list(FeeRecord.objects.values_list("uscc", "serial")) == [(USCC, "b1")]
    # Every view of the enterprise's page feeds it again: now a read, no write, no transaction.
    with CaptureQueriesContext(connection) as seen:
        assert feed_hall_orders(programme, uscc=USCC) == 0
    statements = [q["sql"].removeprefix("QUERY = '") for q in seen.captured_queries]
    assert statements and all(sql.startswith("SELECT") for sql in statements)
    # The other enterprise's line was left for its own page (or the whole programme's feed).
    assert feed_hall_orders(programme, uscc=OTHER_USCC) == 1
    assert FeeRecord.objects.get(uscc=OTHER_USCC).enterprise_name == OTHER_NAME
    assert feed_hall_orders(programme) == 0
