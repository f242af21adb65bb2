"""Certificate login settings, validated when the app is loaded (fail at start-up).

* the origin logins are bound to: the origin of ``CERTHALL_BASE_URL`` (the hall's own address);
* ``CERTHALL_AGENT_URL``: where the login page finds the certificate helper on the user's
  computer, default ``http://127.0.0.1:17443`` (``certhall agent``'s default port). It is read
  here rather than in ``certhall.config`` because only this app uses it.

The rate limits are ``certhall.certlogin.services.CHALLENGE_LIMIT`` and ``LOGIN_LIMIT``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from certhall import config
from certhall.agent import DEFAULT_PORT, protocol
from certhall.errors import ConfigurationError, InvalidInput

#: A challenge is valid this many seconds.
CHALLENGE_SECONDS = 120


@dataclass(frozen=True)
class Settings:
    origin: str
    agent_url: str


@cache
def get() -> Settings:
    try:
        origin = protocol.normalise_origin(config.get().base_url)
    except InvalidInput as e:
        raise ConfigurationError(f"CERTHALL_BASE_URL: {e.message}") from None
    raw_agent = os.environ.get("CERTHALL_AGENT_URL", f"http://127.0.0.1:{DEFAULT_PORT}")
    try:
        agent_url = protocol.normalise_origin(raw_agent)
    except InvalidInput:
        raise ConfigurationError(
            f"CERTHALL_AGENT_URL must be http://127.0.0.1:PORT, not {raw_agent!r}"
        ) from None
    return Settings(origin=origin, agent_url=agent_url)
