"""The server makes one PKCS#11 call at a time in a process (``certhall.tokens.module``,
``binding_lock``). python-pkcs11 initialises SoftHSM2 with ``C_Initialize(NULL)`` (no locking
in the module) and releases the GIL during calls; a worker's threads serve two counters at once.
Before every call took the lock, this scenario killed the process (SoftHSM2's heap corrupted)
or failed a step; it runs in a process of its own for that reason."""

from __future__ import annotations

import pytest

from tests.conftest_softhsm import SoftHSMStore
from tests.support.threads import assert_scenario_passes

pytestmark = pytest.mark.softhsm


def test_two_ukeys_used_by_three_threads_at_once(softhsm_store: SoftHSMStore) -> None:
    softhsm_store.init_token("a")
    softhsm_store.init_token("b")
    assert_scenario_passes(
        "tests.tokens.concurrent_scenario", softhsm_store.module, str(softhsm_store.conf), "5"
    )
