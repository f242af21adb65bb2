"""The process the crash tests kill: ``python -m tests.ukeys.crash_scenario COMMAND`` against an
instance home (``CERTHALL_HOME``, set up with ``certhall setup --demo``).

* ``prepare N``: N approved online 新办 applications of the demo enterprise; prints their numbers;
* ``issue NUMBER SERIAL``: the issuer issues NUMBER onto the stock Ukey SERIAL (with
  ``CERTHALL_CRASH_PAUSE`` set, the process stops at that point and is killed there);
* ``inspect NUMBER SERIAL``: JSON of what the registry, the Ukey and its token hold.

介质补办 (media replacement, at the counter):

* ``prepare-replace [SERIAL]``: a counter application replacing the demo's own Ukey
  (``certhall setup --demo`` issued a 机构个人证书 onto it), reported lost, paid and approved,
  for its certificate SERIAL (default: the demo's one); prints ``{"number", "old_ukey",
  "target"}``;
* ``issue NUMBER SERIAL`` as above (the demo clerk issues on-site applications).

Online renewal (网上续期) of the demo's own certificate onto a new key on the same Ukey:

* ``prepare-renewal``: the customer changes the Ukey's first PIN (as the helper makes them),
  starts the renewal and pays; prints ``{"number", "serial", "ukey"}``;
* ``renew NUMBER``: the certificate helper's part (``agent.ukey.Ukeys``: the new key on the
  Ukey, the old key's signature, writing the new certificate) and the hall's (the request, the
  confirmation), in one process, so that a crash point kills the server's side mid-step;
* ``request-renewal NUMBER``: the helper's signed request only: the new certificate is issued
  and never written (the Ukey is lost then);
* ``inspect-renewal NUMBER``: JSON of the application, the renewal, the registry and the Ukey.

解锁 (unlock at the counter) of the demo's own Ukey:

* ``unlock``: the demo clerk unlocks it, the new PIN sent by SMS to the demo handler;
* ``inspect-unlock``: JSON of the Ukey's state, its unlock events and SMS, its PIN state, and
  whether the newest unlock SMS's PIN (if any) logs in.

Putting a Ukey in stock (入库):

* ``stock LABEL``: the demo issuer formats a new Ukey LABEL on the instance's Ukey store and
  records it in stock (``ukeys.services.prepare_stock``);
* ``inspect-stock LABEL [CONF [SO_PIN PIN]]``: JSON of the token under LABEL (its serial) on
  the instance's Ukey store (or the SoftHSM2 store CONF), the inventory records of that label,
  the store's tokens no record holds, the label's write-ahead records (and the store they
  recorded) and their audit events, and what a session opened with the record's sealed SO PIN
  finds on the token; with the operator's SO_PIN and PIN (``certhall token init``), what a
  session with that PIN finds instead, without changing the token, whether each PIN opens it
  and whether the record sealed that SO PIN.

Each command then checks the audit chain when asked (``tests.support.crash_scenario``'s
``verify_audit``).
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.support.crash_scenario import verify_audit

PHONE = "13800138000"  # the demo handler's (and tests.hall's)


def _setup() -> None:
    import django

    django.setup()


def prepare(count: int) -> None:
    from certhall.accounts.models import Handler, User
    from certhall.hall import review, services
    from tests.hall.conftest import HANDLER_ID, online_draft, pay_online

    applicant = User.objects.get(username="demo-applicant")
    reviewer = User.objects.get(username="demo-reviewer")
    handler, _ = Handler.objects.get_or_create(
        organization=applicant.organization,
        id_number=HANDLER_ID,
        defaults={"name": "李四", "id_kind": Handler.IdKind.RESIDENT_ID, "phone": PHONE},
    )
    numbers = []
    for _ in range(count):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
        review.approve(reviewer, draft.number)
        numbers.append(draft.number)
    print(json.dumps(numbers))


def issue(number: str, serial: str) -> None:
    from certhall.accounts.models import User
    from certhall.hall import issuance
    from certhall.hall.models import Application, Channel

    application = Application.objects.get(number=number)
    onsite = application.channel == Channel.ONSITE
    issuer = User.objects.get(username="demo-clerk" if onsite else "demo-issuer")
    line = application.items.get()
    issuance.issue_application(issuer, number, tokens={line.pk: serial})


def _demo_certificate() -> tuple[Any, Any]:
    """The demo organisation's 机构个人证书 and the Ukey it is on (``certhall setup --demo``)."""
    from certhall.ca.models import Certificate
    from certhall.ukeys.models import Ukey

    cert = Certificate.objects.get(profile="personal", status="valid", uscc="91350100M000100Y43")
    return cert, Ukey.objects.get(certificates=cert)


def prepare_replace(serial: str = "") -> None:
    from unittest import mock

    from certhall.accounts.models import Handler, User
    from certhall.ca.models import Certificate
    from certhall.hall import counter, documents, payment, review, services
    from certhall.hall.items import ItemRequest
    from certhall.ukeys.models import Ukey

    if serial:
        cert = Certificate.objects.get(serial=serial)
        ukey = Ukey.objects.get(certificates=cert)
    else:
        cert, ukey = _demo_certificate()
    clerk = User.objects.get(username="demo-clerk")
    handler = Handler.objects.get(organization__uscc=cert.uscc, phone=PHONE)
    # The counter's opening hours are not what this is about: the test runs at any hour.
    with mock.patch("certhall.rules.quote._point_refusals", return_value=[]):
        draft = counter.open_application(
            clerk,
            point="kejiyuan",
            customer=counter.Customer(uscc=cert.uscc),
            handler_id=handler.pk,
        )
        services.add_item(
            clerk,
            draft.number,
            ItemRequest(business="replace", serial=cert.serial, replace_cause="lost"),
        )
        for kind in documents.required(draft, list(draft.items.all())):
            documents.check_at_counter(clerk, draft.number, kind, original_seen=True)
        services.submit(clerk, draft.number)
        payment.take_counter_payment(clerk, draft.number, method="cash")
    review.approve(User.objects.get(username="demo-reviewer"), draft.number)
    print(json.dumps({"number": draft.number, "old_ukey": ukey.serial, "target": cert.serial}))


CUSTOMER_PIN = "135790"


def _helper(number: str) -> tuple[Any, Any]:
    """The certificate helper's view of the instance's Ukeys, and the certificate that
    application ``number`` renews, on its Ukey."""
    from certhall.agent.ukey import Ukeys
    from certhall.hall.models import Application
    from certhall.ukeys.store import instance_store

    line = Application.objects.get(number=number).items.get()
    assert line.target_certificate is not None
    store = instance_store()
    helper = Ukeys(store.module, store.conf)
    # the old certificate; once the renewal finished and the helper removed it, the new one
    wanted = [line.target_certificate.serial]
    if line.result_certificate is not None:
        wanted.append(line.result_certificate.serial)
    entries = {e.serial: e for e in helper.list_certificates()}
    return helper, next(entries[serial] for serial in wanted if serial in entries)


def prepare_renewal() -> None:
    import re

    from certhall.accounts.models import User
    from certhall.hall import renewal
    from certhall.notify.models import SmsMessage
    from certhall.tokens import change_pin
    from certhall.ukeys.store import instance_store
    from tests.hall.conftest import pay_online

    cert, ukey = _demo_certificate()
    sms = SmsMessage.objects.filter(text__contains=ukey.serial).order_by("-pk").first()
    found = re.search(r"PIN码）为(\d{6})", sms.text if sms is not None else "")
    assert found is not None, "the Ukey's first PIN is in the outbox"
    first_pin = found.group(1)
    store = instance_store()
    change_pin(store.module, ukey.label, first_pin, CUSTOMER_PIN, conf=store.conf)
    applicant = User.objects.get(username="demo-applicant")
    application = renewal.start(applicant, cert.serial, 1)
    pay_online(application.number, applicant)
    print(json.dumps({"number": application.number, "serial": cert.serial, "ukey": ukey.serial}))


def request_renewal(number: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from certhall import config
    from certhall.accounts.models import User
    from certhall.hall import renewal

    applicant = User.objects.get(username="demo-applicant")
    helper, entry = _helper(number)
    origin = config.get().base_url
    with helper.login(entry, CUSTOMER_PIN) as session:
        prep = helper.prepare_renewal(session, entry, origin, 1)
    csr = x509.load_pem_x509_csr(prep.csr_pem).public_bytes(Encoding.DER)
    renewal.request_renewal(applicant, number, csr=csr, signature=prep.signature, origin=origin)


def renew(number: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    from certhall import config
    from certhall.accounts.models import User
    from certhall.hall import renewal

    applicant = User.objects.get(username="demo-applicant")
    helper, entry = _helper(number)
    origin = config.get().base_url
    with helper.login(entry, CUSTOMER_PIN) as session:
        prep = helper.prepare_renewal(session, entry, origin, 1)
        csr = x509.load_pem_x509_csr(prep.csr_pem).public_bytes(Encoding.DER)
        done = renewal.request_renewal(
            applicant, number, csr=csr, signature=prep.signature, origin=origin
        )
        new = done.new_certificate
        assert new is not None
        helper.install(session, entry, bytes(new.der))
        renewal.confirm_installed(applicant, number)
        helper.finish_renewal(session, entry)


def inspect_renewal(number: str) -> None:
    from certhall.ca.models import Certificate
    from certhall.certlogin.models import Renewal
    from certhall.hall.models import Application
    from certhall.tokens import private_key_labels

    application = Application.objects.get(number=number)
    line = application.items.get()
    old = line.target_certificate
    helper, entry = _helper(number)
    with helper.login(entry, CUSTOMER_PIN) as session:
        keys = sorted(private_key_labels(session))
    on_token = sorted(e.serial for e in helper.list_certificates() if not e.is_ca)
    print(
        json.dumps(
            {
                "state": application.state,
                "issuing_owner": application.issuing_owner,
                "renewals": list(
                    Renewal.objects.filter(old_certificate=old).values_list("state", flat=True)
                ),
                "result": line.result_certificate.serial if line.result_certificate else None,
                "certificates": [
                    [c.serial, c.status, c.revocation_reason]
                    for c in Certificate.objects.filter(profile="personal").order_by("pk")
                ],
                "keys": keys,
                "on_token": on_token,
            }
        )
    )


def inspect(number: str, serial: str) -> None:
    from certhall.ca.models import Certificate
    from certhall.hall.models import Application
    from certhall.tokens import list_certificates, private_key_labels
    from certhall.ukeys import sessions
    from certhall.ukeys.models import TokenWrite, Ukey

    application = Application.objects.get(number=number)
    ukey = Ukey.objects.get(serial=serial)
    on_token: dict[str, int] = {}
    if ukey.status == "in_stock":
        with sessions.stock_session(ukey) as (session, _pin):
            on_token = {
                "keys": len(private_key_labels(session)),
                "certificates": len(list_certificates(session)),
            }
    writes = TokenWrite.objects.filter(application=number)
    old = application.items.get().old_token
    print(
        json.dumps(
            {
                "state": application.state,
                "ukey": ukey.status,
                "on_token": on_token,
                "open_writes": writes.filter(state="open").count(),
                "writes": list(writes.values_list("state", flat=True)),
                "certificates": [
                    [c.serial, c.status, c.revocation_reason]
                    for c in Certificate.objects.filter(profile="personal").order_by("pk")
                ],
                "on_ukey": list(ukey.certificates.values_list("serial", flat=True)),
                "ends": {
                    c.serial: c.not_after.isoformat()
                    for c in Certificate.objects.filter(profile="personal")
                },
                "old_ukey": [old.status, old.replaced_by.serial if old.replaced_by else None]
                if old is not None
                else None,
            }
        )
    )


def unlock() -> None:
    from certhall.accounts.models import User
    from certhall.ukeys import services

    _cert, ukey = _demo_certificate()
    services.unlock(User.objects.get(username="demo-clerk"), ukey, phone=PHONE)


def inspect_unlock() -> None:
    import re

    from certhall.audit.models import AuditEvent
    from certhall.notify.models import SmsMessage
    from certhall.tokens import PinError, pin_status, user_login
    from certhall.ukeys.store import instance_store

    _cert, ukey = _demo_certificate()
    store = instance_store()

    def logs_in(kind: str) -> str | None:
        """What logging in with the PIN of the newest SMS of ``kind`` about the Ukey says."""
        sms = SmsMessage.objects.filter(kind=kind, text__contains=ukey.serial).last()
        if sms is None:
            return None
        found = re.search(r"\d{6}", sms.text.split(ukey.serial)[-1])
        assert found is not None, sms.text
        try:
            user_login(store.module, ukey.label, found.group(0), conf=store.conf).close()
        except PinError as error:
            return error.code
        return "ok"

    status = pin_status(store.module, ukey.label, conf=store.conf)  # before any try below
    events = AuditEvent.objects.filter(object_type="ukey", object_id=ukey.serial)
    print(
        json.dumps(
            {
                "ukey": ukey.status,
                "events": list(
                    events.filter(action__startswith="ukey.unlock")
                    .order_by("seq")
                    .values_list("action", flat=True)
                ),
                "sms": SmsMessage.objects.filter(kind="ukey.unlock_pin").count(),
                "pin": [status.locked, status.tries_left, status.must_change],
                # the PIN sent at issuance (the customer never changed it), then the unlock's
                "first_pin": logs_in("ukey.pin"),
                "unlock_pin": logs_in("ukey.unlock_pin"),
            }
        )
    )


def stock(label: str) -> None:
    from certhall.accounts.models import User
    from certhall.ukeys import services

    services.prepare_stock(User.objects.get(username="demo-issuer"), label)


def inspect_stock(label: str, conf: str = "", so_pin: str = "", pin: str = "") -> None:
    from pathlib import Path

    from django.db.models import Q

    from certhall.audit.models import AuditEvent
    from certhall.errors import TokenError
    from certhall.tokens import (
        PinError,
        check_so_pin,
        list_certificates,
        list_tokens,
        private_key_labels,
        user_login,
    )
    from certhall.ukeys import sessions
    from certhall.ukeys.models import TokenWrite, Ukey
    from certhall.ukeys.store import UkeyStore, instance_store

    store = UkeyStore(instance_store().module, Path(conf)) if conf else instance_store()
    on_store = {t.label: t.serial for t in list_tokens(store.module, conf=store.conf)}
    records = list(Ukey.objects.filter(label=label).order_by("pk"))
    recorded = set(Ukey.objects.values_list("serial", flat=True))
    writes = TokenWrite.objects.filter(kind="format", key_label=label).order_by("pk")
    found: dict[str, int] | None = None
    pins: dict[str, object] = {}
    if so_pin and label in on_store:
        # the operator's PINs (certhall token init), tried without changing the token: the user
        # PIN logs in, the SO PIN opens it as SO, and the record sealed that SO PIN
        try:
            with user_login(store.module, label, pin, conf=store.conf) as session:
                found = {
                    "keys": len(private_key_labels(session)),
                    "certificates": len(list_certificates(session)),
                }
            pins["user"] = "ok"
        except PinError as error:
            pins["user"] = error.code
        try:
            check_so_pin(store.module, label, so_pin, conf=store.conf)
            pins["so"] = "ok"
        except TokenError as error:
            pins["so"] = error.code
        pins["sealed"] = len(records) == 1 and sessions.so_pin(records[0]) == so_pin
    elif len(records) == 1 and label in on_store:
        # the SO PIN sealed in the record logs in as SO and sets a user PIN (what issuance does)
        with sessions.stock_session(records[0], store) as (session, _pin):
            found = {
                "keys": len(private_key_labels(session)),
                "certificates": len(list_certificates(session)),
            }
    events = AuditEvent.objects.filter(
        Q(object_type="token_write", object_id__in=[str(w.pk) for w in writes])
        | Q(object_type="ukey", object_id__in=[u.serial for u in records]),
        action__startswith="ukey.stock",
    ).order_by("seq")
    print(
        json.dumps(
            {
                "token": on_store.get(label),
                "ukeys": [[u.serial, u.status] for u in records],
                "unrecorded": sorted(s for s in on_store.values() if s not in recorded),
                "writes": [[w.state, w.ukey.serial if w.ukey else None] for w in writes],
                "store": [[w.store_module, w.store_conf] for w in writes],
                "events": [[e.action, e.result] for e in events],
                "on_token": found,
                **({"pins": pins} if so_pin else {}),
            }
        )
    )


if __name__ == "__main__":
    _setup()
    command, *args = sys.argv[1:]
    if command == "prepare":
        prepare(int(args[0]))
    elif command == "issue":
        issue(*args)
    elif command == "inspect":
        inspect(*args)
    elif command == "prepare-replace":
        prepare_replace(*args)
    elif command == "request-renewal":
        request_renewal(*args)
    elif command == "prepare-renewal":
        prepare_renewal()
    elif command == "renew":
        renew(*args)
    elif command == "inspect-renewal":
        inspect_renewal(*args)
    elif command == "unlock":
        unlock()
    elif command == "inspect-unlock":
        inspect_unlock()
    elif command == "stock":
        stock(*args)
    elif command == "inspect-stock":
        inspect_stock(*args)
    else:
        raise SystemExit(f"unknown command {command}")
    verify_audit()
