"""The checking children: each uploaded file's decoding (``hall.pixels``, ``hall.pdfpages``,
``hall.archives``) runs in a process of its own, under a CPU-time and memory limit the kernel
enforces, forked from a **zygote** that has imported the decoders once.

Started as ``python -m``, each child spent 0.07 s (a PNG, a ZIP) to 0.17 s (a JPEG: numpy under
simplejpeg; a PDF: pypdf) of CPU starting Python and importing before it read a byte: most of
an upload's check, and of the test suite's time (docs/performance.md, section 11). The zygote
(``python -P -m certhall.hall.checking FD``, one per server process, started on the first
check) imports them and then only forks, one child per file; the child sets its limits, checks
and writes its JSON answer to a pipe the store gave it, and exits. The zygote holds nothing of
any file and never decodes one itself.

The zygote leaves a child unreaped until the store asks (``reap``), so that its pid stays the
child's while the store may kill it, and answers with the CPU time it used: a child kept
waiting by a busy machine is told from one a file kept busy (``hall.storage``). Imports nothing
of Django.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

#: The zygote's messages: a request or a reply in one datagram.
_MESSAGE = 4096


#: A child's CPU time, and its memory (``RLIMIT_AS``, the zygote's own imports included).
SECONDS = 2
MEMORY = 1 << 30


@dataclass(frozen=True)
class Answer:
    """A check's answer (empty when the child was killed or failed), the CPU time its child
    used, in seconds, and whether it was killed for not answering within the wait."""

    answer: dict[str, Any]
    cpu: float
    waited_out: bool


class Busy(Exception):
    """The zygote did not fork within the wait: the machine, not the file."""


# --- the store's side ------------------------------------------------------------------------


class _Zygote:
    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        # -P: not the working directory first on the path (``-m`` puts it there): a json.py
        # in the server's directory was imported in place of the stdlib's (12-07).
        self.process = subprocess.Popen(
            [sys.executable, "-P", "-m", __name__, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,  # its own failures go to the server's log, not its children's
        )
        theirs.close()
        self.socket = ours
        self.owner = os.getpid()

    def ask(self, request: dict[str, Any], fds: list[int], timeout: float) -> dict[str, Any]:
        self.socket.settimeout(timeout)
        socket.send_fds(self.socket, [json.dumps(request).encode()], fds)
        reply = self.socket.recv(_MESSAGE)
        if not reply:
            raise OSError("the zygote ended")
        answer: dict[str, Any] = json.loads(reply)
        return answer

    def stop(self) -> None:
        self.socket.close()
        self.process.kill()
        self.process.wait()


_lock = threading.Lock()
_zygote: _Zygote | None = None


def _ask(request: dict[str, Any], fds: list[int], timeout: float) -> dict[str, Any]:
    """The zygote's reply, started or started again as needed (a fork of this process keeps
    none of its parent's); Busy when it does not reply within ``timeout`` (it is then
    replaced: it may be stopped or starved, and its next reply would answer this request)."""
    global _zygote
    with _lock:
        if _zygote is None or _zygote.owner != os.getpid() or _zygote.process.poll() is not None:
            _zygote = _Zygote()
        try:
            return _zygote.ask(request, fds, timeout)
        except (OSError, ValueError) as error:
            _zygote.stop()
            _zygote = None
            raise Busy from error


def stop() -> None:
    """Ends this process's zygote (the next check starts another)."""
    global _zygote
    with _lock:
        if _zygote is not None and _zygote.owner == os.getpid():
            _zygote.stop()
        _zygote = None


def run(module: str, path: str, seconds: int, arguments: tuple[str, ...], wait: float) -> Answer:
    """``module``'s check of ``path`` in a child limited to ``seconds`` of CPU, waited for at
    most ``wait`` seconds (then killed); Busy when the zygote did not fork in that time."""
    deadline = time.monotonic() + wait
    readable, writable = os.pipe()
    try:
        request = {"check": module, "path": path, "seconds": seconds, "arguments": arguments}
        try:
            pid = _ask(request, [writable], wait)["pid"]
        finally:
            os.close(writable)
        out = _read_until(readable, deadline)
        waited_out = out is None
        if out is None:  # not done within the wait: killed (unreaped, the pid is still its own)
            os.kill(pid, signal.SIGKILL)
            out = _read_until(readable, None) or b""  # all it wrote, if it had just ended
        try:
            cpu = _ask({"reap": pid}, [], max(1.0, deadline - time.monotonic()))["cpu"]
        except Busy:  # the zygote replaced meanwhile: its child is init's to reap
            cpu = 0.0
    finally:
        os.close(readable)
    try:
        answer = json.loads(out)
    except ValueError:
        answer = {}
    return Answer(answer if isinstance(answer, dict) else {}, float(cpu), waited_out)


def _read_until(fd: int, deadline: float | None) -> bytes | None:
    """Everything written to ``fd`` until its end; None when ``deadline`` comes first."""
    chunks: list[bytes] = []
    while True:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


# --- the zygote ------------------------------------------------------------------------------


def _checks() -> dict[str, Any]:
    """Each check by its module's name, imported here once with what it decodes with."""
    # one BLAS thread (numpy's, under simplejpeg): the zygote forks, and a thread's locks do
    # not survive a fork
    os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    import pypdf  # noqa: F401 - imported once, in the zygote, for every child
    import simplejpeg  # noqa: F401
    from PIL import Image, JpegImagePlugin, PngImagePlugin  # noqa: F401

    from certhall.hall import archives, pdfpages, pixels

    Image.preinit()
    return {
        "certhall.hall.pixels": pixels.check,
        "certhall.hall.pdfpages": pdfpages.check,
        "certhall.hall.archives": archives.check,
    }


def _child(check: Any, request: dict[str, Any], answer_fd: int) -> None:
    """In the forked child: the limits, the check, the answer; never returns."""
    code = 1
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # a decoder's warnings are not the log's
        seconds = int(request["seconds"])
        resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds))
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        answer = check(str(request["path"]), *map(str, request["arguments"]))
        os.write(answer_fd, json.dumps(answer).encode())
        code = 0
    finally:
        os._exit(code)


def serve(channel: socket.socket) -> None:
    """The zygote's loop: fork a child for each ``check``, reap one on ``reap`` (its CPU time),
    until the store's end of the channel closes."""
    checks = _checks()
    while True:
        message, fds, _, _ = socket.recv_fds(channel, _MESSAGE, 1)
        if not message:
            return
        request = json.loads(message)
        if "reap" in request:
            try:
                _, _, usage = os.wait4(int(request["reap"]), 0)
                cpu = usage.ru_utime + usage.ru_stime
            except ChildProcessError:  # forked by a zygote this one replaced
                cpu = 0.0
            channel.send(json.dumps({"cpu": cpu}).encode())
            continue
        if len(fds) != 1:
            return
        pid = os.fork()
        if pid == 0:
            channel.close()
            _child(checks[request["check"]], request, fds[0])
        os.close(fds[0])
        channel.send(json.dumps({"pid": pid}).encode())


if __name__ == "__main__":
    serve(socket.socket(fileno=int(sys.argv[1])))
