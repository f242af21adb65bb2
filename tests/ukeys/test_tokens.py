"""Ukey services against real SoftHSM2 tokens: issuance, unlock, media replacement (stock:
``test_stock.py``)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certhall.accounts.models import Organization, Role, User
from certhall.audit.models import AuditEvent
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.errors import (
    CerthallError,
    Conflict,
    Forbidden,
    InvalidInput,
    TokenError,
)
from certhall.notify.messages import Kind, render
from certhall.notify.models import SmsMessage
from certhall.tokens import (
    PinError,
    change_pin,
    list_certificates,
    list_objects,
    pin_status,
    user_login,
)
from certhall.tokens import objects as token_objects
from certhall.ukeys import sealing, services, sessions
from certhall.ukeys.lifecycle import Status
from certhall.ukeys.models import TokenWrite, Ukey
from certhall.ukeys.store import UkeyStore
from tests.ukeys.conftest import ORG, PERSON, PHONE, assert_secret_nowhere

pytestmark = pytest.mark.softhsm

PIN_IN_TEXT = re.compile(r"PIN码）为(\d{6})")


def so_pin_of(ukey: Ukey) -> str:
    return sessions.so_pin(ukey)


def sms_pin(message: SmsMessage) -> str:
    match = PIN_IN_TEXT.search(message.text)
    assert match, message.text
    return match.group(1)


def lock(store: UkeyStore, label: str) -> None:
    for _ in range(6):
        with pytest.raises(PinError):
            user_login(store.module, label, "000000", conf=store.conf)
    assert pin_status(store.module, label, conf=store.conf).locked


@pytest.fixture
def issued(  # type: ignore[no-untyped-def]
    ca, issuer: User, stock: Ukey, ukey_store: UkeyStore, organization: Organization
) -> tuple[Ukey, Certificate, str]:
    """An issued Ukey, its certificate and its holder's (changed) PIN."""
    cert = services.issue_onto_token(
        issuer, stock, "personal", 2, PERSON, phone=PHONE, store=ukey_store
    )
    pin = sms_pin(SmsMessage.objects.get(kind="ukey.pin"))
    change_pin(ukey_store.module, stock.label, pin, "112233", conf=ukey_store.conf)
    stock.refresh_from_db()
    return stock, cert, "112233"


# --- issuance onto a Ukey ------------------------------------------------------------------


def test_issue_onto_token(  # type: ignore[no-untyped-def]
    ca, issuer: User, stock: Ukey, ukey_store: UkeyStore, organization: Organization
) -> None:
    row = services.issue_onto_token(
        issuer, stock, "personal", 2, PERSON, phone=PHONE, store=ukey_store
    )
    stock.refresh_from_db()
    assert stock.status == Status.ISSUED
    assert stock.organization == organization  # found by the subscriber's USCC
    assert stock.handler_phone == PHONE
    assert stock.issued_at is not None
    assert list(stock.certificates.all()) == [row]
    assert row.organization == organization
    # the PIN went by SMS, must be changed first, then works
    (sms,) = SmsMessage.objects.all()
    assert (sms.phone, sms.kind, sms.status) == (PHONE, "ukey.pin", "outbox")
    pin = sms_pin(sms)
    # the catalogue's text, with the Ukey's retry limit
    assert sms.text == render(Kind.PIN, {"ukey": stock.serial, "pin": pin, "tries": 6}).sms
    with pytest.raises(PinError) as err:
        user_login(ukey_store.module, stock.label, pin, conf=ukey_store.conf)
    assert err.value.code == "pin_must_change"
    change_pin(ukey_store.module, stock.label, pin, "112233", conf=ukey_store.conf)
    with user_login(ukey_store.module, stock.label, "112233", conf=ukey_store.conf) as session:
        listed = list_certificates(session)
        leaf = next(c for c in listed if c.has_private_key)
        assert leaf.certificate.public_bytes(Encoding.DER) == bytes(row.der)
        chain = x509.load_pem_x509_certificates(ca_services.chain_pem())
        assert {c.certificate for c in listed if c.is_ca} == set(chain)
        # the certificate verifies under the issuing CA
        leaf.certificate.verify_directly_issued_by(chain[0])
    event = AuditEvent.objects.filter(action="ukey.issue", result="ok").get()
    assert event.before["status"] == "in_stock" and event.after["status"] == "issued"
    assert event.after["certificate"] == row.serial
    assert_secret_nowhere(pin, outbox_allowed=True)
    assert_secret_nowhere(so_pin_of(stock))


def test_issue_failure_changes_nothing_and_removes_the_key(  # type: ignore[no-untyped-def]
    ca,
    issuer: User,
    stock: Ukey,
    ukey_store: UkeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise TokenError("token removed", code="device_removed")

    monkeypatch.setattr(services, "write_certificate", broken)
    with pytest.raises(TokenError):
        services.issue_onto_token(issuer, stock, "org", 1, ORG, phone=PHONE, store=ukey_store)
    stock.refresh_from_db()
    assert stock.status == Status.IN_STOCK
    assert not stock.certificates.exists()
    # the certificate was registered before it was to reach the token: now revoked, never lost
    (cert,) = Certificate.objects.filter(profile="org")
    assert (cert.status, cert.revocation_reason) == ("revoked", "cessationOfOperation")
    (write,) = TokenWrite.objects.exclude(kind=TokenWrite.Kind.FORMAT)
    assert (write.state, write.certificate_id) == ("undone", cert.pk)
    assert not SmsMessage.objects.exists()
    undo, refusal = AuditEvent.objects.order_by("seq").reverse()[:2][::-1]
    assert (undo.action, undo.after["revoked"], undo.after["key"]) == (
        "ukey.write.undo",
        cert.serial,
        "deleted",
    )
    assert (refusal.action, refusal.result) == ("ukey.issue", "refused")
    # no key pair left behind on the token
    so_pin = so_pin_of(stock)
    from certhall.tokens import so_reset_pin

    so_reset_pin(ukey_store.module, stock.label, so_pin, "445566", conf=ukey_store.conf)
    with user_login(
        ukey_store.module, stock.label, "445566", conf=ukey_store.conf, allow_must_change=True
    ) as session:
        assert {o.object_class for o in list_objects(session)} == {"data"}


def test_issue_refusals(  # type: ignore[no-untyped-def]
    ca,
    issuer: User,
    make_user: Callable[..., User],
    other_provider: object,
    stock: Ukey,
    ukey_store: UkeyStore,
) -> None:
    with pytest.raises(InvalidInput):
        services.issue_onto_token(issuer, stock, "org", 1, ORG, phone="12345", store=ukey_store)
    with pytest.raises(InvalidInput):
        services.issue_onto_token(
            issuer, stock, "org", 1, ORG, phone=PHONE, key_type="rsa3072", store=ukey_store
        )
    for actor in (
        make_user(Role.REVIEWER),
        make_user(Role.APPLICANT),
        make_user(Role.ISSUER, provider=other_provider),
    ):
        with pytest.raises(Forbidden):
            services.issue_onto_token(actor, stock, "org", 1, ORG, phone=PHONE, store=ukey_store)
    with pytest.raises(CerthallError):  # the org profile is one year only
        services.issue_onto_token(issuer, stock, "org", 3, ORG, phone=PHONE, store=ukey_store)
    # every refusal of a CA operation is audited, the wrong role's too
    refused = AuditEvent.objects.filter(action="ukey.issue", result="refused").order_by("seq")
    assert [e.after["error"] for e in refused] == [
        "phone_invalid",
        "key_type_invalid",
        "role_required",
        "role_required",
        "other_provider",
        "validity_years",
    ]
    stock.refresh_from_db()
    assert stock.status == Status.IN_STOCK
    assert not SmsMessage.objects.exists()


def test_issued_ukey_is_not_issued_onto_again(
    issued: tuple[Ukey, Certificate, str], issuer: User, ukey_store: UkeyStore
) -> None:
    ukey, _, _ = issued
    with pytest.raises(Conflict):
        services.issue_onto_token(issuer, ukey, "org", 1, ORG, phone=PHONE, store=ukey_store)


def test_rsa_key_on_the_ukey(  # type: ignore[no-untyped-def]
    ca, issuer: User, stock: Ukey, ukey_store: UkeyStore
) -> None:
    row = services.issue_onto_token(
        issuer, stock, "org", 1, ORG, phone=PHONE, key_type="rsa2048", store=ukey_store
    )
    cert = x509.load_der_x509_certificate(bytes(row.der))
    assert cert.public_key().key_size == 2048  # type: ignore[union-attr]


# --- unlock --------------------------------------------------------------------------------


def test_unlock_a_locked_ukey(
    issued: tuple[Ukey, Certificate, str], clerk: User, ukey_store: UkeyStore
) -> None:
    ukey, _, old_pin = issued
    lock(ukey_store, ukey.label)
    services.report_status(clerk, ukey, Status.LOCKED)  # reported at the counter
    services.unlock(clerk, ukey, store=ukey_store)
    ukey.refresh_from_db()
    assert ukey.status == Status.ISSUED
    status = pin_status(ukey_store.module, ukey.label, conf=ukey_store.conf)
    assert (status.locked, status.tries_left, status.must_change) == (False, 6, True)
    sms = SmsMessage.objects.get(kind="ukey.unlock_pin")
    assert sms.phone == PHONE  # the handler's phone recorded at issuance
    new_pin = sms_pin(sms)
    expected = render(Kind.UNLOCK_PIN, {"ukey": ukey.serial, "pin": new_pin, "tries": 6})
    assert sms.text == expected.sms
    with pytest.raises(PinError):
        user_login(ukey_store.module, ukey.label, old_pin, conf=ukey_store.conf)
    change_pin(ukey_store.module, ukey.label, new_pin, "778899", conf=ukey_store.conf)
    user_login(ukey_store.module, ukey.label, "778899", conf=ukey_store.conf).close()
    event = AuditEvent.objects.filter(action="ukey.unlock", result="ok").get()
    assert (event.before["status"], event.after["status"]) == ("locked", "issued")
    assert event.before["pin_locked"] is True
    assert event.after["must_change"] is True and event.after["sms"] == sms.pk
    assert_secret_nowhere(new_pin, outbox_allowed=True)
    assert_secret_nowhere(so_pin_of(ukey))
    sms_event = AuditEvent.objects.filter(action="notify.sms.send").last()
    assert sms_event is not None and sms_event.after["phone"] == "138****8000"


def test_unlock_a_forgotten_pin_keeps_issued(
    issued: tuple[Ukey, Certificate, str], make_user: Callable[..., User], ukey_store: UkeyStore
) -> None:
    ukey, _, _ = issued
    admin = make_user(Role.CA_ADMIN)
    services.unlock(admin, ukey, phone="139 0013 9000", store=ukey_store)
    ukey.refresh_from_db()
    assert ukey.status == Status.ISSUED
    sms = SmsMessage.objects.get(kind="ukey.unlock_pin")
    assert sms.phone == "13900139000"


def test_unlock_with_an_operator_pin_and_no_phone(
    issued: tuple[Ukey, Certificate, str], clerk: User, ukey_store: UkeyStore
) -> None:
    ukey, _, _ = issued
    Ukey.objects.filter(pk=ukey.pk).update(handler_phone="")
    services.unlock(clerk, ukey, new_pin="246810", store=ukey_store)
    assert not SmsMessage.objects.filter(kind="ukey.unlock_pin").exists()
    with pytest.raises(PinError) as err:
        user_login(ukey_store.module, ukey.label, "246810", conf=ukey_store.conf)
    assert err.value.code == "pin_must_change"
    assert_secret_nowhere("246810")
    with pytest.raises(InvalidInput) as missing:
        services.unlock(clerk, ukey, store=ukey_store)
    assert missing.value.code == "phone_missing"


def test_unlock_refusals(
    issued: tuple[Ukey, Certificate, str],
    make_user: Callable[..., User],
    other_provider: object,
    ukey_store: UkeyStore,
    admin: User,
) -> None:
    ukey, _, pin = issued
    before = pin_status(ukey_store.module, ukey.label, conf=ukey_store.conf)
    for actor in (
        make_user(Role.ISSUER),  # not an unlock role
        make_user(Role.APPLICANT),
        make_user(Role.CLERK, provider=other_provider),
    ):
        with pytest.raises(Forbidden):
            services.unlock(actor, ukey, store=ukey_store)
    assert pin_status(ukey_store.module, ukey.label, conf=ukey_store.conf) == before
    user_login(ukey_store.module, ukey.label, pin, conf=ukey_store.conf).close()
    services.report_status(admin, ukey, Status.DAMAGED)
    with pytest.raises(Conflict) as err:
        services.unlock(admin, ukey, phone=PHONE, store=ukey_store)
    assert "只有库存、已发放或已锁定的Ukey可以解锁" in str(err.value)
    assert not SmsMessage.objects.filter(kind="ukey.unlock_pin").exists()
    user_login(ukey_store.module, ukey.label, pin, conf=ukey_store.conf).close()


def test_unlock_a_ukey_in_stock(admin: User, stock: Ukey, ukey_store: UkeyStore) -> None:
    services.unlock(admin, stock, new_pin="135790", store=ukey_store)
    stock.refresh_from_db()
    assert stock.status == Status.IN_STOCK
    user_login(
        ukey_store.module, stock.label, "135790", conf=ukey_store.conf, allow_must_change=True
    ).close()


def test_unlock_checks_the_token_is_that_ukey(
    issued: tuple[Ukey, Certificate, str], clerk: User, ukey_store: UkeyStore
) -> None:
    ukey, _, _ = issued
    Ukey.objects.filter(pk=ukey.pk).update(serial="0000000000000000")
    ukey.refresh_from_db()
    with pytest.raises(Conflict) as err:
        services.unlock(clerk, ukey, store=ukey_store)
    assert err.value.code == "ukey_mismatch"


def test_unlock_with_an_unusable_sealed_pin_tells_why(
    issued: tuple[Ukey, Certificate, str], clerk: User, ukey_store: UkeyStore
) -> None:
    ukey, _, _ = issued
    other = sealing.seal("another passphrase", ukey.model, ukey.serial, "whatever-so-pin")
    Ukey.objects.filter(pk=ukey.pk).update(so_pin_sealed=other)
    with pytest.raises(CerthallError) as err:
        services.unlock(clerk, ukey, store=ukey_store)
    assert err.value.code == "so_pin_unavailable"


def test_so_pin_never_leaks_through_errors(
    issued: tuple[Ukey, Certificate, str],
    clerk: User,
    ukey_store: UkeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ukey, _, _ = issued
    so_pin = so_pin_of(ukey)
    session = user_login(ukey_store.module, ukey.label, "112233", conf=ukey_store.conf)
    try:
        with pytest.raises(TokenError) as err:  # the SO cannot log in beside the user
            services.unlock(clerk, ukey, store=ukey_store)
        assert err.value.code == "token_busy"
        assert so_pin not in str(err.value) and so_pin not in repr(err.value.args)
    finally:
        session.close()
    assert_secret_nowhere(so_pin)


# --- media replacement ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cause", "reason"), [("lost", "keyCompromise"), ("damaged", "superseded")]
)
def test_replace_medium_revokes_and_retires(
    issued: tuple[Ukey, Certificate, str],
    clerk: User,
    admin: User,
    ukey_store: UkeyStore,
    cause: str,
    reason: str,
) -> None:
    ukey, cert, _ = issued
    revoked = services.replace_medium(clerk, ukey, cause)
    assert [c.serial for c in revoked] == [cert.serial]
    cert.refresh_from_db()
    assert (cert.status, cert.revocation_reason) == ("revoked", reason)
    ukey.refresh_from_db()
    assert ukey.status == Status.RETIRED and ukey.retired_at is not None
    actions = list(
        AuditEvent.objects.filter(object_type="ukey", object_id=ukey.serial, result="ok")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-2:] == [f"ukey.{cause}", "ukey.replace"]
    replaced = AuditEvent.objects.filter(action="ukey.replace").get()
    assert replaced.after == {**replaced.after, "revoked": [cert.serial], "reason": reason}
    # the new certificate goes onto a new Ukey
    new = services.prepare_stock(admin, "ukey-0002", store=ukey_store)
    services.issue_onto_token(admin, new, "personal", 2, PERSON, phone=PHONE, store=ukey_store)
    new.refresh_from_db()
    assert new.status == Status.ISSUED


def test_replace_a_ukey_reported_lost_earlier(
    issued: tuple[Ukey, Certificate, str], clerk: User
) -> None:
    ukey, cert, _ = issued
    services.report_status(clerk, ukey, Status.LOST)
    with pytest.raises(Conflict):  # retiring it plainly would leave a valid certificate
        services.report_status(clerk, ukey, Status.RETIRED)
    with pytest.raises(Conflict):
        services.replace_medium(clerk, ukey, "damaged")
    services.replace_medium(clerk, ukey)
    cert.refresh_from_db()
    assert cert.revocation_reason == "keyCompromise"


def test_replace_medium_is_all_or_nothing(
    issued: tuple[Ukey, Certificate, str],
    issuer: User,
    clerk: User,
    ukey_store: UkeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ukey, first, _ = issued
    # a second certificate on the same Ukey (e.g. the org certificate), so one revocation
    # succeeds before the other fails
    with user_login(ukey_store.module, ukey.label, "112233", conf=ukey_store.conf) as session:
        from certhall.tokens import generate_keypair

        key_label = token_objects.new_key_label(session)
        generate_keypair(session, key_label, "ec")
        csr = token_objects.build_csr(session, key_label).public_bytes(Encoding.PEM)
    second = ca_services.issue(
        issuer, ca_services.IssueRequest(csr=csr, profile="org", years=1, subscriber=ORG)
    )
    ukey.certificates.add(second)
    real_revoke = ca_services.revoke
    calls: list[str] = []

    def revoke_then_fail(actor: User, serial: str, reason: str) -> Certificate:
        calls.append(serial)
        if len(calls) == 2:
            raise Conflict("the CA refused")
        return real_revoke(actor, serial, reason)

    monkeypatch.setattr(ca_services, "revoke", revoke_then_fail)
    events = AuditEvent.objects.filter(result="ok").count()
    with pytest.raises(Conflict, match="the CA refused"):
        services.replace_medium(clerk, ukey, "lost")
    assert len(calls) == 2
    ukey.refresh_from_db()
    assert ukey.status == Status.ISSUED and ukey.retired_at is None
    for cert in (first, second):
        cert.refresh_from_db()
        assert cert.status == "valid"
    assert AuditEvent.objects.filter(result="ok").count() == events
    refusal = AuditEvent.objects.order_by("seq").last()
    assert refusal is not None and (refusal.action, refusal.result) == ("ukey.replace", "refused")


def test_replace_refusals(
    clerk: User,
    make_user: Callable[..., User],
    other_provider: object,
    stock: Ukey,
    issued: tuple[Ukey, Certificate, str],
) -> None:
    with pytest.raises(InvalidInput):
        services.replace_medium(clerk, issued[0])  # lost or damaged?
    with pytest.raises(InvalidInput):
        services.replace_medium(clerk, issued[0], "stolen")
    with pytest.raises(Forbidden):
        services.replace_medium(make_user(Role.CLERK, provider=other_provider), issued[0], "lost")
    with pytest.raises(Forbidden):
        services.replace_medium(make_user(Role.AUDITOR), issued[0], "lost")
    issued[0].refresh_from_db()
    assert issued[0].status == Status.ISSUED


# --- the inventory as seen by each actor ---------------------------------------------------


def test_find_on_store(issued: tuple[Ukey, Certificate, str], ukey_store: UkeyStore) -> None:
    ukey, _, _ = issued
    assert services.find_on_store(ukey.label, store=ukey_store) == ukey
    with pytest.raises(TokenError):
        services.find_on_store("nope", store=ukey_store)


def test_a_stock_ukey_with_anything_on_it_is_refused(  # type: ignore[no-untyped-def]
    ca, issuer: User, stock: Ukey, ukey_store: UkeyStore
) -> None:
    """What an interrupted issuance left behind (before recovery ran) is never handed out."""
    with sessions.stock_session(stock, ukey_store) as (session, _pin):
        token_objects.new_key_label(session)
        from certhall.tokens import generate_keypair

        generate_keypair(session, "ukey-leftover", "ec")
    with pytest.raises(Conflict) as refused:
        services.issue_onto_token(issuer, stock, "org", 1, ORG, phone=PHONE, store=ukey_store)
    assert refused.value.code == "ukey_not_empty" and stock.serial in refused.value.message
    assert not TokenWrite.objects.exclude(kind=TokenWrite.Kind.FORMAT).exists()
    assert not Certificate.objects.filter(profile="org").exists()
