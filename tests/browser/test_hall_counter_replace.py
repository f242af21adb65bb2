"""The counter's 介质补办 in Debian's headless Chromium against pytest-django's live server.

A customer whose 机构证书 is on a Ukey reports the Ukey lost at 科技园文化广场 on Friday
2026-11-20 (a working day, within opening hours): the clerk logs in with the password login,
chooses the service point, finds the customer by USCC, opens a 介质补办 application, ticks the
checklist (originals seen), takes the 120-yuan payment in cash; a reviewer approves (the clerk
may not: separation of duties); the clerk issues onto a new Ukey from stock and hands it over.
The old certificate is then revoked keyCompromise (registry and OCSP), the old Ukey retired,
the new certificate on the new Ukey. Then the Saturday: the same point refuses every ODC
business with the rule's words. Screenshots of each step are saved under tmp_path.

And the licence check: an organisation an online registration created (a claim,
accounts.licence) is not served until the clerk has held the business licence against it; here
the licence is another enterprise's, so the clerk corrects the name and disowns the
registration, and then the 受理 form appears.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp as x509_ocsp
from django.test import Client
from playwright.sync_api import Page, expect

from certhall.accounts.models import EnterpriseAccount, Handler, Organization, Role, User
from certhall.accounts.services import home_provider
from certhall.ca.models import Certificate
from certhall.clock import now
from certhall.hall.models import Application
from certhall.notify.models import SmsMessage
from certhall.pki.issuance import Subscriber
from certhall.rules import SHANGHAI
from certhall.tokens import list_certificates, user_login
from certhall.ukeys import services as ukeys
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import instance_store
from tests.browser.conftest import ORG_NAME, USCC, chromium, new_page, refused

pytestmark = [pytest.mark.browser, pytest.mark.softhsm, pytest.mark.usefixtures("db_from_the_test")]

FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
SATURDAY = datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI)
PASSWORD = "Counter-pass-2026"
WEEKEND_WORDS = "注:周末无法办理机构证书(ODC证书),机构个人证书可正常办理"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    # ticking: the live server thread must see time pass
    with time_machine.travel(FRIDAY) as traveller:
        yield traveller


def staff_user(role: Role, name: str) -> User:
    user = User.objects.create(
        username=f"{name}-{uuid.uuid4().hex[:6]}", role=role, provider=home_provider()
    )
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def world(clock: Any, audit_flushable: None, admin: User, ca: Any) -> dict[str, Any]:
    """The customer's Ukey with its 机构证书, a new Ukey in stock, a clerk and a reviewer."""
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
    organization = Organization.objects.create(
        name=ORG_NAME, uscc=USCC, legal_representative="王五"
    )
    handler = Handler.objects.create(
        organization=organization,
        name="李四",
        id_kind=Handler.IdKind.RESIDENT_ID,
        id_number="440301199001011234",
        phone="13800138000",
    )
    issuer = staff_user(Role.ISSUER, "issuer")
    tag = uuid.uuid4().hex[:8]
    old = ukeys.prepare_stock(issuer, f"old-{tag}")
    old_cert = ukeys.issue_onto_token(
        issuer,
        old,
        "org",
        1,
        Subscriber(org_name=ORG_NAME, uscc=USCC),
        phone=handler.phone,
        organization=organization,
    )
    new = ukeys.prepare_stock(issuer, f"new-{tag}")
    return {
        "clerk": staff_user(Role.CLERK, "clerk"),
        "reviewer": staff_user(Role.REVIEWER, "reviewer"),
        "old": old,
        "old_cert": old_cert,
        "new": new,
    }


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield new_page(browser, 1200, 900, timeout_ms=20_000)


def log_in(page: Page, url: str, user: User) -> None:
    page.context.clear_cookies()
    page.goto(f"{url}/console/")
    page.wait_for_url("**/accounts/login/?next=*")
    page.fill("#username", user.username)
    page.fill("#password", PASSWORD)
    page.click("#password-form button[type=submit]")
    page.wait_for_url(f"{url}/console/")


def ocsp_status(client: Client, cert: Certificate) -> tuple[Any, Any]:
    leaf = x509.load_der_x509_certificate(bytes(cert.der))
    issuer = x509.load_der_x509_certificate(bytes(cert.ca.certificate_der))
    builder = x509_ocsp.OCSPRequestBuilder()
    request = builder.add_certificate(leaf, issuer, hashes.SHA1()).build()  # noqa: S303 - CertID
    response = client.post(
        "/ocsp", request.public_bytes(Encoding.DER), content_type="application/ocsp-request"
    )
    answer = x509_ocsp.load_der_ocsp_response(response.content)
    return answer.certificate_status, answer.revocation_reason


@pytest.mark.allow_page_error(
    refused("/items", 422),
    why="on the Saturday an item is added on purpose: the rule refuses it (422, the rule's words)",
)
def test_counter_replaces_a_lost_ukey(
    world: dict[str, Any], clock: Any, live_server: Any, page: Page, tmp_path: Path
) -> None:
    url = live_server.url
    shots = tmp_path
    print(f"screenshots in {shots}")
    clerk, reviewer = world["clerk"], world["reviewer"]
    old, old_cert, new = world["old"], world["old_cert"], world["new"]

    # 1. the clerk logs in with the password and picks the service point
    log_in(page, url, clerk)
    expect(page.locator("#home-counter")).to_be_visible()
    page.click("text=进入柜台受理")
    page.check("#point-kejiyuan")
    page.click("#choose-point")
    expect(page.locator("#allowed-now")).to_contain_text("科技园文化广场")
    page.screenshot(path=shots / "01-counter-point.png", full_page=True)

    # 2. the customer by USCC, the handler present, a new application
    page.fill("#lookup-uscc", USCC)
    page.click("#lookup")
    expect(page.locator("#customer-name")).to_have_text(ORG_NAME)
    page.screenshot(path=shots / "02-customer.png", full_page=True)
    page.click("#open-application")
    expect(page.locator("#application-state")).to_have_text("草稿")
    number = page.locator("#application-number").inner_text()

    # 3. 介质补办 of the certificate on the lost Ukey
    page.select_option("#item-business", "replace")
    page.fill("#item-serial", old_cert.serial)
    page.select_option("#item-replace-cause", "lost")
    page.click("#add-item-button")
    expect(page.locator("#items")).to_contain_text("介质补办")
    expect(page.locator("#application-total")).to_have_text("¥120.00")

    # 4. the checklist: copies received, originals of the licence and the handler's ID seen
    for box in page.locator("#checklist input[type=checkbox]:not([disabled])").all():
        box.check()
    page.screenshot(path=shots / "03-checklist.png", full_page=True)
    page.click("#checklist-save")
    expect(page.locator(".flash-success")).to_contain_text("资料核验已记录")
    page.click("#submit-application")
    expect(page.locator("#application-state")).to_have_text("待付款")

    # 5. 120 yuan in cash
    page.check("#payment-form input[value=cash]")
    page.screenshot(path=shots / "04-payment.png", full_page=True)
    page.click("#take-payment")
    expect(page.locator("#application-state")).to_have_text("已付款，待审核")
    expect(page.locator("#receipt-link")).to_be_visible()
    expect(page.locator("#awaiting-review")).to_be_visible()
    expect(page.locator("#approve")).to_have_count(0)
    page.screenshot(path=shots / "05-paid.png", full_page=True)

    # 6. a reviewer approves
    log_in(page, url, reviewer)
    page.click("text=进入审核队列")
    page.click(f"text={number}")
    page.screenshot(path=shots / "06-review.png", full_page=True)
    page.click("#approve")
    expect(page.locator("#application-state")).to_have_text("审核通过，待制证")

    # 7. the clerk issues onto a new Ukey from stock and hands it over
    log_in(page, url, clerk)
    page.goto(f"{url}/console/applications/{number}/")
    line = Application.objects.get(number=number).items.get()
    page.select_option(f"#token-{line.pk}", new.serial)
    page.screenshot(path=shots / "07-issue.png", full_page=True)
    page.click("#issue")
    expect(page.locator("#application-state")).to_have_text("已交付")
    page.screenshot(path=shots / "08-delivered.png", full_page=True)

    old_cert.refresh_from_db()
    assert (old_cert.status, old_cert.revocation_reason) == ("revoked", "keyCompromise")
    status, reason = ocsp_status(Client(), old_cert)
    assert status == x509_ocsp.OCSPCertStatus.REVOKED
    assert reason == x509.ReasonFlags.key_compromise
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, old.replaced_by) == ("retired", new)
    line.refresh_from_db()
    fresh = line.result_certificate
    assert fresh is not None and fresh.status == "valid" and new.status == "issued"
    assert (fresh.profile, fresh.uscc) == ("org", USCC)
    expect(page.locator("#items")).to_contain_text(fresh.serial)
    # the new certificate is on the new Ukey (the PIN went to the handler by SMS)
    sms = SmsMessage.objects.filter(kind="ukey.pin").order_by("-pk").first()
    assert sms is not None and new.serial in sms.text
    pin = sms.text.split("PIN码）为")[1][:6]
    store = instance_store()
    with user_login(store.module, new.label, pin, conf=store.conf, allow_must_change=True) as s:
        assert fresh.serial in {c.serial_hex for c in list_certificates(s) if not c.is_ca}

    # the public status page shows the old certificate revoked
    page.goto(f"{url}/status/")
    page.fill("#serial", old_cert.serial)
    page.click("button[type=submit]")
    expect(page.locator("#status-badge")).to_have_text("已吊销")
    page.screenshot(path=shots / "09-old-revoked.png", full_page=True)

    # 8. Saturday: Friday's session has ended (accounts.timeout), the clerk logs in again; then
    # no ODC business at any point, in the rule's own words
    clock.move_to(SATURDAY)
    page.goto(f"{url}/console/counter/")
    expect(page).to_have_url(f"{url}/accounts/login/?next=%2Fconsole%2Fcounter%2F")
    log_in(page, url, clerk)
    page.goto(f"{url}/console/counter/")
    page.check("#point-kejiyuan")  # (the point is chosen per login session)
    page.click("#choose-point")
    expect(page.locator("#allowed-now")).to_contain_text(WEEKEND_WORDS)
    page.fill("#lookup-uscc", USCC)
    page.click("#lookup")
    page.click("#open-application")
    page.select_option("#item-business", "new")
    page.select_option("#item-cert-type", "org")
    page.fill("#item-years", "1")
    page.click("#add-item-button")
    expect(page.locator(".flash-error")).to_contain_text(WEEKEND_WORDS)
    page.screenshot(path=shots / "10-saturday-refused.png", full_page=True)
    saturday = Application.objects.exclude(number=number).get()
    assert not saturday.items.exists()
    assert not Ukey.objects.filter(status="in_stock").exists()


# --- an organisation a registration only claimed ---------------------------------------------

LICENCE_NAME = "深圳市真实医疗科技有限公司"


@pytest.fixture
def claim(clock: Any, audit_flushable: None) -> Iterator[User]:
    from django.conf import settings

    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)
    org = Organization.objects.create(name="冒名登记公司", uscc=USCC, licence_unchecked=True)
    squatter = User.objects.create(username="13800138000", role=Role.APPLICANT, organization=org)
    EnterpriseAccount.objects.create(
        user=squatter, organization=org, phone="13800138000", registered_at=now()
    )
    yield squatter


def test_the_clerk_checks_the_licence_before_serving(
    claim: User, live_server: Any, page: Page, tmp_path: Path
) -> None:
    url = live_server.url
    log_in(page, url, staff_user(Role.CLERK, "clerk"))
    page.goto(f"{url}/console/counter/")
    page.check("#point-kejiyuan")
    page.click("#choose-point")
    page.fill("#lookup-uscc", USCC)
    page.click("#lookup")
    expect(page.locator("#licence-form")).to_contain_text("尚未与营业执照核对")
    expect(page.locator("#licence-form")).to_contain_text("138****8000")
    expect(page.locator("#open-form")).to_have_count(0)
    page.screenshot(path=tmp_path / "01-licence-unchecked.png", full_page=True)

    page.fill("#licence-form input[name=name]", LICENCE_NAME)
    page.check("#disown")
    page.click("#check-licence")
    expect(page.locator("#open-form")).to_be_visible()
    expect(page.locator("#customer-name")).to_have_text(LICENCE_NAME)
    expect(page.get_by_text("已核对营业执照，可以受理。")).to_be_visible()
    page.screenshot(path=tmp_path / "02-licence-checked.png", full_page=True)
    assert not User.objects.get(pk=claim.pk).is_active
