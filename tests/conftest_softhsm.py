"""Reusable SoftHSM2 fixtures: a fresh token store per test, under the test's tmp_path.

Import the fixtures into a conftest.py (or a test module) to use them::

    from tests.conftest_softhsm import (  # noqa: F401
        make_softhsm_store, softhsm_store, softhsm_token,
    )

and mark the tests ``@pytest.mark.softhsm``. SoftHSM2 is a test dependency (``make test``
installs it), so a missing SoftHSM2 fails the test instead of skipping it.

Every session opened through a :class:`SoftHSMStore` is closed at the end of the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from certhall.tokens import DEFAULT_MODULE, TokenSession, init_token, open_token
from certhall.tokens.softhsm import write_softhsm_conf

SOFTHSM_MODULE = os.environ.get("CERTHALL_TEST_SOFTHSM_MODULE", DEFAULT_MODULE)
USER_PIN = "user-pin-1234"
SO_PIN = "so-pin-5678"


def require_softhsm() -> None:
    if not os.path.exists(SOFTHSM_MODULE) or shutil.which("softhsm2-util") is None:
        pytest.fail(
            f"SoftHSM2 is needed ({SOFTHSM_MODULE}, softhsm2-util): "
            "apt-get install softhsm2, or run `make test`"
        )


@dataclass
class SoftHSMStore:
    """One isolated SoftHSM2 token store (its own token directory and softhsm2.conf)."""

    token_dir: Path
    conf: Path
    module: str = SOFTHSM_MODULE
    sessions: list[TokenSession] = field(default_factory=list)

    def init_token(self, label: str, pin: str = USER_PIN, so_pin: str = SO_PIN) -> str:
        init_token(self.conf, label, so_pin, pin)
        return label

    def open(self, label: str, pin: str = USER_PIN) -> TokenSession:
        session = open_token(self.module, label, pin, conf=self.conf)
        self.sessions.append(session)
        return session

    def new_token(self, label: str = "test-token", pin: str = USER_PIN) -> TokenSession:
        """Initialise a token and open a logged-in session on it."""
        self.init_token(label, pin=pin)
        return self.open(label, pin=pin)

    def close_all(self) -> None:
        for session in self.sessions:
            session.close()
        self.sessions.clear()


@pytest.fixture
def make_softhsm_store(tmp_path: Path) -> Iterator[Callable[[str], SoftHSMStore]]:
    """Factory: ``make_softhsm_store("a")`` is a new store in ``tmp_path/"a"``."""
    require_softhsm()
    stores: list[SoftHSMStore] = []

    def make(name: str = "softhsm") -> SoftHSMStore:
        token_dir = tmp_path / name / "tokens"
        conf = write_softhsm_conf(token_dir, conf_path=tmp_path / name / "softhsm2.conf")
        store = SoftHSMStore(token_dir=token_dir, conf=conf)
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close_all()


@pytest.fixture
def softhsm_store(make_softhsm_store: Callable[[str], SoftHSMStore]) -> SoftHSMStore:
    return make_softhsm_store("softhsm")


@pytest.fixture
def softhsm_token(softhsm_store: SoftHSMStore) -> TokenSession:
    """A logged-in session on a new token ``test-token`` (user PIN ``USER_PIN``)."""
    return softhsm_store.new_token("test-token")
