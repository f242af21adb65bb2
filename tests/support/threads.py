"""Calls released at the same moment, for the races the database must settle."""

from __future__ import annotations

import threading
from collections.abc import Callable
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
