"""Slow clients cannot hold the server (docs/security.md, "Serving stack"): while 100
connections trickle their headers or their bodies a byte at a time, other clients are answered
within a second; a body that does not arrive in time is cut off; oversized bodies are refused
before they are read."""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.interop.conftest import Instance

pytestmark = [pytest.mark.interop, pytest.mark.slow]

SLOW = 100


def _port(instance: Instance) -> int:
    return int(instance.url.rsplit(":", 1)[1])


@contextmanager
def _trickling(instance: Instance, start: bytes) -> Iterator[list[socket.socket]]:
    conns = []
    try:
        for _ in range(SLOW):
            conn = socket.create_connection(("127.0.0.1", _port(instance)), timeout=5)
            conn.sendall(start)
            conns.append(conn)
        yield conns
    finally:
        for conn in conns:
            conn.close()


def _probe(instance: Instance, conns: list[socket.socket], rounds: int = 5) -> list[float]:
    latencies = []
    for _ in range(rounds):
        for conn in conns:
            with contextlib.suppress(OSError):  # one more byte each: slow, never idle
                conn.sendall(b"a")
        began = time.monotonic()
        status, _, body = instance.get("/healthz")
        latencies.append(time.monotonic() - began)
        assert status == 200 and b"ok" in body
        time.sleep(0.2)
    return latencies


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", id="headers"),
        pytest.param(
            b"POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n", id="body"
        ),
    ],
)
def test_others_are_answered_within_a_second(instance: Instance, start: bytes) -> None:
    with _trickling(instance, start) as conns:
        latencies = sorted(_probe(instance, conns))
    # Answered within a second (the median of five probes), and never held: the defect this
    # guards against kept other clients waiting 35-80 s. One probe may be slower on a machine
    # whose two cores are busy with other work (4 s seen with five test suites running).
    assert latencies[len(latencies) // 2] < 1.0 and latencies[-1] < 10.0, latencies


def test_oversized_body_is_refused_unread(instance: Instance) -> None:
    with socket.create_connection(("127.0.0.1", _port(instance)), timeout=5) as conn:
        conn.sendall(
            b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: 999999999999\r\n\r\n"
        )
        reply = conn.recv(4096)
    assert reply.startswith(b"HTTP/1.1 413")


def test_a_body_that_never_arrives_is_cut_off(instance: Instance) -> None:
    from certhall.web.gateway import Limits

    with socket.create_connection(("127.0.0.1", _port(instance)), timeout=60) as conn:
        conn.sendall(b"POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\nab")
        began = time.monotonic()
        reply = conn.recv(4096)
    assert reply.startswith(b"HTTP/1.1 408")
    assert time.monotonic() - began <= Limits().body_deadline(10) + 2
