"""Reaching a Ukey the platform holds: its store, its sealed SO PIN, the check that the token
on the store is that Ukey, and a logged-in session on one nobody holds (:func:`stock_session`).

What the Ukey services (``ukeys.services``) and the recovery of an interrupted write
(``ukeys.writes.recover``, which ``services`` calls to record its writes) both need: here,
below both, so that neither imports the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from certhall import config
from certhall.errors import Conflict
from certhall.tokens import TokenInfo, TokenSession, so_reset_pin, token_info, user_login
from certhall.tokens.pin import random_user_pin
from certhall.ukeys import sealing
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore, instance_store


def store_or_instance(store: UkeyStore | None) -> UkeyStore:
    """``store``, or this instance's Ukey store when None."""
    return store if store is not None else instance_store()


def passphrase() -> str:
    """What seals the Ukeys' SO PINs (the CA key's passphrase)."""
    return config.get().ca_key_passphrase


def so_pin(ukey: Ukey) -> str:
    """``ukey``'s SO PIN, unsealed."""
    return sealing.unseal(passphrase(), ukey.model, ukey.serial, bytes(ukey.so_pin_sealed))


def check_token(ukey: Ukey, store: UkeyStore) -> TokenInfo:
    """The token on the store really is this Ukey (labels can be reused, serials cannot)."""
    info = token_info(store.module, ukey.label, conf=store.conf)
    if (info.model, info.serial) != (ukey.model, ukey.serial):
        raise Conflict(code="ukey_mismatch", serial=info.serial, serial_2=ukey.serial)
    return info


@contextlib.contextmanager
def stock_session(
    token: Ukey, store: UkeyStore | None = None
) -> Iterator[tuple[TokenSession, str]]:
    """A logged-in session on a Ukey nobody holds (in stock, or being issued): the SO sets a
    fresh random user PIN first, so no PIN needs to be known. Never for a customer's Ukey."""
    target = store_or_instance(store)
    check_token(token, target)
    pin = random_user_pin()
    so_reset_pin(target.module, token.label, so_pin(token), pin, conf=target.conf)
    with user_login(
        target.module, token.label, pin, conf=target.conf, allow_must_change=True
    ) as session:
        yield session, pin
