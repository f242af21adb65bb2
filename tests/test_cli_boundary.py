"""The CLI's boundary (``certhall.cli.main``): a home that ``certhall setup`` has not made, an
unreachable database and a closed output pipe are one line (or nothing), never a traceback.

Real ``certhall`` processes; none of these needs a set-up instance (the ones that do are in
``tests/interop/test_cli_served.py``)."""

from __future__ import annotations

import dataclasses
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from certhall import config
from certhall.cli.serve_cmd import port_mismatch

COMMANDS = [
    ("ca", "init"),
    ("ca", "list"),
    ("audit", "verify"),
    ("audit", "checkpoint"),
    ("ukeys", "recover"),
    ("outbox",),
    ("jobs",),
    ("serve", "--no-jobs"),
    ("payments", "reconcile", "--statement", "/dev/null"),
    ("accounts", "set-password", "demo-applicant"),
]


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTHALL_")}
    env.update(CERTHALL_HOME=str(home), DJANGO_SETTINGS_MODULE="certhall.settings", **extra)
    return env


def _production(home: Path) -> dict[str, str]:
    return _env(
        home,
        CERTHALL_ENV="production",
        CERTHALL_SECRET_KEY=secrets.token_urlsafe(64),
        CERTHALL_CA_KEY_PASSPHRASE=secrets.token_urlsafe(32),
        CERTHALL_AUDIT_KEY=secrets.token_urlsafe(48),
        CERTHALL_BASE_URL="https://ca.example.org",
        CERTHALL_TLS_PROXY="1",
    )


def _certhall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "certhall.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 8, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("certhall: error: "), result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_unmigrated_home_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    home = tmp_path / "home"  # development: made on first use, with an empty database
    result = _certhall(_env(home), *command)
    _one_line(result, "certhall setup", "迁移未执行")


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS[:4], ids=" ".join)
def test_missing_home_in_production_is_one_line(tmp_path: Path, command: tuple[str, ...]) -> None:
    home = tmp_path / "nowhere"
    result = _certhall(_production(home), *command)
    _one_line(result, str(home), "不存在")
    assert not home.exists()


@pytest.mark.slow
def test_token_commands_do_not_make_a_missing_home(tmp_path: Path) -> None:
    """The token store lives under the home: no database, but the home must exist."""
    home = tmp_path / "nowhere"
    result = _certhall(_production(home), "token", "list")
    _one_line(result, str(home), "不存在")
    assert not home.exists()


@pytest.mark.slow
def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path / "home", CERTHALL_DATABASE_URL="postgresql://postgres@127.0.0.1:1/none")
    _one_line(_certhall(env, "ca", "list"), "CERTHALL_DATABASE_URL")


@pytest.mark.slow
def test_setup_itself_is_not_refused(tmp_path: Path) -> None:
    """``setup`` is what makes the home: the check must not stand in its way (``manage``
    neither: ``certhall manage migrate`` is how an operator migrates by hand)."""
    result = _certhall(_env(tmp_path / "home"), "manage", "showmigrations", "audit")
    assert result.returncode == 0, result.stderr
    assert "[ ] 0001_initial" in result.stdout


@pytest.mark.slow
def test_a_command_starts_without_the_api_or_psycopg(tmp_path: Path) -> None:
    """What every command pays before it runs (Django's set-up, the parser, the home's check)
    leaves out what no command uses: ninja and pydantic (the JSON API's, 0.1 s of CPU), and on
    SQLite psycopg (PostgreSQL's prepared reads, 50 ms)."""
    code = (
        "import sys; from certhall.cli.main import main; main(['audit', 'verify']); "
        "print(*sorted({'ninja', 'pydantic', 'psycopg'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "迁移未执行" in result.stderr  # the start went as far as the home's check
    assert result.stdout.strip() == ""


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """``certhall rules points | head -0``: the reader is gone before the first line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "certhall.cli.main", "rules", "points"],
        env=_env(tmp_path / "home"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=60) == 128 + signal.SIGPIPE
    assert stderr == ""


@pytest.mark.parametrize(
    ("base_url", "tls_proxy", "port", "warned"),
    [
        ("http://127.0.0.1:8000", False, 8000, False),
        ("http://127.0.0.1:8000", False, 8001, True),
        ("http://ca.example.org", False, 80, False),
        ("http://ca.example.org", False, 8000, True),
        ("https://ca.example.org", False, 8000, True),
        ("https://ca.example.org", True, 8000, False),  # behind the declared proxy
    ],
)
def test_port_mismatch_warning(base_url: str, tls_proxy: bool, port: int, warned: bool) -> None:
    cfg = dataclasses.replace(config.get(), base_url=base_url, tls_proxy=tls_proxy)
    warning = port_mismatch(cfg, port)
    assert bool(warning) is warned
    if warned:
        assert base_url in warning and str(port) in warning and "OCSP" in warning


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (("--port", "TAKEN"), "端口 TAKEN 无法使用"),  # was served beside it, half the traffic each
        (("--port", "99999"), "--port 须为 1-65535，而不是 99999"),  # was an OverflowError
        (("--port", "-1"), "--port 须为 1-65535，而不是 -1"),
        (("--workers", "0"), "--workers 须至少为 1"),
    ],
)
def test_serve_refuses_its_port_before_starting(
    monkeypatch: pytest.MonkeyPatch, arguments: tuple[str, ...], words: str
) -> None:
    """``certhall serve`` on a port another server listens on: granian binds with SO_REUSEPORT,
    so a second server (another instance, another CA's database) shared the port silently."""
    import socket

    import granian

    from certhall.cli import serve_cmd
    from certhall.cli.main import build_parser
    from certhall.errors import ConfigurationError

    started: list[object] = []

    class NotServed:
        def __init__(self, *args: object, **kwargs: object) -> None:
            started.append(kwargs)

        def serve(self) -> None:
            pass

    monkeypatch.setattr(granian, "Granian", NotServed)
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as granian's workers
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        argv = ["serve", "--no-jobs", "--port", port]
        argv += [a.replace("TAKEN", port) for a in arguments]
        with pytest.raises(ConfigurationError, match=words.replace("TAKEN", port)):
            serve_cmd.serve(build_parser().parse_args(argv))
    assert started == []


@pytest.mark.django_db
def test_migrated_home_is_ready_without_loading_the_migrations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every migration on disk is recorded: nothing builds Django's plan (which imports all 61
    migration modules on every command)."""
    from django.db.migrations import executor

    from certhall.cli.main import _ready_home

    def refused(*args: object) -> None:
        raise AssertionError("the migration plan was built")

    monkeypatch.setattr(executor.MigrationExecutor, "__init__", refused)
    _ready_home()


@pytest.mark.django_db
@pytest.mark.parametrize("app", ["audit", "hall"])
def test_home_missing_one_migration_is_refused(app: str) -> None:
    from django.db.migrations.recorder import MigrationRecorder

    from certhall.cli.main import _ready_home
    from certhall.errors import ConfigurationError

    recorded = MigrationRecorder.Migration.objects.filter(app=app).order_by("-name")
    recorded.filter(pk=recorded[0].pk).delete()  # the app's newest migration
    with pytest.raises(ConfigurationError, match="（1个迁移未执行）"):
        _ready_home()


@pytest.mark.django_db
def test_unknown_applied_migration_is_not_refused() -> None:
    """A migration recorded that no file names (applied by a newer release, or removed) is not
    pending: Django's plan ignores it, and so does the check."""
    from django.db.migrations.recorder import MigrationRecorder

    from certhall.cli.main import _ready_home

    MigrationRecorder.Migration.objects.create(app="hall", name="9999_from_elsewhere")
    _ready_home()
