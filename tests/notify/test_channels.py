"""The carrier backend interface, and the CERTHALL_SMTP_* / CERTHALL_SMS_BACKEND settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from certhall.config import load
from certhall.errors import ConfigurationError
from certhall.notify.backends import CarrierError, CarrierSmsBackend
from certhall.notify.models import SmsMessage
from certhall.notify.services import send_sms

CARRIER = "tests.notify.test_channels.RecordingCarrier"


class RecordingCarrier(CarrierSmsBackend):
    """A carrier that records what it was handed, and refuses numbers ending in 0."""

    name = "recording"
    handed: list[tuple[str, str]] = []

    def submit(self, phone: str, text: str) -> None:
        if phone.endswith("0"):
            raise CarrierError("carrier says: number not reachable")
        self.handed.append((phone, text))


@pytest.fixture
def carrier(configure: Callable[..., object]) -> type[RecordingCarrier]:
    RecordingCarrier.handed = []
    configure(sms_backend=CARRIER)
    return RecordingCarrier


@pytest.mark.django_db
def test_a_carrier_gets_the_message_after_commit(
    carrier: type[RecordingCarrier], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = send_sms("13800138001", "您好", "test")
        assert carrier.handed == []  # not before the commit
        assert SmsMessage.objects.get().status == "outbox"
    assert carrier.handed == [("13800138001", "您好")]
    message.refresh_from_db()
    assert (message.status, message.backend, message.error) == ("sent", "recording", "")
    assert message.sent_at is not None


@pytest.mark.django_db
def test_a_carrier_refusal_is_recorded_not_raised(
    carrier: type[RecordingCarrier], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
    ):
        message = send_sms("13800138000", "您好", "test")
    message.refresh_from_db()
    assert (message.status, message.error) == ("failed", "carrier says: number not reachable")
    assert message.sent_at is None


@pytest.mark.django_db
def test_a_carrier_never_gets_a_message_that_rolled_back(
    carrier: type[RecordingCarrier], django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send_sms("13800138001", "您好", "test")
        raise RuntimeError("the action failed")
    assert carrier.handed == []
    assert not SmsMessage.objects.exists()


def test_the_base_carrier_has_no_transport() -> None:
    with pytest.raises(NotImplementedError):
        CarrierSmsBackend().submit("13800138001", "x")


# --- settings ---------------------------------------------------------------------------------


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"CERTHALL_HOME": str(tmp_path), "CERTHALL_CA_KEY_BACKEND": "file", **values}


def test_smtp_defaults_mean_no_email(tmp_path: Path) -> None:
    config = load(env(tmp_path))
    assert not config.smtp.enabled
    assert (config.smtp.port, config.smtp.security, config.smtp.timeout) == (25, "none", 10)
    assert config.sms_backend == "certhall.notify.backends.OutboxSmsBackend"


def test_smtp_settings(tmp_path: Path) -> None:
    config = load(
        env(
            tmp_path,
            CERTHALL_SMTP_HOST="smtp.example.com",
            CERTHALL_SMTP_SECURITY="ssl",
            CERTHALL_SMTP_USER="certhall",
            CERTHALL_SMTP_PASSWORD="secret",
            CERTHALL_SMTP_FROM="深圳CA <noreply@example.com>",
            CERTHALL_SMTP_TIMEOUT="20",
            CERTHALL_SMS_BACKEND="mycarrier.backends.Carrier",
        )
    )
    smtp = config.smtp
    assert smtp.enabled
    assert (smtp.host, smtp.port, smtp.user, smtp.password, smtp.security) == (
        "smtp.example.com",
        465,  # the SSL port unless given
        "certhall",
        "secret",
        "ssl",
    )
    assert (smtp.from_address, smtp.timeout) == ("深圳CA <noreply@example.com>", 20)
    assert config.sms_backend == "mycarrier.backends.Carrier"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"CERTHALL_SMTP_HOST": "smtp example"}, "CERTHALL_SMTP_HOST"),
        ({"CERTHALL_SMTP_PORT": "0"}, "CERTHALL_SMTP_PORT 须在 1 到 65535 之间"),
        ({"CERTHALL_SMTP_PORT": "smtp"}, "CERTHALL_SMTP_PORT 须为整数"),
        ({"CERTHALL_SMTP_SECURITY": "tls"}, "只能是 none、starttls 或 ssl"),
        ({"CERTHALL_SMTP_USER": "u"}, "须同时设置"),
        ({"CERTHALL_SMTP_PASSWORD": "p"}, "须同时设置"),
        ({"CERTHALL_SMTP_FROM": "nobody"}, "CERTHALL_SMTP_FROM"),
        ({"CERTHALL_SMTP_FROM": "a@b.c\r\nBcc: x@y.z"}, "CERTHALL_SMTP_FROM"),
        ({"CERTHALL_SMTP_TIMEOUT": "0"}, "CERTHALL_SMTP_TIMEOUT"),
        ({"CERTHALL_SMS_BACKEND": "not a path"}, "CERTHALL_SMS_BACKEND"),
    ],
)
def test_bad_settings_fail_at_start_up(
    tmp_path: Path, values: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load(env(tmp_path, **values))


def _django_settings(tmp_path: Path, **values: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "from certhall import config; from certhall.notify import mail; "
        "print(json.dumps({'mailer': s.MAILERS['default'], 'from': s.DEFAULT_FROM_EMAIL, "
        "'enabled': mail.enabled(), 'sms': config.get().sms_backend}))"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CERTHALL_")}
    environ.update(env(tmp_path, **values), DJANGO_SETTINGS_MODULE="certhall.settings")
    return subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60
    )


def test_the_settings_reach_django(tmp_path: Path) -> None:
    result = _django_settings(
        tmp_path,
        CERTHALL_SMTP_HOST="127.0.0.1",
        CERTHALL_SMTP_PORT="2525",
        CERTHALL_SMTP_SECURITY="starttls",
        CERTHALL_SMTP_USER="certhall",
        CERTHALL_SMTP_PASSWORD="secret",
        CERTHALL_SMTP_FROM="深圳CA <noreply@example.com>",
    )
    assert result.returncode == 0, result.stderr
    assert "deprecated" not in result.stderr.lower()
    seen = json.loads(result.stdout)
    assert seen["mailer"] == {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": "127.0.0.1",
            "port": 2525,
            "username": "certhall",
            "password": "secret",
            "use_tls": True,
            "use_ssl": False,
            "timeout": 10,
        },
    }
    assert seen["from"] == "深圳CA <noreply@example.com>"
    assert seen["enabled"] is True
    assert seen["sms"] == "certhall.notify.backends.OutboxSmsBackend"


def test_an_sms_backend_that_does_not_import_stops_the_start(tmp_path: Path) -> None:
    result = _django_settings(tmp_path, CERTHALL_SMS_BACKEND="nowhere.Backend")
    assert result.returncode != 0
    assert "无法导入 CERTHALL_SMS_BACKEND 'nowhere.Backend'" in result.stderr
