"""Email through a real SMTP server (aiosmtpd on 127.0.0.1): what arrives, in UTF-8 Chinese;
after commit only; failures recorded and retried."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.header import decode_header
from typing import Any

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from certhall.config import SmtpConfig
from certhall.notify import mail
from certhall.notify.models import OutgoingEmail
from certhall.notify.notifier import notify
from tests.notify.conftest import SMTP_USER, SmtpServer
from tests.support.network import free_port

pytestmark = pytest.mark.django_db

REVIEW = {
    "organization": "深圳市测试医疗器械有限公司",
    "business": "新办",
    "application": "XB20261120001",
    "result": "未通过（已退回）",
    "reason": "营业执照复印件未加盖单位公章。",
    "link": "https://hall.example.cn/hall/applications/XB20261120001/",
}


def test_a_notice_arrives_in_utf8_chinese(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        delivery = notify(
            "review_result", context=REVIEW, phone="13800138000", email="li.si@example.com"
        )
    assert delivery.email is not None and delivery.sms is not None
    assert len(smtp_server.received) == 1
    received = smtp_server.received[0]
    assert received.recipients == ["li.si@example.com"]
    assert received.sender == "noreply@szca.example"
    assert smtp_server.handler.logins == [SMTP_USER]  # CERTHALL_SMTP_USER/PASSWORD were used
    message = received.message
    assert message["Subject"] == "新办申请（编号XB20261120001）审核未通过（已退回）"
    # on the wire the subject is an RFC 2047 encoded word in UTF-8, not raw bytes
    raw_subject = next(
        line for line in received.raw.decode("ascii").splitlines() if line.startswith("Subject:")
    )
    assert "=?utf-8?" in raw_subject.lower()
    assert decode_header(raw_subject[len("Subject: ") :])[0][1] == "utf-8"
    assert message["To"] == "li.si@example.com"
    sender = message["From"].addresses[0]  # type: ignore[union-attr]
    assert (sender.display_name, sender.addr_spec) == (
        "深圳CA数字证书服务平台",
        "noreply@szca.example",
    )
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content().replace("\r\n", "\n")  # lines end in CRLF on the wire
    assert body.startswith(
        "深圳市测试医疗器械有限公司：\n\n您单位的新办申请（编号XB20261120001）审核未通过"
    )
    assert "营业执照复印件未加盖单位公章。" in body
    assert "\nhttps://hall.example.cn/hall/applications/XB20261120001/\n" in body
    assert "本邮件由系统自动发送" in body
    row = OutgoingEmail.objects.get()
    assert (row.status, row.attempts, row.kind) == ("sent", 1, "review_result")
    assert row.sent_at is not None


def test_nothing_is_mailed_for_an_action_that_rolled_back(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        notify("review_result", context=REVIEW, email="li.si@example.com")
        raise RuntimeError("the review failed")
    assert smtp_server.received == []
    assert not OutgoingEmail.objects.exists()


def test_secrets_never_go_by_email(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        pin = notify(
            "ukey.pin",
            context={"ukey": "UK001", "pin": "246810", "tries": 6},
            phone="13800138000",
            email="li.si@example.com",
        )
        code = notify(
            "login_code",
            context={"code": "135790", "minutes": 5},
            phone="13800138000",
            email="li.si@example.com",
        )
    assert pin.email is None and code.email is None
    assert pin.sms is not None and "246810" in pin.sms.text
    assert smtp_server.received == [] and not OutgoingEmail.objects.exists()


def test_a_failure_is_recorded_then_retried(
    settings: Any,
    configure: Callable[..., object],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    closed = free_port()  # nothing listens here
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": closed, "timeout": 2},
        }
    }
    configure(smtp=SmtpConfig(host="127.0.0.1", port=closed, timeout=2))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = notify("review_result", context=REVIEW, email="li.si@example.com")
    assert delivery.email is not None
    row = OutgoingEmail.objects.get()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "ConnectionRefusedError" in row.error
    # the job runner tries again after 5 minutes, not before, and at most 3 times in all
    assert mail.retry_failed(row.last_attempt_at + timedelta(minutes=4)) == []
    later = row.last_attempt_at + timedelta(minutes=5)  # type: ignore[operator]
    assert [r.attempts for r in mail.retry_failed(later)] == [2]
    assert [r.attempts for r in mail.retry_failed(later + timedelta(minutes=5))] == [3]
    assert mail.retry_failed(later + timedelta(minutes=60)) == []
    assert OutgoingEmail.objects.get().status == "failed"


def test_a_retry_delivers_once_the_server_answers(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    row = OutgoingEmail.objects.create(
        to="li.si@example.com", subject="测试", body="正文", kind="review_result"
    )
    OutgoingEmail.objects.filter(pk=row.pk).update(
        status="failed", attempts=1, last_attempt_at=timezone.now() - timedelta(minutes=6)
    )
    assert [r.status for r in mail.retry_failed()] == ["sent"]
    assert smtp_server.received[0].message["Subject"] == "测试"
    assert mail.deliver(row.pk).attempts == 2  # a sent email is never sent again
    assert len(smtp_server.received) == 1


def test_without_an_smtp_host_no_email_is_queued(configure: Callable[..., object]) -> None:
    configure(smtp=SmtpConfig())
    delivery = notify(
        "review_result", context=REVIEW, phone="13800138000", email="li.si@example.com"
    )
    assert delivery.email is None and delivery.sms is not None
    assert not OutgoingEmail.objects.exists()
    assert mail.retry_failed() == []


def test_time_is_recorded(
    smtp_server: SmtpServer, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    moment = timezone.now().replace(microsecond=0) + timedelta(days=1)
    with (
        time_machine.travel(moment, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        notify("review_result", context=REVIEW, email="li.si@example.com")
    row = OutgoingEmail.objects.get()
    assert row.sent_at == moment and row.last_attempt_at == moment
