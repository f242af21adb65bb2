"""SoftHSM2 token stores: configuration file and token initialisation."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from certhall.errors import TokenError
from certhall.tokens import module
from certhall.tokens.softhsm import init_token, token_labels, write_softhsm_conf
from tests.conftest_softhsm import SO_PIN, USER_PIN, SoftHSMStore

pytestmark = pytest.mark.softhsm


def test_conf_points_at_the_token_dir(tmp_path: Path) -> None:
    token_dir = tmp_path / "store" / "tokens"
    conf = write_softhsm_conf(token_dir)
    assert conf == token_dir.resolve() / "softhsm2.conf"
    assert token_dir.is_dir()
    lines = conf.read_text().splitlines()
    assert f"directories.tokendir = {token_dir.resolve()}" in lines
    assert "objectstore.backend = file" in lines
    assert "log.level = ERROR" in lines


def test_conf_elsewhere_and_rewritten_only_when_changed(tmp_path: Path) -> None:
    conf_path = tmp_path / "softhsm2.conf"
    conf = write_softhsm_conf(tmp_path / "tokens", conf_path=conf_path)
    assert conf == conf_path.resolve()
    mtime = conf.stat().st_mtime_ns
    assert write_softhsm_conf(tmp_path / "tokens", conf_path=conf_path) == conf
    assert conf.stat().st_mtime_ns == mtime
    write_softhsm_conf(tmp_path / "other", conf_path=conf_path)
    assert f"directories.tokendir = {(tmp_path / 'other').resolve()}" in conf.read_text()


def test_init_token_creates_a_token(softhsm_store: SoftHSMStore) -> None:
    init_token(softhsm_store.conf, "ukey-0001", SO_PIN, USER_PIN)
    assert token_labels(softhsm_store.conf) == ["ukey-0001"]
    assert any(softhsm_store.token_dir.iterdir())
    with softhsm_store.open("ukey-0001") as session:
        assert session.label == "ukey-0001"


def test_duplicate_label_is_refused(softhsm_store: SoftHSMStore) -> None:
    init_token(softhsm_store.conf, "twice", SO_PIN, USER_PIN)
    with pytest.raises(TokenError, match="标签为“twice”的令牌已存在") as err:
        init_token(softhsm_store.conf, "twice", SO_PIN, USER_PIN)
    assert err.value.code == "token_exists"
    assert token_labels(softhsm_store.conf) == ["twice"]


@pytest.mark.parametrize(
    ("label", "so_pin", "pin", "code"),
    [
        ("x" * 33, SO_PIN, USER_PIN, "token_label_invalid"),
        ("", SO_PIN, USER_PIN, "token_label_invalid"),
        (" padded", SO_PIN, USER_PIN, "token_label_invalid"),
        ("ok", "123", USER_PIN, "pin_length"),
        ("ok", SO_PIN, "9" * 256, "pin_length"),
    ],
)
def test_bad_label_or_pin_is_refused_without_showing_the_pins(
    softhsm_store: SoftHSMStore, label: str, so_pin: str, pin: str, code: str
) -> None:
    with pytest.raises(TokenError) as err:
        init_token(softhsm_store.conf, label, so_pin, pin)
    assert err.value.code == code
    assert so_pin not in str(err.value) and pin not in str(err.value)
    assert token_labels(softhsm_store.conf) == []


def test_init_token_runs_no_subprocess(
    softhsm_store: SoftHSMStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PINs never go on a command line: formatting is C_InitToken in this process."""

    def no_subprocess(*args: object, **kwargs: object) -> None:
        raise AssertionError("a subprocess was started")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(subprocess, "Popen", no_subprocess)
    serial = init_token(softhsm_store.conf, "in-process", SO_PIN, USER_PIN)
    assert len(serial) == 16
    assert token_labels(softhsm_store.conf) == ["in-process"]


def test_c_inittoken_failure_message_hides_pins(
    softhsm_store: SoftHSMStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(module._RawFunctions, "init_token", lambda self, *args: 0x5)
    with pytest.raises(TokenError) as err:
        init_token(softhsm_store.conf, "fails", SO_PIN, USER_PIN)
    assert err.value.code == "token_init_failed"
    assert "CKR 0x5" in str(err.value)
    assert SO_PIN not in str(err.value) and USER_PIN not in str(err.value)
    assert token_labels(softhsm_store.conf) == []
