"""Renewal reminders 30 and 7 days before expiry: once each, however often the job runs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from certhall import config
from certhall.accounts.models import EnterpriseAccount, Organization, Role, User
from certhall.accounts.services import home_provider
from certhall.audit.models import AuditEvent
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.config import SmtpConfig
from certhall.notify import reminders
from certhall.notify.jobs import run_due_notifications
from certhall.notify.models import OutgoingEmail, RenewalReminder, SmsMessage
from certhall.ukeys.models import Ukey
from tests.notify.conftest import SmtpServer
from tests.support.threads import together

pytestmark = pytest.mark.django_db

#: notAfter of the test certificate: 2026-12-31 00:00 in Shanghai.
NOT_AFTER = datetime(2026, 12, 30, 16, 0, tzinfo=UTC)
ACCOUNT_PHONE = "13800138000"
HANDLER_PHONE = "13900139000"


@pytest.fixture
def issuing_ca(db: None) -> CertificateAuthority:
    """A CA row (no keys: the reminders never sign anything)."""
    return CertificateAuthority.objects.create(
        provider=home_provider(),
        slug="test-issuing",
        name="测试签发CA",
        kind="issuing",
        certificate_der=b"",
        key_ref="none",
        key_type="ec",
    )


@pytest.fixture
def holder(organization: Organization, configure: Callable[..., object]) -> Organization:
    """The demo organisation with an online-hall account (phone and email)."""
    configure(smtp=SmtpConfig())  # no SMTP host: no email
    user = User.objects.create(
        username=ACCOUNT_PHONE,
        role=Role.APPLICANT,
        organization=organization,
        phone=ACCOUNT_PHONE,
        email="li.si@example.com",
    )
    EnterpriseAccount.objects.create(
        user=user, organization=organization, phone=ACCOUNT_PHONE, registered_at=NOT_AFTER
    )
    return organization


@pytest.fixture
def make_cert(issuing_ca: CertificateAuthority) -> Callable[..., Certificate]:
    counter = iter(range(1, 1000))

    def make(organization: Organization | None, **fields: Any) -> Certificate:
        n = next(counter)
        values: dict[str, Any] = {
            "ca": issuing_ca,
            "serial": f"5a3c{n:04x}",
            "profile": "org",
            "organization": organization,
            "org_name": organization.name if organization else "无主公司",
            "uscc": organization.uscc if organization else "",
            "subject": f"CN=test {n}",
            "not_before": NOT_AFTER - timedelta(days=365),
            "not_after": NOT_AFTER,
            "der": b"",
            "fingerprint_sha256": hashlib.sha256(str(n).encode()).hexdigest(),
        }
        values.update(fields)
        return Certificate.objects.create(**values)

    return make


def on_a_ukey(cert: Certificate, phone: str = HANDLER_PHONE) -> Ukey:
    ukey = Ukey.objects.create(
        serial=f"UK{cert.pk}",
        model="SoftHSM",
        label="ukey",
        provider=home_provider(),
        organization=cert.organization,
        handler_phone=phone,
        status="issued",
        so_pin_sealed=b"",
    )
    ukey.certificates.add(cert)
    return ukey


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(NOT_AFTER - timedelta(days=40), tick=False) as traveller:
        yield traveller


def at(traveller: time_machine.Coordinates, moment: datetime) -> None:
    traveller.move_to(moment)


def sent() -> list[tuple[str, str]]:
    return list(SmsMessage.objects.order_by("pk").values_list("phone", "kind"))


def test_thirty_then_seven_days_once_each(
    clock: time_machine.Coordinates,
    holder: Organization,
    make_cert: Callable[..., Certificate],
) -> None:
    cert = make_cert(holder)
    on_a_ukey(cert)
    run_due_notifications()
    at(clock, NOT_AFTER - timedelta(days=30, seconds=1))
    run_due_notifications()
    assert sent() == []

    at(clock, NOT_AFTER - timedelta(days=30))
    run_due_notifications()
    assert sent() == [(HANDLER_PHONE, "renewal_reminder"), (ACCOUNT_PHONE, "renewal_reminder")]
    text = SmsMessage.objects.first().text  # type: ignore[union-attr]
    assert text == (
        "【深圳CA】您单位（深圳市演示医疗科技有限公司）的机构证书（ODC证书）（序列号5a3c0001）"
        "将于2026年12月31日到期，剩余30天。请及时办理续期：证书过期后须到受理点现场办理，"
        f"到期前90天内可在网上营业厅在线续期：{config.get().base_url}/hall/renew/?serial=5a3c0001"
    )
    for _ in range(3):  # the job runs every minute: nothing new
        clock.shift(timedelta(minutes=1))
        run_due_notifications()
    assert len(sent()) == 2

    at(clock, NOT_AFTER - timedelta(days=7, seconds=1))
    run_due_notifications()
    assert len(sent()) == 2
    at(clock, NOT_AFTER - timedelta(days=7))
    run_due_notifications()
    run_due_notifications()
    assert len(sent()) == 4
    assert "剩余7天" in SmsMessage.objects.order_by("-pk").first().text  # type: ignore[union-attr]

    at(clock, NOT_AFTER + timedelta(days=1))  # expired: no more reminders
    run_due_notifications()
    assert len(sent()) == 4
    rows = RenewalReminder.objects.order_by("threshold_days")
    assert [(r.threshold_days, r.status, r.sms_count) for r in rows] == [
        (7, "sent", 2),
        (30, "sent", 2),
    ]
    events = AuditEvent.objects.filter(action="notify.reminder.renewal").order_by("seq")
    assert [(e.object_id, e.after["threshold_days"]) for e in events] == [
        (cert.serial, 30),
        (cert.serial, 7),
    ]
    assert events[0].after["phones"] == ["139****9000", "138****8000"]
    assert events[0].actor == "system:system-jobs"


def test_first_seen_inside_seven_days_sends_only_the_seven_day_reminder(
    clock: time_machine.Coordinates,
    holder: Organization,
    make_cert: Callable[..., Certificate],
) -> None:
    make_cert(holder)
    at(clock, NOT_AFTER - timedelta(days=5))
    done = reminders.send_renewal_reminders()
    assert [r.threshold_days for r in done] == [7]
    assert sent() == [(ACCOUNT_PHONE, "renewal_reminder")]
    assert "剩余5天" in SmsMessage.objects.get().text
    statuses = dict(RenewalReminder.objects.values_list("threshold_days", "status"))
    assert statuses == {7: "sent", 30: "skipped"}
    assert reminders.send_renewal_reminders() == []


def test_only_valid_certificates_of_ours_with_a_holder(
    clock: time_machine.Coordinates,
    holder: Organization,
    make_cert: Callable[..., Certificate],
) -> None:
    make_cert(holder, status="revoked", revoked_at=NOT_AFTER - timedelta(days=100))
    make_cert(holder, profile="ocsp")  # an OCSP responder certificate
    make_cert(holder, not_after=NOT_AFTER + timedelta(days=365))  # far from expiry
    at(clock, NOT_AFTER - timedelta(days=20))
    assert reminders.send_renewal_reminders() == []
    assert sent() == []


def test_the_holder_is_found_by_uscc_and_personal_certificates_name_the_person(
    clock: time_machine.Coordinates,
    holder: Organization,
    make_cert: Callable[..., Certificate],
) -> None:
    make_cert(None, uscc=holder.uscc, profile="personal", person_name="张三")
    at(clock, NOT_AFTER - timedelta(days=30))
    reminders.send_renewal_reminders()
    text = SmsMessage.objects.get().text
    assert "（深圳市演示医疗科技有限公司）的机构个人证书（法人证书）（张三）" in text


def test_no_contact_is_recorded_once(
    clock: time_machine.Coordinates, make_cert: Callable[..., Certificate]
) -> None:
    cert = make_cert(None)
    at(clock, NOT_AFTER - timedelta(days=30))
    reminders.send_renewal_reminders()
    reminders.send_renewal_reminders()
    reminder = RenewalReminder.objects.get()
    assert (reminder.certificate, reminder.status, reminder.sms_count) == (cert, "no_contact", 0)
    assert sent() == []
    assert AuditEvent.objects.filter(action="notify.reminder.renewal").count() == 1


def test_reminders_by_email_through_smtp(
    clock: time_machine.Coordinates,
    holder: Organization,
    make_cert: Callable[..., Certificate],
    smtp_server: SmtpServer,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    make_cert(holder)
    at(clock, NOT_AFTER - timedelta(days=30))
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            run_due_notifications()
    assert len(smtp_server.received) == 1
    message = smtp_server.received[0].message
    assert message["Subject"] == "数字证书将于2026年12月31日到期（剩余30天），请及时续期"
    assert smtp_server.received[0].recipients == ["li.si@example.com"]
    assert message.get_content_charset() == "utf-8"
    assert "剩余30天" in message.get_content()
    assert OutgoingEmail.objects.get().status == "sent"
    assert RenewalReminder.objects.get().email_count == 1


def test_the_ca_job_runner_sends_them(admin: User, ca, holder: Organization) -> None:  # type: ignore[no-untyped-def]
    from certhall.jobs import run_due_jobs

    _, issuing = ca
    now = datetime.now(UTC)
    Certificate.objects.create(
        ca=issuing,
        serial="77aa01",
        profile="org",
        organization=holder,
        org_name=holder.name,
        uscc=holder.uscc,
        subject="CN=test",
        not_before=now - timedelta(days=300),
        not_after=now + timedelta(days=29),
        der=b"",
        fingerprint_sha256="f" * 64,
    )
    run_due_jobs()
    run_due_jobs()
    assert SmsMessage.objects.filter(kind="renewal_reminder").count() == 1
    assert RenewalReminder.objects.get().threshold_days == 30


def test_two_job_runners_at_once_send_each_reminder_once(
    audit_flushable: None, holder: Organization, make_cert: Callable[..., Certificate]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    cert = make_cert(holder, not_after=datetime.now(UTC) + timedelta(days=20))
    on_a_ukey(cert)
    sent = together(reminders.send_renewal_reminders, reminders.send_renewal_reminders)
    assert [r.threshold_days for run in sent for r in run] == [30]
    assert RenewalReminder.objects.count() == 1
    assert sorted(SmsMessage.objects.values_list("phone", flat=True)) == [
        ACCOUNT_PHONE,
        HANDLER_PHONE,
    ]
