"""Who may see what (certhall.accounts.visibility), for every kind of row that has an owner:
an applicant its organisation's rows (across providers), staff their provider's rows (across
organisations), other roles none; and the check of one row agrees with the list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.db import models

from certhall.accounts.models import Organization, Provider, Role, User
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.errors import Forbidden
from certhall.hall.models import Application
from certhall.payments.models import Order
from certhall.ukeys.models import Ukey

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
_serials = count(1)

#: Builds a row of one kind owned by (organisation, provider); the organisation may be None
#: for a certificate issued to the USCC only.
Make = Callable[[User, Organization | None, Provider, str], models.Model]


def _application(clerk: User, org: Organization | None, provider: Provider, uscc: str) -> Any:
    n = next(_serials)
    return Application.objects.create(
        number=f"SQ20261120-{n:06d}",
        provider=provider,
        organization=org,
        channel="online",
        entered_by=clerk,
        created_at=NOW,
        updated_at=NOW,
    )


def _order(clerk: User, org: Organization | None, provider: Provider, uscc: str) -> Any:
    n = next(_serials)
    return Order.objects.create(
        reference=f"ZF20261120-{n:06d}",
        purpose="test",
        object_id=str(n),
        organization=org,
        provider=provider,
        amount=Decimal("1.00"),
        description="test",
        created_by=clerk,
        created_at=NOW,
    )


def _ukey(clerk: User, org: Organization | None, provider: Provider, uscc: str) -> Any:
    n = next(_serials)
    return Ukey.objects.create(
        serial=f"{n:016d}", model="SoftHSM v2", label=f"ukey-{n}", provider=provider,
        organization=org, so_pin_sealed=b"",
    )  # fmt: skip


def _certificate(clerk: User, org: Organization | None, provider: Provider, uscc: str) -> Any:
    n = next(_serials)
    ca, _ = CertificateAuthority.objects.get_or_create(
        slug=f"ca-{provider.slug}",
        defaults={"provider": provider, "name": provider.name, "kind": "issuing",
                  "certificate_der": b"", "key_ref": "none", "key_type": "ec"},
    )  # fmt: skip
    return Certificate.objects.create(
        ca=ca, serial=f"{n:x}", profile="org", organization=org, uscc=uscc, subject=f"CN={n}",
        not_before=NOW, not_after=NOW, der=b"", fingerprint_sha256=f"{n:064x}",
    )  # fmt: skip


KINDS: dict[str, Make] = {
    "application": _application,
    "order": _order,
    "ukey": _ukey,
    "certificate": _certificate,
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_who_sees_which_rows(  # type: ignore[no-untyped-def]
    kind: str, make_user, provider: Provider, other_provider: Provider, organization: Organization
) -> None:
    make = KINDS[kind]
    other_org = Organization.objects.create(name="另一家公司", uscc="91440300MA5DC6QW9B")
    clerk = make_user(Role.CLERK)
    ours = make(clerk, organization, provider, organization.uscc)
    ours_elsewhere = make(clerk, organization, other_provider, organization.uscc)
    theirs = make(clerk, other_org, provider, other_org.uscc)
    rows = [ours, ours_elsewhere, theirs]
    model = type(ours)
    expected = {
        make_user(Role.APPLICANT): {ours.pk, ours_elsewhere.pk},
        make_user(Role.APPLICANT, organization=other_org): {theirs.pk},
        make_user(Role.AUDITOR): {ours.pk, theirs.pk},
        make_user(Role.ISSUER, provider=other_provider): {ours_elsewhere.pk},
    }
    for actor, visible in expected.items():
        assert set(model.objects.visible_to(actor).values_list("pk", flat=True)) == visible
        for row in rows:
            if row.pk in visible:
                model.objects.require_visible(actor, row)
            else:
                with pytest.raises(Forbidden):
                    model.objects.require_visible(actor, row)
    officer = make_user(Role.REFUND_OFFICER)
    with pytest.raises(Forbidden):
        model.objects.visible_to(officer)
    with pytest.raises(Forbidden):
        model.objects.require_visible(officer, ours)


def test_a_certificate_issued_to_the_uscc_is_the_organisations(  # type: ignore[no-untyped-def]
    make_user, provider: Provider, organization: Organization
) -> None:
    clerk = make_user(Role.CLERK)
    by_uscc = _certificate(clerk, None, provider, organization.uscc)
    stranger = Organization.objects.create(name="另一家公司", uscc="91440300MA5DC6QW9B")
    assert by_uscc.belongs_to(organization) and not by_uscc.belongs_to(stranger)
    assert not by_uscc.belongs_to(None)
    applicant = make_user(Role.APPLICANT)
    assert list(Certificate.objects.visible_to(applicant)) == [by_uscc]
    Certificate.objects.require_visible(applicant, by_uscc)
