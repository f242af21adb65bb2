"""A real SMTP server (aiosmtpd) on a free loopback port, and the settings that send to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from certhall.config import SmtpConfig
from tests.support.network import free_port

SMTP_USER = "certhall"
SMTP_PASSWORD = "smtp-test-password"
FROM = "深圳CA数字证书服务平台 <noreply@szca.example>"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), parsed, raw)  # type: ignore[arg-type]
        )
        return "250 Message accepted for delivery"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == SMTP_USER.encode()
            and auth_data.password == SMTP_PASSWORD.encode()
        )
        if ok:
            self.logins.append(SMTP_USER)
        return AuthResult(success=ok)


@dataclass
class SmtpServer:
    port: int
    handler: Handler

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp_server(settings: Any, configure: Callable[..., object]) -> Iterator[SmtpServer]:
    """A local SMTP server that requires a login, and MAILERS pointing at it."""
    handler = Handler()
    port = free_port()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=port,
        authenticator=handler.authenticate,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": "127.0.0.1",
                "port": port,
                "username": SMTP_USER,
                "password": SMTP_PASSWORD,
                "timeout": 5,
            },
        }
    }
    settings.DEFAULT_FROM_EMAIL = FROM
    configure(smtp=SmtpConfig(host="127.0.0.1", port=port, user=SMTP_USER, password=SMTP_PASSWORD))
    try:
        yield SmtpServer(port, handler)
    finally:
        controller.stop()
