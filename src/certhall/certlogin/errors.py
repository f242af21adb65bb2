"""Refusals of a certificate login: one stable code each, its Chinese words in the catalogue.

The codes are the API (the login page's JSON and the audit log); docs/certificate-login.md lists
them, ``certhall.messages.certlogin`` holds their words (``<code>.login`` where another context
uses the same code with other words). ``LoginRefused`` is a ``Forbidden`` (HTTP 403); a rate
limit refuses with the platform's ``TooManyRequests`` (HTTP 429, ``rate_limited``).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from certhall.errors import Forbidden


class LoginRefused(Forbidden):
    """A certificate login that was refused (and audited). ``detail`` is for the audit event
    only (an operator's English note: which CRL, which reason; ``for_audit``), never shown to
    the user."""

    def __init__(
        self, *, code: str, variant: str | None = None, detail: str = "", **params: Any
    ) -> None:
        super().__init__(code=code, variant=variant, **params)
        self.detail = detail
        if detail:
            self.for_audit = MappingProxyType({"detail": detail})
