"""The write-ahead records of issuance onto a Ukey: when a process counts as gone."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

from certhall.ukeys.writes import STALE_AFTER, abandoned, owner

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
HOST = socket.gethostname()


def _dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_this_process_is_never_abandoned_while_fresh() -> None:
    assert owner() == f"{HOST}:{os.getpid()}"
    assert not abandoned(owner(), NOW, NOW + timedelta(seconds=5))


def test_a_dead_process_on_this_host_is_abandoned_at_once() -> None:
    assert abandoned(f"{HOST}:{_dead_pid()}", NOW, NOW + timedelta(seconds=1))


def test_a_live_process_is_not() -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as live:
        try:
            assert not abandoned(f"{HOST}:{live.pid}", NOW, NOW + timedelta(seconds=1))
        finally:
            live.kill()


def test_another_host_is_judged_by_age_only() -> None:
    assert not abandoned("elsewhere:1", NOW, NOW + STALE_AFTER)
    assert abandoned("elsewhere:1", NOW, NOW + STALE_AFTER + timedelta(seconds=1))
    assert abandoned(owner(), NOW, NOW + STALE_AFTER + timedelta(seconds=1))
