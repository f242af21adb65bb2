"""网厅续期 through the hall: lookup, application and order, payment, automatic approval, the
helper's signed request (ca.renewal), installation; retries and refusals."""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from certhall import config, crashpoints
from certhall.accounts.models import Handler, Organization, Provider, Role, User
from certhall.agent import protocol
from certhall.audit.services import verify as verify_audit
from certhall.ca.models import Certificate
from certhall.certlogin.models import Renewal
from certhall.errors import Conflict, Forbidden
from certhall.hall import issuance, renewal, services
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.pki.keys import sign
from certhall.ukeys.models import Ukey
from certhall.ukeys.services import replace_medium
from tests.hall.conftest import (
    FRIDAY,
    MONDAY,
    at,
    csr_for,
    online_draft,
    pay_online,
    software_certificate,
)

pytestmark = pytest.mark.django_db


def signed(old_key: ec.EllipticCurvePrivateKey, serial: str, years: int) -> dict[str, object]:
    """What the helper sends: a new key's CSR and the old key's signature over the request."""
    new_key = ec.generate_private_key(ec.SECP256R1())
    origin = config.get().base_url
    message = protocol.renewal_message(
        origin, serial, protocol.public_key_sha256(new_key.public_key()), years
    )
    return {
        "csr": csr_for(new_key),
        "signature": sign(old_key, message),
        "origin": origin,
    }


def issued_unrecorded(
    applicant: User,
    old_key: ec.EllipticCurvePrivateKey,
    old: Certificate,
    number: str,
    years: int,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, object]:
    """The helper's request issues the renewed certificate, then fails before the application
    records it: the application is back at ``approved``; returns the request, whose retry by
    the helper finishes it."""

    def failing(name: str) -> None:
        if name == "renewal.issued":
            raise RuntimeError(name)

    request = signed(old_key, old.serial, years)
    with monkeypatch.context() as patch:
        patch.setattr(crashpoints, "reached", failing)
        with pytest.raises(RuntimeError):
            renewal.request_renewal(applicant, number, **request)  # type: ignore[arg-type]
    return request


def test_paid_personal_renewal_end_to_end(
    admin: User, hall_ca: object, applicant: User, organization: Organization, issuer: User
) -> None:
    old_key, old = software_certificate(admin, organization, profile="personal")
    with at(FRIDAY):
        found = renewal.lookup(applicant, old.serial, 2)
        assert found.quote.allowed and found.quote.fee_yuan == Decimal("300")
        assert found.open_application is None
        application = renewal.start(applicant, old.serial, 2)
        assert application.state == State.AWAITING_PAYMENT
        assert (application.total, application.delivery) == (Decimal("300.00"), "online_update")
        assert renewal.lookup(applicant, old.serial, 2).open_application == application.number
        with pytest.raises(Conflict) as refused:
            renewal.start(applicant, old.serial, 2)
        assert refused.value.code == "certificate_busy"
        request = signed(old_key, old.serial, 2)
        with pytest.raises(Conflict) as refused:
            renewal.request_renewal(applicant, application.number, **request)  # type: ignore[arg-type]
        assert refused.value.code == "payment_required"

        pay_online(application.number, applicant)
        # paid: approved by the hall itself ("付款成功后即可在线更新证书"), no review queue
        paid = Application.objects.get(pk=application.pk)
        assert paid.state == State.APPROVED and paid.approved_by is None
        ticket = renewal.ticket(applicant, application.number)
        assert (ticket.old_serial, ticket.years, ticket.payment_reference) == (
            old.serial,
            2,
            paid.payment_reference,
        )
        # the issuer's console does not issue online renewals
        with pytest.raises(Conflict):
            issuance.issue_application(issuer, application.number)

        request = signed(old_key, old.serial, 2)
        done = renewal.request_renewal(applicant, application.number, **request)  # type: ignore[arg-type]
        assert done.payment_ref == paid.payment_reference
        issued = Application.objects.get(pk=application.pk)
        assert issued.state == State.ISSUED
        line = issued.items.get()
        assert line.result_certificate == done.new_certificate
        # a retry of the same request gives the same certificate
        again = renewal.request_renewal(applicant, application.number, **request)  # type: ignore[arg-type]
        assert again.pk == done.pk and again.new_certificate == done.new_certificate
        assert Certificate.objects.filter(person_name="王五").count() == 2

    with at(MONDAY):
        delivered = renewal.confirm_installed(applicant, application.number)
        assert delivered.state == State.DELIVERED
        assert renewal.confirm_installed(applicant, application.number).state == State.DELIVERED
    old.refresh_from_db()
    assert (old.status, old.revocation_reason) == ("revoked", "superseded")


def test_free_odc_renewal_through_the_api(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    old_key, old = software_certificate(admin, organization)
    web = Client()
    web.force_login(applicant)
    with at(FRIDAY):
        looked = web.get("/api/hall/renewals/lookup", {"serial": old.serial.upper()})
        assert looked.status_code == 200, looked.content
        assert looked.json()["quote"]["allowed"] is True
        assert looked.json()["quote"]["fee_yuan"] == 0
        started = web.post(
            "/api/hall/renewals", {"serial": old.serial}, content_type="application/json"
        )
        assert started.status_code == 201, started.content
        number = started.json()["number"]
        assert started.json()["state"] == "approved"  # free: nothing to pay
        ticket = web.get(f"/api/hall/applications/{number}/renewal").json()
        assert ticket["old_serial"] == old.serial and ticket["payment_reference"] == ""
        request = signed(old_key, old.serial, 1)
        body = {
            "csr": request["csr"].decode(),  # type: ignore[attr-defined]
            "signature": base64.b64encode(request["signature"]).decode(),  # type: ignore[arg-type]
            "origin": request["origin"],
        }
        renewed = web.post(
            f"/api/hall/applications/{number}/renewal", body, content_type="application/json"
        )
        assert renewed.status_code == 200, renewed.content
        assert renewed.json()["new_serial"] and renewed.json()["state"] == "issued"
        # the CA chain goes with it, for the helper to write beside it on the Ukey
        new = x509.load_der_x509_certificate(
            base64.b64decode(renewed.json()["new_certificate_der_b64"])
        )
        chain = [
            x509.load_der_x509_certificate(base64.b64decode(item))
            for item in renewed.json()["chain_der_b64"]
        ]
        assert [c.subject for c in chain[:1]] == [new.issuer]
        assert chain[-1].subject == chain[-1].issuer  # up to the root
        installed = web.post(f"/api/hall/applications/{number}/renewal/installed")
        assert installed.json()["state"] == "delivered"


def test_a_term_not_offered_is_refused_naming_the_terms(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    """Through the API as on the page: 9 years of a 机构个人证书 (1-5) was a quote refused with
    the fee rule's words, 2 years of a 机构证书 (1 only) too."""
    _key, personal = software_certificate(admin, organization, profile="personal")
    _key, org = software_certificate(admin, organization)
    web = Client()
    web.force_login(applicant)
    with at(FRIDAY):
        looked = web.get("/api/hall/renewals/lookup", {"serial": personal.serial, "years": 9})
        started = web.post(
            "/api/hall/renewals",
            {"serial": org.serial, "years": 2},
            content_type="application/json",
        )
        zero = web.post(  # the quote calls it malformed (term_invalid): not offered all the same
            "/api/hall/renewals",
            {"serial": personal.serial, "years": 0},
            content_type="application/json",
        )
    assert looked.status_code == 400, looked.content
    assert looked.json() == {
        "error": "renewal_term_not_offered",
        "message": "没有9年期的续期：机构个人证书(法人证书)可续期1-5年，请选择续期年限。",
        "fields": ["years"],
    }
    assert started.status_code == 400, started.content
    assert started.json()["message"] == "没有2年期的续期：机构证书(ODC证书)只能续期1年，请选择1年。"
    assert zero.status_code == 400, zero.content
    assert zero.json() == {
        "error": "renewal_term_not_offered",
        "message": "没有0年期的续期：机构个人证书(法人证书)可续期1-5年，请选择续期年限。",
        "fields": ["years"],
    }
    assert not Application.objects.exists()


def test_a_bad_signature_goes_back_to_approved(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    _, old = software_certificate(admin, organization)
    issued = Certificate.objects.count()
    with at(FRIDAY):
        application = renewal.start(applicant, old.serial)
        request = signed(ec.generate_private_key(ec.SECP256R1()), old.serial, 1)
        with pytest.raises(Forbidden):
            renewal.request_renewal(applicant, application.number, **request)  # type: ignore[arg-type]
    assert Application.objects.get(pk=application.pk).state == State.APPROVED
    assert Certificate.objects.count() == issued


def test_what_an_online_renewal_is(
    admin: User, hall_ca: object, applicant: User, organization: Organization, handler: Handler
) -> None:
    _, old = software_certificate(admin, organization, profile="personal")
    with at(FRIDAY):
        started = renewal.start(applicant, old.serial, 2)
        draft = online_draft(applicant, handler)
    application = Application.objects.get(pk=started.pk)
    assert application.is_online_renewal and application.items.get().is_online_renewal
    assert not draft.is_online_renewal
    application.channel = Application.Channel.ONSITE  # the same line at a counter
    assert not application.is_online_renewal


RECIPIENT = {"recipient_name": "王五", "recipient_phone": "13800138000"}


@pytest.mark.parametrize(
    ("fields", "address_missing", "point_missing"),
    [
        ({"delivery": "mail"}, True, False),
        ({"delivery": "mail", **RECIPIENT}, True, False),
        ({"delivery": "mail", **RECIPIENT, "address": "深圳市南山区科技园"}, False, False),
        ({"delivery": "pickup"}, False, True),
        ({"delivery": "pickup", "pickup_point": "kejiyuan"}, False, False),
        ({"delivery": "online_update"}, False, False),
    ],
)
def test_what_a_delivery_is_missing(
    fields: dict[str, str], address_missing: bool, point_missing: bool
) -> None:
    application = Application(**fields)
    assert application.mail_address_missing is address_missing
    assert application.pickup_point_missing is point_missing


def test_a_renewal_refused_on_role_is_audited(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    clerk: User,
    reviewer: User,
    make_user,  # type: ignore[no-untyped-def]
) -> None:
    """网厅续期 (the hall's start and draft, the CA's request and install) by someone without
    the role was refused before the audited block and left no trace, unlike every other
    service: now each refusal is an audit event."""
    from certhall.audit.models import AuditEvent
    from certhall.ca import renewal as ca_renewal
    from certhall.hall import services

    old_key, old = software_certificate(admin, organization, profile="personal")
    request = ca_renewal.RenewalRequest(
        old_serial=old.serial, years=1, **signed(old_key, old.serial, 1)
    )  # type: ignore[arg-type]
    hall_actors = (clerk, reviewer)  # the hall's renewal is the applicant's
    ca_actors = (reviewer, make_user(Role.AUDITOR))  # the CA's: applicant or issuing staff
    with at(FRIDAY):
        for actor in hall_actors:
            with pytest.raises(Forbidden):
                renewal.start(actor, old.serial, 1)
            with pytest.raises(Forbidden):
                services.create_draft(actor)
        for actor in ca_actors:
            with pytest.raises(Forbidden):
                ca_renewal.renew(actor, request)
            with pytest.raises(Forbidden):
                ca_renewal.confirm_installed(actor, 12345)
    refused = AuditEvent.objects.filter(result="refused")
    for action, actors in (
        ("hall.renewal.start", hall_actors),
        ("hall.application.create", hall_actors),
        ("ca.renewal.request", ca_actors),
        ("ca.renewal.install", ca_actors),
    ):
        events = refused.filter(action=action)
        assert sorted(e.actor_id for e in events) == sorted(a.pk for a in actors), action
        assert {e.after["error"] for e in events} == {"role_required"}, action


def test_a_renewal_put_back_after_issuance_is_ended_by_the_ukeys_replacement(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    clerk: User,
    provider: Provider,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The new certificate issued, then a failure before the application recorded it: the
    application is back at ``approved`` (the helper's retry would finish). The Ukey is lost
    then: the counter's refusal for the old certificate names the renewed one, whose 介质补办
    ends the renewal and records the certificate on the application before ending it."""
    old_key, old = software_certificate(admin, organization)
    medium = _ukey_holding(provider, old)

    with at(FRIDAY):
        number = renewal.start(applicant, old.serial).number
        issued_unrecorded(applicant, old_key, old, number, 1, monkeypatch)
        assert Application.objects.get(number=number).state == State.APPROVED
        record = Renewal.objects.get(old_certificate=old)
        renewed = record.new_certificate
        assert record.state == Renewal.State.ISSUED and renewed is not None
        with pytest.raises(Conflict) as refused:
            renewal.start(applicant, old.serial)
        assert refused.value.code == "certificate_busy"
        assert f"请对新证书 {renewed.serial} 办理介质补办" in refused.value.message
        replace_medium(clerk, medium, "lost")
    record.refresh_from_db()
    assert record.state == Renewal.State.REPLACED
    application = Application.objects.get(number=number)
    assert application.state == State.DELIVERED
    assert application.items.get().result_certificate == renewed
    history = [h["state"] for h in services.history(clerk, application)]
    assert history[-3:] == ["issuing", "issued", "delivered"]
    assert verify_audit().ok


def _ukey_holding(provider: Provider, certificate: Certificate) -> Ukey:
    """An issued Ukey's record holding ``certificate`` (the token is not needed here)."""
    medium = Ukey.objects.create(
        serial=f"r{certificate.pk:014d}",
        model="SoftHSM v2",
        label="ukey-renewal",
        provider=provider,
        status=Ukey.Status.ISSUED,
        so_pin_sealed=b"",
    )
    medium.certificates.add(certificate)
    return medium


class Killed(BaseException):
    """The helper's request process dying (not an error its code could catch)."""


@pytest.mark.parametrize("killed", [False, True], ids=["finished", "killed-then-recovered"])
def test_a_ukey_replaced_while_the_helpers_request_holds_the_renewal_is_ended(
    admin: User,
    hall_ca: object,
    applicant: User,
    organization: Organization,
    clerk: User,
    provider: Provider,
    monkeypatch: pytest.MonkeyPatch,
    killed: bool,
) -> None:
    """The counter's 介质补办 of the renewed certificate lands between the CA's issuance and the
    helper's request recording it (the application still ``issuing``): the request's last step
    ends the application as the replacement would have, or, if that process died there,
    recovery does. Neither leaves it waiting for a certificate that can never be written."""
    old_key, old = software_certificate(admin, organization)
    medium = _ukey_holding(provider, old)
    issue = renewal.ca_renewal.renew

    def then_replaced(actor: User, request: object) -> Renewal:
        issued = issue(actor, request)  # type: ignore[arg-type]
        assert issued.new_certificate is not None  # recorded on the Ukey by the CA
        assert Application.objects.get(number=number).state == State.ISSUING
        replace_medium(clerk, medium, "damaged")
        if killed:
            raise Killed
        return issued

    with at(FRIDAY):
        number = renewal.start(applicant, old.serial).number
        monkeypatch.setattr(renewal.ca_renewal, "renew", then_replaced)
        if killed:
            with pytest.raises(Killed):
                renewal.request_renewal(applicant, number, **signed(old_key, old.serial, 1))  # type: ignore[arg-type]
            assert Application.objects.get(number=number).state == State.ISSUING
            Application.objects.filter(number=number).update(issuing_owner="elsewhere:1")
            with at(FRIDAY + timedelta(hours=1)):
                assert issuance.recover(admin) == [number]
        else:
            renewal.request_renewal(applicant, number, **signed(old_key, old.serial, 1))  # type: ignore[arg-type]
    record = Renewal.objects.get(old_certificate=old)
    assert record.state == Renewal.State.REPLACED
    renewed = record.new_certificate
    assert renewed is not None and renewed.status == Certificate.Status.REVOKED
    application = Application.objects.get(number=number)
    assert application.state == State.DELIVERED
    assert application.items.get().result_certificate == renewed
    history = services.history(clerk, application)
    expected = ["issuing", "approved", "issuing", "issued"] if killed else ["issuing", "issued"]
    assert [h["state"] for h in history][-len(expected) - 1 :] == [*expected, "delivered"]
    assert f"Ukey已损坏，已办理介质补办：续期的新证书 {renewed.serial}" in history[-1]["reason"]
    assert verify_audit().ok


def test_the_progress_line_of_an_ended_renewal_offers_the_helper_no_more(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    """Paid before its certificate ended, looked at before the jobs' next round closed it: the
    page's notice says it will close, and the progress line above it (and its row in 我的申请)
    said 已付款，请用证书助手在线更新证书 with a button 在线更新证书 until the round (12-06).
    Both now ask ``renewal.ended_waiting``; a free (ODC) one says it will be cancelled."""
    from tests.hall.test_year_end import JUST_AFTER_MIDNIGHT, ending_at

    paid_cert = ending_at(admin, organization, JUST_AFTER_MIDNIGHT)
    free_cert = ending_at(admin, organization, JUST_AFTER_MIDNIGHT, profile="org")
    with at(JUST_AFTER_MIDNIGHT - timedelta(minutes=40)):
        paid = renewal.start(applicant, paid_cert.serial, 1).number
        free = renewal.start(applicant, free_cert.serial, 1).number
        pay_online(paid, applicant)
    web = Client()
    with at(JUST_AFTER_MIDNIGHT - timedelta(minutes=1)):  # still valid: the helper's line
        web.force_login(applicant)
        page = web.get(f"/hall/applications/{paid}/").content.decode()
        assert "已付款，请用证书助手在线更新证书" in page
    with at(JUST_AFTER_MIDNIGHT + timedelta(minutes=1)):  # ended, the round not yet run
        for number, words in ((paid, "本申请将自动关闭并退款"), (free, "本申请将自动取消")):
            page = web.get(f"/hall/applications/{number}/").content.decode()
            assert 'id="renewal-ended"' in page and 'id="renew-panel"' not in page
            assert "请用证书助手在线更新证书" not in page and words in page
        listed = web.get("/hall/applications/").content.decode()
        assert "请用证书助手" not in listed and "在线更新证书" not in listed
        assert "本申请将自动关闭并退款" in listed and "本申请将自动取消" in listed


def _path(page: str) -> list[tuple[str, str]]:
    """The progress path's steps: (class, label)."""
    found = re.search(r'<ol class="path">(.*?)</ol>', page, re.S)
    assert found is not None
    return re.findall(r'<li class="([^"]*)">([^<]*)</li>', found[1])


def test_the_path_of_an_ended_renewal_ends_where_it_will_close(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    """The progress path above the notice (``renewal.ended_waiting``) marked 待在线更新 (paid or
    free) or 待付款 (unpaid) as the current step until 12-07, with the steps after it still to
    come, while the chip, the next step and the notice said it will close. Now its current step
    says so, in the warning's colour, and the steps that will not come are left out; a renewal
    still within reach keeps its path."""
    from tests.hall.test_year_end import JUST_AFTER_MIDNIGHT, ending_at

    paid_cert = ending_at(admin, organization, JUST_AFTER_MIDNIGHT)
    unpaid_cert = ending_at(admin, organization, JUST_AFTER_MIDNIGHT)
    free_cert = ending_at(admin, organization, JUST_AFTER_MIDNIGHT, profile="org")
    with at(JUST_AFTER_MIDNIGHT - timedelta(minutes=40)):
        paid = renewal.start(applicant, paid_cert.serial, 1).number
        unpaid = renewal.start(applicant, unpaid_cert.serial, 1).number
        free = renewal.start(applicant, free_cert.serial, 1).number
        pay_online(paid, applicant)
    web = Client()
    with at(JUST_AFTER_MIDNIGHT - timedelta(minutes=1)):  # still valid: the whole path
        web.force_login(applicant)
        before = {
            n: _path(web.get(f"/hall/applications/{n}/").content.decode())
            for n in (paid, unpaid, free)
        }
    with at(JUST_AFTER_MIDNIGHT + timedelta(minutes=1)):  # ended, the round not yet run
        after = {
            n: _path(web.get(f"/hall/applications/{n}/").content.decode())
            for n in (paid, unpaid, free)
        }
    assert before[paid] == [
        ("done", "填写申请"),
        ("done", "待付款"),
        ("done", "已付款"),
        ("current", "待在线更新"),
        ("", "新证书已签发"),
        ("", "已办结"),
    ]
    assert before[unpaid][1] == ("current", "待付款")
    assert before[free][1] == ("current", "待在线更新")
    assert after[paid] == [
        ("done", "填写申请"),
        ("done", "待付款"),
        ("done", "已付款"),
        ("current closing", "将自动关闭并退款"),
    ]
    assert after[unpaid] == [("done", "填写申请"), ("current closing", "将自动取消")]
    assert after[free] == [("done", "填写申请"), ("current closing", "将自动取消")]
