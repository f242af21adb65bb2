"""The online 新办 in Debian's headless Chromium against pytest-django's live server, on Friday
2026-11-20 10:00 (Shanghai; the clock ticks so the server thread sees time pass).

An enterprise account logs in with its password, opens 网上营业厅, applies for a 机构个人证书
(法人证书) for 2 years (300 yuan + 12 yuan postage), picks its handler, has the Ukey mailed,
uploads real PDF and PNG files, submits, and pays in the sandbox cashier (the signed
notification arrives over HTTP). Then the staff do their part in their own consoles under
``/console/`` (a reviewer approves; an issuer issues onto a SoftHSM Ukey from stock and mails
it with a tracking number), each in their own browser session. The applicant finally sees
已办结, the tracking number and the new certificate. A screenshot of each step is saved under
tmp_path.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, expect

from certhall.accounts.models import Handler, Organization, Role, User
from certhall.accounts.services import home_provider
from certhall.ca.models import Certificate
from certhall.hall.models import Application
from certhall.payments import sandbox
from certhall.rules import SHANGHAI
from certhall.ukeys import services as ukeys
from certhall.ukeys.models import Ukey
from tests.browser.conftest import ORG_NAME, USCC
from tests.browser.test_phones import CHECKS, phone_problems
from tests.support.images import png

pytestmark = [pytest.mark.browser, pytest.mark.softhsm, pytest.mark.usefixtures("db_from_the_test")]

FRIDAY = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
PASSWORD = "Hall-online-2026"
LEGAL_REP_ID = "11010519491231002X"
HANDLER_ID = "440301199001011234"
TRACKING = "SF1234567890"


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(FRIDAY) as traveller:
        yield traveller


def pdf(title: str) -> bytes:
    """A real one-page PDF (a scan stand-in)."""
    from io import BytesIO

    from reportlab.pdfgen import canvas

    out = BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, title)
    page.save()
    return out.getvalue()


@pytest.fixture
def world(
    clock: Any, audit_flushable: None, admin: User, ca: Any, tmp_path: Path
) -> dict[str, Any]:
    """The enterprise account (password), its handler, a reviewer, an issuer, a Ukey in stock,
    and the scans to upload; all made before the browser starts."""
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)  # whitenoise warns otherwise
    organization = Organization.objects.create(
        name=ORG_NAME, uscc=USCC, legal_representative="王五"
    )
    applicant = User.objects.create(
        username=f"hall-{uuid.uuid4().hex[:6]}", role=Role.APPLICANT, organization=organization
    )
    applicant.set_password(PASSWORD)
    applicant.save()
    handler = Handler.objects.create(
        organization=organization,
        name="李四",
        id_kind=Handler.IdKind.RESIDENT_ID,
        id_number=HANDLER_ID,
        phone="13800138000",
    )
    provider = home_provider()
    reviewer = User.objects.create(username="reviewer-web", role=Role.REVIEWER, provider=provider)
    issuer = User.objects.create(username="issuer-web", role=Role.ISSUER, provider=provider)
    ukey = ukeys.prepare_stock(issuer, f"stock-{uuid.uuid4().hex[:6]}")
    files = tmp_path / "scans"
    files.mkdir()
    scans = {
        "personal_form": ("申请表.pdf", pdf("personal form")),
        "personal_annex": ("附页.pdf", pdf("personal annex")),
        "licence_copy": ("营业执照.pdf", pdf("licence")),
        "legal_rep_id_copy": ("法人身份证.pdf", pdf("legal representative id")),
        "handler_id_copy": ("经办人身份证.pdf", pdf("handler id")),
        "handler_id_front": ("front.png", png()),
        "handler_id_back": ("back.png", png(100, 60)),
    }
    paths = {}
    for kind, (name, content) in scans.items():
        path = files / name
        path.write_bytes(content)
        paths[kind] = path
    return {
        "organization": organization,
        "applicant": applicant,
        "handler": handler,
        "reviewer": reviewer,
        "issuer": issuer,
        "ukey": ukey,
        "scans": paths,
    }


#: The customer's phone: a cheap Android phone 360 px wide, opening the hall from an SMS link.
PHONE = {"width": 360, "height": 780}
DESKTOP = {"width": 1200, "height": 900}


def context_for(
    browser: Browser, url: str, user: User | None = None, viewport: dict[str, int] = DESKTOP
) -> BrowserContext:
    context = browser.new_context(locale="zh-CN", viewport=viewport)
    context.set_default_timeout(20_000)
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": url}])
    return context


def test_online_new_end_to_end(
    world: dict[str, Any],
    live_server: Any,
    browser: Browser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = live_server.url
    monkeypatch.setattr(sandbox, "notify_url", lambda gateway: f"{url}/payments/notify/{gateway}")
    shots = tmp_path / "shots"
    shots.mkdir()
    print(f"screenshots in {shots}")

    problems: dict[str, Any] = {}

    def shot(page: Page, name: str) -> None:
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        if page.viewport_size == PHONE:  # the customer's pages pass phone_checks.js
            wrong = phone_problems(page.evaluate(CHECKS), PHONE["width"])
            if wrong:
                problems[name] = wrong

    customer = context_for(browser, url, viewport=PHONE)
    page = customer.new_page()

    # log in with the enterprise account's password, open 网上营业厅
    page.goto(f"{url}/accounts/login/?next=/hall/")
    page.fill("#username", world["applicant"].username)
    page.fill("#password", PASSWORD)
    page.click("#password-form button[type=submit]")
    page.wait_for_url(f"{url}/hall/")
    expect(page.locator("#points")).to_contain_text("科技园文化广场")
    shot(page, "01-hall-home")

    # 证书信息: 深圳医保在线签约, 机构个人证书, 2 years (fee from the rules), the holder
    page.click("#start-new")
    page.select_option("#years", "2")
    expect(page.locator("#years option:checked")).to_have_text("2年 · 300.00 元")
    page.fill("#person_name", "王五")
    page.fill("#person_id_number", LEGAL_REP_ID)
    shot(page, "02-new")
    page.click("#next-button")
    application = Application.objects.get(organization=world["organization"])
    base = f"{url}/hall/applications/{application.number}"
    page.wait_for_url(f"{base}/handler/")

    # 经办人 (the registered one is preselected)
    shot(page, "03-handler")
    page.click("#pick-button")
    page.wait_for_url(f"{base}/delivery/")

    # 领取方式: mailed, postage shown
    expect(page.locator("#postage")).to_have_text("12.00 元")
    expect(page.locator("#recipient_name")).to_have_value("李四")
    page.fill("#address", "深圳市南山区科技园科兴路10号")
    shot(page, "04-delivery")
    page.click("#delivery-button")
    page.wait_for_url(f"{base}/documents/")

    # 上传资料: every document of the catalog, real files (the ID photos come from the phone)
    for kind, path in world["scans"].items():
        if kind in ("handler_id_front", "handler_id_back"):
            continue
        row = page.locator(f'#documents tr[data-kind="{kind}"]')
        pick = row.locator(".file-pick")
        expect(pick).to_contain_text("选择文件未选择文件")  # not the browser's "Choose File"
        pick.locator("input[type=file]").set_input_files(str(path))
        expect(pick.locator(".file-pick-name")).to_have_text(path.name)
        row.locator("button[type=submit]").click()
        expect(page.locator(f'#documents tr[data-kind="{kind}"] .doc-status')).to_have_text(
            "待审核"
        )
    expect(page.locator("#complete")).to_have_text("资料已齐全。")
    shot(page, "05-documents")

    # 实名核验: a QR code on the screen; the handler's phone (360 px) uploads both sides of the
    # ID card and passes the liveness sandbox; the screen refreshes itself to "passed"
    page.click("#to-identity")
    page.wait_for_url(f"{base}/identity/")
    page.click("#identity-start")
    expect(page.locator("#identity-qr svg")).to_be_visible()
    shot(page, "05b-identity-qr")
    phone_path = urlsplit(page.locator("#phone-link").get_attribute("href") or "").path
    phone_context = browser.new_context(locale="zh-CN", viewport=PHONE, is_mobile=True)
    phone = phone_context.new_page()
    phone.goto(f"{url}{phone_path}")
    for side in ("front", "back"):
        form = phone.locator(f"#upload-{side}")
        form.locator("input[type=file]").set_input_files(str(world["scans"][f"handler_id_{side}"]))
        form.locator("button[type=submit]").click()
        phone.wait_for_load_state()
    shot(phone, "05c-phone-photos")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.click("#begin-liveness")
    expect(phone.locator("#liveness-pass")).to_be_visible()
    shot(phone, "05d-phone-liveness")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.click("#liveness-pass")
    expect(phone.locator("#phone-passed")).to_contain_text("实名核验已通过")
    shot(phone, "05e-phone-passed")
    phone_context.close()
    expect(page.locator("#identity-passed")).to_be_visible(timeout=15_000)  # meta refresh
    shot(page, "05f-identity-passed")

    # 确认提交
    page.click("#to-confirm")
    expect(page.locator("#application-total")).to_have_text("312.00 元")
    shot(page, "06-confirm")
    page.click("#submit-button")
    page.wait_for_url(f"{base}/")
    expect(page.locator("#application-state")).to_have_text("待付款")
    shot(page, "07-awaiting-payment")

    # 在线支付 in the sandbox cashier; the notification comes over HTTP
    page.click("#pay-alipay")
    expect(page.locator("#cashier-amount")).to_have_text("¥312.00")
    shot(page, "08-cashier")
    page.click("#confirm-pay")
    page.wait_for_url(f"{url}/payments/orders/**")
    for thread in sandbox.deliveries():
        thread.join(timeout=20)
    # back from the cashier, the order page says the payment went through and what comes
    # next (it showed 已支付 and the invoice form only, 12-06), with the way to the progress
    page.reload()
    paid = page.locator("#paid-next")
    expect(paid).to_contain_text("支付成功")
    expect(paid).to_contain_text("深圳CA审核中，审核期限 2026-11-25")
    shot(page, "08b-paid-order")
    paid.locator("a.btn").click()
    page.wait_for_url(f"{base}/")
    expect(page.locator("#application-state")).to_have_text("已付款，待审核")
    expect(page.locator("#due-date")).to_have_text("2026-11-25")
    shot(page, "09-paid")

    # the staff, each in their own session: review, issuance onto a Ukey from stock, mailing
    staff_url = f"{url}/console/applications/{application.number}/"
    reviewing = context_for(browser, url, world["reviewer"]).new_page()
    reviewing.goto(staff_url)
    reviewing.click("#approve")
    reviewing.wait_for_load_state()
    shot(reviewing, "10-staff-approved")
    assert Application.objects.get(pk=application.pk).state == "approved"

    issuing = context_for(browser, url, world["issuer"]).new_page()
    issuing.goto(staff_url)
    issuing.locator("#issue-form select").first.select_option(world["ukey"].serial)
    issuing.click("#issue")
    issuing.wait_for_load_state()
    assert Application.objects.get(pk=application.pk).state == "issued"
    issuing.fill("#deliver-form input[name=tracking_number]", TRACKING)
    issuing.click("#deliver")
    issuing.wait_for_load_state()
    shot(issuing, "11-staff-delivered")

    # the applicant sees 已办结, the tracking number and the new certificate
    page.goto(f"{base}/")
    expect(page.locator("#application-state")).to_have_text("已办结")
    expect(page.locator("#tracking-number")).to_have_text(TRACKING)
    done = Application.objects.get(pk=application.pk)
    line = done.items.get()
    assert done.state == "delivered" and done.tracking_number == TRACKING
    assert line.result_certificate is not None
    assert line.result_certificate.status == Certificate.Status.VALID
    expect(page.locator(".result-serial")).to_have_text(line.result_certificate.serial)
    assert Ukey.objects.get(pk=world["ukey"].pk).status == "issued"
    shot(page, "12-delivered")
    page.goto(f"{url}/hall/")
    expect(page.locator(f'#applications tr[data-number="{done.number}"]')).to_contain_text("已办结")
    shot(page, "13-hall-home-done")
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
