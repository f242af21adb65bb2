"""The Ukey PIN policy: a retry counter on the token, locking, SO unlock, PIN change."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from pkcs11 import Attribute, ObjectClass, TokenFlag

from certhall.errors import TokenError
from certhall.tokens import (
    PinChangeRequired,
    PinError,
    PinLocked,
    PinPolicyViolation,
    TokenBusy,
    WrongPin,
    WrongSoPin,
    change_pin,
    format_token,
    generate_keypair,
    pin_status,
    so_reset_pin,
    user_login,
)
from certhall.tokens import pin as pin_module
from certhall.tokens.pin import PIN_STATE_LABEL, _State, is_guessable, random_user_pin
from certhall.tokens.session import RawSession
from tests.conftest_softhsm import SO_PIN, USER_PIN, SoftHSMStore

pytestmark = pytest.mark.softhsm

WRONG = "999999"


@pytest.fixture
def ukey(softhsm_store: SoftHSMStore) -> str:
    """A token formatted like a Ukey (with a PIN state object), label ``ukey``."""
    format_token(softhsm_store.module, "ukey", SO_PIN, USER_PIN, conf=softhsm_store.conf)
    return "ukey"


def login(store: SoftHSMStore, pin: str, label: str = "ukey", **kwargs: bool) -> None:
    user_login(store.module, label, pin, conf=store.conf, **kwargs).close()


def status(store: SoftHSMStore, label: str = "ukey") -> pin_module.PinStatus:
    return pin_status(store.module, label, conf=store.conf)


def wrong(store: SoftHSMStore, label: str = "ukey") -> PinError:
    with pytest.raises(PinError) as err:
        login(store, WRONG, label)
    return err.value


def state_objects(store: SoftHSMStore, label: str = "ukey") -> list[_State | None]:
    with store.open(label) as session:
        objs = session.raw.get_objects(
            {Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: PIN_STATE_LABEL}
        )
        return [_State.decode(bytes(o[Attribute.VALUE])) for o in objs]


def test_a_new_ukey_has_six_tries(softhsm_store: SoftHSMStore, ukey: str) -> None:
    assert status(softhsm_store) == pin_module.PinStatus(6, 6, False, False)
    login(softhsm_store, USER_PIN)
    assert status(softhsm_store).tries_left == 6


def test_each_wrong_pin_reports_the_tries_left(softhsm_store: SoftHSMStore, ukey: str) -> None:
    for left in (5, 4, 3, 2, 1):
        error = wrong(softhsm_store)
        assert isinstance(error, WrongPin)
        assert error.code == "wrong_pin"
        assert error.tries_left == left
        assert str(error) == f"PIN码错误，还可以尝试 {left} 次；次数用完后Ukey将被锁定。"
        assert WRONG not in str(error)
        assert status(softhsm_store).tries_left == left


def test_six_wrong_pins_lock_and_the_right_pin_is_refused(
    softhsm_store: SoftHSMStore, ukey: str
) -> None:
    for _ in range(5):
        assert wrong(softhsm_store).code == "wrong_pin"
    sixth = wrong(softhsm_store)
    assert isinstance(sixth, PinLocked)
    assert sixth.code == "pin_locked"
    assert sixth.tries_left == 0
    assert str(sixth).startswith("PIN码错误，次数已用完，Ukey的PIN码已被锁定。")
    assert status(softhsm_store).locked
    for pin in (USER_PIN, WRONG):
        with pytest.raises(PinLocked) as err:
            login(softhsm_store, pin)
        assert err.value.code == "pin_locked"
        assert err.value.tries_left == 0
        assert str(err.value).startswith("Ukey的PIN码已被锁定")
    # the refusals while locked do not touch the counter
    assert status(softhsm_store) == pin_module.PinStatus(0, 6, True, False, count_low=True)


def test_a_right_pin_resets_the_counter(softhsm_store: SoftHSMStore, ukey: str) -> None:
    for _ in range(5):
        wrong(softhsm_store)
    assert status(softhsm_store).tries_left == 1
    login(softhsm_store, USER_PIN)
    assert status(softhsm_store).tries_left == 6
    assert wrong(softhsm_store).tries_left == 5


def test_so_unlock_restores_the_token_and_sets_must_change(
    softhsm_store: SoftHSMStore, ukey: str
) -> None:
    for _ in range(6):
        wrong(softhsm_store)
    so_reset_pin(softhsm_store.module, "ukey", SO_PIN, "246810", conf=softhsm_store.conf)
    assert status(softhsm_store) == pin_module.PinStatus(6, 6, False, True)
    with pytest.raises(PinChangeRequired) as err:
        login(softhsm_store, "246810")
    assert err.value.code == "pin_must_change"
    assert "请先修改PIN码" in str(err.value)
    # the PIN was right: the counter is full, and nothing is left logged in
    assert status(softhsm_store).tries_left == 6
    so_reset_pin(softhsm_store.module, "ukey", SO_PIN, "135790", conf=softhsm_store.conf)
    change_pin(softhsm_store.module, "ukey", "135790", "864200", conf=softhsm_store.conf)
    assert status(softhsm_store) == pin_module.PinStatus(6, 6, False, False)
    login(softhsm_store, "864200")
    with pytest.raises(PinError):
        login(softhsm_store, USER_PIN)  # the old PIN is gone


def test_must_change_can_be_skipped_by_staff_services(
    softhsm_store: SoftHSMStore, ukey: str
) -> None:
    so_reset_pin(softhsm_store.module, "ukey", SO_PIN, "246810", conf=softhsm_store.conf)
    with user_login(
        softhsm_store.module, "ukey", "246810", conf=softhsm_store.conf, allow_must_change=True
    ) as session:
        generate_keypair(session, "k", "ec")
    assert status(softhsm_store).must_change


def test_so_reset_without_must_change(softhsm_store: SoftHSMStore, ukey: str) -> None:
    so_reset_pin(
        softhsm_store.module,
        "ukey",
        SO_PIN,
        "246810",
        conf=softhsm_store.conf,
        must_change=False,
        max_tries=3,
    )
    assert status(softhsm_store) == pin_module.PinStatus(3, 3, False, False)
    login(softhsm_store, "246810")


def test_wrong_so_pin_is_refused_and_changes_nothing(
    softhsm_store: SoftHSMStore, ukey: str
) -> None:
    wrong(softhsm_store)
    with pytest.raises(WrongSoPin) as err:
        so_reset_pin(
            softhsm_store.module, "ukey", "not-the-so-pin", "246810", conf=softhsm_store.conf
        )
    assert err.value.code == "wrong_so_pin"
    assert "not-the-so-pin" not in str(err.value) and "246810" not in str(err.value)
    assert status(softhsm_store).tries_left == 5
    login(softhsm_store, USER_PIN)


def test_so_reset_refuses_while_a_user_session_is_open(
    softhsm_store: SoftHSMStore, ukey: str
) -> None:
    session = user_login(softhsm_store.module, "ukey", USER_PIN, conf=softhsm_store.conf)
    with pytest.raises(TokenBusy) as err:
        so_reset_pin(softhsm_store.module, "ukey", SO_PIN, "246810", conf=softhsm_store.conf)
    assert err.value.code == "token_busy"
    session.close()
    so_reset_pin(softhsm_store.module, "ukey", SO_PIN, "246810", conf=softhsm_store.conf)


def test_new_pin_policy(softhsm_store: SoftHSMStore, ukey: str) -> None:
    for new in ("12345", "x" * 33, " 123456"):
        with pytest.raises(PinPolicyViolation) as err:
            change_pin(softhsm_store.module, "ukey", USER_PIN, new, conf=softhsm_store.conf)
        assert err.value.code == "pin_policy"
        assert new not in str(err.value)
        with pytest.raises(PinPolicyViolation):
            so_reset_pin(softhsm_store.module, "ukey", SO_PIN, new, conf=softhsm_store.conf)
    with pytest.raises(PinPolicyViolation, match="不能与原PIN码相同"):
        change_pin(softhsm_store.module, "ukey", USER_PIN, USER_PIN, conf=softhsm_store.conf)
    with pytest.raises(PinPolicyViolation, match="重试次数"):
        so_reset_pin(
            softhsm_store.module, "ukey", SO_PIN, "246810", conf=softhsm_store.conf, max_tries=0
        )
    # guessable PINs: one repeated digit, a run of consecutive digits either way
    for new in ("111111", "123456", "654321", "0123456789", "98765432", "00000000"):
        with pytest.raises(PinPolicyViolation, match="过于简单") as err:
            change_pin(softhsm_store.module, "ukey", USER_PIN, new, conf=softhsm_store.conf)
        assert new not in err.value.message.replace("111111、123456、654321", "")
        with pytest.raises(PinPolicyViolation, match="过于简单"):
            so_reset_pin(softhsm_store.module, "ukey", SO_PIN, new, conf=softhsm_store.conf)
    # refused before anything was tried
    assert status(softhsm_store).tries_left == 6


@pytest.mark.parametrize(
    ("pin", "guessable"),
    [
        ("111111", True),
        ("123456", True),
        ("654321", True),
        ("789012", False),  # no wrap-around
        ("123457", False),
        ("135791", False),
        ("abcdef", False),  # only digits are judged
        ("１２３４５６", False),  # full-width digits are not ASCII
    ],
)
def test_guessable_pins(pin: str, guessable: bool) -> None:
    assert is_guessable(pin) is guessable


def test_random_pins_are_never_guessable(monkeypatch: pytest.MonkeyPatch) -> None:
    values = iter([123456, 111111, 654321, 482913])
    monkeypatch.setattr(pin_module.secrets, "randbelow", lambda _: next(values))
    assert random_user_pin() == "482913"


def test_change_pin_counts_a_wrong_old_pin(softhsm_store: SoftHSMStore, ukey: str) -> None:
    with pytest.raises(PinError) as err:
        change_pin(softhsm_store.module, "ukey", WRONG, "864200", conf=softhsm_store.conf)
    assert err.value.code == "wrong_pin"
    assert err.value.tries_left == 5
    for _ in range(5):
        with pytest.raises(PinError):
            change_pin(softhsm_store.module, "ukey", WRONG, "864200", conf=softhsm_store.conf)
    assert status(softhsm_store).locked
    with pytest.raises(PinError) as err:
        change_pin(softhsm_store.module, "ukey", USER_PIN, "864200", conf=softhsm_store.conf)
    assert err.value.code == "pin_locked"
    login_error = wrong(softhsm_store)
    assert login_error.code == "pin_locked"


def test_change_pin_with_a_session_open_updates_the_open_login(
    softhsm_store: SoftHSMStore, ukey: str
) -> None:
    first = user_login(softhsm_store.module, "ukey", USER_PIN, conf=softhsm_store.conf)
    change_pin(softhsm_store.module, "ukey", USER_PIN, "864200", conf=softhsm_store.conf)
    # a second session in this process shares the token login: it checks the new PIN
    login(softhsm_store, "864200")
    with pytest.raises(PinError) as err:
        login(softhsm_store, USER_PIN)
    assert err.value.code == "wrong_pin"
    first.close()
    login(softhsm_store, "864200")


def test_a_second_session_counts_wrong_pins_too(softhsm_store: SoftHSMStore, ukey: str) -> None:
    session = user_login(softhsm_store.module, "ukey", USER_PIN, conf=softhsm_store.conf)
    assert wrong(softhsm_store).tries_left == 5
    session.close()


def test_the_try_is_used_when_the_token_is_pulled_during_login(
    softhsm_store: SoftHSMStore, ukey: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The counter is decremented before the PIN is shown to the token."""

    def pulled(*args: object) -> None:
        raise TokenError("token removed", code="device_removed")

    monkeypatch.setattr(RawSession, "login_user", pulled)
    with pytest.raises(TokenError) as err:
        login(softhsm_store, USER_PIN)
    assert err.value.code == "device_removed"
    monkeypatch.undo()
    assert status(softhsm_store).tries_left == 5
    login(softhsm_store, USER_PIN)
    assert status(softhsm_store).tries_left == 6


def test_the_try_is_used_when_the_process_dies_during_login(
    softhsm_store: SoftHSMStore, ukey: str
) -> None:
    """A process killed between the decrement and C_Login (no clean-up at all)."""
    child = textwrap.dedent(
        f"""
        import os
        from pathlib import Path
        from certhall.tokens import user_login
        from certhall.tokens.session import RawSession

        def die(*args):
            os._exit(9)

        RawSession.login_user = die
        conf = Path({str(softhsm_store.conf)!r})
        user_login({softhsm_store.module!r}, "ukey", {USER_PIN!r}, conf=conf)
        """
    )
    for expected in (5, 4):
        result = subprocess.run([sys.executable, "-c", child], capture_output=True, timeout=60)
        assert result.returncode == 9, result.stderr
        assert status(softhsm_store).tries_left == expected


def test_a_token_without_state_gets_one_on_first_login(softhsm_store: SoftHSMStore) -> None:
    softhsm_store.init_token("plain")  # init_token writes no PIN state
    assert status(softhsm_store, "plain").fresh
    assert status(softhsm_store, "plain").tries_left == 6
    assert wrong(softhsm_store, "plain").tries_left == 5
    assert not status(softhsm_store, "plain").fresh


def test_state_updates_leave_one_object(softhsm_store: SoftHSMStore, ukey: str) -> None:
    wrong(softhsm_store)
    login(softhsm_store, USER_PIN)
    (state,) = state_objects(softhsm_store)
    assert state is not None and state.tries_left == 6


def test_the_newest_of_two_state_objects_wins(softhsm_store: SoftHSMStore, ukey: str) -> None:
    """A token pulled between creating the new state object and destroying the old one."""
    with softhsm_store.open("ukey") as session:
        (current,) = session.raw.get_objects(
            {Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: PIN_STATE_LABEL}
        )
        old = _State.decode(bytes(current[Attribute.VALUE]))
        assert old is not None
        newer = _State(6, 2, False, False, seq=old.seq + 1)
        session.raw.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.LABEL: PIN_STATE_LABEL,
                Attribute.VALUE: newer.encode(),
            }
        )
    assert status(softhsm_store).tries_left == 2
    assert wrong(softhsm_store).tries_left == 1
    assert len(state_objects(softhsm_store)) == 1


def test_a_damaged_state_counts_as_locked(softhsm_store: SoftHSMStore, ukey: str) -> None:
    with softhsm_store.open("ukey") as session:
        for obj in session.raw.get_objects(
            {Attribute.CLASS: ObjectClass.DATA, Attribute.LABEL: PIN_STATE_LABEL}
        ):
            obj.destroy()
        session.raw.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: False,
                Attribute.LABEL: PIN_STATE_LABEL,
                Attribute.VALUE: b'{"tries_left": 600}',
            }
        )
    assert status(softhsm_store).locked
    with pytest.raises(PinError) as err:
        login(softhsm_store, USER_PIN)
    assert err.value.code == "pin_locked"
    so_reset_pin(softhsm_store.module, "ukey", SO_PIN, "246810", conf=softhsm_store.conf)
    assert status(softhsm_store).tries_left == 6


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"v":1,"seq":1,"max_tries":6,"tries_left":7,"locked":false,"must_change":false}',
        b'{"v":1,"seq":1,"max_tries":6,"tries_left":"6","locked":false,"must_change":false}',
        b'{"v":1,"seq":1,"max_tries":6,"tries_left":6,"locked":0,"must_change":false}',
        b'{"v":2,"seq":1,"max_tries":6,"tries_left":6,"locked":false,"must_change":false}',
        b'{"v":1,"seq":-1,"max_tries":6,"tries_left":6,"locked":false,"must_change":false}',
        b'{"v":1,"seq":1,"max_tries":0,"tries_left":0,"locked":false,"must_change":false}',
    ],
)
def test_state_decoding_refuses_anything_odd(data: bytes) -> None:
    assert _State.decode(data) is None


def test_state_round_trip() -> None:
    state = _State(6, 3, False, True, seq=7)
    assert _State.decode(state.encode()) == state


def test_hardware_flags_win(
    softhsm_store: SoftHSMStore, ukey: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a real Ukey reports in C_GetTokenInfo overrides the software counter."""
    flags = TokenFlag.TOKEN_INITIALIZED | TokenFlag.USER_PIN_INITIALIZED
    monkeypatch.setattr(pin_module, "_flags", lambda token: flags | TokenFlag.USER_PIN_FINAL_TRY)
    assert status(softhsm_store).tries_left == 1
    error = wrong(softhsm_store)
    assert error.code == "pin_locked"  # the final try was used
    so_reset_pin(softhsm_store.module, "ukey", SO_PIN, "246810", conf=softhsm_store.conf)
    monkeypatch.setattr(pin_module, "_flags", lambda token: flags | TokenFlag.USER_PIN_LOCKED)
    assert status(softhsm_store).locked
    with pytest.raises(PinError) as err:
        login(softhsm_store, "246810", allow_must_change=True)
    assert err.value.code == "pin_locked"
    monkeypatch.setattr(pin_module, "_flags", lambda token: flags | TokenFlag.USER_PIN_COUNT_LOW)
    assert status(softhsm_store).count_low
    monkeypatch.setattr(
        pin_module, "_flags", lambda token: flags | TokenFlag.USER_PIN_TO_BE_CHANGED
    )
    so_reset_pin(
        softhsm_store.module, "ukey", SO_PIN, "246811", conf=softhsm_store.conf, must_change=False
    )
    assert status(softhsm_store).must_change
    with pytest.raises(PinError) as err:
        login(softhsm_store, "246811")
    assert err.value.code == "pin_must_change"


def test_hardware_lock_reported_by_c_login(
    softhsm_store: SoftHSMStore, ukey: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def locked(raw: RawSession, pin: str) -> None:
        raise PinLocked(label=raw.label)  # what C_Login's CKR_PIN_LOCKED becomes

    monkeypatch.setattr(RawSession, "login_user", locked)
    with pytest.raises(PinError) as err:
        login(softhsm_store, USER_PIN)
    assert err.value.code == "pin_locked"
    monkeypatch.undo()
    assert status(softhsm_store).locked


def test_unknown_token(softhsm_store: SoftHSMStore, ukey: str) -> None:
    for call in (
        lambda: login(softhsm_store, USER_PIN, "nope"),
        lambda: status(softhsm_store, "nope"),
        lambda: change_pin(
            softhsm_store.module, "nope", USER_PIN, "864200", conf=softhsm_store.conf
        ),
        lambda: so_reset_pin(
            softhsm_store.module, "nope", SO_PIN, "864200", conf=softhsm_store.conf
        ),
    ):
        with pytest.raises(TokenError) as err:
            call()
        assert err.value.code == "token_not_found"


@pytest.mark.parametrize("pin", ["", "12", "1" * 256, "码" * 86])
def test_a_pin_of_a_length_the_token_refuses_never_reaches_it(
    softhsm_store: SoftHSMStore, ukey: str, pin: str
) -> None:
    """SoftHSM2 answers an empty or over-long PIN with CKR_PIN_LEN_RANGE (or refuses it like a
    wrong one): shown to it, such a PIN used up one of the Ukey's tries. Refused before."""
    for attempt in (
        lambda: login(softhsm_store, pin),
        lambda: change_pin(softhsm_store.module, "ukey", pin, "246810", conf=softhsm_store.conf),
    ):
        with pytest.raises(PinPolicyViolation) as err:
            attempt()
        assert err.value.code == "pin_length"
        assert str(err.value) == "用户PIN码须为 4 至 255 个字节。"
        assert status(softhsm_store).tries_left == 6
    with pytest.raises(PinPolicyViolation) as err:
        so_reset_pin(softhsm_store.module, "ukey", pin, "246810", conf=softhsm_store.conf)
    assert err.value.code == "pin_length"
    login(softhsm_store, USER_PIN)
