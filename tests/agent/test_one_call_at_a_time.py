"""The helper makes one PKCS#11 call at a time (``certhall.agent.ukey``, "One PKCS#11 call at a
time"). python-pkcs11 initialises SoftHSM2 with ``C_Initialize(NULL)`` (no locking in the
module), and the helper's threads reach the Ukey together: a retried renewal's work while the
first try's kept session is probed. Before the helper's token lock, this scenario killed the
process within seconds (SoftHSM2's heap corrupted, SIGSEGV or SIGABRT) or failed a step with
``CKR_OBJECT_HANDLE_INVALID``; it runs in a process of its own for that reason."""

from __future__ import annotations

import pytest

from tests.agent.support import SoftwareCA, ukey_with_certificate
from tests.conftest_softhsm import SoftHSMStore
from tests.support.threads import assert_scenario_passes

pytestmark = pytest.mark.softhsm


def test_a_retry_beside_the_probes_of_a_kept_session(softhsm_store: SoftHSMStore) -> None:
    ukey_with_certificate(softhsm_store, SoftwareCA.create())
    assert_scenario_passes(
        "tests.agent.concurrent_scenario", softhsm_store.module, str(softhsm_store.conf), "6"
    )
