"""The HTTP gateway: an RSGI application for granian in front of Django's WSGI handler.

Why not granian's own WSGI interface (docs/security.md, "Serving stack"): it hands the request
body to the application as a stream, so a client that sends its body one byte a second holds a
Python thread; 100 such clients starve the server. Here the event loop reads each body whole,
bounded in size (413) and time (408), before a thread is taken; granian bounds the header read
time. A slow or idle client therefore costs a coroutine, never a thread.

Fast paths (the pre-signed OCSP responses) answer on the event loop without Django, or hand
blocking work to the thread pool without Django's request handling (the OCSP responder for what
the stored answers do not cover); everything else runs Django's WSGI handler in the same bounded
thread pool. The OCSP listener (``web/fast_listener.py``), when configured, asks the same fast
paths on the same event loop from a port of its own.
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from certhall.messages import text
from certhall.web.fast_listener import FastListener
from certhall.web.fast_paths import FastPath, InPool, Reply, plain_reply

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
_T = TypeVar("_T")


@dataclass(frozen=True)
class Limits:
    #: Whole request bodies larger than this are refused with 413 before they are read.
    max_body: int = 32 * 1024 * 1024
    #: A body must arrive within ``grace_seconds`` plus its size at ``min_bytes_per_second``
    #: (408 otherwise): a 10 MB upload may take 17 minutes, a 10-byte one 10 seconds.
    grace_seconds: float = 10.0
    min_bytes_per_second: int = 10_000
    #: Requests allowed to wait for a Django thread; beyond them the gateway sheds load with
    #: 503 and ``Retry-After`` at once, so that an overload drains in seconds instead of
    #: queueing minutes of work nobody waits for any more (measured: without it the server
    #: had not recovered a minute after an open-loop run above its capacity).
    max_waiting: int = 64
    retry_after_seconds: int = 1

    def body_deadline(self, size: int) -> float:
        return self.grace_seconds + size / self.min_bytes_per_second


class _FileWrapper:
    """``wsgi.file_wrapper``: lets a FileResponse be sent by granian straight from disk."""

    def __init__(self, filelike: Any, block_size: int = 8192) -> None:
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self) -> Any:
        return iter(lambda: self.filelike.read(self.block_size), b"")

    def close(self) -> None:
        self.filelike.close()


class _TooLarge(Exception):
    pass


class _Reaper:
    """Deadlines of body reads on one event loop, kept by one timer a second for all of them.

    A timer per request (``asyncio.timeout``) cost a quarter of the OCSP fast path's answers per
    second (measured: 13k -> 17-19k/s with this, docs/performance.md section 2); a second of
    slack on a deadline of ten or more costs nothing."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.deadlines: dict[asyncio.Task[Any], float] = {}
        self.expired: set[asyncio.Task[Any]] = set()
        self.timer: asyncio.Task[None] | None = None

    async def read(self, body: Awaitable[bytes], deadline: float) -> bytes:
        task = asyncio.current_task()
        assert task is not None  # noqa: S101 - granian runs each request in a task
        self.deadlines[task] = deadline
        if self.timer is None:
            self.timer = self.loop.create_task(self._expire())
        try:
            return await body
        except asyncio.CancelledError:
            if task not in self.expired:
                raise  # cancelled by someone else (the server stopping): not ours to turn
            self.expired.discard(task)
            task.uncancel()
            raise TimeoutError from None
        finally:
            self.deadlines.pop(task, None)

    async def _expire(self) -> None:
        try:
            while self.deadlines:
                await asyncio.sleep(1)
                now = self.loop.time()
                for task, deadline in list(self.deadlines.items()):
                    if deadline <= now and task not in self.expired:
                        self.expired.add(task)
                        task.cancel()
        finally:
            self.timer = None


def _wsgi_string(text: str) -> str:
    """``text`` as a WSGI "native string": its UTF-8 bytes, one character each (PEP 3333)."""
    return text if text.isascii() else text.encode("utf-8").decode("latin-1")


class Gateway:
    def __init__(
        self,
        wsgi: WSGIApp,
        *,
        threads: int,
        limits: Limits | None = None,
        fast_paths: tuple[FastPath, ...] = (),
        fast_listen: tuple[str, int] | None = None,
    ) -> None:
        self.wsgi = wsgi
        self.limits = limits or Limits()
        self.fast_paths = fast_paths
        #: Where each worker also listens for the fast paths alone (``web/fast_listener.py``).
        self.fast_listen = fast_listen
        self.fast_listener: FastListener | None = None
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="django")
        #: Requests handed to the pool and not finished (running or waiting): only the event
        #: loop's thread touches it.
        self.in_flight = 0
        self.capacity = threads + self.limits.max_waiting
        self._reaper: _Reaper | None = None
        self.base_env: dict[str, Any] = {
            "SCRIPT_NAME": "",
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.multithread": True,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
            "wsgi.input_terminated": True,
            "wsgi.file_wrapper": _FileWrapper,
        }

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        if scope.proto != "http":  # websockets: none here
            return
        length = scope.headers.get("content-length")
        if length is not None and (
            not (length.isascii() and length.isdigit()) or int(length) > self.limits.max_body
        ):
            return self._send(proto, plain_reply(413, text("request_too_large")))
        try:
            body = await self._read_body(proto, length, "transfer-encoding" in scope.headers)
        except TimeoutError:
            return self._send(proto, plain_reply(408, text("request_timeout")))
        except _TooLarge:
            return self._send(proto, plain_reply(413, text("request_too_large")))
        answer = self.fast_answer(scope.method, scope.path, body)
        if isinstance(answer, InPool):
            answer = await self.run_in_pool(answer)
        if answer is not None:
            return self._send(proto, answer)
        if self.in_flight >= self.capacity:
            return self._send(proto, self._overloaded())
        request_env = self._environ(scope, body)
        status, headers, result = await self._in_pool(partial(self._call, request_env))
        if isinstance(result, str):
            proto.response_file(status, headers, result)
        else:
            proto.response_bytes(status, headers, result)

    def fast_answer(self, method: str, path: str, body: bytes) -> Reply | InPool | None:
        for fast in self.fast_paths:
            answer = fast(method, path, body)
            if answer is not None:
                return answer
        return None

    async def run_in_pool(self, answer: InPool) -> Reply:
        """A fast path's blocking work in the request threads, or 503 when they are full."""
        if self.in_flight >= self.capacity:
            return self._overloaded()
        return await self._in_pool(answer.work)

    async def _in_pool(self, work: Callable[[], _T]) -> _T:
        self.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self.pool, work)
        finally:
            self.in_flight -= 1

    def __rsgi_init__(self, loop: Any) -> None:  # granian calls it once per worker
        for fast in self.fast_paths:
            fast.start()
        if self.fast_listen is not None:
            self.fast_listener = FastListener(self, loop)
            self.fast_listener.start_soon(*self.fast_listen)

    async def _read_body(self, proto: Any, length: str | None, chunked: bool) -> bytes:
        """The whole body, within its deadline (which grows with what a chunked body sends).

        A body of announced length (checked against ``max_body`` already) is read in one call,
        its deadline kept by the :class:`_Reaper`; a chunked one is read as it arrives, with a
        timer of its own. A request with neither has no body (RFC 9112 section 6.3)."""
        if length is not None:
            size = int(length)
            if size == 0:
                return b""
            loop = asyncio.get_running_loop()
            if self._reaper is None or self._reaper.loop is not loop:
                self._reaper = _Reaper(loop)
            return await self._reaper.read(proto(), loop.time() + self.limits.body_deadline(size))
        if not chunked:
            return b""
        return await self._read_chunked(proto)

    async def _read_chunked(self, proto: Any) -> bytes:
        limits = self.limits
        chunks: list[bytes] = []
        size = 0
        began = asyncio.get_running_loop().time()
        async with asyncio.timeout_at(began + limits.body_deadline(0)) as deadline:
            async for chunk in proto:
                size += len(chunk)
                if size > limits.max_body:
                    raise _TooLarge
                chunks.append(chunk)
                deadline.reschedule(began + limits.body_deadline(size))
        return b"".join(chunks)

    def _overloaded(self) -> Reply:
        seconds = self.limits.retry_after_seconds
        reply = plain_reply(503, text("overloaded", retry_after=seconds))
        return Reply(503, [*reply.headers, ("retry-after", str(seconds))], reply.body)

    @staticmethod
    def _send(proto: Any, reply: Reply) -> None:
        proto.response_bytes(reply.status, reply.headers, reply.body)

    def _environ(self, scope: Any, body: bytes) -> dict[str, Any]:
        """The WSGI variables of a request (PEP 3333).

        granian hands the path percent-decoded as text (an escape that is not UTF-8 becomes
        U+FFFD) and the query string as sent; WSGI's strings are bytes read as latin-1, which
        Django's handler turns back into bytes (``encode("iso-8859-1")``). So both are encoded
        to UTF-8 and read as latin-1 here, as WSGI servers do: a Chinese file name in a path
        was otherwise an empty 500 before Django saw the request."""
        host, _, port = scope.server.rpartition(":")
        client = scope.client.rpartition(":")[0] if ":" in scope.client else scope.client
        request_env = {
            **self.base_env,
            "REQUEST_METHOD": scope.method,
            "PATH_INFO": _wsgi_string(scope.path),
            "QUERY_STRING": _wsgi_string(scope.query_string),
            "SERVER_NAME": host,
            "SERVER_PORT": port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client.strip("[]"),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in scope.headers.items():
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                if key == "CONTENT_TYPE":
                    request_env[key] = value
                continue
            key = f"HTTP_{key}"
            request_env[key] = f"{request_env[key]},{value}" if key in request_env else value
        return request_env

    def _call(self, request_env: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes | str]:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc: Any = None) -> Any:
            started[:] = [int(status.split(" ", 1)[0]), headers]
            return lambda data: None  # the legacy write() callable: Django never uses it

        result = self.wsgi(request_env, start_response)
        try:
            if isinstance(result, _FileWrapper):
                path = getattr(result.filelike, "name", None)
                if isinstance(path, str) and os.path.isfile(path):
                    return started[0], started[1], path
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return started[0], started[1], body
