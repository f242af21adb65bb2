"""Output files that appear whole or not at all."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from certhall.errors import InvalidInput


@contextmanager
def atomic_output(path: str) -> Iterator[IO[bytes]]:
    """Open a temporary file beside ``path`` (so a bad directory fails before any work), and
    rename it into place only if the block succeeds."""
    target = Path(path)
    if target.is_dir():
        raise InvalidInput(code="cli_is_directory", path=path)
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent or ".", prefix=f".{target.name}.")
    except OSError as error:
        raise InvalidInput(code="cli_cannot_write", path=path, error=error.strerror) from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.replace(tmp, target)
    except BaseException:
        os.unlink(tmp)
        raise


def read_input(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise InvalidInput(code="cli_cannot_read", path=path, error=error.strerror) from None
