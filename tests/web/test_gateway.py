"""The gateway sheds load: beyond the threads and ``max_waiting`` queued requests it answers
503 with ``Retry-After`` at once, and serves again as soon as the queue drains. Bodies are read
within their deadline (408 after it), and a request without body framing has no body. Paths and
query strings outside ASCII reach Django as WSGI strings (PEP 3333)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.test import Client

from certhall.accounts.models import Role, User
from certhall.portal import downloads
from certhall.web.gateway import Gateway, Limits
from tests.support import images


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

    def response_file(self, status: int, headers: list[tuple[str, str]], path: str) -> None:
        self.response_bytes(status, headers, Path(path).read_bytes())


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


class SlowBody(Proto):
    """A client that announced a body and sends it after ``delay`` seconds (never, if None)."""

    def __init__(self, body: bytes, delay: float | None) -> None:
        super().__init__()
        self.sent_body, self.delay = body, delay

    async def __call__(self) -> bytes:
        if self.delay is None:
            await asyncio.Event().wait()
        else:
            await asyncio.sleep(self.delay)
        return self.sent_body


def _echo(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    start_response("200 OK", [("content-type", "text/plain")])
    return [environ["wsgi.input"].read()]


def test_a_body_is_read_within_its_deadline_and_cut_off_after_it() -> None:
    gateway = Gateway(_echo, threads=1, limits=Limits(grace_seconds=1.5))
    post = {"content-length": "5"}

    async def scenario() -> tuple[Proto, Proto, float]:
        arrives, never = SlowBody(b"hello", 0.2), SlowBody(b"hello", None)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await asyncio.gather(
            gateway.__rsgi__(Scope(method="POST", headers=post), arrives),
            gateway.__rsgi__(Scope(method="POST", headers=post), never),
        )
        return arrives, never, loop.time() - began

    arrives, never, seconds = asyncio.run(scenario())
    assert (arrives.status, arrives.body) == (200, b"hello")
    assert never.status == 408 and "请求" in never.body.decode()
    # the deadline (1.5 s) is kept to the reaper's second of slack
    assert 1.5 <= seconds <= 3.0
    gateway.pool.shutdown()


def test_a_read_cancelled_by_the_server_stays_cancelled() -> None:
    gateway = Gateway(_echo, threads=1)

    async def scenario() -> bool:
        task = asyncio.create_task(
            gateway.__rsgi__(
                Scope(method="POST", headers={"content-length": "5"}), SlowBody(b"x", None)
            )
        )
        await asyncio.sleep(0.05)
        task.cancel()  # the server stopping, not a deadline
        try:
            await task
        except asyncio.CancelledError:
            return True
        return False

    assert asyncio.run(scenario())
    gateway.pool.shutdown()


def test_a_request_without_body_framing_has_no_body() -> None:
    gateway = Gateway(_echo, threads=1)
    plain = Proto()
    asyncio.run(gateway.__rsgi__(Scope(method="POST"), plain))
    assert (plain.status, plain.body) == (200, b"")
    gateway.pool.shutdown()


def test_a_fast_path_hands_blocking_work_to_the_pool_and_it_is_shed_like_django() -> None:
    from certhall.web.fast_paths import InPool, Reply

    threads: list[str] = []

    def work() -> Reply:
        threads.append(threading.current_thread().name)
        return Reply(200, [("content-type", "application/ocsp-response")], b"answer")

    def fast(method: str, path: str, body: bytes) -> InPool | None:
        return InPool(work) if path == "/ocsp" else None

    fast.start = lambda: None  # type: ignore[attr-defined]
    gateway = Gateway(_echo, threads=1, fast_paths=(fast,))  # type: ignore[arg-type]
    served, django, shed = Proto(), Proto(), Proto()
    asyncio.run(gateway.__rsgi__(Scope(path="/ocsp", method="POST"), served))
    asyncio.run(gateway.__rsgi__(Scope(path="/other", method="POST"), django))
    gateway.in_flight = gateway.capacity  # full: the work is shed, not queued
    asyncio.run(gateway.__rsgi__(Scope(path="/ocsp", method="POST"), shed))
    assert (served.status, served.body) == (200, b"answer")
    assert threads == ["django_0"]  # in the request threads, not on the event loop
    assert django.status == 200 and django.body == b""
    assert shed.status == 503 and threads == ["django_0"]
    gateway.pool.shutdown()


def test_non_ascii_paths_and_queries_reach_django(audit_flushable: None, make_user: Any) -> None:
    """granian's path is percent-decoded text (an escape that is not UTF-8 comes as U+FFFD):
    a Chinese file name on /downloads/ was an empty 500 before Django saw the request."""
    editor: User = make_user(Role.CLERK)
    pdf = images.pdf()
    row = downloads.upload(
        editor, kind="manual", title="操作指引", version="1", description="", name="指引.pdf",
        chunks=[pdf],
    )  # fmt: skip
    web = Client()
    web.force_login(make_user(Role.APPLICANT))
    session = {"cookie": f"sessionid={web.cookies['sessionid'].value}"}
    gateway = Gateway(get_wsgi_application(), threads=1)

    def get(path: str, query: str = "", headers: dict[str, str] | None = None) -> Proto:
        answer = Proto()
        scope = Scope(path=path, query_string=query, headers=headers or {})
        asyncio.run(gateway.__rsgi__(scope, answer))
        return answer

    try:
        # the link /downloads/ shows is percent-encoded; granian decodes it
        assert f"/downloads/{row.pk}/{quote(row.name)}" in get("/downloads/").body.decode()
        served = get(f"/downloads/{row.pk}/指引.pdf")
        assert served.status == 200 and served.body == pdf
        missing = get("/guide/中/")
        assert missing.status == 404 and "页面不存在" in missing.body.decode()
        # %FF%FE: not UTF-8, so granian hands U+FFFD U+FFFD
        refused = get("/api/hall/applications/\ufffd\ufffd", headers=session)
        assert refused.status == 404
        assert json.loads(refused.body)["error"] == "application_not_found"
        # a query string sent unencoded
        found = get("/search/", "q=中")
        assert found.status == 200 and 'value="中"' in found.body.decode()
    finally:
        gateway.pool.submit(connections.close_all).result()
        gateway.pool.shutdown()
