"""Ukey inventory services: stock, issuance onto a Ukey, unlock, lifecycle, media replacement.

Every service takes an explicit actor, checks roles and the object's provider, changes the
database in one transaction with its audit event, and records refusals. Token work (PKCS#11)
cannot join a database transaction; the order is chosen so that a failure leaves nothing
half-done that matters:

* ``prepare_stock``: recorded ahead (the label and the SO PIN sealed, ``certhall.ukeys.writes``),
  then formatted, then recorded in stock with the record's close; a crash in between is
  finished by recovery (the token recorded in stock, or the record closed as abandoned);
* ``issue_onto_token``: recorded ahead, step by step (``certhall.ukeys.writes``): the
  certificate is registered before it reaches the token, the hand-over commits with the record's
  close, and a failure or a crash is undone (certificate revoked, key deleted);
* ``unlock``: SO resets the PIN on the token, then the transaction records the state change and
  queues the SMS. If recording fails the token has a PIN nobody knows: unlock again.

The SO PIN is unsealed only inside these functions and goes nowhere but to the token.
"""

from __future__ import annotations

import contextlib
import dataclasses
import secrets
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import transaction

from certhall import clock, crashpoints, ratelimit
from certhall.accounts.models import Organization, Role, User
from certhall.accounts.permissions import require_provider, require_role
from certhall.audit import services as audit
from certhall.ca import renewal as ca_renewal
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.errors import CerthallError, Conflict, Forbidden, InvalidInput, NotFound, quoted
from certhall.lifecycle import transition
from certhall.notify.messages import Kind, render
from certhall.notify.models import SmsMessage
from certhall.notify.services import normalise_phone, send_sms
from certhall.pki.issuance import Subscriber
from certhall.tokens import (
    DEFAULT_MAX_TRIES,
    TokenSession,
    build_csr,
    check_format,
    format_token,
    generate_keypair,
    list_certificates,
    new_key_label,
    pin_status,
    private_key_labels,
    so_reset_pin,
    token_info,
    write_certificate,
)
from certhall.tokens.keys import KEY_SPECS, KeySpec
from certhall.tokens.pin import check_new_pin, random_user_pin
from certhall.ukeys import sealing, sessions, writes
from certhall.ukeys.lifecycle import ACTIONS, UKEYS, Status
from certhall.ukeys.models import SERIAL_LENGTH, TokenWrite, Ukey
from certhall.ukeys.store import UkeyStore

STOCK_ROLES = (Role.ISSUER, Role.CA_ADMIN)
ISSUE_ROLES = (Role.ISSUER, Role.CLERK, Role.CA_ADMIN)
UNLOCK_ROLES = (Role.CLERK, Role.CA_ADMIN)
CHANGE_ROLES = (Role.CLERK, Role.ISSUER, Role.CA_ADMIN)

#: States in which a Ukey's PIN may be reset by the SO.
UNLOCKABLE = (Status.IN_STOCK, Status.ISSUED, Status.LOCKED)
#: Media replacement: why the old Ukey's certificates are revoked.
REPLACEMENT_REASONS = {Status.LOST: "keyCompromise", Status.DAMAGED: "superseded"}


def replacement_cause(reason: str) -> str:
    """The Ukey's 遗失 or 损坏 a certificate revoked by its 介质补办 was revoked for (``reason``:
    its revocation reason)."""
    return next(str(s.label) for s, r in REPLACEMENT_REASONS.items() if r == reason)


UKEY_PREFIX = "ukey"


# --- who sees what: Ukey.objects.visible_to (certhall.accounts.visibility) ------------------


def list_ukeys(actor: User, *, status: str | None = None) -> list[Ukey]:
    query = Ukey.objects.visible_to(actor)
    if status is not None:
        if status not in Status.values:
            raise InvalidInput(
                code="ukey_status_unknown", status=status, choices=", ".join(Status.values)
            )
        query = query.filter(status=status)
    return list(query.select_related("organization").order_by("created_at", "pk"))


def get_ukey(actor: User, serial: str) -> Ukey:
    serial = serial.strip()
    ukey = None
    if len(serial) <= SERIAL_LENGTH:  # a longer one is no Ukey's: not looked up, not echoed
        ukey = Ukey.objects.filter(serial=serial).order_by("pk").first()
    missing = NotFound(code="ukey_unknown", variant="serial", serial=quoted(serial, SERIAL_LENGTH))
    if ukey is None:
        raise missing
    Ukey.objects.require_visible(actor, ukey, missing=missing)
    return ukey


def find_on_store(label: str, *, store: UkeyStore | None = None) -> Ukey:
    """The inventory record of the token labelled ``label`` in the store (by its serial)."""
    target = sessions.store_or_instance(store)
    info = token_info(target.module, label, conf=target.conf)
    ukey = Ukey.objects.filter(model=info.model, serial=info.serial).first()
    if ukey is None:
        raise NotFound(code="ukey_unknown", label=label, serial=info.serial)
    return ukey


# --- the lifecycle -------------------------------------------------------------------------


def report_status(actor: User, ukey: Ukey, target: str) -> Ukey:
    """Record a lifecycle change (a Ukey reported locked, lost, damaged; retired).

    Bookkeeping only, the token is not touched: :func:`issue_onto_token`, :func:`unlock` and
    :func:`replace_medium` do the token work and call this table themselves. Conflict when the
    transition table does not allow it.
    """
    require_role(actor, *CHANGE_ROLES)
    if target not in Status.values:
        raise InvalidInput(
            code="ukey_status_unknown", status=target, choices=", ".join(Status.values)
        )
    action = ACTIONS[Status(target)]
    with audit.refusals_recorded(actor, action, object_type="ukey", object_id=ukey.serial):
        require_provider(actor, ukey.provider_id)
        with transaction.atomic():
            ukey.refresh_from_db()
            extra: dict[str, object] = {}
            if target == Status.RETIRED:
                if ukey.certificates.filter(status="valid").exists():
                    raise Conflict(code="ukey_has_valid_certificates", serial=ukey.serial)
                extra["retired_at"] = clock.now()
            return transition(actor, UKEYS, ukey, target, fields=extra)


# --- stock ---------------------------------------------------------------------------------


#: The most Ukeys one request puts in stock (each is a token formatted on the Ukey store).
STOCK_BATCH = 20
#: Requests a provider's staff may make an hour: 200 Ukeys, a busy day's stock taken in one go,
#: and a bound on what one account can put into the store (every CA's staff stock here).
STOCK_REQUESTS = ratelimit.Limit("ukeys.stock", 10, 3600, "rate_limited_ukey_stock")


def add_stock(actor: User, count: int | None, *, store: UkeyStore | None = None) -> list[Ukey]:
    """``count`` new Ukeys in stock, 1 to :data:`STOCK_BATCH` at a time (``count`` refused
    otherwise, None included: not a number), each under a random label; at most
    :data:`STOCK_REQUESTS` a provider (a refusal is audited once a window)."""
    if count is None or not 1 <= count <= STOCK_BATCH:
        raise InvalidInput(code="count", limit=STOCK_BATCH).naming("count")  # the 入库 form's
    require_role(actor, *STOCK_ROLES)
    with audit.refusals_recorded(
        actor, "ukey.stock", object_type="provider", object_id=actor.provider_id or ""
    ):
        ratelimit.reserve([(STOCK_REQUESTS, f"provider:{actor.provider_id}")])
    return [prepare_stock(actor, f"ukey-{secrets.token_hex(5)}", store=store) for _ in range(count)]


def prepare_stock(
    actor: User,
    label: str,
    *,
    store: UkeyStore | None = None,
    so_pin: str | None = None,
    pin: str | None = None,
) -> Ukey:
    """Format a new Ukey ``label`` in the Ukey store (or ``store``) and record it in stock, its SO
    PIN sealed. The SO PIN is random unless given, and so is the initial user PIN, which nobody
    keeps then (must change; issuance sets the holder's PIN); an operator's own (``certhall token
    init``) stays as given.

    Written ahead (``writes.begin_stock``: the label, the store when not the instance's and the
    SO PIN sealed, committed with its audit event before the token is formatted); the Ukey's
    record closes it. A failure closes it as abandoned; a crash is finished by recovery
    (``writes.finish_stock``). A label or PIN the token would refuse is refused before anything
    is recorded."""
    so_pin = so_pin if so_pin is not None else sealing.random_so_pin()
    must_change = pin is None
    user_pin = pin if pin is not None else random_user_pin()
    check_format(label, so_pin, user_pin)
    with audit.refusals_recorded(actor, "ukey.stock", object_type="ukey", object_id=label):
        require_role(actor, *STOCK_ROLES)  # inside: a refusal on role is audited too
        if actor.provider_id is None:
            raise Forbidden(code="ukey_stock_staff")
        target = sessions.store_or_instance(store)
        write = writes.begin_stock(actor, label, so_pin, actor.provider_id, store=store)
        crashpoints.reached("ukey.stock_begun")
        try:
            info = format_token(
                target.module, label, so_pin, user_pin, conf=target.conf, must_change=must_change
            )
            crashpoints.reached("ukey.stock_formatted")
            with transaction.atomic():
                return writes.stocked(actor, info, so_pin, actor.provider_id, write=write)
        except BaseException:
            with contextlib.suppress(CerthallError):
                writes.abandon_stock(actor, write, "入库失败，已放弃")
            raise


# --- issuance onto a Ukey (制证) ------------------------------------------------------------


def _send_pin(actor: User, phone: str, kind: Kind, serial: str, pin: str) -> SmsMessage:
    text = render(kind, {"ukey": serial, "pin": pin, "tries": DEFAULT_MAX_TRIES}).sms
    return send_sms(phone, text, kind.value, actor=actor)


def _require_empty(session: TokenSession, token: Ukey) -> None:
    """A stock Ukey is proven empty before use: no key, no certificate (what an interrupted
    issuance could have left behind before recovery ran)."""
    if private_key_labels(session) or list_certificates(session):
        raise Conflict(code="ukey_not_empty", serial=token.serial)


def issue_onto_token(
    actor: User,
    token: Ukey,
    profile: str,
    years: int | None,
    subscriber: Subscriber,
    *,
    phone: str,
    organization: Organization | None = None,
    key_type: str = "ec",
    store: UkeyStore | None = None,
    not_after: datetime | None = None,
    application: str = "",
) -> Certificate:
    """制证: issue a certificate onto an in-stock Ukey and hand it over (valid ``years`` from now,
    or until ``not_after``: the old end date a 介质补办 keeps).

    On the token: a fresh random user PIN (SO login, must change), proof that it is empty, a new
    key pair and a CSR signed by it. The steps are recorded ahead (``certhall.ukeys.writes``):
    the certificate is registered before it reaches the token, and the hand-over (Ukey
    ``in_stock -> issued``, the PIN by SMS to ``phone``) commits with the record's close. A
    failure undoes what was done (certificate revoked, key deleted); a crash is undone by
    recovery. Returns the certificate.
    """
    with audit.refusals_recorded(actor, "ukey.issue", object_type="ukey", object_id=token.serial):
        require_role(actor, *ISSUE_ROLES)
        token.refresh_from_db()
        require_provider(actor, token.provider_id)
        if token.status != Status.IN_STOCK:
            raise UKEYS.refusal(token, Status.ISSUED, code="ukey_not_in_stock")
        number = normalise_phone(phone)
        spec = _key_spec(key_type)
        holder = organization or Organization.objects.filter(uscc=subscriber.uscc).first()
        request = ca_services.IssueRequest(
            csr=b"",
            profile=profile,
            years=years,
            subscriber=subscriber,
            organization=holder,
            not_after=not_after,
        )
        with sessions.stock_session(token, store) as (session, pin):
            _require_empty(session, token)
            key_label = new_key_label(session, UKEY_PREFIX)
            write = writes.begin(token, TokenWrite.Kind.STOCK, key_label, application=application)
            crashpoints.reached("ukey.begun")
            try:
                row = sign_and_write(actor, session, write, spec, request)
                with transaction.atomic():
                    _hand_over(actor, token, row, holder, number, pin)
                    writes.finish(actor, write)
            except BaseException:
                with contextlib.suppress(CerthallError):
                    writes.undo(actor, write, session, "制证失败，已回滚")
                raise
    return row


def sign_and_write(
    actor: User,
    session: TokenSession,
    write: TokenWrite,
    spec: KeySpec,
    request: ca_services.IssueRequest,
) -> Certificate:
    """Key pair on the token, certificate registered (with the write), then onto the token."""
    generate_keypair(session, write.key_label, spec)
    crashpoints.reached("ukey.key_made")
    csr = build_csr(session, write.key_label).public_bytes(Encoding.PEM)
    with transaction.atomic():
        row = ca_services.issue(actor, dataclasses.replace(request, csr=csr))
        writes.signed(write, row)
    crashpoints.reached("ukey.signed")
    cert = x509.load_der_x509_certificate(bytes(row.der))
    chain = x509.load_pem_x509_certificates(ca_services.chain_pem())
    write_certificate(session, write.key_label, cert, chain)
    crashpoints.reached("ukey.written")
    return row


def _hand_over(
    actor: User,
    token: Ukey,
    row: Certificate,
    holder: Organization | None,
    phone: str,
    pin: str,
) -> None:
    token.certificates.add(row)
    sms = _send_pin(actor, phone, Kind.PIN, token.serial, pin)
    transition(
        actor,
        UKEYS,
        token,
        Status.ISSUED,
        extra_after={"certificate": row.serial, "sms": sms.pk},
        fields={"organization": holder, "handler_phone": phone, "issued_at": clock.now()},
    )


def _key_spec(key_type: str) -> KeySpec:
    for spec in KEY_SPECS:
        if spec == key_type and spec != "rsa3072":
            return spec
    raise InvalidInput(code="key_type_invalid", known="ec、rsa2048", key_type=key_type)


# --- unlock (解锁) --------------------------------------------------------------------------


def unlock(
    actor: User,
    token: Ukey,
    *,
    phone: str | None = None,
    new_pin: str | None = None,
    store: UkeyStore | None = None,
) -> Ukey:
    """解锁: the SO sets a new user PIN (must be changed on first use) and resets the counter.

    For a locked Ukey (``locked -> issued``), an issued one whose PIN was forgotten, and one in
    stock (formatted by ``certhall token init``, say); those two keep their state. The new PIN
    is random (six digits) and goes by SMS to ``phone`` or the Ukey's handler phone; an operator
    may give ``new_pin`` instead (then the SMS is only sent when a phone is given). The PIN is
    never in the audit log.
    """
    require_role(actor, *UNLOCK_ROLES)
    target = sessions.store_or_instance(store)
    with audit.refusals_recorded(actor, "ukey.unlock", object_type="ukey", object_id=token.serial):
        token.refresh_from_db()
        require_provider(actor, token.provider_id)
        if token.status not in UNLOCKABLE:
            raise UKEYS.refusal(token, Status.ISSUED, code="ukey_not_unlockable")
        number = normalise_phone(phone) if phone else (token.handler_phone or None)
        if new_pin is None and number is None:
            raise InvalidInput(code="phone_missing", serial=token.serial)
        if new_pin is not None:
            check_new_pin(new_pin)
        pin = new_pin if new_pin is not None else random_user_pin()
        sessions.check_token(token, target)
        before = pin_status(target.module, token.label, conf=target.conf)
        # Written ahead: the SO PIN's use is in the chain even if the process dies after the
        # token's reset and before the record below (a retry sets and sends another PIN).
        audit.record(
            actor,
            "ukey.unlock.begin",
            object_type="ukey",
            object_id=token.serial,
            before={
                **token.snapshot(),
                "pin_locked": before.locked,
                "tries_left": before.tries_left,
            },
        )
        crashpoints.reached("ukey.unlock_begun")
        so_reset_pin(target.module, token.label, sessions.so_pin(token), pin, conf=target.conf)
        crashpoints.reached("ukey.pin_reset")
        with transaction.atomic():
            sms_id = None
            if number is not None:
                sms_id = _send_pin(actor, number, Kind.UNLOCK_PIN, token.serial, pin).pk
            extra_before = {"pin_locked": before.locked, "tries_left": before.tries_left}
            extra_after = {"pin_reset": True, "must_change": True, "sms": sms_id}
            if token.status == Status.LOCKED:
                transition(
                    actor,
                    UKEYS,
                    token,
                    Status.ISSUED,
                    action="ukey.unlock",
                    extra_before=extra_before,
                    extra_after=extra_after,
                )
            else:
                audit.record(
                    actor,
                    "ukey.unlock",
                    object_type="ukey",
                    object_id=token.serial,
                    before={**token.snapshot(), **extra_before},
                    after={**token.snapshot(), **extra_after},
                )
    return token


# --- media replacement (介质补办) ------------------------------------------------------------


def replace_medium(actor: User, token: Ukey, cause: str | None = None) -> list[Certificate]:
    """介质补办, first half: the old Ukey is lost or damaged. Revoke every valid certificate on
    it (``keyCompromise`` if lost, ``superseded`` if damaged) and retire it, all or nothing: if
    a revocation fails the Ukey is not retired and no certificate is revoked.

    ``cause`` is ``lost`` or ``damaged``; it may be left out for a Ukey already reported so.
    The new certificate then goes onto a new Ukey with :func:`issue_onto_token`. An online
    renewal whose new certificate was issued onto this Ukey and not finished is closed in the
    same transaction (``ca.renewal.close_on_replacement``). Returns the revoked certificates.
    """
    require_role(actor, *CHANGE_ROLES)
    with audit.refusals_recorded(actor, "ukey.replace", object_type="ukey", object_id=token.serial):
        token.refresh_from_db()
        require_provider(actor, token.provider_id)
        reported = Status(token.status) if token.status in REPLACEMENT_REASONS else None
        if cause is None:
            if reported is None:
                raise InvalidInput(code="cause_missing")
            cause = reported
        if cause not in REPLACEMENT_REASONS:
            raise InvalidInput(code="cause_invalid", cause=cause)
        status = Status(cause)
        if reported is not None and reported != status:
            raise Conflict(
                code="ukey_reported_otherwise",
                serial=token.serial,
                reported=reported.label,
                cause=status.label,
            )
        if token.status not in (Status.ISSUED, Status.LOCKED) and reported is None:
            raise UKEYS.refusal(token, status)
        reason = REPLACEMENT_REASONS[status]
        with transaction.atomic():
            if reported is None:
                transition(actor, UKEYS, token, status)
            revoked = []
            for cert in token.certificates.filter(status=Certificate.Status.VALID).order_by("pk"):
                revoked.append(ca_services.revoke(actor, cert.serial, reason))
            ca_renewal.close_on_replacement(actor, token, str(status.label))
            transition(
                actor,
                UKEYS,
                token,
                Status.RETIRED,
                action="ukey.replace",
                extra_after={"revoked": [c.serial for c in revoked], "reason": reason},
                fields={"retired_at": clock.now()},
            )
    return revoked
