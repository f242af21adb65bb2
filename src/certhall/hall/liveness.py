"""The liveness provider of 经办人实名核验, and the LOCAL SANDBOX standing in for it.

A real provider (the WeChat face check the seed names, or a commercial 人脸核身 service) cannot
be reached from this platform's environment. What the platform needs of one is small:

* ``begin(check)``: open a liveness session for a check whose ID photos are uploaded, and say
  where the phone goes for it;
* a result notification, delivered to ``POST /hall/identity/notify/<provider>`` and
  authenticated by ``verify(body, signature)`` before the platform believes it:
  ``{"reference": ..., "outcome": "passed" | "failed" | "timeout", "reason": ...}``.

The sandbox implements that shape on our own site: its page (``/hall/identity/sandbox/<ref>``)
lets the tester choose the outcome, and it delivers the result signed with HMAC-SHA256 under a
key derived from the instance's secret, through the same ``identity.receive_result`` a real
notification reaches. Turned off in production unless ``CERTHALL_IDENTITY_SANDBOX=1``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.urls import reverse

from certhall import config
from certhall.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from certhall.hall.models import IdentityCheck

OUTCOMES = ("passed", "failed", "timeout")


@dataclass(frozen=True)
class Outcome:
    reference: str
    outcome: str
    reason: str = ""


class Provider(Protocol):
    name: str
    label: str

    def begin(self, check: IdentityCheck) -> tuple[str, str]:
        """Open a liveness session: (the provider's reference, the URL the phone opens)."""
        ...

    def verify(self, body: bytes, signature: str) -> Outcome:
        """The notification's outcome, or InvalidInput when it is not authentic or malformed."""
        ...


def parse(body: bytes) -> Outcome:
    try:
        data = json.loads(body)
        outcome = Outcome(str(data["reference"]), str(data["outcome"]), str(data.get("reason", "")))
    except (ValueError, KeyError, TypeError, RecursionError):
        raise InvalidInput(code="identity_notification") from None
    if outcome.outcome not in OUTCOMES or not outcome.reference:
        raise InvalidInput(code="identity_notification")
    return outcome


class SandboxProvider:
    name = "sandbox"
    label = "活体检测（本地沙箱）"

    @staticmethod
    def _key() -> bytes:
        secret = config.get().secret_key.encode()
        return hashlib.sha256(b"certhall identity sandbox\0" + secret).digest()

    def begin(self, check: IdentityCheck) -> tuple[str, str]:
        reference = "SBX" + secrets.token_hex(12).upper()
        return reference, reverse("hall-identity:sandbox", args=[check.token])

    def sign(self, body: bytes) -> str:
        return hmac.new(self._key(), body, hashlib.sha256).hexdigest()

    def notification(self, reference: str, outcome: str, reason: str = "") -> tuple[bytes, str]:
        """What the sandbox sends: the JSON body and its signature."""
        body = json.dumps(
            {"reference": reference, "outcome": outcome, "reason": reason}, ensure_ascii=False
        ).encode()
        return body, self.sign(body)

    def verify(self, body: bytes, signature: str) -> Outcome:
        if not hmac.compare_digest(self.sign(body), signature or ""):
            raise InvalidInput(code="identity_signature")
        return parse(body)


SANDBOX = SandboxProvider()


def available() -> bool:
    """Whether a provider is configured (only the sandbox exists here)."""
    return config.get().identity_sandbox


def provider(name: str | None = None) -> Provider:
    """The configured provider (only the sandbox exists here), or NotFound by name."""
    if available() and name in (None, SANDBOX.name):
        return SANDBOX
    raise NotFound(code="identity_provider")
