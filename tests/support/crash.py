"""Kill it mid-step: a real instance home and real processes SIGKILLed at a named point.

``Home`` is an instance home (``certhall setup --demo``) that runs the ``certhall`` command and a
scenario module (``python -m ...``) against it; :meth:`Home.kill_at` starts one with
``CERTHALL_CRASH_PAUSE`` set, waits until it stopped at that point (``certhall.crashpoints``) and
SIGKILLs it there. Used by the crash tests of the Ukey steps, money and the CA.

``certhall setup --demo`` runs once per worker and database kind (:class:`Templates`: its
migrations, CA and Argon2 hashes cost seconds of CPU); each home a test gets is a copy of that
one (:meth:`Templates.copy`: the directory copied, its SoftHSM configurations pointed at the
copy's token directories, and on PostgreSQL a database made ``TEMPLATE`` the prepared one).
A copy's ``python -m``/``-c`` commands are forked from a zygote that imported the project once
(``tests.support.forked``), not started afresh: Django's set-up was most of each one's CPU.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.interop.conftest import BIN
from tests.support.forked import PER_RUN, Child, Zygote, can_fork
from tests.support.network import subprocess_env
from tests.support.postgres import scratch_database

ROOT = Path(__file__).resolve().parents[2]
CLI = (sys.executable, "-m", "certhall.cli.main")
#: Where the processes keep their compiled modules when ``PYTHONDONTWRITEBYTECODE`` is set: else
#: each of the hundreds compiles the project's ~150 modules again (0.1 s of its ~1 s of CPU).
#: Outside the tree; a module's entry is checked against its source as always.
PYCACHE = Path(tempfile.gettempdir()) / f"certhall-tests-pycache-{os.getuid()}"


class Home:
    def __init__(
        self,
        path: Path,
        database_url: str | None,
        scenario: str = "tests.ukeys.crash_scenario",
        *,
        forked: bool = False,
    ) -> None:
        self.env = subprocess_env(
            CERTHALL_HOME=str(path),
            DJANGO_SETTINGS_MODULE="certhall.settings",
            PATH=f"{BIN}:{os.environ.get('PATH', '')}",
            PYTHONPATH=str(ROOT),
        )
        if self.env.pop("PYTHONDONTWRITEBYTECODE", None):
            self.env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
        if database_url:
            self.env["CERTHALL_DATABASE_URL"] = database_url
        self.path = path
        self.module = scenario
        #: With ``forked``, ``python -m``/``-c`` commands are forked from a zygote of this
        #: home's environment (``tests.support.forked``), one per environment the tests set.
        self.zygotes: dict[frozenset[tuple[str, str]], Zygote] | None = {} if forked else None

    def start(self, *args: str, **extra: str) -> Child | subprocess.Popen[str]:
        """``args`` started with the home's environment and ``extra``; stdout and stderr kept."""
        env = {**self.env, **extra}
        if self.zygotes is None or not can_fork(args):
            return subprocess.Popen(
                args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        key = frozenset((k, v) for k, v in env.items() if k not in PER_RUN)
        if key not in self.zygotes:
            self.zygotes[key] = Zygote(dict(key), str(ROOT))
        return self.zygotes[key].start(args, env)

    def run(
        self, *args: str, status: int | None = 0, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        process = self.start(*args, **extra)
        try:
            stdout, stderr = _finished(process, timeout=180)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{args} did not end within 180 s") from None
        result = subprocess.CompletedProcess(args, process.returncode or 0, stdout, stderr)
        if status is not None:
            assert result.returncode == status, (args, result.stdout[-2000:], result.stderr[-3000:])
        return result

    def cli(self, *args: str, status: int | None = 0) -> str:
        return self.run(*CLI, *args, status=status).stdout

    def scenario(self, *args: str, audit: bool = False) -> str:
        """``python -m SCENARIO args``; with ``audit``, the same process then checks the audit
        chain as ``certhall audit verify`` does (:func:`tests.support.crash_scenario.main`)."""
        extra = {"CERTHALL_TEST_AUDIT_VERIFY": "1"} if audit else {}
        return self.run(sys.executable, "-m", self.module, *args, **extra).stdout

    def json(self, *args: str, audit: bool = False) -> Any:
        """The scenario's JSON; with ``audit``, the audit chain verified after it was read."""
        return json.loads(self.scenario(*args, audit=audit))

    def kill_at(self, point: str, *args: str) -> None:
        """Start ``scenario args`` stopping at ``point``; SIGKILL it there."""
        self.kill_command_at(point, sys.executable, "-m", self.module, *args)

    def kill_cli_at(
        self, point: str, *args: str, meanwhile: Callable[[], object] | None = None
    ) -> None:
        """Start ``certhall args`` stopping at ``point``; SIGKILL it there (after running
        ``meanwhile``, while it is stopped with its transaction open)."""
        self.kill_command_at(point, *CLI, *args, meanwhile=meanwhile)

    def kill_command_at(
        self, point: str, *command: str, meanwhile: Callable[[], object] | None = None
    ) -> None:
        marker = self.path / f"crashpoint-{point}"
        process = self.start(*command, CERTHALL_CRASH_PAUSE=point)
        try:
            deadline = time.monotonic() + 120
            while not marker.exists():
                if process.poll() is not None:
                    stderr = _finished(process, timeout=30)[1]
                    raise AssertionError(f"ended before {point}: {stderr}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"never reached {point}")
                time.sleep(0.02)
            if meanwhile is not None:
                meanwhile()
        finally:
            process.kill()
            _finished(process, timeout=30)
        marker.unlink()

    def close(self) -> None:
        for zygote in (self.zygotes or {}).values():
            zygote.close()

    def audit_verifies(self) -> None:
        self.cli("audit", "verify")


def _finished(process: Child | subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """The ended process's stdout and stderr (killed first if it runs past ``timeout``)."""
    if isinstance(process, Child):
        process.wait(timeout)
        return process.output()
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


@contextmanager
def database(kind: str, prefix: str = "crash") -> Iterator[str | None]:
    """None for SQLite (the home's own file), else a scratch PostgreSQL database's URL."""
    if kind == "sqlite":
        yield None
        return
    with scratch_database(prefix) as url:
        yield url


#: The files of a home that name its own path: the three SoftHSM2 token stores' configurations
#: (CA, Ukey stock, the demo enterprise's Ukey). Nothing else in a home or its database does
#: (:meth:`Templates.prepared` checks every file of each prepared home).
PATH_FILES = ("softhsm/softhsm2.conf", "ukeys/softhsm2.conf", "demo-enterprise-ukey/softhsm2.conf")


class Templates:
    """One ``certhall setup --demo`` home per database kind, made on first use, copied for each
    home a test gets (a worker's session fixture: ``tests.conftest.demo_templates``)."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self.folder = folder
        self.stack = stack
        self.made: dict[str, Home] = {}

    def prepared(self, kind: str) -> Home:
        if kind not in self.made:
            url = self.stack.enter_context(database(kind, "crash_template"))
            home = Home(self.folder / f"template-{kind}" / "home", url)
            home.cli("setup", "--demo")
            mark = str(home.path).encode()
            named = sorted(
                str(p.relative_to(home.path))
                for p in home.path.rglob("*")
                if p.is_file() and mark in p.read_bytes()
            )
            assert named == sorted(PATH_FILES), named  # a copy would still name the template
            self.made[kind] = home
        return self.made[kind]

    @contextmanager
    def copy(self, kind: str, path: Path, scenario: str) -> Iterator[Home]:
        """A home of its own at ``path``, as ``certhall setup --demo`` left the template."""
        template = self.prepared(kind)
        shutil.copytree(template.path, path, symlinks=True)
        for name in PATH_FILES:
            conf = path / name
            conf.write_text(
                conf.read_text(encoding="utf-8").replace(str(template.path), str(path)),
                encoding="utf-8",
            )
        url = template.env.get("CERTHALL_DATABASE_URL")
        with ExitStack() as stack:
            copy = url and stack.enter_context(scratch_database("crash", template_url=url))
            home = Home(path, copy, scenario, forked=True)
            stack.callback(home.close)
            yield home
