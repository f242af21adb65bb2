"""Certificate login and renewal tests: our CA (tests/conftest.py ``ca``), other CAs with
software keys, and Ukeys on SoftHSM2 (tests/conftest_softhsm.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine

from certhall.certlogin import verify
from tests.conftest_softhsm import (  # noqa: F401
    make_softhsm_store,
    softhsm_store,
    softhsm_token,
)


@pytest.fixture(autouse=True)
def fresh_settings() -> Iterator[None]:
    from pathlib import Path

    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
    verify._crl_cache.clear()
    yield
    verify._crl_cache.clear()


#: The chinese-calendar package knows 2004-2026 (docs/rules.md): online renewal quotes count
#: working days, so renewal tests run at fixed moments of 2026 with certificates from 2025.
CA_CREATED_AT = datetime(2025, 6, 1, 2, 0, tzinfo=UTC)
ISSUED_AT = datetime(2025, 12, 15, 2, 0, tzinfo=UTC)


@pytest.fixture
def past_ca(admin):  # type: ignore[no-untyped-def]
    """Like tests/conftest.py's ``ca``, created in June 2025."""
    from certhall.ca import ocsp, signers
    from certhall.ca.services import init_ca

    signers.forget()
    ocsp.reset()
    with time_machine.travel(CA_CREATED_AT, tick=False):
        root, issuing = init_ca(admin)
    yield root, issuing
    signers.forget()
    ocsp.reset()
