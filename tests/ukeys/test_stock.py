"""Putting Ukeys in stock against real SoftHSM2 tokens: formatting, recording, roles, and the
written-ahead record an interrupted stock leaves (its SO PIN, the store it names)."""

from __future__ import annotations

from pathlib import Path

import pytest

from certhall import clock
from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import (
    ConfigurationError,
    Conflict,
    Forbidden,
    TokenError,
)
from certhall.tokens import (
    list_certificates,
    pin_status,
    user_login,
)
from certhall.ukeys import sealing, services, sessions
from certhall.ukeys.lifecycle import Status
from certhall.ukeys.models import TokenWrite, Ukey
from certhall.ukeys.store import UkeyStore
from tests.ukeys.conftest import assert_secret_nowhere
from tests.ukeys.test_tokens import so_pin_of

pytestmark = pytest.mark.softhsm


def test_prepare_stock_formats_and_records(admin: User, stock: Ukey, ukey_store: UkeyStore) -> None:
    assert stock.status == Status.IN_STOCK
    assert stock.label == "ukey-0001"
    assert len(stock.serial) == 16 and stock.model == "SoftHSM v2"
    assert stock.provider_id == admin.provider_id
    so_pin = so_pin_of(stock)
    assert len(so_pin) == sealing.SO_PIN_LENGTH
    assert so_pin.encode() not in bytes(stock.so_pin_sealed)
    status = pin_status(ukey_store.module, "ukey-0001", conf=ukey_store.conf)
    assert (status.tries_left, status.must_change) == (6, True)
    event = AuditEvent.objects.order_by("seq").last()
    assert (
        event is not None and event.action == "ukey.stock" and event.after["status"] == "in_stock"
    )
    assert_secret_nowhere(so_pin)
    assert so_pin not in repr(stock) and so_pin not in str(stock.snapshot())
    # written ahead, then closed by the record in stock
    (write,) = TokenWrite.objects.filter(kind=TokenWrite.Kind.FORMAT)
    assert (write.state, write.ukey, write.key_label) == ("done", stock, "ukey-0001")
    assert write.provider_id == admin.provider_id
    recorded = (write.store_module, write.store_conf)  # sealed with it: not the instance's
    assert recorded == ("", str(ukey_store.conf.resolve()))  # type: ignore[union-attr]
    sealed = write.so_pin_sealed
    assert sealing.unseal_ahead(sessions.passphrase(), "ukey-0001", sealed, recorded) == so_pin
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert actions[-2:] == ["ukey.stock.begin", "ukey.stock"]


def test_prepare_stock_roles_and_duplicates(
    admin: User, clerk: User, stock: Ukey, ukey_store: UkeyStore
) -> None:
    with pytest.raises(Forbidden):
        services.prepare_stock(clerk, "ukey-0002", store=ukey_store)
    with pytest.raises(TokenError) as err:
        services.prepare_stock(admin, "ukey-0001", store=ukey_store)
    assert err.value.code == "token_exists"
    assert Ukey.objects.count() == 1
    # a wrong role is refused before anything is looked at; both refusals are audited (the
    # role's as every service's, tests/audit/test_role_refusals.py)
    refused = AuditEvent.objects.filter(action="ukey.stock", result="refused").order_by("seq")
    assert [e.after["error"] for e in refused] == ["role_required", "token_exists"]
    # its write-ahead record is closed as abandoned; the label's token is the first one's
    writes_ = TokenWrite.objects.filter(kind=TokenWrite.Kind.FORMAT).order_by("pk")
    assert [(w.state, w.ukey) for w in writes_] == [("done", stock), ("undone", None)]
    abandoned = AuditEvent.objects.filter(action="ukey.stock.abandon").get()
    assert abandoned.object_id == str(writes_[1].pk)


def test_an_interrupted_stock_is_recorded_only_when_its_so_pin_opens_the_token(
    admin: User, ukey_store: UkeyStore
) -> None:
    """Recovery of a 入库 killed after formatting: the token under the label is recorded in
    stock when the SO PIN written ahead opens it; a token someone else formatted under that
    label (the kill came before ours) is left alone and the record closed as abandoned."""
    from certhall.tokens import format_token
    from certhall.ukeys import writes

    ours = writes.begin_stock(admin, "ukey-ours", "so-pin-ours-1234", admin.provider_id)
    format_token(ukey_store.module, "ukey-ours", "so-pin-ours-1234", "123456", conf=ukey_store.conf)
    theirs = writes.begin_stock(admin, "ukey-theirs", "so-pin-ours-5678", admin.provider_id)
    format_token(
        ukey_store.module, "ukey-theirs", "so-pin-else-9999", "123456", conf=ukey_store.conf
    )
    with pytest.raises(Conflict) as busy:  # one open record a label
        writes.begin_stock(admin, "ukey-ours", "so-pin-ours-0000", admin.provider_id)
    assert busy.value.code == "ukey_label_busy"
    for write in (ours, theirs, ours):  # idempotent
        writes.finish_stock(admin, write, store=ukey_store)
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.state == "done" and ours.ukey is not None and theirs.state == "undone"
    ukey = Ukey.objects.get()
    assert (ukey.label, ukey.status, ukey.provider_id) == (
        "ukey-ours",
        "in_stock",
        admin.provider_id,
    )
    assert so_pin_of(ukey) == "so-pin-ours-1234"
    with sessions.stock_session(ukey, ukey_store) as (session, _pin):
        assert list_certificates(session) == []
    events = AuditEvent.objects.filter(action__startswith="ukey.stock").order_by("seq")
    assert [(e.action, e.object_id) for e in events] == [
        ("ukey.stock.begin", str(ours.pk)),
        ("ukey.stock.begin", str(theirs.pk)),
        ("ukey.stock", ukey.serial),
        ("ukey.stock.abandon", str(theirs.pk)),
    ]
    assert_secret_nowhere("so-pin-ours-1234")


def test_an_interrupted_stock_is_looked_for_where_its_record_says(
    admin: User, ukey_store: UkeyStore, tmp_path: Path
) -> None:
    """A token formatted on a store that is not the instance's (``certhall token init --conf``)
    is found there by recovery, its user PIN kept (the operator's); a recorded module other than
    the instance's is never loaded (a row must not choose code to run): the record stays open."""
    from certhall.tokens import format_token, write_softhsm_conf
    from certhall.ukeys import writes

    own = UkeyStore(ukey_store.module, write_softhsm_conf(tmp_path / "own", tmp_path / "own.conf"))
    write = writes.begin_stock(admin, "ukey-own", "so-pin-own-1234", admin.provider_id, store=own)
    assert (write.store_module, write.store_conf) == ("", str(own.conf.resolve()))  # type: ignore[union-attr]
    format_token(own.module, "ukey-own", "so-pin-own-1234", "135246", conf=own.conf)
    foreign = writes.begin_stock(
        admin,
        "ukey-foreign",
        "so-pin-own-5678",
        admin.provider_id,
        store=UkeyStore(str(tmp_path / "vendor-pkcs11.so"), None),
    )
    later = clock.now() + writes.STALE_AFTER * 2
    assert [w.pk for w in writes.recover(admin, now=later)] == [write.pk]
    write.refresh_from_db()
    assert write.state == "done" and write.ukey is not None
    assert (write.ukey.label, so_pin_of(write.ukey)) == ("ukey-own", "so-pin-own-1234")
    user_login(own.module, "ukey-own", "135246", conf=own.conf).close()  # the operator's PIN
    foreign.refresh_from_db()
    assert foreign.state == "open"
    with pytest.raises(ConfigurationError) as refused:
        writes.finish_stock(admin, foreign)
    assert refused.value.code == "ukey_store_module"
    assert str(tmp_path / "vendor-pkcs11.so") in str(refused.value)
    begun = AuditEvent.objects.filter(action="ukey.stock.begin").order_by("seq")
    assert [e.after.get("store") for e in begun] == [
        {"module": "", "conf": str(own.conf.resolve())},  # type: ignore[union-attr]
        {"module": str(tmp_path / "vendor-pkcs11.so"), "conf": ""},
    ]


def test_a_record_whose_store_was_edited_is_not_opened_by_recovery(
    admin: User, ukey_store: UkeyStore, tmp_path: Path
) -> None:
    """The store a write-ahead record names is sealed with its SO PIN: a row edited to name
    another store (here one holding a token under the same label: another instance's, the CA's)
    is refused before that store is opened, and stays open; put back, it is finished. Until
    12-06 recovery opened the edited store and logged in there as its SO (a wrong SO PIN, which
    a hardware token counts towards locking), then closed the record as abandoned."""
    from certhall.tokens import format_token, write_softhsm_conf
    from certhall.ukeys import writes

    own = UkeyStore(ukey_store.module, write_softhsm_conf(tmp_path / "own", tmp_path / "own.conf"))
    other = write_softhsm_conf(tmp_path / "other", tmp_path / "other.conf")
    format_token(own.module, "ukey-own", "so-pin-other-123", "999888", conf=other)
    write = writes.begin_stock(admin, "ukey-own", "so-pin-own-1234", admin.provider_id, store=own)
    format_token(own.module, "ukey-own", "so-pin-own-1234", "135246", conf=own.conf)
    later = clock.now() + writes.STALE_AFTER * 2
    for edited in (str(other.resolve()), ""):  # another store; the instance's
        TokenWrite.objects.filter(pk=write.pk).update(store_conf=edited)
        assert writes.recover(admin, now=later) == []
        write.refresh_from_db()
        assert write.state == "open"
        with pytest.raises(ConfigurationError) as refused:
            writes.finish_stock(admin, write)
        assert refused.value.code == "so_pin_unavailable"
        assert "未打开该记录所写的令牌库" in str(refused.value)
    TokenWrite.objects.filter(pk=write.pk).update(store_conf=str(own.conf.resolve()))  # type: ignore[union-attr]
    assert [w.pk for w in writes.recover(admin, now=later)] == [write.pk]
    write.refresh_from_db()
    assert write.state == "done" and write.ukey is not None
    assert so_pin_of(write.ukey) == "so-pin-own-1234"
