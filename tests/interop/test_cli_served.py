"""The CLI against a set-up instance: output into a closed pipe is quiet, and ``certhall serve``
on a port that is not the base URL's says so loudly before it serves."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.interop.conftest import Instance
from tests.support.network import free_port

pytestmark = [pytest.mark.interop, pytest.mark.slow]


@pytest.mark.parametrize("command", [("token", "list"), ("ca", "list"), ("outbox",)], ids=" ".join)
def test_output_into_a_closed_pipe_is_quiet(instance: Instance, command: tuple[str, ...]) -> None:
    """``certhall token list | head -1``, with the reader gone before anything was written."""
    assert instance.cli(*command).stdout.strip(), "the command prints something to cut off"
    process = subprocess.Popen(
        [sys.executable, "-m", "certhall.cli.main", *command],
        env=instance.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 128 + signal.SIGPIPE, stderr
    assert stderr == ""


def test_serve_on_another_port_warns_at_start(instance: Instance) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "certhall.cli.main", "serve", "--port", str(port), "--no-jobs"],
        env=instance.env,  # CERTHALL_BASE_URL names the instance's own port
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        line = server.stderr.readline()
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert line.startswith("警告：certhall serve 监听端口"), line
    assert str(port) in line and instance.url in line and "OCSP" in line


def test_serve_stops_at_start_when_its_ocsp_port_is_taken(instance: Instance) -> None:
    """The instance's own server holds its OCSP listener's port: a second server asking for it
    stops with one Chinese line before it serves anything."""
    taken = instance.ocsp_url.rsplit(":", 1)[1]
    site = str(free_port())
    result = instance.cli("serve", "--port", site, "--ocsp-port", taken, "--no-jobs", check=False)
    assert result.returncode != 0
    assert f"OCSP 端口 {taken} 无法使用" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
