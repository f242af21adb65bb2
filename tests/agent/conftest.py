"""The helper tests use the shared SoftHSM2 fixtures of tests/conftest_softhsm.py."""

from tests.conftest_softhsm import (  # noqa: F401
    make_softhsm_store,
    softhsm_store,
    softhsm_token,
)
