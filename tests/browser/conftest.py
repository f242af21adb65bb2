"""A served certhall instance, a certificate helper subprocess with a SoftHSM2 Ukey holding a
certificate that instance's CA issued, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    expect,
    sync_playwright,
)

from certhall.tokens import format_token, generate_keypair, user_login, write_certificate
from certhall.tokens.objects import build_csr
from certhall.tokens.softhsm import DEFAULT_MODULE, write_softhsm_conf
from tests.support.network import free_port, subprocess_env

CHROMIUM = "/usr/bin/chromium"
#: How long a browser test waits for anything: an action's element (the contexts' default,
#: ``new_page``) and an ``expect`` (Playwright's own default was 5 s: under load the online
#: renewal's retry, a PIN check, a key pair, an issuance and the Ukey write, took longer, and
#: the test failed with "新证书已签发，正在写入Ukey……" on the way to 续期完成). A deadline, not a
#: pause: a test goes on as soon as what it waits for is there.
WAIT_MS = 15_000
expect.set_options(timeout=WAIT_MS)
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A Chinese user's browser: date fields read 2026/12/09 and the browser's own words are
#: Chinese (its language is the environment's LANGUAGE; chromium-l10n holds the words). The
#: character set stays UTF-8 whatever locales the machine has (under a zh_CN.UTF-8 it lacks,
#: Chromium fell back to ASCII and could not open 申请表.pdf).
CHROMIUM_ENV = {k: v for k, v in os.environ.items() if not k.startswith("LC_")} | {
    "LANG": "C.UTF-8",
    "LANGUAGE": "zh_CN",
}


#: What went wrong on the pages since the last browser test ended: a script's uncaught error
#: (``pageerror``: a missing word makes ``certhallWords`` throw) and every console error (a
#: Content-Security-Policy refusal, a resource that failed to load, ``console.error``). Every
#: page of every browser :func:`chromium` launches reports here; each test marked ``browser``
#: fails on any its ``allow_page_error`` markers do not allow (tests/conftest.py).
PAGE_ERRORS: list[str] = []


#: The same pages at another size than the first one a test visits them at. The PostgreSQL pass
#: of ``make test`` leaves these out (``-m "database and not pages_again"``): a page's queries do
#: not change with the window, and the first size, the CSP crawl and the walks still visit every
#: page on PostgreSQL (docs/performance.md section 8).
PAGES_AGAIN = pytest.mark.pages_again


def sizes(first: Any, *more: Any) -> list[Any]:
    """A size parameter's values: ``first`` on both databases, ``more`` on SQLite only."""
    return [first, *(pytest.param(size, marks=PAGES_AGAIN) for size in more)]


def refused(where: str, status: int | None = None) -> str:
    """The console error of a load answered with ``status``, or whose connection was refused,
    at an address holding ``where`` (a path, perhaps followed by a token): the pattern an
    ``allow_page_error`` marker names."""
    if status is None:
        failed = "Failed to load resource: net::ERR_CONNECTION_REFUSED"
    else:
        failed = f"Failed to load resource: the server responded with a status of {status} "
    return rf"{re.escape(where)}\S*: console error {re.escape(failed)}"


def _watch(page: Page) -> None:
    def uncaught(error: Error) -> None:
        PAGE_ERRORS.append(f"{page.url}: uncaught {error.name}: {error.message}")

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            source = message.location.get("url") or page.url
            PAGE_ERRORS.append(f"{source}: console error {message.text}")

    page.on("pageerror", uncaught)
    page.on("console", console)


def _watched(browser: Browser) -> Browser:
    """``browser`` whose every page, of a new context or a popup, reports to PAGE_ERRORS."""
    new_context, new_page = browser.new_context, browser.new_page

    def watched_context(**options: Any) -> BrowserContext:
        context = new_context(**options)
        context.on("page", _watch)
        return context

    def watched_page(**options: Any) -> Page:
        page = new_page(**options)  # its context's first page: opened before we could listen
        _watch(page)
        page.context.on("page", _watch)
        return page

    browser.new_context = watched_context  # type: ignore[method-assign]
    browser.new_page = watched_page  # type: ignore[method-assign]
    return browser


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium under Playwright's sync API: the one launch of every browser test.

    While Playwright's event loop runs in this thread, Django keeps the thread's database
    connections apart from those it had before (asgiref's ``Local``, as in async code): a test
    reading the database meanwhile opens a second connection. It is closed once the loop has
    stopped (Django refuses to close it from inside); left open, PostgreSQL refused to drop the
    test database at the end ("being accessed by other users")."""
    opened: list[BaseDatabaseWrapper] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS, env=CHROMIUM_ENV
        )
        try:
            yield _watched(browser)
        finally:
            browser.close()
            opened = list(connections.all(initialized_only=True))
    for connection in opened:
        connection.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """One Chromium for the test (:func:`chromium`)."""
    with chromium() as browser:
        yield browser


@pytest.fixture
def db_from_the_test(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API runs an event loop in this thread; the test still reads the ORM
    (and the live server answers from its own thread), which Django would refuse as an async
    context."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def new_page(
    browser: Browser,
    width: int = 1100,
    height: int = 900,
    *,
    timeout_ms: int = WAIT_MS,
    **options: Any,
) -> Page:
    """A page in a new zh-CN context (cookies of its own), ``width`` x ``height`` px."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": height}, **options
    )
    context.set_default_timeout(timeout_ms)
    return context.new_page()


PIN = "135790"
SO_PIN = "so-pin-97531"
ORG_NAME = "深圳市演示医疗科技有限公司"  # the demo organisation of `certhall setup --demo`
USCC = "91350100M000100Y43"


def wait_for(url: str, process: subprocess.Popen[bytes], what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stderr = process.stderr.read().decode()[-2000:] if process.stderr else ""
            raise RuntimeError(f"{what} did not start: {stderr}")
        time.sleep(0.2)


@dataclass
class Stack:
    url: str
    agent_url: str
    env: dict[str, str]
    serial: str
    shots: Path
    agent: subprocess.Popen[bytes] | None = None
    #: SOFTHSM2_CONF of the Ukey store the helper reads.
    conf: Path | None = None

    def cli(self, *args: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "certhall.cli.main", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise AssertionError(f"certhall {' '.join(args)} failed: {result.stderr}")
        return result.stdout


def _ukey(store_dir: Path, stack_cli: Stack) -> tuple[str, Path]:
    """A Ukey with a key pair and a certificate issued by the instance's CA: (serial, conf)."""
    conf = write_softhsm_conf(store_dir / "tokens", store_dir / "softhsm2.conf")
    format_token(DEFAULT_MODULE, "ukey-demo", SO_PIN, PIN, conf=conf)
    with user_login(DEFAULT_MODULE, "ukey-demo", PIN, conf=conf) as session:
        generate_keypair(session, "key-1", "ec")
        csr = build_csr(session, "key-1").public_bytes(serialization.Encoding.PEM)
    (store_dir / "req.csr").write_bytes(csr)
    serial = stack_cli.cli(
        "ca", "issue", "--csr", str(store_dir / "req.csr"), "--profile", "org", "--years", "1",
        "--org-name", ORG_NAME, "--uscc", USCC, "--out", str(store_dir / "cert.pem"),
    ).strip()  # fmt: skip
    stack_cli.cli("ca", "chain", "--out", str(store_dir / "chain.pem"))
    cert = x509.load_pem_x509_certificate((store_dir / "cert.pem").read_bytes())
    chain = x509.load_pem_x509_certificates((store_dir / "chain.pem").read_bytes())
    with user_login(DEFAULT_MODULE, "ukey-demo", PIN, conf=conf) as session:
        write_certificate(session, "key-1", cert, chain)
    return serial, conf


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("instance")
    shots = tmp_path_factory.mktemp("screenshots")
    port, agent_port = free_port(), free_port()
    url, agent_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{agent_port}"
    env = subprocess_env(
        CERTHALL_HOME=str(home),
        CERTHALL_BASE_URL=url,
        CERTHALL_AGENT_URL=agent_url,
        DJANGO_SETTINGS_MODULE="certhall.settings",
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    env.pop("SOFTHSM2_CONF", None)
    stack = Stack(url, agent_url, env, "", shots)
    stack.cli("setup", "--demo")
    stack.serial, conf = _ukey(tmp_path_factory.mktemp("ukey"), stack)
    stack.conf = conf
    server = subprocess.Popen(
        [sys.executable, "-m", "certhall.cli.main", "serve", "--port", str(port),
         "--workers", "2", "--no-jobs"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    agent = subprocess.Popen(
        [sys.executable, "-m", "certhall.cli.main", "agent", "--hall-origin", url,
         "--port", str(agent_port), "--conf", str(conf)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    stack.agent = agent
    try:
        wait_for(f"{url}/healthz", server, "certhall serve")
        wait_for(f"{agent_url}/v1/status", agent, "certhall agent")
        yield stack
    finally:
        for process in (agent, server):
            process.terminate()
        for process in (agent, server):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
