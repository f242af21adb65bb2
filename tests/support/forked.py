"""The crash tests' processes, forked from a prepared interpreter instead of started afresh.

A crash test starts some 25 processes (a step killed, a look before recovery, the recovery, a
look after), and each paid ``django.setup()`` and the project's imports before its first step:
about 1 s of CPU, most of a crash test's cost (docs/performance.md, section 8). A
:class:`Zygote` is ``python -m tests.support.forked`` in a home's environment; it imports
Django, the ``certhall`` command and the crash scenarios once, then only forks: each child
takes the request's environment and command line, its stdout and stderr (memfds the test
passed), runs ``python -m MODULE`` or ``python -c CODE`` as the interpreter would, and exits.

The child is a real process of its own: it opens its own database connection and PKCS#11
session (the zygote opens neither), stops at a crash point as any process does, and is killed
there with SIGKILL. Only its start differs from an ``exec``: ``tests/support/crash.py`` still
execs what is not ``python -m`` or ``python -c``, and the templates' ``certhall setup --demo``.

The zygote keeps a child unreaped until the test asks (``wait``), so a pid the test kills is
never a reused one; it ends, killing its children, when the test's end of the socket closes.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

#: What the zygote imports before it forks: the command and the scenarios the tests run.
PRELOAD = ("certhall.cli.main", "tests.support.crash_scenario", "tests.ukeys.crash_scenario")
#: The variables a run may set on top of its home's environment without a zygote of its own:
#: read when a step runs, not when the project is imported.
PER_RUN = ("CERTHALL_CRASH_PAUSE", "CERTHALL_TEST_AUDIT_VERIFY")
_MESSAGE = 65536


@dataclass
class Child:
    """A forked command: ``poll()`` and ``wait()`` as :class:`subprocess.Popen`'s."""

    zygote: Zygote
    pid: int
    out: int
    err: int
    returncode: int | None = None

    def poll(self) -> int | None:
        return self._status(0)

    def wait(self, timeout: float) -> int:
        status = self._status(timeout)
        if status is None:
            self.kill()
            raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout)
        return status

    def kill(self) -> None:
        if self.returncode is not None:
            return
        os.kill(self.pid, signal.SIGKILL)
        self._status(30)

    def _status(self, timeout: float) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.ask({"wait": self.pid, "timeout": timeout})["status"]
        return self.returncode

    def output(self) -> tuple[str, str]:
        return _read(self.out), _read(self.err)


def _read(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    while chunk := os.read(fd, 1 << 16):
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode("utf-8", errors="replace")


class Zygote:
    def __init__(self, env: dict[str, str], cwd: str) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
        )
        theirs.close()
        self.socket = ours

    def ask(self, request: dict[str, Any], fds: tuple[int, ...] = ()) -> dict[str, Any]:
        socket.send_fds(self.socket, [json.dumps(request).encode()], list(fds))
        reply = self.socket.recv(_MESSAGE)
        if not reply:
            raise RuntimeError(f"the zygote ended ({self.process.wait()})")
        answer: dict[str, Any] = json.loads(reply)
        return answer

    def start(self, argv: tuple[str, ...], env: dict[str, str]) -> Child:
        """``argv`` (``python -m ...`` or ``python -c ...``) in a child, with ``env``."""
        out, err = os.memfd_create("stdout"), os.memfd_create("stderr")
        try:
            pid = self.ask({"argv": list(argv[1:]), "env": env}, (out, err))["pid"]
        except BaseException:
            os.close(out)
            os.close(err)
            raise
        return Child(self, pid, out, err)

    def close(self) -> None:
        self.socket.close()  # the zygote kills what is left and ends
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def can_fork(argv: tuple[str, ...]) -> bool:
    return len(argv) >= 3 and argv[0] == sys.executable and argv[1] in ("-m", "-c")


# --- the zygote's side -----------------------------------------------------------------------


def _serve(channel: socket.socket) -> None:
    children: set[int] = set()
    try:
        while True:
            message, fds, _, _ = socket.recv_fds(channel, _MESSAGE, 2)
            if not message:
                return
            request = json.loads(message)
            if "wait" in request:
                reply = {"status": _wait(request["wait"], request["timeout"])}
                if reply["status"] is not None:
                    children.discard(request["wait"])
            else:
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    channel.close()
                    _child(request["argv"], request["env"], *fds)
                for fd in fds:
                    os.close(fd)
                children.add(pid)
                reply = {"pid": pid}
            channel.send(json.dumps(reply).encode())
    finally:
        for pid in children:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def _wait(pid: int, timeout: float) -> int | None:
    """The child's exit status as ``Popen.returncode`` gives it, or None if it still runs."""
    handle = os.pidfd_open(pid)
    try:
        if not select.select([handle], [], [], timeout)[0]:
            return None
    finally:
        os.close(handle)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _child(argv: list[str], env: dict[str, str], out: int, err: int) -> None:
    """Become ``python ARGV`` with ``env``; never returns."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        for fd in (devnull, out, err):
            os.close(fd)
        os.environ.clear()
        os.environ.update(env)
        import random

        from certhall import config

        random.seed()  # not the zygote's sequence in every child
        config.get.cache_clear()  # the run's CERTHALL_CRASH_PAUSE
        code = _run(argv)
    finally:
        import atexit

        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _run(argv: list[str]) -> int:
    import runpy
    import traceback

    option, target, *args = argv
    try:
        if option == "-m":
            sys.argv = [target, *args]
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = ["-c", *args]
            exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})  # noqa: S102
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            return done.code or 0
        print(done.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def main(fd: int) -> None:
    import importlib

    import django

    django.setup()
    for name in PRELOAD:
        importlib.import_module(name)
    from certhall.cli.main import COMMANDS

    for command in COMMANDS.values():
        importlib.import_module(command.module)
    from django.db import connections

    connections.close_all()  # each child opens its own
    _serve(socket.socket(fileno=fd))


if __name__ == "__main__":
    main(int(sys.argv[1]))
