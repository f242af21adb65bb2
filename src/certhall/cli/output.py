"""What a command writes: files that appear whole or not at all, and the JSON it prints."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from certhall import crashpoints
from certhall.errors import InvalidInput


class Output:
    """The file being written. Its failures (a full disk, an I/O error) are the operator's
    one-line ``cli_cannot_write``, not a traceback. :meth:`settle` puts the bytes on the disk:
    a command that commits something (a certificate, a CRL) calls it inside its transaction, so
    a file that cannot be written rolls the work back instead of leaving it done and unsaved."""

    def __init__(self, file: IO[bytes], path: str) -> None:
        self._file = file
        self._path = path

    def write(self, data: bytes) -> int:
        with self._failure():
            return self._file.write(data)

    def settle(self) -> None:
        with self._failure():
            self._file.flush()
            try:
                os.fsync(self._file.fileno())
            except OSError as error:
                # /dev/stdout, a pipe or a terminal cannot be synced; they have no disk to reach
                if not stat.S_ISREG(os.fstat(self._file.fileno()).st_mode):
                    return
                raise error
        # on the disk beside its target; a command's work not yet committed (tests kill here)
        crashpoints.reached("output.settled")

    @contextmanager
    def _failure(self) -> Iterator[None]:
        try:
            yield
        except OSError as error:
            raise InvalidInput(
                code="cli_cannot_write", path=self._path, error=error.strerror or str(error)
            ) from None


@contextmanager
def atomic_output(path: str) -> Iterator[Output]:
    """Open a temporary file beside ``path`` (so a bad directory fails before any work), and
    rename it into place only if the block succeeds.

    A symbolic link is written through (its target is replaced, the link stays); something
    that is not a regular file (``/dev/stdout``, ``/dev/null``, a FIFO) is written directly:
    renaming over it would replace the device node with a file."""
    target = Path(path)
    if target.is_dir():
        raise InvalidInput(code="cli_is_directory", path=path)
    if target.exists() and not target.is_file():
        with _direct(target, path) as out:
            yield out
        return
    target = Path(os.path.realpath(target))
    prefix = _prefix(target)
    _remove_stale(target, prefix)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f"{prefix}{os.getpid()}.")
    except OSError as error:
        raise InvalidInput(code="cli_cannot_write", path=path, error=error.strerror) from None
    f = os.fdopen(fd, "wb")
    try:
        out = Output(f, path)
        yield out
        out.settle()
        f.close()
        crashpoints.reached("output.committed")  # the work committed, the file not in place
        try:
            os.replace(tmp, target)
        except OSError as error:
            raise InvalidInput(code="cli_cannot_write", path=path, error=error.strerror) from None
    except BaseException:
        with suppress(OSError):  # what could not be written is still buffered: drop it
            f.close()
        os.unlink(tmp)
        raise


def _prefix(target: Path) -> str:
    """Temporary files beside ``target`` are ``.<name>.<host>.<pid>.<random>``: whose they are."""
    host = re.sub(r"[^A-Za-z0-9-]", "_", socket.gethostname())[:64]
    return f".{target.name}.{host}."


def _remove_stale(target: Path, prefix: str) -> None:
    """Remove the temporary files of ``target`` that a process of this host left when it was
    killed (``kill -9``, a power cut) before it could remove them: whatever they hold is either
    not committed (a certificate the registry does not hold, a CRL under a number that will be
    signed again, a payout batch that was rolled back) or committed and kept by the database
    (which writes it again); either way nobody must take it for the command's output."""
    own = os.getpid()
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    try:
        names = [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return
    for path in names:
        found = pattern.match(path.name)
        if found is None or int(found[1]) == own or _alive(int(found[1])):
            continue
        with suppress(OSError):
            path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


@contextmanager
def _direct(target: Path, path: str) -> Iterator[Output]:
    try:
        f = open(target, "wb")  # noqa: SIM115 - closed below, its failure converted
    except OSError as error:
        raise InvalidInput(code="cli_cannot_write", path=path, error=error.strerror) from None
    out = Output(f, path)
    try:
        yield out
        out.settle()
    finally:
        with suppress(OSError):
            f.close()


def read_input(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise InvalidInput(code="cli_cannot_read", path=path, error=error.strerror) from None


def print_json(data: object) -> None:
    """``--json`` output: Chinese as it is (not ``\\u`` escapes), indented."""
    print(json.dumps(data, ensure_ascii=False, indent=2))


@contextmanager
def undone_with_the_file(
    out: str, actor: Any, action: str, object_type: str = "certificate", object_id: str = ""
) -> Iterator[Output]:
    """``--out`` and the work in one transaction (the file's :meth:`Output.settle` inside it:
    a file that cannot be written undoes the work), and a refusal audited as ``action`` after
    the rollback (the services' own refusal blocks, inside this transaction, leave theirs to it)."""
    from django.db import transaction

    from certhall.audit import services as audit

    with (
        atomic_output(out) as output,
        audit.refusals_recorded(actor, action, object_type=object_type, object_id=object_id),
        transaction.atomic(),
    ):
        yield output
        output.settle()
