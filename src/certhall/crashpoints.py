"""Named points in the middle of the steps that touch a Ukey, money or the CA.

``reached(name)`` does nothing, except when a test sets ``CERTHALL_CRASH_PAUSE=name`` (never in
production: config ignores it there): the process then writes ``<home>/crashpoint-<name>`` with
its pid and stops there for good, so the test can SIGKILL it at exactly that point and check
what recovery makes of the registry, the token and the audit chain.
"""

from __future__ import annotations

import os
import time

from certhall import config


def reached(name: str) -> None:
    settings = config.get()
    if not settings.crash_pause or settings.crash_pause != name:
        return
    (settings.home / f"crashpoint-{name}").write_text(str(os.getpid()))
    while True:  # pragma: no cover - the test kills the process here
        time.sleep(3600)
