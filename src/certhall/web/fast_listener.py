"""A second listener of each serving process that answers only the gateway's fast paths (the
pre-signed OCSP answers), over a deliberately small HTTP/1.1.

Why (docs/decisions.md, "OCSP listener"): granian hands every request to Python as an RSGI
call, and that hand-over alone cost about 60 µs of CPU per request here (a stored answer served
through granian 102-117 µs, here 40-57 µs), far more than finding the answer (5-7 µs). This
listener runs on the worker's own event loop (started by :meth:`Gateway.__rsgi_init__
<certhall.web.gateway.Gateway.__rsgi_init__>`), reads requests straight from the socket and
answers the fast paths without a coroutine per request; what needs the database
(:class:`~certhall.web.fast_paths.InPool`) runs in the gateway's request threads, counted and
shed as there.

The HTTP is what OCSP clients and proxies send (RFC 6960 A.1, RFC 5019 §5): ``POST`` with a
``Content-Length`` body and ``GET`` with the request in the path, HTTP/1.0 and 1.1, keep-alive
and pipelining. Anything outside that is refused and the connection closed: a chunked body
(411), a head over :data:`MAX_HEAD` (431), a body over ``MAX_REQUEST_BYTES`` (413), another
HTTP version (505), a malformed request line or header (400). A request must arrive whole
within :data:`REQUEST_SECONDS` of its first byte and an idle connection is closed after
:data:`IDLE_SECONDS`, both kept by one timer a second.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from email.utils import formatdate
from typing import TYPE_CHECKING, cast

from certhall import clock
from certhall.messages import text
from certhall.pki.ocsp import MAX_REQUEST_BYTES
from certhall.web.fast_paths import InPool, Reply, plain_reply

if TYPE_CHECKING:
    from certhall.web.gateway import Gateway

log = logging.getLogger(__name__)

#: Request line and headers, at most (OCSP clients send a few hundred bytes).
MAX_HEAD = 8 * 1024
#: A request must arrive whole within this many seconds of its first byte (408 otherwise).
REQUEST_SECONDS = 5.0
#: A keep-alive connection without a request for this long is closed.
IDLE_SECONDS = 60.0

_REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    408: b"Request Timeout",
    411: b"Length Required",
    413: b"Content Too Large",
    431: b"Request Header Fields Too Large",
    503: b"Service Unavailable",
    505: b"HTTP Version Not Supported",
}


class Refused(Exception):
    """A request this listener does not serve: answered with ``status``, then the connection
    is closed (its framing cannot be trusted)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


class Request:
    __slots__ = ("body", "keep_alive", "method", "path")

    def __init__(self, method: str, path: str, body: bytes, keep_alive: bool) -> None:
        self.method = method
        self.path = path
        self.body = body
        self.keep_alive = keep_alive


def parse(buffer: bytes, start: int = 0) -> tuple[Request, int] | None:
    """The request at ``start`` in ``buffer`` and where the next one starts, None while it is
    incomplete; raises :class:`Refused` for what is not served here. (An offset, not a slice of
    what is left: a burst of pipelined requests would be copied once per request.)"""
    end = buffer.find(b"\r\n\r\n", start, start + MAX_HEAD + 4)
    if end < 0:
        if len(buffer) - start > MAX_HEAD:
            raise Refused(431)
        return None
    lines = buffer[start:end].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[1].startswith(b"/"):
        raise Refused(400)
    method, target, version = parts
    if version == b"HTTP/1.1":
        keep_alive = True
    elif version == b"HTTP/1.0":
        keep_alive = False
    elif version.startswith(b"HTTP/"):
        raise Refused(505)
    else:
        raise Refused(400)
    length = -1
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        # No whitespace before the colon or at a line's start (RFC 9112 §5.1, §5.2).
        if not colon or not name or name[-1:] in b" \t" or name[:1] in b" \t":
            raise Refused(400)
        name = name.lower()
        if name == b"content-length":
            value = value.strip(b" \t")
            if not value.isdigit() or length >= 0:
                raise Refused(400)
            length = int(value)
            if length > MAX_REQUEST_BYTES:
                raise Refused(413)
        elif name == b"transfer-encoding":
            raise Refused(411)
        elif name == b"connection":
            tokens = value.lower()
            if b"close" in tokens:
                keep_alive = False
            elif b"keep-alive" in tokens:
                keep_alive = True
    total = end + 4 + max(length, 0)
    if len(buffer) < total:
        return None
    path = target.partition(b"?")[0].decode("latin-1")
    return Request(method.decode("latin-1"), path, buffer[end + 4 : total], keep_alive), total


class _Date:
    """The ``Date`` header (RFC 9110 §6.6.1), formatted once a second."""

    def __init__(self) -> None:
        self.second = -1
        self.header = b""

    def __call__(self) -> bytes:
        now = clock.now().timestamp()
        if int(now) != self.second:
            self.second = int(now)
            self.header = f"date: {formatdate(now, usegmt=True)}\r\n".encode()
        return self.header


def encode(reply: Reply, keep_alive: bool, date: bytes) -> bytes:
    head = [b"HTTP/1.1 %d %s\r\n" % (reply.status, _REASONS.get(reply.status, b"")), date]
    for name, value in reply.headers:
        head.append(f"{name}: {value}\r\n".encode("latin-1"))
    head.append(b"content-length: %d\r\n" % len(reply.body))
    if not keep_alive:
        head.append(b"connection: close\r\n")
    head.append(b"\r\n")
    head.append(reply.body)
    return b"".join(head)


class FastListener:
    """The listener of one serving process: its connections, and the timer of their deadlines."""

    def __init__(self, gateway: Gateway, loop: asyncio.AbstractEventLoop) -> None:
        self.gateway = gateway
        self.loop = loop
        self.connections: set[_Connection] = set()
        self.date = _Date()
        #: The listening server and the deadlines' timer, kept (the loop keeps tasks weakly).
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def start_soon(self, host: str, port: int) -> None:
        """Listen once the loop runs (``certhall serve`` has checked that the port is free; if
        it is taken after all, the site's port still serves, and the worker says so)."""
        task = self.loop.create_task(self.start(host, port))
        task.add_done_callback(_log_failure)
        self.tasks.add(task)

    async def start(self, host: str, port: int) -> None:
        """Listen on ``host:port`` beside the other serving processes (``SO_REUSEPORT``: the
        kernel spreads connections over them)."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.setblocking(False)
        self.server = await self.loop.create_server(
            lambda: _Connection(self), sock=sock, backlog=1024
        )
        self.tasks.add(self.loop.create_task(self._expire()))

    async def stop(self) -> None:
        """Stop listening and close every connection (tests; a worker just exits)."""
        if self.server is not None:
            self.server.close()
        for task in self.tasks:
            task.cancel()
        for conn in list(self.connections):
            conn.transport.abort()

    async def _expire(self) -> None:
        while True:
            await asyncio.sleep(1)
            now = self.loop.time()
            for conn in [c for c in self.connections if c.deadline <= now and c.pending is None]:
                conn.expire()


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the OCSP listener could not start: %s", task.exception())


class _Connection(asyncio.Protocol):
    """One client: its unread bytes, its deadline, and at most one request in the threads."""

    transport: asyncio.Transport

    def __init__(self, listener: FastListener) -> None:
        self.listener = listener
        self.buffer = b""
        self.deadline = 0.0
        #: A request answered in the request threads: the ones after it wait for its answer.
        self.pending: asyncio.Task[None] | None = None
        self.writing_paused = False
        self.reading_paused = False
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.listener.connections.add(self)
        self.deadline = self.listener.loop.time() + IDLE_SECONDS

    def connection_lost(self, exc: Exception | None) -> None:
        self.listener.connections.discard(self)
        self.closing = True
        if self.pending is not None:
            self.pending.cancel()

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._serve()

    def data_received(self, data: bytes) -> None:
        if not self.buffer:
            self.deadline = self.listener.loop.time() + REQUEST_SECONDS
            self.buffer = data
        else:
            self.buffer += data
        self._serve()

    def expire(self) -> None:
        if self.buffer:
            self._refuse(408)
        else:
            self.transport.close()

    def _serve(self) -> None:
        """Answer the whole requests in the buffer, in order, until one needs the threads."""
        gateway, date = self.listener.gateway, self.listener.date
        out: list[bytes] = []
        buffer, start = self.buffer, 0
        while start < len(buffer) and not (self.pending or self.writing_paused or self.closing):
            try:
                parsed = parse(buffer, start)
            except Refused as refused:
                self._write(out)
                return self._refuse(refused.status)
            if parsed is None:
                break
            request, start = parsed
            answer = gateway.fast_answer(request.method, request.path, request.body)
            if isinstance(answer, InPool):
                self.pending = self.listener.loop.create_task(self._in_pool(answer, request))
                break
            reply = plain_reply(404, text("not_found")) if answer is None else answer
            out.append(encode(reply, request.keep_alive, date()))
            self.closing = not request.keep_alive
        if start:
            self.buffer = buffer[start:]
        if out:
            self._write(out)
            # The next request's time starts now; without one, the idle time does.
            wait = REQUEST_SECONDS if self.buffer else IDLE_SECONDS
            self.deadline = self.listener.loop.time() + wait
        if self.closing and not self.pending:
            self.transport.close()
            return
        # A client that sends without reading the answers: stop reading until it catches up.
        full = len(self.buffer) > MAX_HEAD + MAX_REQUEST_BYTES
        if full != self.reading_paused:
            self.reading_paused = full
            if full:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    async def _in_pool(self, answer: InPool, request: Request) -> None:
        reply = await self.listener.gateway.run_in_pool(answer)
        self.pending = None
        if self.transport.is_closing():
            return
        self._write([encode(reply, request.keep_alive, self.listener.date())])
        self.closing = not request.keep_alive
        self.deadline = self.listener.loop.time() + IDLE_SECONDS
        self._serve()

    def _write(self, out: list[bytes]) -> None:
        if out:
            self.transport.write(b"".join(out) if len(out) > 1 else out[0])

    def _refuse(self, status: int) -> None:
        self.closing = True
        self.buffer = b""
        reply = plain_reply(status, _refusal_text(status))
        self.transport.write(encode(reply, False, self.listener.date()))
        self.transport.close()


def _refusal_text(status: int) -> str:
    if status == 413:
        return text("request_too_large")
    if status == 408:
        return text("request_timeout")
    return text("bad_request")
