"""Shared plumbing: instances, worker processes, servers, statistics.

The orchestrator (``python -m bench``) never imports Django. Each measurement runs in a worker
(``python -m bench.<module> ...``) whose environment names a fresh instance directory and
database; the worker prints its results as ``BENCH-RESULT {json}`` lines on stdout and its
progress on stderr. The orchestrator creates and removes the instance (directory, PostgreSQL
database) around the worker, so a crashed or interrupted worker leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULT_PREFIX = "BENCH-RESULT "
PG_ADMIN_ENV = "CERTHALL_BENCH_POSTGRES"
PG_ADMIN_DEFAULT = "postgresql://postgres@127.0.0.1:5432/postgres"

_T0 = time.monotonic()


class BenchFailure(RuntimeError):
    """A measurement that cannot be made, or whose correctness checks fail: the benchmark
    fails loudly (``python -m bench`` exits non-zero), it never skips a measurement."""


def log(message: str) -> None:
    """Progress on stderr, with seconds since start (results go to stdout)."""
    print(f"[{time.monotonic() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def emit(result: dict[str, Any]) -> None:
    """Report one result from a worker to the orchestrator."""
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: Sequence[float]) -> str:
    """``min-max`` of a series, for the logs."""
    if not values:
        return "n/a"
    return f"{min(values):.4g}-{max(values):.4g}"


def handle_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM unwind the stack once, so that ``finally`` blocks stop the
    servers and remove instances and databases; further signals are ignored while that runs.

    SIGINT is handled even when it was inherited as ignored (a job started with ``&``).
    """

    def handler(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


# --- instances --------------------------------------------------------------------------------


@dataclass
class Instance:
    """A throw-away certhall instance: a directory and a database."""

    db: str  # "sqlite" or "postgresql"
    home: Path
    database_url: str | None = None  # None: SQLite under home
    pg_admin: str | None = None
    pg_name: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        for name in list(env):
            if name.startswith("CERTHALL_") and name != PG_ADMIN_ENV:
                del env[name]  # nothing of the developer's own instance leaks in
        env.pop("SOFTHSM2_CONF", None)
        env["CERTHALL_HOME"] = str(self.home)
        env["CERTHALL_ENV"] = "development"
        env["DJANGO_SETTINGS_MODULE"] = "certhall.settings"
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO), str(REPO / "src"), *filter(None, [env.get("PYTHONPATH")])]
        )
        if self.database_url:
            env["CERTHALL_DATABASE_URL"] = self.database_url
        env.update(self.extra_env)
        return env


def pg_admin_url() -> str:
    return os.environ.get(PG_ADMIN_ENV, PG_ADMIN_DEFAULT)


def postgres_available() -> str | None:
    """None when the PostgreSQL server answers, else the reason it does not."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - psycopg is a dependency
        return f"psycopg missing: {exc}"
    try:
        with psycopg.connect(pg_admin_url(), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:
        return f"{pg_admin_url()}: {str(exc).strip().splitlines()[0]}"
    return None


def _pg_execute(sql: str) -> None:
    import psycopg

    with psycopg.connect(pg_admin_url(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


@contextlib.contextmanager
def instance(db: str, label: str, **extra_env: str) -> Iterator[Instance]:
    """A fresh instance directory (and database); removed afterwards whatever happens."""
    home = Path(tempfile.mkdtemp(prefix=f"certhall-bench-{label}-"))
    (home / "static").mkdir()  # STATIC_ROOT, as after collectstatic (whitenoise warns otherwise)
    inst = Instance(db=db, home=home, extra_env=extra_env)
    try:
        if db == "postgresql":
            admin = pg_admin_url()
            name = f"certhall_bench_{os.getpid()}_{secrets.token_hex(3)}"
            _pg_execute(f'CREATE DATABASE "{name}"')
            inst.pg_admin, inst.pg_name = admin, name
            base = admin.rsplit("/", 1)[0]
            inst.database_url = f"{base}/{name}"
        elif db != "sqlite":
            raise ValueError(f"unknown database {db!r}")
        yield inst
    finally:
        if inst.pg_name:
            with contextlib.suppress(Exception):
                _pg_execute(f'DROP DATABASE IF EXISTS "{inst.pg_name}" WITH (FORCE)')
        if not os.environ.get("CERTHALL_BENCH_KEEP"):
            shutil.rmtree(home, ignore_errors=True)
        else:
            log(f"kept {home}")


def django_setup(migrate: bool = True) -> None:
    """In a worker: configure Django from the environment the orchestrator gave us."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhall.settings")
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)


# --- worker processes -------------------------------------------------------------------------


@dataclass
class WorkerRun:
    results: list[dict[str, Any]]
    returncode: int
    maxrss_kib: int  # peak RSS of the worker process itself (ru_maxrss of wait4)
    seconds: float


def run_worker(module: str, args: Sequence[str], env: dict[str, str]) -> WorkerRun:
    """Run ``python -m bench.<module> args`` to completion; collect its results.

    The worker's stderr goes straight to ours (progress). ``os.wait4`` gives the worker's own
    peak RSS, which is exact for a single process (RUSAGE_CHILDREN would mix children).
    """
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", f"bench.{module}", *args],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    results: list[dict[str, Any]] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(RESULT_PREFIX):
                results.append(json.loads(line[len(RESULT_PREFIX) :]))
            else:
                sys.stderr.write(line)
    except BaseException:
        # Ctrl-C also reached the worker (same process group), SIGTERM may not have: tell it,
        # by pid, and give it time to stop its servers.
        with contextlib.suppress(OSError):  # it may have exited already
            proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        raise
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    maxrss = usage.ru_maxrss
    return WorkerRun(results, proc.returncode, maxrss, time.perf_counter() - start)


# --- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[Any] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


class Server:
    """A server process in its own process group; stopped (that group, by id) on exit."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        port: int,
        log_path: Path,
        start_timeout: float = 60,
        ready: Callable[[], bool] | None = None,
    ) -> None:
        """``ready``: a check that the server answers; the default connects to the port (do not
        use that for openssl ocsp: an empty connection hangs it, see ocsp_wrk.lua)."""
        self.name, self.argv, self.env, self.port = name, list(argv), env, port
        self.log_path, self.start_timeout, self.ready = log_path, start_timeout, ready
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.log_file = open(self.log_path, "ab")  # closed in stop()
        self.proc = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=REPO,
            stdin=subprocess.DEVNULL,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            # Its own process group: Ctrl-C reaches us, not it, and we stop it (the group, by
            # id) in order. Not a new session: openssl ocsp -multi calls setpgid(0, 0), which
            # fails for a session leader (and openssl then exits with 1).
            process_group=0,
        )
        try:
            if self.ready is None:
                wait_for_port(self.port, self.start_timeout, self.proc)
            else:
                self._wait_ready(self.ready)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, ready: Callable[[], bool]) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            with contextlib.suppress(OSError):
                if ready():
                    return
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} not ready after {self.start_timeout:.0f} s: {self.tail()}")

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        # Stragglers of the group (gunicorn workers are waited for by their master).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        self.proc = None
        self.log_file.close()

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- child measurements -----------------------------------------------------------------------


def vm_hwm_kib() -> int:
    """Peak RSS of this process so far (VmHWM), KiB."""
    return _proc_status_kib("VmHWM")


def vm_rss_kib() -> int:
    return _proc_status_kib("VmRSS")


def _proc_status_kib(key: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False
