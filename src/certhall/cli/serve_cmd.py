"""certhall serve | certhall jobs"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
import time
from typing import Any


def register(commands: Any) -> None:
    p = commands.add_parser("serve", help="serve the platform (gunicorn) and run its jobs")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--threads", type=int, default=4)
    p.add_argument("--no-jobs", action="store_true", help="do not start the job runner")
    p.set_defaults(handler=serve)

    p = commands.add_parser("jobs", help="run the scheduled jobs (CRL, OCSP responder)")
    p.add_argument("--loop", action="store_true", help="keep running, once a minute")
    p.set_defaults(handler=jobs)


def serve(args: argparse.Namespace) -> int:
    from gunicorn.app.base import BaseApplication

    from certhall import config

    cfg = config.get()
    cfg.log_dir.mkdir(parents=True, exist_ok=True)
    options = {
        "bind": f"{args.host}:{args.port}",
        "workers": args.workers,
        "worker_class": "gthread",
        "threads": args.threads,
        "accesslog": str(cfg.log_dir / "access.log"),
        "errorlog": "-",
        "loglevel": "warning",
        "timeout": 60,
        "graceful_timeout": 10,
        # Workers import the app after fork: PKCS#11 modules must not be shared across fork.
        "preload_app": False,
    }

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from certhall.wsgi import application

            return application

    runner = None
    if not args.no_jobs:
        runner = subprocess.Popen([sys.executable, "-m", "certhall.cli.main", "jobs", "--loop"])
    print(f"certhall serving on http://{args.host}:{args.port}  (state in {cfg.home})", flush=True)
    try:
        Server().run()
    finally:
        if runner is not None:
            runner.terminate()
            runner.wait(timeout=10)
    return 0


def jobs(args: argparse.Namespace) -> int:
    from certhall.ca.jobs import run_due_jobs

    logging.basicConfig(level=logging.INFO, format="%(asctime)s jobs %(message)s")
    while True:
        try:
            run_due_jobs()
        except Exception:
            if not args.loop:
                raise
            logging.exception("scheduled jobs failed; retrying in a minute")
        if not args.loop:
            return 0
        time.sleep(60)
