"""Formatting Ukeys through PKCS#11 and listing the tokens of a store."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from certhall.errors import TokenError
from certhall.tokens import format_token, list_tokens, pin_status, user_login
from tests.conftest_softhsm import SO_PIN, USER_PIN, SoftHSMStore

pytestmark = pytest.mark.softhsm


def test_format_token_writes_the_pin_state(softhsm_store: SoftHSMStore) -> None:
    info = format_token(
        softhsm_store.module, "ukey-1", SO_PIN, USER_PIN, conf=softhsm_store.conf, must_change=True
    )
    assert info.label == "ukey-1"
    assert len(info.serial) == 16
    assert info.model == "SoftHSM v2"
    status = pin_status(softhsm_store.module, "ukey-1", conf=softhsm_store.conf)
    assert (status.tries_left, status.max_tries, status.must_change) == (6, 6, True)
    assert not status.fresh


def test_several_tokens_in_a_row_and_listed(softhsm_store: SoftHSMStore) -> None:
    serials = {
        format_token(
            softhsm_store.module, f"ukey-{i}", SO_PIN, USER_PIN, conf=softhsm_store.conf
        ).serial
        for i in range(3)
    }
    assert len(serials) == 3
    listed = list_tokens(softhsm_store.module, conf=softhsm_store.conf, with_pin_status=True)
    assert sorted(t.label for t in listed) == ["ukey-0", "ukey-1", "ukey-2"]
    assert {t.serial for t in listed} == serials
    assert all(t.pin is not None and t.pin.tries_left == 6 for t in listed)
    for i in range(3):
        user_login(softhsm_store.module, f"ukey-{i}", USER_PIN, conf=softhsm_store.conf).close()


def test_duplicate_label_is_refused(softhsm_store: SoftHSMStore) -> None:
    format_token(softhsm_store.module, "twice", SO_PIN, USER_PIN, conf=softhsm_store.conf)
    with pytest.raises(TokenError) as err:
        format_token(softhsm_store.module, "twice", SO_PIN, USER_PIN, conf=softhsm_store.conf)
    assert err.value.code == "token_exists"
    assert [t.label for t in list_tokens(softhsm_store.module, conf=softhsm_store.conf)] == [
        "twice"
    ]


def test_a_label_taken_by_another_process_is_seen(softhsm_store: SoftHSMStore) -> None:
    format_token(softhsm_store.module, "mine", SO_PIN, USER_PIN, conf=softhsm_store.conf)
    session = user_login(softhsm_store.module, "mine", USER_PIN, conf=softhsm_store.conf)
    child = textwrap.dedent(
        f"""
        from pathlib import Path
        from certhall.tokens import format_token
        format_token({softhsm_store.module!r}, "theirs", "so-pin-5678", "user-pin-1234",
                     conf=Path({str(softhsm_store.conf)!r}))
        """
    )
    subprocess.run([sys.executable, "-c", child], check=True, timeout=60)
    with pytest.raises(TokenError) as err:  # the store is busy here, yet the check sees it
        format_token(softhsm_store.module, "theirs", SO_PIN, USER_PIN, conf=softhsm_store.conf)
    assert err.value.code == "token_exists"
    session.close()


def test_pins_are_checked_and_never_shown(softhsm_store: SoftHSMStore) -> None:
    for so_pin, pin in (("123", USER_PIN), (SO_PIN, "9" * 256)):
        with pytest.raises(TokenError) as err:
            format_token(softhsm_store.module, "bad", so_pin, pin, conf=softhsm_store.conf)
        assert err.value.code == "pin_length"
        assert so_pin not in str(err.value) and pin not in str(err.value)
    assert list_tokens(softhsm_store.module, conf=softhsm_store.conf) == []
