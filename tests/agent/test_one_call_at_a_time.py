"""The helper makes one PKCS#11 call at a time (``certhall.agent.ukey``, "One PKCS#11 call at a
time"). python-pkcs11 initialises SoftHSM2 with ``C_Initialize(NULL)`` (no locking in the
module), and the helper's threads reach the Ukey together: a retried renewal's work while the
first try's kept session is probed. Before the helper's token lock, this scenario killed the
process within seconds (SoftHSM2's heap corrupted, SIGSEGV or SIGABRT) or failed a step with
``CKR_OBJECT_HANDLE_INVALID``; it runs in a process of its own for that reason."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.agent.support import SoftwareCA, ukey_with_certificate
from tests.conftest_softhsm import SoftHSMStore

pytestmark = pytest.mark.softhsm

ROOT = Path(__file__).resolve().parents[2]


def test_a_retry_beside_the_probes_of_a_kept_session(softhsm_store: SoftHSMStore) -> None:
    ukey_with_certificate(softhsm_store, SoftwareCA.create())
    scenario = [sys.executable, "-m", "tests.agent.concurrent_scenario"]
    result = subprocess.run(
        [*scenario, softhsm_store.module, str(softhsm_store.conf), "6"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert result.stdout.splitlines() == ["ok"], result.stdout[-2000:]
