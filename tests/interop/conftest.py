"""A real certhall instance for interop checks: its own home, `certhall setup`, then
`certhall serve` (granian) on a free loopback port. External tools talk to it over HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest

from tests.support.network import free_port, subprocess_env

BIN = Path(sys.executable).parent


@dataclass
class Instance:
    home: Path
    url: str
    env: dict[str, str]
    #: The OCSP listener of the same server (``certhall serve --ocsp-port``).
    ocsp_url: str = ""

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "certhall.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"certhall {' '.join(args)} failed: {result.stderr}")
        return result

    def get(self, path: str) -> tuple[int, Message, bytes]:
        """Status, headers (case-insensitive, as HTTP's are) and body."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=30) as response:  # noqa: S310
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def post(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        request = urllib.request.Request(  # noqa: S310
            self.url + path, data=body, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def _env(home: Path, port: int) -> dict[str, str]:
    return subprocess_env(
        CERTHALL_HOME=str(home),
        CERTHALL_BASE_URL=f"http://127.0.0.1:{port}",
        DJANGO_SETTINGS_MODULE="certhall.settings",
        PATH=f"{BIN}:{os.environ.get('PATH', '')}",
    )


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Instance]:
    home = tmp_path_factory.mktemp("instance")
    port, ocsp_port = free_port(), free_port()
    inst = Instance(
        home, f"http://127.0.0.1:{port}", _env(home, port), f"http://127.0.0.1:{ocsp_port}"
    )
    inst.cli("setup", "--demo")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "certhall.cli.main",
            "serve",
            "--port",
            str(port),
            "--ocsp-port",
            str(ocsp_port),
            "--workers",
            "2",
            "--no-jobs",
        ],
        env=inst.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if inst.get("/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server did not start: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
        yield inst
    finally:
        server.terminate()
        server.wait(timeout=15)
