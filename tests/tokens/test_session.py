"""Opening tokens: login, wrong PINs, session bookkeeping, several token stores in one process."""

from __future__ import annotations

import gc
from collections.abc import Callable

import pkcs11
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from certhall.errors import ConfigurationError, TokenError
from certhall.tokens import (
    TokenNotFound,
    WrongPin,
    generate_keypair,
    load_private_key,
    module,
    open_token,
)
from certhall.tokens.session import TokenSession, raw_session
from tests.conftest_softhsm import SO_PIN, USER_PIN, SoftHSMStore

pytestmark = pytest.mark.softhsm

MAX_PROBED_HANDLE = 256


def open_handles(store: SoftHSMStore) -> list[int]:
    """Handles of the sessions open on the store's module (SoftHSM2 numbers them from 1)."""
    binding = module.acquire(store.module, store.conf)
    try:
        return [h for h in range(1, MAX_PROBED_HANDLE) if binding.raw.session_state(h) is not None]
    finally:
        module.release(binding)


def test_open_token_logs_in(softhsm_store: SoftHSMStore) -> None:
    softhsm_store.init_token("t1")
    with softhsm_store.open("t1") as session:
        assert not session.closed
        assert session.raw.rw
        # a logged-in session can create private objects
        generate_keypair(session, "k", "ec")
    assert session.closed
    assert open_handles(softhsm_store) == []


def test_wrong_pin_leaves_no_session_and_the_right_pin_works(softhsm_store: SoftHSMStore) -> None:
    softhsm_store.init_token("t1")
    for _ in range(3):
        with pytest.raises(WrongPin, match="PIN码错误") as err:
            open_token(softhsm_store.module, "t1", "not-the-pin", conf=softhsm_store.conf)
        assert err.value.code == "wrong_pin"
        assert err.value.tries_left is None  # open_token counts nothing
        assert "not-the-pin" not in str(err.value)
    assert open_handles(softhsm_store) == []
    # SO login is refused while any read-only session exists: it works, nothing is left over
    binding = module.acquire(softhsm_store.module, softhsm_store.conf)
    try:
        token = binding.lib.get_token(token_label="t1")
        token.open(rw=True, so_pin=SO_PIN).close()
    finally:
        module.release(binding)
    with softhsm_store.open("t1") as session:
        assert not session.closed


@pytest.mark.parametrize(
    ("pins", "code"),
    [
        (("not-the-pin", None), "wrong_pin"),
        ((None, "not-the-so-pin"), "wrong_so_pin"),
        ((USER_PIN, None), "boom"),
        ((None, SO_PIN), "boom"),
        ((None, None), "boom"),
    ],
)
def test_raw_session_always_closes_and_logs_out(
    softhsm_store: SoftHSMStore, pins: tuple[str | None, str | None], code: str
) -> None:
    """After a refused C_Login, and after a failure inside the block, nothing stays open or
    logged in: the SO can log in (it cannot beside any other session) and the user PIN is
    checked again."""
    softhsm_store.init_token("t1")
    with module.reserved(softhsm_store.module, softhsm_store.conf) as binding:
        token = binding.lib.get_token(token_label="t1")
        user_pin, so_pin = pins
        with (
            pytest.raises(TokenError) as err,
            raw_session(binding, token, "t1", user_pin=user_pin, so_pin=so_pin),
        ):
            raise TokenError("failed inside the block", code="boom")
        assert err.value.code == code
        assert binding.logins == {}
        assert open_handles(softhsm_store) == []
        with raw_session(binding, token, "t1", so_pin=SO_PIN) as raw:
            raw.init_user_pin(USER_PIN)
        with pytest.raises(TokenError), raw_session(binding, token, "t1", user_pin="not-the-pin"):
            pass
    assert open_handles(softhsm_store) == []


def test_the_handle_probe_sees_a_leaked_session(softhsm_store: SoftHSMStore) -> None:
    """Control for the test above: python-pkcs11's own login leaks a session on a wrong PIN."""
    softhsm_store.init_token("t1")
    binding = module.acquire(softhsm_store.module, softhsm_store.conf)
    try:
        token = binding.lib.get_token(token_label="t1")
        with pytest.raises(pkcs11.PinIncorrect):
            token.open(user_pin="not-the-pin")
        leaked = open_handles(softhsm_store)
        assert len(leaked) == 1
        with pytest.raises(pkcs11.SessionReadOnlyExists):
            token.open(rw=True, so_pin=SO_PIN)
    finally:
        module.release(binding)


def test_second_session_checks_the_pin_although_the_token_is_logged_in(
    softhsm_store: SoftHSMStore,
) -> None:
    first = softhsm_store.new_token("t1")
    with pytest.raises(TokenError) as err:
        open_token(softhsm_store.module, "t1", "not-the-pin", conf=softhsm_store.conf)
    assert err.value.code == "wrong_pin"
    second = softhsm_store.open("t1")
    key = generate_keypair(second, "k", "ec")
    first.close()  # the last session logs out, not the first one closed
    signature = key.sign(b"data", ec.ECDSA(hashes.SHA256()))
    key.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))
    second.close()
    assert open_handles(softhsm_store) == []
    with softhsm_store.open("t1") as third:
        assert load_private_key(third, "k").public_key() == key.public_key()


def test_unknown_token_label(softhsm_store: SoftHSMStore) -> None:
    softhsm_store.init_token("t1")
    with pytest.raises(TokenNotFound, match="未找到标签为“nope”的令牌") as err:
        open_token(softhsm_store.module, "nope", USER_PIN, conf=softhsm_store.conf)
    assert err.value.code == "token_not_found"


def test_token_created_after_the_module_was_initialised_is_found(
    softhsm_store: SoftHSMStore,
) -> None:
    softhsm_store.init_token("first")
    softhsm_store.open("first").close()  # module initialised for this store
    softhsm_store.init_token("second")  # by softhsm2-util, another process
    with softhsm_store.open("second") as session:
        assert session.label == "second"


def test_token_created_while_the_store_is_in_use_needs_the_store_idle(
    softhsm_store: SoftHSMStore,
) -> None:
    first = softhsm_store.new_token("first")
    softhsm_store.init_token("second")
    with pytest.raises(TokenNotFound, match="其他程序新建的令牌") as err:
        softhsm_store.open("second")
    assert err.value.code == "token_not_found"
    first.close()
    with softhsm_store.open("second") as session:
        assert session.label == "second"


def test_missing_module_or_configuration(softhsm_store: SoftHSMStore) -> None:
    with pytest.raises(ConfigurationError, match="找不到 PKCS#11 模块"):
        open_token("/nonexistent/libpkcs11.so", "t1", USER_PIN)
    with pytest.raises(ConfigurationError, match=r"配置文件 .* 不存在"):
        open_token(softhsm_store.module, "t1", USER_PIN, conf=softhsm_store.conf.with_name("x"))


def test_closed_session_refuses_work(softhsm_token: TokenSession) -> None:
    key = generate_keypair(softhsm_token, "k", "ec")
    softhsm_token.close()
    softhsm_token.close()  # idempotent
    with pytest.raises(TokenError) as err:
        key.sign(b"data", ec.ECDSA(hashes.SHA256()))
    assert err.value.code == "session_closed"
    with pytest.raises(TokenError):
        _ = softhsm_token.raw


def test_two_stores_in_one_process_are_isolated(
    make_softhsm_store: Callable[[str], SoftHSMStore],
) -> None:
    a, b = make_softhsm_store("a"), make_softhsm_store("b")
    session_a = a.new_token("only-in-a")
    session_b = b.new_token("only-in-b")
    # both open at the same time, each sees only its own tokens
    with pytest.raises(TokenError) as err:
        open_token(b.module, "only-in-a", USER_PIN, conf=b.conf)
    assert err.value.code == "token_not_found"
    with pytest.raises(TokenError):
        open_token(a.module, "only-in-b", USER_PIN, conf=a.conf)
    key_a = generate_keypair(session_a, "same-label", "ec")
    key_b = generate_keypair(session_b, "same-label", "ec")
    assert key_a.public_key() != key_b.public_key()
    for key in (key_a, key_b):
        signature = key.sign(b"data", ec.ECDSA(hashes.SHA256()))
        key.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))
    # one after the other (the usual case: re-binding one loaded module)
    session_a.close()
    session_b.close()
    copies = module.loaded_copies(a.module)
    for store, label, key in ((a, "only-in-a", key_a), (b, "only-in-b", key_b)):
        with store.open(label) as session:
            assert load_private_key(session, "same-label").public_key() == key.public_key()
    assert module.loaded_copies(a.module) == copies


def test_unclosed_session_is_closed_when_collected(
    make_softhsm_store: Callable[[str], SoftHSMStore],
) -> None:
    a, b = make_softhsm_store("a"), make_softhsm_store("b")
    a.init_token("t")
    b.init_token("t")
    session = open_token(a.module, "t", USER_PIN, conf=a.conf)
    del session
    gc.collect()
    assert open_handles(a) == []
    copies = module.loaded_copies(a.module)
    # the binding is free again, so store b does not need another copy of the module
    with b.open("t"):
        assert module.loaded_copies(b.module) == copies
