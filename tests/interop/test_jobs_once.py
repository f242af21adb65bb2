"""Two app servers on one database run each round of the jobs once (``certhall.jobs``,
docs/deployment.md).

Both ``certhall serve`` processes start their job loop, with a one-second round; every round
either server ran is logged, and no round is run by both."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.interop.conftest import Instance, _env
from tests.support.network import free_port
from tests.support.postgres import scratch_database

pytestmark = [pytest.mark.interop, pytest.mark.slow]

RAN = re.compile(r"ran round (\S+)")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest) -> Iterator[str | None]:
    if request.param == "sqlite":
        yield None
        return
    with scratch_database("jobs") as url:
        yield url


def _serve(instance: Instance, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "certhall.cli.main", "serve", "--port", str(port)]
    with log.open("wb") as out:
        return subprocess.Popen(
            [*command, "--workers", "1"], env=instance.env, stdout=out, stderr=out
        )


def _slots(logs: list[Path]) -> list[str]:
    return [slot for log in logs for slot in RAN.findall(log.read_text())]


def test_two_servers_run_each_round_once(tmp_path: Path, database: str | None) -> None:
    ports = [free_port(), free_port()]
    env = _env(tmp_path / "home", ports[0])
    if database:
        env["CERTHALL_DATABASE_URL"] = database
    env["CERTHALL_JOBS_INTERVAL"] = "1"
    instance = Instance(tmp_path / "home", f"http://127.0.0.1:{ports[0]}", env)
    instance.cli("setup", "--demo")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with ExitStack() as stack:
        for port, log in zip(ports, logs, strict=True):
            server = _serve(instance, port, log)
            stack.callback(server.wait, 15)
            stack.callback(server.terminate)
        deadline = time.monotonic() + 120  # a loaded machine starts servers slowly
        while time.monotonic() < deadline and len(_slots(logs)) < 6:
            time.sleep(0.5)
    runs = [RAN.findall(log.read_text()) for log in logs]
    slots = _slots(logs)
    assert len(slots) >= 6, runs  # the loops did run
    assert len(slots) == len(set(slots)), f"a round ran twice: {runs}"
