"""Calls released at the same moment, for the races the database must settle; and works run
side by side in a process of their own, for what two threads at once could crash."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import connection

from certhall.errors import CerthallError


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` at the same moment, each in its own thread and connection; their results,
    or the CerthallError each raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except CerthallError as error:
            results[i] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def side_by_side(*works: Callable[[], None]) -> list[str]:
    """Run ``works`` at once, each in its own thread, until each returns; what any of them
    raised, a line each (a scenario process prints them)."""
    failures: list[str] = []

    def run(work: Callable[[], None]) -> None:
        try:
            work()
        except Exception as error:
            failures.append(f"{type(error).__name__}: {error}")

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


ROOT = Path(__file__).resolve().parents[2]


def assert_scenario_passes(module: str, *args: str) -> None:
    """``python -m module args`` in a process of its own (a crash kills only it) prints only
    ``ok``: nothing failed and it did not die."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.splitlines() == ["ok"], result.stdout[-2000:]
