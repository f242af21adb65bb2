"""Kill it mid-step: a real instance home and real processes SIGKILLed at a named point.

``Home`` is an instance home (``certhall setup --demo``) that runs the ``certhall`` command and a
scenario module (``python -m ...``) against it; :meth:`Home.kill_at` starts one with
``CERTHALL_CRASH_PAUSE`` set, waits until it stopped at that point (``certhall.crashpoints``) and
SIGKILLs it there. Used by the crash tests of the Ukey steps, money and the CA.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.interop.conftest import BIN
from tests.support.postgres import scratch_database

ROOT = Path(__file__).resolve().parents[2]
CLI = (sys.executable, "-m", "certhall.cli.main")


class Home:
    def __init__(
        self, path: Path, database_url: str | None, scenario: str = "tests.ukeys.crash_scenario"
    ) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHALL_")}
        self.env.update(
            CERTHALL_HOME=str(path),
            DJANGO_SETTINGS_MODULE="certhall.settings",
            PATH=f"{BIN}:{self.env.get('PATH', '')}",
            PYTHONPATH=str(ROOT),
        )
        if database_url:
            self.env["CERTHALL_DATABASE_URL"] = database_url
        self.path = path
        self.module = scenario

    def run(
        self, *args: str, pause: str = "", status: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "CERTHALL_CRASH_PAUSE": pause} if pause else self.env
        result = subprocess.run(
            args, env=env, capture_output=True, text=True, timeout=180, cwd=ROOT, check=False
        )
        if status is not None:
            assert result.returncode == status, (args, result.stdout[-2000:], result.stderr[-3000:])
        return result

    def cli(self, *args: str, status: int | None = 0) -> str:
        return self.run(*CLI, *args, status=status).stdout

    def scenario(self, *args: str) -> str:
        return self.run(sys.executable, "-m", self.module, *args).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.scenario(*args))

    def kill_at(self, point: str, *args: str) -> None:
        """Start ``scenario args`` stopping at ``point``; SIGKILL it there."""
        self.kill_command_at(point, sys.executable, "-m", self.module, *args)

    def kill_cli_at(
        self, point: str, *args: str, meanwhile: Callable[[], object] | None = None
    ) -> None:
        """Start ``certhall args`` stopping at ``point``; SIGKILL it there (after running
        ``meanwhile``, while it is stopped with its transaction open)."""
        self.kill_command_at(point, *CLI, *args, meanwhile=meanwhile)

    def kill_command_at(
        self, point: str, *command: str, meanwhile: Callable[[], object] | None = None
    ) -> None:
        marker = self.path / f"crashpoint-{point}"
        env = {**self.env, "CERTHALL_CRASH_PAUSE": point}
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        while not marker.exists():
            if process.poll() is not None:
                raise AssertionError(f"ended before {point}: {process.stderr.read().decode()}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"never reached {point}")
            time.sleep(0.05)
        try:
            if meanwhile is not None:
                meanwhile()
        finally:
            os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        marker.unlink()

    def audit_verifies(self) -> None:
        self.cli("audit", "verify")


@contextmanager
def database(kind: str, prefix: str = "crash") -> Iterator[str | None]:
    """None for SQLite (the home's own file), else a scratch PostgreSQL database's URL."""
    if kind == "sqlite":
        yield None
        return
    with scratch_database(prefix) as url:
        yield url
