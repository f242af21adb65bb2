"""certhall serve | certhall jobs"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit


def register(commands: Any) -> None:
    p = commands.add_parser("serve")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--threads", type=int, help="Django threads per worker (default 8)")
    p.add_argument(
        "--ocsp-port",
        type=int,
        help="also answer OCSP alone on this port, at a fraction of the CPU (make run: 8001)",
    )
    p.add_argument("--no-jobs", action="store_true", help="do not start the job runner")
    p.set_defaults(handler=serve)

    p = commands.add_parser("jobs")
    p.add_argument(
        "--loop",
        action="store_true",
        help="keep running: one round a minute, claimed by one process across all servers",
    )
    p.set_defaults(handler=jobs)


#: A client gets this long to send its request headers (a slow one is cut off, not waited for).
HEADER_READ_MS = 5_000


def serve(args: argparse.Namespace) -> int:
    """granian serves ``certhall.rsgi:application`` (docs/security.md, "Serving stack")."""
    from granian import Granian
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings

    from certhall import config

    if args.threads is not None:
        os.environ["CERTHALL_SERVE_THREADS"] = str(args.threads)  # the workers' config reads it
    if args.ocsp_port:
        host = f"[{args.host}]" if ":" in args.host else args.host
        os.environ["CERTHALL_OCSP_LISTEN"] = f"{host}:{args.ocsp_port}"
    # Read again: granian forks its workers from this process, whose configuration was read
    # before the two settings above (without this, --threads was ignored).
    config.get.cache_clear()
    cfg = config.get()
    check_ports(args)
    refuse_taken_port(args.host, args.port, site=True)
    if cfg.ocsp_listen is not None:
        refuse_taken_port(*cfg.ocsp_listen)
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    mismatch = port_mismatch(cfg, args.port)
    if mismatch:
        print(mismatch, file=sys.stderr, flush=True)
    _recover()
    server = Granian(
        "certhall.rsgi:application",
        address=args.host,
        port=args.port,
        interface=Interfaces.RSGI,
        loop=Loops.uvloop,  # measured: 15% more requests per second than asyncio's loop
        workers=args.workers,
        http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_MS),
        log_level="warning",  # type: ignore[arg-type]
        websockets=False,
    )
    runner = None
    if not args.no_jobs:
        # -P: the working directory not first on its path (hall.storage._child, the same)
        jobs = [sys.executable, "-P", "-m", "certhall.cli.main", "jobs", "--loop"]
        runner = subprocess.Popen(jobs)
    print(f"certhall serving on http://{args.host}:{args.port}  (state in {cfg.home})", flush=True)
    if cfg.ocsp_listen is not None:
        print("OCSP listener on http://{}:{}/ocsp".format(*cfg.ocsp_listen), flush=True)
    try:
        server.serve()
    finally:
        if runner is not None:
            runner.terminate()
            runner.wait(timeout=10)
    return 0


def check_ports(args: argparse.Namespace) -> None:
    """The port numbers and the worker count, refused in one line (granian raised an
    OverflowError traceback for --port 99999)."""
    from certhall.errors import ConfigurationError

    for option, port in (("--port", args.port), ("--ocsp-port", args.ocsp_port)):
        if port is not None and not 1 <= port <= 65535:
            raise ConfigurationError(code="serve_port_range", option=option, port=port)
    if args.workers < 1:
        raise ConfigurationError(code="serve_workers", workers=args.workers)


def refuse_taken_port(host: str, port: int, *, site: bool = False) -> None:
    """Stop at start-up when the site's or the OCSP listener's port is taken, before the
    workers start: they would bind it beside another server's (``SO_REUSEPORT``), which then
    answers half the connections (another instance's CA among them), or not at all."""
    from certhall.errors import ConfigurationError

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As the listener binds: a connection of an earlier server left in TIME_WAIT is no
        # obstacle, a listening socket is.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise ConfigurationError(
                code="serve_port_taken" if site else "ocsp_port_taken",
                port=port,
                detail=error.strerror or str(error),
            ) from None


def port_mismatch(cfg: Any, port: int) -> str:
    """The loud start-up warning when the served port is not the base URL's: every certificate
    issued carries the base URL's CRL, OCSP and AIA addresses (``ca.signers.urls_for``). Behind a
    declared proxy (``CERTHALL_TLS_PROXY=1``) the two differ by design."""
    from certhall.messages import text

    if cfg.tls_proxy:
        return ""
    base = urlsplit(cfg.base_url)
    base_port = base.port or (443 if base.scheme == "https" else 80)
    if base_port == port:
        return ""
    return text("serve_port_mismatch", port=port, base_url=cfg.base_url, base_port=base_port)


def _recover() -> None:
    """Undo what a crash of an earlier run interrupted, before serving (docs/security.md)."""
    from certhall.accounts.services import system_actor
    from certhall.hall.issuance import recover

    put_back = recover(system_actor("recovery"))
    if put_back:
        print(f"recovered interrupted issuance of {', '.join(put_back)}", flush=True)


def jobs(args: argparse.Namespace) -> int:
    """Without ``--loop``: one round now, whoever else runs (an operator's explicit request)."""
    from certhall import clock, config
    from certhall.jobs import run_due_jobs, run_round

    logging.basicConfig(level=logging.INFO, format="%(asctime)s jobs %(message)s")
    if not args.loop:
        run_due_jobs()
        return 0
    interval = config.get().jobs_interval
    while True:
        try:
            run_round()
        except Exception:
            logging.exception("scheduled jobs failed; retrying next round")
        time.sleep(interval - clock.now().timestamp() % interval + 0.05)  # just past the next slot
