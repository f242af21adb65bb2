"""CERTHALL_PAYMENT_SANDBOX: on in development, off in production, validated at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from certhall.config import load
from certhall.errors import ConfigurationError

PRODUCTION = {
    "CERTHALL_ENV": "production",
    "CERTHALL_SECRET_KEY": "kV3q9ZpL2mW8xR4tY7uB1nC6eD0fG5hJ-aS_dQ2wE9rT3yU8iO4pA7sD1fG6hJ0k",
    "CERTHALL_CA_KEY_PASSPHRASE": "correct horse battery",
    "CERTHALL_AUDIT_KEY": "p9Xq2Lm7Wz4Rt8Yv1Bn6Cd3Ef0Gh5JkQ",
    "CERTHALL_BASE_URL": "https://ca.example.cn",
}


def env(tmp_path: Path, **values: str) -> dict[str, str]:
    return {"CERTHALL_HOME": str(tmp_path), "CERTHALL_CA_KEY_BACKEND": "file", **values}


def test_sandbox_defaults(tmp_path: Path) -> None:
    assert load(env(tmp_path)).payment_sandbox is True
    assert load(env(tmp_path, **PRODUCTION)).payment_sandbox is False


@pytest.mark.parametrize(("raw", "value"), [("1", True), ("on", True), ("0", False), ("NO", False)])
def test_sandbox_can_be_set(tmp_path: Path, raw: str, value: bool) -> None:
    assert load(env(tmp_path, CERTHALL_PAYMENT_SANDBOX=raw)).payment_sandbox is value
    assert load(env(tmp_path, CERTHALL_PAYMENT_SANDBOX=raw, **PRODUCTION)).payment_sandbox is value


def test_a_bad_value_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CERTHALL_PAYMENT_SANDBOX 须为 1 或 0"):
        load(env(tmp_path, CERTHALL_PAYMENT_SANDBOX="maybe"))
