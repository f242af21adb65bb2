"""The OCSP listener's HTTP (web/fast_listener.py), against a real socket: keep-alive and
pipelined requests answered in order (also around one that waits for the request threads),
HTTP/1.0 and ``Connection: close`` closed after the answer, what is not served refused with
its status and the connection closed, a slow request cut off with 408, an idle connection
closed, and the request threads' overload shed with 503 and ``Retry-After``."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import BinaryIO

import pytest
import uvloop

from certhall.pki.ocsp import MAX_REQUEST_BYTES
from certhall.web import fast_listener
from certhall.web.fast_listener import MAX_HEAD, Refused, parse
from certhall.web.fast_paths import InPool, Reply
from certhall.web.gateway import Gateway, Limits


class Paths:
    """POST /echo answers its body; GET /fast answers at once; GET /slow waits in the request
    threads until ``release`` is set."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Semaphore(0)

    def start(self) -> None:
        pass

    def __call__(self, method: str, path: str, body: bytes) -> Reply | InPool | None:
        if method == "POST" and path == "/echo":
            return Reply(200, [("content-type", "application/octet-stream")], body)
        if method == "GET" and path == "/fast":
            return Reply(200, [("content-type", "text/plain")], b"fast")
        if method == "GET" and path == "/slow":
            return InPool(self._slow)
        return None

    def _slow(self) -> Reply:
        self.entered.release()
        self.release.wait(10)
        return Reply(200, [("content-type", "text/plain")], b"slow")


class Served:
    def __init__(self, port: int, paths: Paths) -> None:
        self.port = port
        self.paths = paths

    def connect(self) -> tuple[socket.socket, BinaryIO]:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return sock, sock.makefile("rb")


@pytest.fixture
def served() -> Iterator[Served]:
    paths = Paths()
    gateway = Gateway(
        lambda environ, start: [], threads=1, limits=Limits(max_waiting=0), fast_paths=(paths,)
    )
    loop = uvloop.new_event_loop()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    listener = fast_listener.FastListener(gateway, loop)
    loop.run_until_complete(listener.start("127.0.0.1", port))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield Served(port, paths)
    finally:
        paths.release.set()
        asyncio.run_coroutine_threadsafe(listener.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        gateway.pool.shutdown(wait=True)
        loop.close()


def response(reader: BinaryIO) -> tuple[int, dict[str, str], bytes]:
    status_line = reader.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers["content-length"]))
    return int(status_line.split()[1]), headers, body


def closed(sock: socket.socket, reader: BinaryIO) -> bool:
    sock.settimeout(3)
    return reader.read(1) == b""


def post(path: str, body: bytes, *extra: str) -> bytes:
    head = [f"POST {path} HTTP/1.1", "Host: x", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def get(path: str, version: str = "1.1", *extra: str) -> bytes:
    return ("\r\n".join([f"GET {path} HTTP/{version}", "Host: x", *extra]) + "\r\n\r\n").encode()


def test_keep_alive_and_pipelined_requests_are_answered_in_order(served: Served) -> None:
    sock, reader = served.connect()
    sock.sendall(post("/echo", b"one"))
    status, headers, body = response(reader)
    assert (status, body) == (200, b"one")
    assert headers["content-type"] == "application/octet-stream" and "date" in headers
    # Three in one write, the middle one waiting for the request threads: answered in order.
    sock.sendall(post("/echo", b"two") + get("/slow") + get("/fast"))
    assert response(reader)[2] == b"two"
    assert served.paths.entered.acquire(timeout=5)
    served.paths.release.set()
    assert response(reader)[2] == b"slow"
    assert response(reader)[2] == b"fast"
    # Requests in pieces: a head cut in two, a body cut in two, a head cut before its end.
    whole = post("/echo", b"three") + get("/fast")
    for piece in (whole[:10], whole[10:-30], whole[-30:-2], whole[-2:]):
        sock.sendall(piece)
        time.sleep(0.02)
    assert response(reader)[2] == b"three"
    assert response(reader)[2] == b"fast"
    sock.close()


def test_a_burst_of_pipelined_requests_is_answered_whole_and_in_order(served: Served) -> None:
    sock, reader = served.connect()
    sock.sendall(b"".join(post("/echo", str(i).encode()) for i in range(3000)))
    assert [response(reader)[2] for _ in range(3000)] == [str(i).encode() for i in range(3000)]


def test_http_1_0_and_connection_close_end_the_connection(served: Served) -> None:
    sock, reader = served.connect()
    sock.sendall(get("/fast", "1.0"))
    status, headers, body = response(reader)
    assert (status, body, headers["connection"]) == (200, b"fast", "close")
    assert closed(sock, reader)
    sock, reader = served.connect()
    sock.sendall(get("/fast", "1.1", "Connection: close") + get("/fast"))
    assert response(reader)[2] == b"fast"
    assert closed(sock, reader)  # the second request is not answered
    sock, reader = served.connect()
    sock.sendall(get("/fast", "1.0", "Connection: keep-alive") * 2)
    assert response(reader)[2] == b"fast" and response(reader)[2] == b"fast"


def test_what_no_fast_path_answers_is_404_in_chinese(served: Served) -> None:
    sock, reader = served.connect()
    sock.sendall(get("/admin/") + get("/fast"))
    status, headers, body = response(reader)
    assert status == 404 and body.decode() == "未找到请求的内容。"
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert response(reader)[2] == b"fast"  # the connection stays usable


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 411),
        (post("/echo", b"x" * (MAX_REQUEST_BYTES + 1)), 413),
        (b"GET /fast HTTP/1.1\r\nX: " + b"a" * MAX_HEAD + b"\r\n\r\n", 431),
        (b"GET /fast HTTP/1.1\r\nX: " + b"a" * (2 * MAX_HEAD), 431),  # no end of head at all
        (b"GET /fast HTTP/2.0\r\n\r\n", 505),
        (b"GET /fast\r\n\r\n", 400),
        (b"GET http://x/fast HTTP/1.1\r\n\r\n", 400),
        (b"GET /fast HTTP/1.1\r\nHost : x\r\n\r\n", 400),
        (b"GET /fast HTTP/1.1\r\n folded\r\n\r\n", 400),
        (b"GET /fast HTTP/1.1\r\nno colon\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400),
        (b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n", 400),
    ],
    ids=[
        "chunked",
        "body-too-large",
        "head-too-large",
        "head-unending",
        "http-2",
        "http-0.9",
        "absolute-form",
        "space-before-colon",
        "folded-line",
        "no-colon",
        "two-lengths",
        "negative-length",
        "hex-length",
    ],
)
def test_what_is_not_served_is_refused_and_the_connection_closed(
    served: Served, request_bytes: bytes, status: int
) -> None:
    sock, reader = served.connect()
    sock.sendall(request_bytes)
    answered, headers, body = response(reader)
    assert answered == status
    assert headers["connection"] == "close" and body.decode()  # a Chinese sentence
    assert closed(sock, reader)


def test_parse_waits_for_a_whole_request() -> None:
    whole = post("/echo", b"abc")
    for cut in range(len(whole)):
        assert parse(whole[:cut]) is None
    parsed = parse(whole + b"GET")
    assert parsed is not None
    request, used = parsed
    assert (request.method, request.path, request.body, request.keep_alive, used) == (
        "POST",
        "/echo",
        b"abc",
        True,
        len(whole),
    )
    assert parse(get("/ocsp/MEow?x=1"))[0].path == "/ocsp/MEow"  # type: ignore[index]
    two = whole + get("/fast")
    second = parse(two, len(whole))
    assert second is not None and second[0].path == "/fast" and second[1] == len(two)
    with pytest.raises(Refused):
        parse(b"\x00" * (MAX_HEAD + 1))


def test_a_slow_request_gets_408_and_an_idle_connection_is_closed(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fast_listener, "REQUEST_SECONDS", 0.2)
    monkeypatch.setattr(fast_listener, "IDLE_SECONDS", 0.2)
    sock, reader = served.connect()
    sock.sendall(b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc")  # 7 bytes missing
    began = time.monotonic()
    status, _, body = response(reader)
    assert status == 408 and body.decode() == "请求超时，请检查网络后重试。"
    assert time.monotonic() - began < 3
    assert closed(sock, reader)

    sock, reader = served.connect()
    sock.sendall(get("/fast"))
    assert response(reader)[2] == b"fast"
    assert closed(sock, reader)  # nothing more sent: closed after the idle time, no answer


def test_a_full_pool_is_shed_with_503_and_retry_after(served: Served) -> None:
    first, first_reader = served.connect()
    first.sendall(get("/slow"))
    assert served.paths.entered.acquire(timeout=5)  # the only request thread is taken
    second, second_reader = served.connect()
    second.sendall(get("/slow"))
    status, headers, body = response(second_reader)
    assert status == 503 and headers["retry-after"] == "1" and "服务繁忙" in body.decode()
    second.sendall(get("/fast"))  # the connection stays usable; answers without the threads
    assert response(second_reader)[2] == b"fast"
    served.paths.release.set()
    assert response(first_reader)[2] == b"slow"


def test_a_client_that_does_not_read_is_not_buffered_without_end(served: Served) -> None:
    """Requests keep coming while the answers are not read: the listener stops reading (the
    kernel's buffers fill up) instead of holding ever more answers in memory."""
    sock, _ = served.connect()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    sent = 0
    request = post("/echo", b"x" * 4000)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            sent += sock.send(request)
        except BlockingIOError:
            time.sleep(0.05)
            try:
                sent += sock.send(request)
            except BlockingIOError:
                break
    assert time.monotonic() < deadline, "the listener kept reading a client that never reads"
    assert sent < 64 * 1024 * 1024
    sock.close()


def test_serve_stops_at_start_up_when_the_ocsp_port_is_taken() -> None:
    from certhall.cli.serve_cmd import refuse_taken_port
    from certhall.errors import ConfigurationError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ConfigurationError, match=f"OCSP 端口 {port} 无法使用"):
            refuse_taken_port("127.0.0.1", port)
    refuse_taken_port("127.0.0.1", port)  # free again


def test_a_listener_that_cannot_bind_says_so_and_the_loop_serves_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = Gateway(lambda environ, start: [], threads=1)
    loop = uvloop.new_event_loop()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        listener = fast_listener.FastListener(gateway, loop)
        with caplog.at_level("ERROR", logger="certhall.web.fast_listener"):
            listener.start_soon("127.0.0.1", taken.getsockname()[1])
            loop.run_until_complete(asyncio.sleep(0.05))
    assert "the OCSP listener could not start" in caplog.text
    assert listener.server is None
    loop.close()
    gateway.pool.shutdown()
