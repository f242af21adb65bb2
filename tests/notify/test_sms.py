"""Text messages: number validation, the outbox backend, listing the outbox."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction

from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import ConfigurationError, Forbidden, InvalidInput
from certhall.notify.models import SmsMessage, mask_phone
from certhall.notify.services import list_outbox, normalise_phone, send_sms

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "number"),
    [
        ("13800138000", "13800138000"),
        ("139 0013 9000", "13900139000"),
        ("150-1234-5678", "15012345678"),
        ("+8619912345678", "19912345678"),
        ("008616612345678", "16612345678"),
        # a Chinese input method's full-width digits (and blank) are the same number, in ASCII
        ("１３８００１３８０００", "13800138000"),
        ("13８\u3000００１３８０００", "13800138000"),
    ],
)
def test_mainland_mobile_numbers(given: str, number: str) -> None:
    assert normalise_phone(given) == number


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "12800138000",  # 12x is not a mobile prefix
        "10800138000",
        "1380013800",  # 10 digits
        "138001380001",  # 12 digits
        "075512345678",  # a landline
        "+85291234567",  # Hong Kong
        "1380013800a",
        "138٠٠١٣٨٠٠٠",  # Arabic-Indic digits: another number to the rate limits
        "१३८००१३८०००",  # Devanagari digits
    ],
)
def test_other_numbers_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput) as err:
        send_sms(bad, "text", "test")
    assert err.value.code == "phone_invalid"
    assert not SmsMessage.objects.exists()


def test_send_sms_goes_to_the_outbox(admin: User) -> None:
    message = send_sms("138 0013 8000", "您的验证码是 123456", "test.code", actor=admin)
    message.refresh_from_db()
    assert (message.phone, message.kind, message.status, message.backend) == (
        "13800138000",
        "test.code",
        "outbox",
        "outbox",
    )
    assert message.sent_at is None
    assert "123456" not in str(message)
    event = AuditEvent.objects.get(action="notify.sms.send")
    assert event.after == {
        "phone": "138****8000",
        "kind": "test.code",
        "backend": "outbox",
        "status": "outbox",
    }
    assert event.object_id == str(message.pk)


def test_without_an_actor_nothing_is_audited() -> None:
    send_sms("13800138000", "hello", "test")
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("text", "kind", "code"),
    [
        ("", "test", "sms_empty"),
        ("   ", "test", "sms_empty"),
        ("x" * 501, "test", "sms_too_long"),
        ("hello", "", "sms_kind_invalid"),
        ("hello", "Bad Kind", "sms_kind_invalid"),
    ],
)
def test_text_and_kind_are_checked(text: str, kind: str, code: str) -> None:
    with pytest.raises(InvalidInput) as err:
        send_sms("13800138000", text, kind)
    assert err.value.code == code


def test_a_message_rolls_back_with_its_action(admin: User) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        send_sms("13800138000", "PIN 123456", "test", actor=admin)
        raise RuntimeError("the action failed")
    assert not SmsMessage.objects.exists()
    assert not AuditEvent.objects.exists()


class FakeCarrier:
    name = "fake-carrier"

    def deliver(self, message: SmsMessage) -> None:
        from django.utils import timezone

        message.status = SmsMessage.Status.SENT
        message.sent_at = timezone.now()


def test_the_backend_is_a_setting(configure: Callable[..., object]) -> None:
    configure(sms_backend="tests.notify.test_sms.FakeCarrier")
    message = send_sms("13800138000", "hello", "test")
    message.refresh_from_db()
    assert (message.status, message.backend) == ("sent", "fake-carrier")
    assert message.sent_at is not None
    configure(sms_backend="tests.notify.nope.Nope")
    with pytest.raises(ConfigurationError):
        send_sms("13800138000", "hello", "test")


def test_list_outbox_for_admins(admin: User, make_user: Callable[..., User]) -> None:
    first = send_sms("13800138000", "one", "login_code")
    second = send_sms("13900139000", "two", "ukey.pin")
    third = send_sms("13800138000", "three", "ukey.pin")
    assert list_outbox(admin) == [third, second, first]
    assert list_outbox(admin, phone="138-0013-8000") == [third, first]
    assert list_outbox(admin, kind="ukey.pin") == [third, second]
    with pytest.raises(InvalidInput) as unknown:  # a typo: said, not an empty list
        list_outbox(admin, kind="ukey_pin")
    assert unknown.value.code == "message_kind_unknown" and "ukey.pin" in unknown.value.message
    assert list_outbox(admin, limit=1) == [third]
    with pytest.raises(InvalidInput):
        list_outbox(admin, limit=0)
    with pytest.raises(InvalidInput):
        list_outbox(admin, phone="12345")
    reads = AuditEvent.objects.filter(action="notify.outbox.read", result="ok")
    assert reads.count() == 4
    assert AuditEvent.objects.filter(action="notify.outbox.read", result="refused").count() == 3
    assert reads.filter(after__phone="138****8000").count() == 1
    for role in (Role.CLERK, Role.AUDITOR, Role.APPLICANT, Role.ISSUER):
        with pytest.raises(Forbidden):
            list_outbox(make_user(role))


def test_mask_phone() -> None:
    assert mask_phone("13800138000") == "138****8000"
    assert mask_phone("123") == "***"
