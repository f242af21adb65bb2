"""An open-loop HTTP load generator: requests arrive at a fixed rate whatever the latency.

    python -m bench.openloop --port P --rate 300 --duration 60 REQUESTS

REQUESTS: the hall bench's file, one request a line, ``SESSIONID<TAB>KIND<TAB>PATH``. Request
``i`` is due at ``start + i / rate`` (a fixed schedule, not Poisson, so runs compare exactly);
at its time it is sent, on an idle keep-alive connection or on a new one, whatever the requests
before it are doing: a slow server does not slow the arrivals down (a closed loop of N
connections would: it measures another question). Latency runs from the request's due time to
the last byte of its answer, so time spent waiting for a connection or the server counts
(no coordinated omission). At most ``--max-connections`` requests are in the server at once
(256, as a reverse proxy's upstream pool would allow); later ones wait in the generator, on
the clock. A request not answered within ``--timeout`` of its due time is an error. Idle
connections are dropped after 4 s (the server closes them after 5), and a reused one that the
server closed before answering is retried once on a new connection, as HTTP clients do for a GET.
Requests are picked at random from the file.

Prints one line ``OPENLOOP-JSON {...}``: sent, answered, non-200, errors (connection errors and
timeouts), the percentiles in ms, the achieved send rate and how late the sender was at worst
(a late sender would mean the generator, not the server, was the limit). Runs on uvloop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from pathlib import Path

#: An idle keep-alive connection older than this is closed, not reused: granian closes one
#: that sends nothing for its header read timeout (5 s, ``certhall serve``), and a browser or
#: a proxy's upstream pool likewise drops connections before the server's timeout.
IDLE_SECONDS = 4.0


class _Pool:
    def __init__(self, port: int) -> None:
        self.port = port
        self.idle: list[tuple[float, asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def get(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bool]:
        """A connection, and whether it was reused (an idle one, freshest first)."""
        now = time.monotonic()
        while self.idle:
            since, reader, writer = self.idle.pop()
            if now - since < IDLE_SECONDS:
                return reader, writer, True
            writer.close()
        self.opened += 1
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        return reader, writer, False

    def put(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.idle.append((time.monotonic(), reader, writer))


class _Stale(Exception):
    """A reused connection the server had closed before answering anything."""


async def _exchange(pool: _Pool, request: bytes) -> int:
    """The answer's status; raises on connection errors. A reused connection that the server
    closed before a byte of the answer is retried once on a new one, as HTTP clients do for an
    idempotent request (RFC 9112 section 9.3.1): every request here is a GET."""
    try:
        return await _exchange_once(pool, request)
    except _Stale:
        return await _exchange_once(pool, request)


async def _exchange_once(pool: _Pool, request: bytes) -> int:
    reader, writer, reused = await pool.get()
    try:
        writer.write(request)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionResetError) as exc:
            if reused and not getattr(exc, "partial", b""):
                raise _Stale from exc
            raise
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = None
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value.strip())
            elif name == "connection" and value.strip().lower() == "close":
                close = True
            elif name == "transfer-encoding" and "chunked" in value.lower():
                raise RuntimeError("chunked answers are not supported by this load generator")
        if length is None:
            await reader.read()  # until the server closes
            close = True
        else:
            await reader.readexactly(length)
    except BaseException:
        writer.close()
        raise
    if close:
        writer.close()
    else:
        pool.put(reader, writer)
    return status


async def run(
    port: int,
    requests: list[bytes],
    rate: float,
    duration: float,
    timeout: float,
    max_connections: int,
) -> dict[str, object]:
    pool = _Pool(port)
    # At most this many requests in the server at once (as a proxy's upstream pool would):
    # later ones wait here, their latency still counted from their due time.
    slots = asyncio.Semaphore(max_connections)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    total = int(rate * duration)
    rng = random.Random(1)
    tasks: set[asyncio.Task[None]] = set()
    worst_late = 0.0

    async def one(due: float, request: bytes) -> None:
        try:
            async with slots:
                remaining = timeout - (time.perf_counter() - due)
                if remaining <= 0:
                    raise TimeoutError
                status = await asyncio.wait_for(_exchange(pool, request), remaining)
        except Exception as exc:  # counted, not raised: the run goes on
            name = "timeout" if isinstance(exc, TimeoutError) else type(exc).__name__
            errors[name] = errors.get(name, 0) + 1
            return
        latencies.append(time.perf_counter() - due)
        statuses[status] = statuses.get(status, 0) + 1

    start = time.perf_counter() + 0.05
    for i in range(total):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            worst_late = max(worst_late, -delay)
        task = asyncio.ensure_future(one(due, requests[rng.randrange(len(requests))]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    sent_seconds = time.perf_counter() - start
    if tasks:
        await asyncio.wait(tasks)
    for _since, _reader, writer in pool.idle:
        writer.close()
    latencies.sort()

    def pct(p: float) -> float:
        if not latencies:
            return float("nan")
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {
        "rate": rate,
        "duration_s": duration,
        "sent": total,
        "send_rate": total / sent_seconds if sent_seconds > 0 else 0.0,
        "answered": len(latencies),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "non200": sum(v for k, v in statuses.items() if k != 200),
        "errors": errors,
        "error_count": sum(errors.values()),
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
        "connections_opened": pool.opened,
        "worst_send_lateness_ms": worst_late * 1000,
    }


def load_requests(path: Path, port: int) -> list[bytes]:
    out = []
    for line in path.read_text().splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        sid, _kind, target = parts
        out.append(
            (
                f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Cookie: sessionid={sid}\r\n\r\n"
            ).encode()
        )
    if not out:
        raise SystemExit(f"no requests in {path}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.openloop", description=__doc__)
    ap.add_argument("requests", type=Path)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True, help="requests per second")
    ap.add_argument("--duration", type=float, required=True, help="seconds of arrivals")
    ap.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    ap.add_argument("--max-connections", type=int, default=256)
    args = ap.parse_args(argv)
    requests = load_requests(args.requests, args.port)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is installed with granian
        runner = asyncio.run
    result = runner(
        run(args.port, requests, args.rate, args.duration, args.timeout, args.max_connections)
    )
    print("OPENLOOP-JSON " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
