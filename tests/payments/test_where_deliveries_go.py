"""Where the platform's own HTTP requests go while tests run: to a server the test started, and
nowhere else.

The payment sandbox posts its notifications to ``<CERTHALL_BASE_URL>/payments/notify/<gateway>``
(from a thread after 确认支付, and again from the jobs' round): a test that left the default base
URL once delivered one to a developer's ``make run`` server on 127.0.0.1:8000. The tests' base
URL is a port the test process holds without listening (``tests/support/network.py``). Here a
listener on a free port is the base URL; every TCP connection the process opens is watched (the
real ``socket.connect``, recorded on the way)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client

from certhall import config
from certhall.accounts.models import User
from certhall.payments import keys, sandbox, signing
from certhall.payments.models import Order, SandboxTrade
from tests.support.network import subprocess_env


@dataclass
class Listener:
    url: str
    #: (path, form fields) of each POST received.
    received: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return (parts.hostname or "", parts.port or 0)


@pytest.fixture
def listener() -> Iterator[Listener]:
    """An HTTP server on a free port that records what is posted to it and answers
    ``success`` (what the platform's notify endpoint answers a notification it took)."""
    box: list[Listener] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8")
            box[0].received.append((self.path, dict(parse_qsl(body))))
            self.send_response(200)
            self.send_header("Content-Length", "7")
            self.end_headers()
            self.wfile.write(b"success")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Listener(f"http://127.0.0.1:{server.server_address[1]}"))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield box[0]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The address of every TCP connection this process opens (any thread) during the test."""
    seen: list[Any] = []
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def watched(self: socket.socket, address: Any) -> None:
        seen.append(address)
        connect(self, address)

    def watched_ex(self: socket.socket, address: Any) -> int:
        seen.append(address)
        return connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", watched)
    monkeypatch.setattr(socket.socket, "connect_ex", watched_ex)
    return seen


def _wait_for_deliveries() -> None:
    for thread in sandbox.deliveries():
        thread.join(timeout=20)
        assert not thread.is_alive(), "the sandbox kept retrying"


def _notified(listener: Listener, order: Order) -> None:
    """One notification of ``order``, at the notify path, signed with the gateway's key."""
    assert [path for path, _ in listener.received] == ["/payments/notify/alipay"]
    fields = listener.received[0][1]
    assert fields["out_trade_no"] == order.reference
    signing.verify(fields, keys.public_key("alipay"))  # raises if it was not the gateway's


def test_the_tests_base_url_refuses_and_is_not_make_runs(
    applicant: User, make_order: Callable[..., Order], connections: list[Any]
) -> None:
    base = config.get().base_url
    assert base != config.DEFAULT_BASE_URL
    assert subprocess_env()["CERTHALL_BASE_URL"] == base  # the processes tests start, too
    trade = sandbox.pay(applicant, make_order().reference, "alipay")
    assert not sandbox.deliver_once(trade.pk)
    trade.refresh_from_db()
    assert "ConnectionRefusedError" in trade.last_error or "URLError" in trade.last_error
    port = urlsplit(base).port
    assert connections == [("127.0.0.1", port)]


def test_the_cashier_delivers_to_the_base_url_and_nowhere_else(
    audit_flushable: None,
    applicant: User,
    make_order: Callable[..., Order],
    listener: Listener,
    connections: list[Any],
    configure: Callable[..., config.Config],
) -> None:
    configure(base_url=listener.url)
    order = make_order()
    client = Client()
    client.force_login(applicant)
    response = client.post(f"/payments/sandbox/{order.reference}?gateway=alipay", {"action": "pay"})
    assert response.status_code == 302
    _wait_for_deliveries()
    _notified(listener, order)
    assert connections == [listener.address]
    trade = SandboxTrade.objects.get(out_trade_no=order.reference)
    assert trade.notified_at is not None and trade.last_error == ""


def test_the_jobs_round_redelivers_there_and_reaches_nothing_else(
    clock: Any,
    ca: Any,
    applicant: User,
    make_order: Callable[..., Order],
    listener: Listener,
    connections: list[Any],
    configure: Callable[..., config.Config],
) -> None:
    """A trade whose notification never left (the process died after 确认支付): the jobs' round
    posts it to the base URL; the rest of the round (CRLs, OCSP, reminders, refunds, bills)
    opens no connection at all."""
    from certhall.jobs import run_due_jobs

    configure(base_url=listener.url)
    order = make_order()
    sandbox.pay(applicant, order.reference, "alipay")  # no delivery thread: killed
    run_due_jobs()
    assert listener.received == [] and connections == []  # not yet: the thread's time
    clock.shift(sandbox.REDELIVER_AFTER + timedelta(seconds=1))
    run_due_jobs()
    _notified(listener, order)
    assert connections == [listener.address]
