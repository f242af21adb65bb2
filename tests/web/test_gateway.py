"""The gateway sheds load: beyond the threads and ``max_waiting`` queued requests it answers
503 with ``Retry-After`` at once, and serves again as soon as the queue drains."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from certhall.web.gateway import Gateway, Limits


@dataclass
class Scope:
    path: str = "/slow"
    method: str = "GET"
    proto: str = "http"
    query_string: str = ""
    server: str = "127.0.0.1:8000"
    client: str = "127.0.0.1:5000"
    scheme: str = "http"
    http_version: str = "1.1"
    headers: dict[str, str] = field(default_factory=dict)


class Proto:
    def __init__(self) -> None:
        self.status: int | None = None
        self.headers: dict[str, str] = {}
        self.body = b""

    def __aiter__(self) -> Proto:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    def response_bytes(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, dict(headers), body


def test_overload_is_shed_with_retry_after_and_recovers() -> None:
    release = threading.Event()
    entered = threading.Semaphore(0)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        entered.release()
        release.wait(10)
        start_response("200 OK", [("content-type", "text/plain")])
        return [b"done"]

    gateway = Gateway(app, threads=1, limits=Limits(max_waiting=2, retry_after_seconds=3))

    async def scenario() -> tuple[list[Proto], Proto, Proto]:
        queued = [Proto() for _ in range(3)]  # one running, two waiting
        tasks = [asyncio.create_task(gateway.__rsgi__(Scope(), p)) for p in queued]
        await asyncio.to_thread(entered.acquire, True, 10)
        while gateway.in_flight < 3:
            await asyncio.sleep(0.01)
        shed = Proto()
        await gateway.__rsgi__(Scope(), shed)  # answered at once, not queued
        release.set()
        await asyncio.gather(*tasks)
        after = Proto()
        await gateway.__rsgi__(Scope(), after)
        return queued, shed, after

    queued, shed, after = asyncio.run(scenario())
    assert shed.status == 503
    assert shed.headers["retry-after"] == "3"
    assert "服务繁忙" in shed.body.decode()
    assert [p.status for p in queued] == [200, 200, 200]
    assert after.status == 200 and after.body == b"done"
    assert gateway.in_flight == 0
    gateway.pool.shutdown()
