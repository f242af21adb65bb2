"""Issuance (制证) of an approved application, and delivery.

Per business:

* 新办: a new Ukey from stock, ``ukeys.issue_onto_token`` (new key on the token, CSR, CA core,
  certificate and chain written back, PIN to the handler by SMS);
* 介质补办: ``ukeys.replace_medium`` (revokes the old certificate — keyCompromise when lost,
  superseded when damaged — and retires the old Ukey), then a new Ukey from stock as for 新办;
* 续期 / 变更: a new key on the customer's own Ukey (the customer types the PIN at the counter),
  the new certificate written to it, the old one revoked (superseded / affiliationChanged) and
  its key removed. 变更 and 续期 of one certificate in one visit give one new certificate;
* 解锁: ``ukeys.unlock`` (SO resets the PIN; a random PIN by SMS, or the PIN the customer chose);
* 吊销: ``ca.services.revoke`` at once, with the customer's reason.

The application is claimed first (``approved -> issuing``, committed): of two simultaneous
issuances one proceeds and the other is refused before touching a token. Token work cannot join
a database transaction; each line is recorded as done as soon as its certificate exists, so a
failure half-way goes back to ``approved`` and a retry continues with the lines not done.
On site the Ukey is handed over at once (领取方式：自取): ``issued -> delivered``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping
from datetime import datetime

from cryptography import x509
from django.db import transaction

from certhall import clock, crashpoints
from certhall.accounts.models import Organization, User
from certhall.accounts.permissions import require_different_person
from certhall.audit import services as audit
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.errors import CerthallError, Conflict, InvalidInput
from certhall.hall import access, notices, renewal, workflow
from certhall.hall.models import (
    Application,
    ApplicationItem,
    Business,
    Channel,
    Delivery,
)
from certhall.hall.states import APPLICATIONS, State
from certhall.messages import text
from certhall.pki import identity
from certhall.pki.issuance import Subscriber
from certhall.tokens import (
    check_pin_length,
    delete_key_pair,
    key_label_for,
    new_key_label,
    token_info,
    user_login,
)
from certhall.tokens.keys import KeySpec
from certhall.ukeys import services as ukeys
from certhall.ukeys import writes
from certhall.ukeys.lifecycle import Status as UkeyStatus
from certhall.ukeys.models import TokenWrite, Ukey
from certhall.ukeys.store import UkeyStore, instance_store

#: The order lines are worked in: a PIN reset before a new key on the same Ukey.
ORDER = (
    Business.UNLOCK,
    Business.CHANGE,
    Business.RENEW,
    Business.REPLACE,
    Business.NEW,
    Business.REVOKE,
)
FROM_STOCK = frozenset({Business.NEW, Business.REPLACE})
REKEY = frozenset({Business.CHANGE, Business.RENEW})
KEY_TYPES = ("ec", "rsa2048")
TRACKING = re.compile(r"[A-Za-z0-9-]{6,40}")


def _pending(lines: list[ApplicationItem]) -> list[ApplicationItem]:
    return sorted(
        (line for line in lines if line.done_at is None),
        key=lambda line: (ORDER.index(Business(line.business)), line.pk),
    )


def _stock_tokens(
    actor: User, lines: list[ApplicationItem], tokens: Mapping[int, str]
) -> dict[int, Ukey]:
    """The Ukey from stock for each line that needs one, checked before anything is done."""
    chosen: dict[int, Ukey] = {}
    # lines are numbered 1..n in the order the customer and the counter see them
    positions = {line.pk: n for n, line in enumerate(sorted(lines, key=lambda x: x.pk), 1)}
    for line in _pending(lines):
        if line.business not in FROM_STOCK:
            continue
        serial = tokens.get(line.pk)
        if not serial and line.token is not None:
            serial = line.token.serial  # a retry: the Ukey chosen the first time
        if not serial:
            raise InvalidInput(
                code="token_missing",
                position=positions[line.pk],
                label=Business(line.business).label,
            )
        ukey = ukeys.get_ukey(actor, serial)
        if ukey.status != UkeyStatus.IN_STOCK and not _finished_on(line, ukey):
            raise Conflict(code="ukey_not_in_stock", variant="serial", serial=ukey.serial)
        if any(other.pk == ukey.pk for other in chosen.values()):
            raise InvalidInput(code="ukey_twice", serial=ukey.serial)
        chosen[line.pk] = ukey
    return chosen


def _finished_on(line: ApplicationItem, ukey: Ukey) -> Certificate | None:
    """A certificate an interrupted earlier attempt already put on ``ukey`` for ``line``."""
    if line.token_id != ukey.pk or ukey.status != UkeyStatus.ISSUED:
        return None
    approved_at = line.application.approved_at
    certs = ukey.certificates.filter(status=Certificate.Status.VALID, profile=line.cert_type)
    if approved_at is not None:
        certs = certs.filter(created_at__gte=approved_at)
    return certs.order_by("-pk").first()


def _check_pin(lines: list[ApplicationItem], pin: str | None) -> None:
    """The customer's PIN a 续期/变更 logs in with: there, and of a length the Ukey takes (before
    the claim for issuance: a refusal costs no try and leaves no failed issuance behind)."""
    if not any(line.business in REKEY for line in _pending(lines)):
        return
    if pin is None:
        raise InvalidInput(code="pin_missing", variant="renewal")
    check_pin_length(pin)


def issue_application(
    actor: User,
    number: str,
    *,
    tokens: Mapping[int, str] | None = None,
    pin: str | None = None,
    store: UkeyStore | None = None,
    key_type: str = "ec",
) -> Application:
    """制证: do every business line of an approved application.

    ``tokens``: line id -> serial of the Ukey from stock for 新办 and 介质补办 lines. ``pin``:
    the PIN of the customer's own Ukey for 续期 / 变更 (with 解锁 in the same visit: the new PIN
    the customer chose). ``store``: where the Ukeys are reached (default: the instance's).
    """
    with audit.refusals_recorded(
        actor, "hall.application.issue", object_type="application", object_id=number
    ):
        application = access.load(actor, number)
        onsite = application.channel == Channel.ONSITE
        lines = _lines(application)
        pending = {line.business for line in _pending(lines)}
        # every line's role before anything starts: a refusal never reaches the history
        access.require_staff(actor, application, *access.issue_roles(application.channel, pending))
        # the reviewer who approved is not who makes the certificate (a CA admin may do both)
        require_different_person(actor, application.approved_by_id, "制证", did="审核通过")
        if key_type not in KEY_TYPES:
            raise InvalidInput(code="key_type", choices=" 或 ".join(KEY_TYPES))
        if application.is_online_renewal:
            raise Conflict(code="online_renewal")
        if application.state != State.APPROVED:
            raise APPLICATIONS.refusal(application, State.ISSUING)
        stock = _stock_tokens(actor, lines, tokens or {})
        pin = pin or None  # an empty field is no PIN, never a wrong one tried on the Ukey
        _check_pin(lines, pin)
        with workflow.issuing(actor, number, "hall.issuing", "history_issue_failed") as application:
            _perform(actor, application, stock, pin, store or instance_store(), key_type)
        with transaction.atomic():
            application.refresh_from_db()
            serials = [
                line.result_certificate.serial
                for line in _lines(application)
                if line.result_certificate is not None
            ]
            now = clock.now()
            workflow.issued(actor, application, serials, now)
            if onsite:
                workflow.delivered(
                    actor, application, text("history_delivered_onsite"), delivered_at=now
                )
    return application


def _lines(application: Application) -> list[ApplicationItem]:
    return list(
        application.items.select_related(
            "application", "target_certificate", "token", "old_token", "result_certificate"
        ).order_by("pk")
    )


def _perform(
    actor: User,
    application: Application,
    stock: dict[int, Ukey],
    pin: str | None,
    store: UkeyStore,
    key_type: str,
) -> None:
    for line in _pending(_lines(application)):
        line.refresh_from_db()
        if line.done_at is not None:
            continue  # done together with another line (变更 + 续期)
        business = Business(line.business)
        if business == Business.UNLOCK:
            _unlock(actor, application, line, pin, store)
        elif business in REKEY:
            _rekey(actor, application, line, pin, store, key_type)
        elif business == Business.REPLACE:
            _replace(actor, application, line, stock[line.pk], store, key_type)
        elif business == Business.NEW:
            _new(actor, application, line, stock[line.pk], store, key_type)
        else:
            _revoke(actor, line)


def _done(actor: User, line: ApplicationItem, cert: Certificate | None) -> None:
    """Record a line as done (the caller may hold the transaction of the work itself)."""
    with transaction.atomic():
        changed = ApplicationItem.objects.filter(pk=line.pk, done_at__isnull=True).update(
            result_certificate=cert, done_at=clock.now()
        )
        if changed:
            audit.record(
                actor,
                "hall.item.done",
                object_type="application",
                object_id=line.application.number,
                after={
                    "item": line.pk,
                    "business": line.business,
                    "certificate": cert.serial if cert is not None else None,
                },
            )
    line.refresh_from_db()


def _subscriber(line: ApplicationItem) -> Subscriber:
    """Who ``line``'s new certificate is for. A 变更 in the application renames the
    organisation for every certificate the application issues, not only the changed one."""
    changed = line.application.items.filter(business=Business.CHANGE).first()
    return Subscriber(
        org_name=changed.org_name if changed is not None else line.org_name,
        uscc=line.uscc,
        person_name=line.person_name or None,
        id_number=line.person_id_number or None,
    )


def _handler_phone(application: Application) -> str:
    if application.handler is None:
        raise InvalidInput(code="handler_missing", variant="issuance")
    return application.handler.phone


def _from_stock(
    actor: User,
    application: Application,
    line: ApplicationItem,
    token: Ukey,
    years: int | None,
    store: UkeyStore,
    key_type: str,
    not_after: datetime | None = None,
) -> Certificate:
    finished = _finished_on(line, token)
    if finished is not None:
        return finished
    ApplicationItem.objects.filter(pk=line.pk).update(token=token)
    line.token = token
    return ukeys.issue_onto_token(
        actor,
        token,
        line.cert_type,
        years,
        _subscriber(line),
        phone=_handler_phone(application),
        organization=application.organization,
        key_type=key_type,
        store=store,
        not_after=not_after,
        application=application.number,
    )


def _new(
    actor: User,
    application: Application,
    line: ApplicationItem,
    token: Ukey,
    store: UkeyStore,
    key_type: str,
) -> None:
    years = line.years or 1
    cert = _from_stock(actor, application, line, token, years, store, key_type)
    _done(actor, line, cert)


def _replace(
    actor: User,
    application: Application,
    line: ApplicationItem,
    token: Ukey,
    store: UkeyStore,
    key_type: str,
) -> None:
    old = line.old_token
    target = line.target_certificate
    assert old is not None and target is not None  # noqa: S101 - guaranteed by items.build
    old.refresh_from_db()
    if old.status != UkeyStatus.RETIRED:
        ukeys.replace_medium(actor, old, line.replace_cause or None)
        crashpoints.reached("ukey.replaced")
    # 介质补办 replaces the medium, not the term: the new certificate keeps the old end date.
    cert = _from_stock(actor, application, line, token, None, store, key_type, target.not_after)
    with transaction.atomic():
        Ukey.objects.filter(pk=old.pk).update(replaced_by=token)
        _done(actor, line, cert)


def _unlock(
    actor: User,
    application: Application,
    line: ApplicationItem,
    pin: str | None,
    store: UkeyStore,
) -> None:
    assert line.token is not None  # noqa: S101 - guaranteed by items.build
    ukeys.unlock(
        actor,
        line.token,
        phone=_handler_phone(application) if pin is None else None,
        new_pin=pin,
        store=store,
    )
    _done(actor, line, None)


def _revoke(actor: User, line: ApplicationItem) -> None:
    target = line.target_certificate
    assert target is not None  # noqa: S101 - guaranteed by items.build
    target.refresh_from_db()
    if target.status == Certificate.Status.VALID:
        ca_services.revoke(actor, target.serial, line.revocation_reason)
    _done(actor, line, None)


def _rekey(
    actor: User,
    application: Application,
    line: ApplicationItem,
    pin: str | None,
    store: UkeyStore,
    key_type: str,
) -> None:
    """续期 / 变更 on the customer's own Ukey (both at once when both are asked for)."""
    token, target = line.token, line.target_certificate
    assert token is not None and target is not None and pin is not None  # noqa: S101
    group = [
        other
        for other in application.items.filter(target_certificate=target, done_at__isnull=True)
        if other.business in REKEY
    ]
    change = next((g for g in group if g.business == Business.CHANGE), None)
    years, not_after = _rekey_term(group, target)
    subscriber = _subscriber(line)
    reason = "affiliationChanged" if change is not None else "superseded"
    token.refresh_from_db()
    info = token_info(store.module, token.label, conf=store.conf)
    if (info.model, info.serial) != (token.model, token.serial):
        raise Conflict(code="ukey_mismatch", serial=info.serial, serial_2=token.serial)
    old_key = x509.load_der_x509_certificate(bytes(target.der)).public_key()
    request = ca_services.IssueRequest(
        csr=b"",
        profile=line.cert_type,
        years=years,
        subscriber=subscriber,
        organization=application.organization,
        not_after=not_after,
    )
    with user_login(
        store.module, token.label, pin, conf=store.conf, allow_must_change=True
    ) as session:
        key_label = new_key_label(session, ukeys.UKEY_PREFIX)
        write = writes.begin(
            token, TokenWrite.Kind.REKEY, key_label, application=application.number
        )
        try:
            spec: KeySpec = "ec" if key_type == "ec" else "rsa2048"
            row = ukeys.sign_and_write(actor, session, write, spec, request)
            with transaction.atomic():
                token.certificates.add(row)
                ca_services.revoke(actor, target.serial, reason)
                if change is not None:
                    _rename(actor, application.organization, change.org_name)
                audit.record(
                    actor,
                    "hall.ukey.rekey",
                    object_type="ukey",
                    object_id=token.serial,
                    after={
                        "old": target.serial,
                        "new": row.serial,
                        "key_label": key_label,
                        "revocation_reason": reason,
                        "application": application.number,
                    },
                )
                for member in group:
                    _done(actor, member, row)
                writes.finish(actor, write)
        except BaseException:
            with contextlib.suppress(CerthallError):
                writes.undo(actor, write, session, "换证失败，已回滚")
            raise
        # The revoked certificate's key is of no use any more.
        with contextlib.suppress(CerthallError):
            delete_key_pair(session, key_label_for(session, old_key))


def _rekey_term(group: list[ApplicationItem], target: Certificate) -> tuple[int | None, datetime]:
    """续期 keeps what is left and adds the paid years; 变更 alone keeps the old end date."""
    renew = next((g for g in group if g.business == Business.RENEW), None)
    if renew is not None and renew.years:
        return renew.years, ca_services.renewal_end(target, renew.years, clock.now())
    return None, target.not_after


def _rename(actor: User, organization: Organization, name: str) -> None:
    """变更 of the organisation's name: the registered name follows the new licence."""
    if not name or name == organization.name:
        return
    before = organization.name
    Organization.objects.filter(pk=organization.pk).update(name=name)
    organization.name = name
    audit.record(
        actor,
        "hall.organization.rename",
        object_type="organization",
        object_id=organization.pk,
        before={"name": before},
        after={"name": name},
    )


# --- delivery ------------------------------------------------------------------------------


def deliver(
    actor: User, number: str, *, tracking_number: str = "", carrier: str = ""
) -> Application:
    """An issued online application leaves the CA: mailed with a tracking number (the handler
    is told by SMS) or picked up at the chosen service point."""
    with access.locked(actor, number, "hall.application.deliver") as application:
        access.require_staff(actor, application, *access.DELIVERY_ROLES)
        fields: dict[str, object] = {"delivered_at": clock.now()}
        reason = text("history_delivered_pickup")
        if application.is_online_renewal:
            raise Conflict(code="online_renewal", variant="handover")
        if application.delivery == Delivery.MAIL:
            tracking = tracking_number.strip()
            if not TRACKING.fullmatch(tracking):
                raise InvalidInput(code="tracking")
            fields["tracking_number"] = tracking
            fields["carrier"] = identity.visible_text(carrier.strip(), 32, "快递公司") or "快递"
            reason = text("history_delivered_mail", carrier=fields["carrier"], tracking=tracking)
        workflow.delivered(actor, application, reason, **fields)
        if application.delivery == Delivery.MAIL:
            notices.mailed(actor, application)
    return application


def recover(actor: User) -> list[str]:
    """Finish what a crash interrupted: undo every abandoned issuance onto a Ukey
    (``certhall.ukeys.writes.recover``), then put every application whose issuing process is
    gone back to ``approved``, where it can be issued again (lines already done stay done).
    Returns the numbers of the applications put back. Run at start-up, by the jobs and by
    ``certhall ukeys recover``."""
    writes.recover(actor)
    now = clock.now()
    back = []
    for application in Application.objects.filter(state=State.ISSUING):
        if writes.has_open_write(application.number):
            continue  # still being issued by a live process
        if not writes.abandoned(application.issuing_owner, application.updated_at, now):
            continue
        with transaction.atomic():
            workflow.put_back(
                actor, application, text("history_issuing_recovered"), issuing_owner=""
            )
            # An online renewal whose Ukey's 介质补办 closed the renewal meanwhile is over.
            renewal.end_if_replaced(actor, application)
        back.append(application.number)
    return back
