"""Certificate login settings, derived from the validated ``certhall.config``:

* the origin logins are bound to: the origin of ``CERTHALL_BASE_URL`` (the hall's own address);
* ``CERTHALL_AGENT_URL``: where the login page finds the certificate helper on the user's
  computer, default ``http://127.0.0.1:17443`` (``certhall agent``'s default port).

The rate limits are ``certhall.certlogin.services.CHALLENGE_LIMIT`` and ``LOGIN_LIMIT``.
"""

from __future__ import annotations

from dataclasses import dataclass

from certhall import config
from certhall.agent import protocol

#: A challenge is valid this many seconds.
CHALLENGE_SECONDS = 120


@dataclass(frozen=True)
class Settings:
    origin: str
    agent_url: str


def get() -> Settings:
    settings = config.get()  # both checked when the configuration was loaded
    return Settings(
        origin=protocol.normalise_origin(settings.base_url), agent_url=settings.agent_url
    )
