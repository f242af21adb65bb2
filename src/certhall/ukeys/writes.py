"""Crash-safe Ukey writes: a write-ahead record per issuance onto a Ukey and per Ukey put in
stock, and their recovery.

Nothing CA-signed may exist that the registry does not hold, and nothing may stay on a token
that the registry does not know. Issuance onto a Ukey therefore goes in committed steps::

    begin      TokenWrite(open, ukey, key label)      committed before the token is touched
    key        the key pair made on the token
    signed     certificate registered + TokenWrite.certificate, in the CA's transaction
    written    certificate and chain written to the token
    finish     Ukey handed over, items done, TokenWrite(done)    one transaction

A process killed between two steps leaves an open record. :func:`recover` (at start-up, in the
jobs and as ``certhall ukeys recover``) undoes every open record whose process is gone: the
certificate, if one was signed, is revoked (``cessationOfOperation``: it never reached its
holder), and the key and certificate are deleted from a stock Ukey (it goes back to stock empty;
a customer's own Ukey keeps the orphaned key, whose PIN only the customer knows, and the event
says so). Every undo is an audit event. The hall then puts the application back where it can
be issued again (``certhall.hall.issuance.recover``).

Putting a Ukey in stock (``ukeys.services.prepare_stock``) is written ahead the same way, with a
record of kind ``format``::

    begin      TokenWrite(open, label, provider, SO PIN sealed ahead) + ``ukey.stock.begin``
    format     the token formatted under that label with that SO PIN
    stocked    Ukey recorded in stock (SO PIN resealed to its serial) + TokenWrite(done)

Recovery finishes such a record (:func:`finish_stock`): the token under its label, on the store
the record names (:func:`recorded_store`; ``certhall token init`` may format elsewhere), when the
SO PIN written ahead opens it, is recorded in stock (``ukey.stock``), its user PIN kept; no token
under that label (killed before formatting), or one that PIN does not open (not ours), closes
the record as abandoned (``ukey.stock.abandon``).
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime, timedelta
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.db.utils import IntegrityError

from certhall import clock
from certhall.accounts.models import User
from certhall.audit import services as audit
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.errors import CerthallError, ConfigurationError, Conflict
from certhall.lifecycle import Lifecycle, transition
from certhall.tokens import (
    SoPinLocked,
    TokenInfo,
    TokenNotFound,
    TokenSession,
    WrongSoPin,
    check_so_pin,
    so_reset_pin,
    token_info,
)
from certhall.tokens.pin import random_user_pin
from certhall.ukeys import sealing, sessions
from certhall.ukeys.models import TokenWrite, Ukey
from certhall.ukeys.store import UkeyStore, instance_store

log = logging.getLogger(__name__)

State = TokenWrite.State

UNDO_ACTION = "ukey.write.undo"
#: The audit actions of putting a Ukey in stock: written ahead, recorded, abandoned.
STOCK_BEGIN = "ukey.stock.begin"
STOCK_ACTION = "ukey.stock"
STOCK_ABANDON = "ukey.stock.abandon"

TOKEN_WRITES: Lifecycle[TokenWrite] = Lifecycle(
    kind="token_write",
    model="ukeys.TokenWrite",
    states=State,
    table={
        State.OPEN: frozenset({State.DONE, State.UNDONE}),
        State.DONE: frozenset(),
        State.UNDONE: frozenset(),
    },
    noun="Ukey写入记录",
    key=lambda write: str(write.pk),
    refused="token_write_state",
    changed="token_write_changed",
    actions={State.UNDONE: UNDO_ACTION},
    snapshot=lambda write: {
        "state": write.state,
        "ukey": write.ukey.serial if write.ukey else None,
        "key_label": write.key_label,
        "certificate": write.certificate.serial if write.certificate else None,
        "application": write.application,
    },
)

#: An open record older than this is abandoned even if its process still seems to exist
#: (an issuance takes seconds; a pid may have been reused).
STALE_AFTER = timedelta(minutes=10)
REVOCATION_REASON = "cessationOfOperation"


def owner() -> str:
    """This process, as the records name it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def abandoned(holder: str, since: datetime, now: datetime) -> bool:
    """Whether the process ``holder`` (``host:pid``) that started something at ``since`` is gone."""
    if now - since > STALE_AFTER:
        return True
    host, _, pid_text = holder.rpartition(":")
    if host != socket.gethostname() or not (pid_text.isascii() and pid_text.isdigit()):
        return False  # another machine's: only age tells
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def begin(ukey: Ukey, kind: str, key_label: str, *, application: str = "") -> TokenWrite:
    """Record that an issuance onto ``ukey`` starts; committed at once, before the token is
    touched. Conflict ``ukey_busy`` while another issuance onto it is open."""
    if audit.in_transaction():
        raise RuntimeError("a token write must be recorded before (outside) any transaction")
    try:
        with transaction.atomic():
            return TokenWrite.objects.create(
                ukey=ukey,
                kind=kind,
                key_label=key_label,
                application=application,
                owner=owner(),
                created_at=clock.now(),
            )
    except IntegrityError:
        raise Conflict(code="ukey_busy", serial=ukey.serial) from None


def signed(write: TokenWrite, certificate: Certificate) -> None:
    """The certificate of ``write`` is registered: call in the transaction that issued it."""
    TokenWrite.objects.filter(pk=write.pk, state=State.OPEN).update(certificate=certificate)
    write.certificate = certificate


def finish(actor: User, write: TokenWrite) -> None:
    """The Ukey was handed over: call in the transaction that records it."""
    transition(actor, TOKEN_WRITES, write, State.DONE, fields={"finished_at": clock.now()})


def undo(actor: User, write: TokenWrite, session: TokenSession | None, why: str) -> None:
    """Undo ``write``: revoke its certificate if one was signed, delete its key and certificate
    from the token when ``session`` (logged in) is given, and close it. Idempotent."""
    key_state = "left_on_ukey"
    if session is not None:
        try:
            _clear(session, write)
            key_state = "deleted"
        except CerthallError as error:
            log.warning("could not clear Ukey %s: %s", write.ukey_id, error)
    # The revocation's refusal is recorded as the undo's, once the transaction rolled back
    # (recovery calls this outside any refusals_recorded, and the callers that suppress it
    # would lose it otherwise).
    with (
        audit.refusals_recorded(
            actor, UNDO_ACTION, object_type=TOKEN_WRITES.kind, object_id=write.pk
        ),
        transaction.atomic(),
    ):
        # The record and its Ukey locked (not in one join: the Ukey is the nullable side of
        # an outer join since a Ukey put in stock has none before it is recorded, and
        # PostgreSQL locks no such side).
        locked = TokenWrite.objects.select_for_update(of=("self",)).get(pk=write.pk)
        locked.ukey = Ukey.objects.select_for_update(of=("self",)).get(writes__pk=write.pk)
        if locked.state != State.OPEN:
            return
        revoked = None
        if locked.certificate_id is not None:
            certificate = Certificate.objects.get(pk=locked.certificate_id)
            if certificate.status == Certificate.Status.VALID:
                ca_services.revoke(actor, certificate.serial, REVOCATION_REASON)
                revoked = certificate.serial
        transition(
            actor,
            TOKEN_WRITES,
            locked,
            State.UNDONE,
            reason=why,
            fields={"finished_at": clock.now()},
            extra_after={"revoked": revoked, "key": key_state},
        )
    write.refresh_from_db()


def _clear(session: TokenSession, write: TokenWrite) -> None:
    """Delete what ``write`` put on the token: its key pair and certificate; on a stock Ukey
    also the chain certificates that came with it (a stock Ukey goes back empty)."""
    from certhall.tokens import delete_certificate, delete_key_pair, list_certificates

    try:
        delete_key_pair(session, write.key_label)
    except CerthallError as error:
        if error.code != "key_not_found":
            raise
    if write.kind == TokenWrite.Kind.STOCK:
        for label in {certificate.label for certificate in list_certificates(session)}:
            delete_certificate(session, label)


def open_writes() -> list[TokenWrite]:
    return list(TokenWrite.objects.filter(state=State.OPEN).select_related("ukey"))


def recover(actor: User, *, now: datetime | None = None) -> list[TokenWrite]:
    """Close every open write whose process is gone: an issuance undone, a Ukey put in stock
    finished (:func:`finish_stock`); the records closed."""
    now = now or clock.now()
    undone = []
    for write in open_writes():
        if not abandoned(write.owner, write.created_at, now):
            continue
        if write.kind == TokenWrite.Kind.FORMAT:
            try:
                finish_stock(actor, write)
            except CerthallError as error:  # the store unreachable: left for the next round
                log.warning("could not finish putting Ukey %s in stock: %s", write.key_label, error)
                continue
            undone.append(write)
            continue
        ukey = write.ukey
        assert ukey is not None  # noqa: S101 - token_write_ukey_unless_format
        why = "制证中断，恢复时回滚"
        try:
            if write.kind != TokenWrite.Kind.STOCK:
                undo(actor, write, None, why)  # the customer's Ukey: only its holder has the PIN
            else:
                with sessions.stock_session(ukey) as (session, _pin):
                    undo(actor, write, session, why)
        except CerthallError as error:  # the token is unreachable: still revoke and close
            log.warning("Ukey %s unreachable while recovering: %s", ukey.serial, error)
            undo(actor, write, None, why + "（Ukey不可用）")
        undone.append(write)
    return undone


# --- putting a Ukey in stock ---------------------------------------------------------------


def begin_stock(
    actor: User, label: str, so_pin: str, provider_id: int, *, store: UkeyStore | None = None
) -> TokenWrite:
    """Record ahead, with its audit event, that a token is about to be formatted as ``label``
    for ``provider_id``'s stock with ``so_pin`` (sealed to the label) in ``store`` (default: the
    instance's Ukey store; another is recorded, for recovery to look there); committed at once,
    before the token is touched. Conflict ``ukey_label_busy`` while another one under that
    label is open."""
    if audit.in_transaction():
        raise RuntimeError("a token write must be recorded before (outside) any transaction")
    module, conf = _elsewhere(store)
    sealed = sealing.seal_ahead(sessions.passphrase(), label, so_pin, (module, conf))
    try:
        with transaction.atomic():
            write = TokenWrite.objects.create(
                kind=TokenWrite.Kind.FORMAT,
                key_label=label,
                provider_id=provider_id,
                so_pin_sealed=sealed,
                store_module=module,
                store_conf=conf,
                owner=owner(),
                created_at=clock.now(),
            )
            after = {**TOKEN_WRITES.snapshot(write), "kind": write.kind, "provider": provider_id}
            if module or conf:
                after["store"] = {"module": module, "conf": conf}
            audit.record(
                actor, STOCK_BEGIN, object_type=TOKEN_WRITES.kind, object_id=write.pk, after=after
            )
    except IntegrityError:
        raise Conflict(code="ukey_label_busy", label=label) from None
    return write


def _elsewhere(store: UkeyStore | None) -> tuple[str, str]:
    """What a write-ahead record keeps of ``store``: its module and configuration where they are
    not the instance's Ukey store's (blank where they are)."""
    if store is None:
        return "", ""
    instance = instance_store()
    module = "" if store.module == instance.module else store.module
    same_conf = store.conf is None or (
        instance.conf is not None and store.conf.resolve() == instance.conf.resolve()
    )
    return module, "" if same_conf else str(store.conf.resolve())  # type: ignore[union-attr]


def recorded_store(write: TokenWrite) -> UkeyStore:
    """The store ``write`` (of kind ``format``) formats its token in: the one it recorded, else
    the instance's Ukey store. A recorded module is opened only when it is the one this instance
    is configured with (``CERTHALL_PKCS11_MODULE``): loading a module runs its code, which a row
    of the database must never choose; ConfigurationError ``ukey_store_module`` otherwise (the
    record stays open: ``certhall ukeys recover`` run with that module configured finishes
    it)."""
    instance = instance_store()
    if write.store_module and write.store_module != instance.module:
        raise ConfigurationError(
            code="ukey_store_module", label=write.key_label, module=write.store_module
        )
    module = write.store_module or instance.module
    if write.store_conf:
        return UkeyStore(module, Path(write.store_conf))
    return UkeyStore(module, instance.conf if module == instance.module else None)


def stocked(
    actor: User,
    info: TokenInfo,
    so_pin: str,
    provider_id: int,
    *,
    write: TokenWrite | None = None,
) -> Ukey:
    """Record the formatted token ``info`` in ``provider_id``'s stock, its SO PIN sealed to its
    serial (audited ``ukey.stock``), and close its write-ahead record ``write`` if any. Call in a
    transaction. Conflict ``ukey_exists`` when the inventory holds that token already."""
    if Ukey.objects.filter(model=info.model, serial=info.serial).exists():
        raise Conflict(code="ukey_exists", serial=info.serial)
    ukey = Ukey.objects.create(
        serial=info.serial,
        model=info.model,
        manufacturer=info.manufacturer,
        label=info.label,
        provider_id=provider_id,
        so_pin_sealed=sealing.seal(sessions.passphrase(), info.model, info.serial, so_pin),
    )
    after: dict[str, object] = {**ukey.snapshot(), "model": ukey.model}
    if write is not None:
        after["write"] = write.pk
    audit.record(actor, STOCK_ACTION, object_type="ukey", object_id=ukey.serial, after=after)
    if write is not None:
        finished = {"ukey": ukey, "finished_at": clock.now()}
        transition(actor, TOKEN_WRITES, write, State.DONE, fields=finished)
    return ukey


def abandon_stock(actor: User, write: TokenWrite, why: str) -> None:
    """Close the write-ahead record of a Ukey that was not put in stock (audited
    ``ukey.stock.abandon``). Idempotent."""
    with transaction.atomic():
        locked = TokenWrite.objects.select_for_update().get(pk=write.pk)
        if locked.state == State.OPEN:
            transition(
                actor,
                TOKEN_WRITES,
                locked,
                State.UNDONE,
                action=STOCK_ABANDON,
                reason=why,
                fields={"finished_at": clock.now()},
            )
    write.refresh_from_db()


def finish_stock(actor: User, write: TokenWrite, *, store: UkeyStore | None = None) -> None:
    """Finish putting a Ukey in stock that a crash interrupted (``write`` of kind ``format``,
    its process gone), on the store it recorded (:func:`recorded_store`, or ``store``).
    Idempotent."""
    label = write.key_label
    # Unsealed first: the store the record names is sealed with the SO PIN, so a row edited to
    # name another store (another instance's, the CA's own) is refused before it is opened, and
    # the record stays open (12-06; until then recovery opened it and logged in as its SO).
    recorded = (write.store_module, write.store_conf)
    so_pin = sealing.unseal_ahead(
        sessions.passphrase(), label, bytes(write.so_pin_sealed), recorded
    )
    store = store if store is not None else recorded_store(write)
    try:
        info = token_info(store.module, label, conf=store.conf)
    except TokenNotFound:
        abandon_stock(actor, write, "入库中断：令牌尚未格式化，已放弃")
        return
    if Ukey.objects.filter(model=info.model, serial=info.serial).exists():
        abandon_stock(actor, write, "入库中断：同名令牌已在库存中")
        return
    try:
        # The SO PIN written ahead opens the token (it is the one this record formatted). Its
        # user PIN is kept when formatting set one (``certhall token init``'s operator has it);
        # a kill inside the formatting may have left none: then a fresh one nobody keeps is set,
        # as formatting does.
        if info.user_pin_set:
            check_so_pin(store.module, label, so_pin, conf=store.conf)
        else:
            so_reset_pin(store.module, label, so_pin, random_user_pin(), conf=store.conf)
    except (WrongSoPin, SoPinLocked):
        abandon_stock(actor, write, "入库中断：同名令牌不是本次格式化的，未登记")
        return
    with transaction.atomic():
        locked = TokenWrite.objects.select_for_update().get(pk=write.pk)
        if locked.state == State.OPEN:
            assert locked.provider_id is not None  # noqa: S101 - begin_stock sets it
            stocked(actor, info, so_pin, locked.provider_id, write=locked)
    write.refresh_from_db()


def has_open_write(application: str) -> bool:
    return TokenWrite.objects.filter(Q(application=application), state=State.OPEN).exists()
