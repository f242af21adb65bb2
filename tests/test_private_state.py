"""The instance's state is its owner's only: the home 0700, every file in it 0600.

A real `certhall setup --demo` (database, CA keys, SoftHSM tokens, static files) started from a
shell with the usual umask 022; then an old home with world-readable files is repaired by
setup; and another local user cannot read the database (when the tests run as root, which can
become one).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.network import subprocess_env

ROOT = Path(__file__).resolve().parents[1]


def _env(home: Path) -> dict[str, str]:
    return subprocess_env(CERTHALL_HOME=str(home), DJANGO_SETTINGS_MODULE="certhall.settings")


def _certhall(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "certhall.cli.main", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
        preexec_fn=lambda: os.umask(0o022),  # a shell's usual umask
    )


def _readable_by_others(home: Path) -> list[str]:
    return [
        f"{oct(path.stat().st_mode & 0o777)} {path.relative_to(home.parent)}"
        for path in [home, *home.rglob("*")]
        if not path.is_symlink() and path.stat().st_mode & 0o077
    ]


def _read_as_nobody(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["/usr/bin/python3", "-c", f"open({str(path)!r}, 'rb').read(16)"],
        capture_output=True,
        text=True,
        user=pwd.getpwnam("nobody").pw_uid,
        check=False,
    )


@pytest.fixture
def open_parent() -> Iterator[Path]:
    """A folder every local user can walk into (pytest's own tmp folder is its owner's only,
    which would refuse another user before the home's modes are even asked)."""
    parent = Path(tempfile.mkdtemp(prefix="certhall-private-", dir="/tmp"))
    parent.chmod(0o755)
    yield parent
    shutil.rmtree(parent)


@pytest.mark.slow
def test_a_new_instance_is_private(open_parent: Path) -> None:
    home = open_parent / "home"
    _certhall(home, "setup", "--demo")
    _certhall(home, "ca", "crl", "--out", str(home / "exported.crl"))  # writes more
    assert (home / "certhall.sqlite3").exists()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert _readable_by_others(home) == []
    if os.geteuid() == 0:  # another local user cannot read the database (root can become one)
        beside = open_parent / "readable.txt"
        beside.write_text("anyone", encoding="utf-8")
        beside.chmod(0o644)
        assert _read_as_nobody(beside).returncode == 0  # the way to the home is open
        attempt = _read_as_nobody(home / "certhall.sqlite3")
        assert attempt.returncode != 0 and "PermissionError" in attempt.stderr


@pytest.mark.slow
def test_setup_repairs_an_old_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _certhall(home, "setup")
    for path in [home, *home.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    assert _readable_by_others(home)
    out = _certhall(home, "setup").stdout
    assert "private" in out
    assert _readable_by_others(home) == []
