from __future__ import annotations

import stat
from pathlib import Path

import pytest

from certhall.config import load
from certhall.errors import ConfigurationError

GOOD_SECRET = "x" * 64


def test_development_generates_private_secrets_once(tmp_path: Path) -> None:
    env = {"CERTHALL_HOME": str(tmp_path), "CERTHALL_CA_KEY_BACKEND": "file"}
    first = load(env)
    secrets_file = tmp_path / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    second = load(env)
    assert first.secret_key == second.secret_key
    assert len(first.ca_key_passphrase) >= 16
    assert first.database_url == f"sqlite:///{tmp_path / 'certhall.sqlite3'}"
    assert first.base_url == "http://127.0.0.1:8000"


def test_production_refuses_missing_or_default_secrets(tmp_path: Path) -> None:
    base = {
        "CERTHALL_HOME": str(tmp_path),
        "CERTHALL_ENV": "production",
        "CERTHALL_CA_KEY_BACKEND": "file",
    }
    with pytest.raises(ConfigurationError, match="CERTHALL_SECRET_KEY"):
        load(base)
    with pytest.raises(ConfigurationError, match="CERTHALL_SECRET_KEY"):
        load({**base, "CERTHALL_SECRET_KEY": "django-insecure-" + "x" * 60})
    with pytest.raises(ConfigurationError, match="CERTHALL_CA_KEY_PASSPHRASE"):
        load({**base, "CERTHALL_SECRET_KEY": GOOD_SECRET})
    cfg = load(
        {
            **base,
            "CERTHALL_SECRET_KEY": GOOD_SECRET,
            "CERTHALL_CA_KEY_PASSPHRASE": "correct horse battery",
        }
    )
    assert cfg.production
    assert not (tmp_path / "secrets.json").exists()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CERTHALL_BASE_URL", "ftp://x", "http"),
        ("CERTHALL_BASE_URL", "http://x/?a=1", "http"),
        ("CERTHALL_CRL_NEXT_UPDATE_HOURS", "0", "between"),
        ("CERTHALL_CRL_NEXT_UPDATE_HOURS", "soon", "whole number"),
        ("CERTHALL_CA_KEY_BACKEND", "hsm", "pkcs11, file or auto"),
        ("CERTHALL_ENV", "staging", "development or production"),
    ],
)
def test_bad_settings_fail_at_start(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load({"CERTHALL_HOME": str(tmp_path), "CERTHALL_CA_KEY_BACKEND": "file", name: value})


def test_base_url_goes_without_trailing_slash(tmp_path: Path) -> None:
    cfg = load(
        {
            "CERTHALL_HOME": str(tmp_path),
            "CERTHALL_CA_KEY_BACKEND": "file",
            "CERTHALL_BASE_URL": "https://ca.example.cn/",
        }
    )
    assert cfg.base_url == "https://ca.example.cn"
    assert "ca.example.cn" in cfg.allowed_hosts
