"""The public status page in Debian's Chromium, against pytest-django's live server: look a
personal certificate up the way people type serials, see the masked holder and 有效; then an
unknown serial. Screenshots go to the test's tmp_path (printed on failure)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from playwright.sync_api import Page, expect

from certhall.accounts.models import User
from certhall.ca.models import Certificate
from certhall.ca.services import IssueRequest, issue
from certhall.pki.issuance import Subscriber
from tests.browser.conftest import ORG_NAME, USCC, chromium, new_page, refused
from tests.browser.test_phones import measure, phone_problems

pytestmark = [pytest.mark.browser]

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def clock() -> Iterator[None]:
    # ticking: the live server thread must see time pass
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        yield


@pytest.fixture
def certificate(clock: None, audit_flushable: None, admin: User, ca) -> Certificate:  # type: ignore[no-untyped-def]
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    subscriber = Subscriber(org_name=ORG_NAME, uscc=USCC, person_name="张三", id_number=ID_NUMBER)
    return issue(admin, IssueRequest(csr=csr, profile="personal", years=3, subscriber=subscriber))


@pytest.fixture
def page() -> Iterator[Page]:
    with chromium() as browser:
        yield new_page(browser, 1100, 760)


@pytest.mark.allow_page_error(
    refused("/status/?serial=abcdef0123", 404), why="a serial no certificate has: not found"
)
def test_status_page_in_chromium(
    certificate: Certificate, live_server, page: Page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # (the database fixtures come before ``page``: Playwright's sync API runs an event loop,
    # and Django refuses ORM calls while one runs in the thread)
    serial = certificate.serial.rjust(len(certificate.serial) + len(certificate.serial) % 2, "0")
    typed = ":".join(serial[i : i + 2] for i in range(0, len(serial), 2)).upper()

    page.goto(f"{live_server.url}/")
    page.click("text=证书查询")
    page.wait_for_url(f"{live_server.url}/status/")
    page.fill("#serial", f"  {typed} ")
    page.click("button[type=submit]")
    expect(page.locator("#status-badge")).to_have_text("有效")
    expect(page.locator("#result-serial")).to_have_text(certificate.serial.upper())
    expect(page.locator("#result-organization")).to_have_text(ORG_NAME)
    expect(page.locator("#result-type")).to_have_text("机构个人证书(法人证书)")
    expect(page.locator("#result-holder")).to_have_text("张*")
    expect(page.locator("#result-validity")).to_contain_text("2026-11-20 10:00:")
    body = page.locator("body").inner_text()
    assert "张三" not in body and ID_NUMBER not in body
    page.screenshot(path=tmp_path / "status-valid.png", full_page=True)

    page.fill("#serial", "abcdef0123")
    page.press("#serial", "Enter")  # a textarea (a long serial wraps): Enter still looks up
    expect(page.locator("#status-error")).to_contain_text("未找到该证书")
    expect(page.locator("#status-result")).to_have_count(0)
    page.screenshot(path=tmp_path / "status-unknown.png", full_page=True)


#: A browser without CSS ``field-sizing`` (status.js then sizes the serial's field itself). Set
#: through the CSSOM: a <style> element, as until 12-07, was blocked by the page's CSP (style-src
#: 'self'), so the field still sized itself by CSS and the script's sizing was not what was seen.
NO_FIELD_SIZING = """
const supports = CSS.supports.bind(CSS);
CSS.supports = (...args) => !String(args[0]).startsWith('field-sizing') && supports(...args);
document.addEventListener('DOMContentLoaded', () => {
  document.getElementById('serial').style.setProperty('field-sizing', 'fixed', 'important');
});
"""


@pytest.mark.parametrize("field_sizing", [True, False], ids=["css", "script"])
def test_a_long_serial_is_in_sight_on_a_phone(
    certificate: Certificate, live_server, tmp_path: Path, field_sizing: bool
) -> None:  # type: ignore[no-untyped-def]
    """The serial as the helper shows it (47 characters with colons) scrolled inside the
    one-line field at 360 px: it wraps now, each line in sight, by CSS or by status.js."""
    typed = ":".join(certificate.serial[i : i + 2] for i in range(0, 32, 2)).upper()
    with chromium() as browser:
        page = new_page(browser, 360, 780)
        if not field_sizing:
            page.add_init_script(NO_FIELD_SIZING)
        page.goto(f"{live_server.url}/status/")
        field = page.locator("#serial")
        one_line = field.bounding_box()["height"]  # type: ignore[index]
        field.press_sequentially(typed)
        sizes = field.evaluate(
            "f => [f.scrollWidth, f.clientWidth, f.scrollHeight, f.clientHeight]"
        )
        page.screenshot(path=tmp_path / f"status-long-{'css' if field_sizing else 'script'}.png")
        assert sizes[0] <= sizes[1] and sizes[2] <= sizes[3] + 1, sizes
        assert field.bounding_box()["height"] > one_line  # type: ignore[index]
        page.press("#serial", "Enter")
        expect(page.locator("#result-serial")).to_have_text(certificate.serial.upper())


@pytest.mark.parametrize("width", [360, 390])
def test_the_hints_numbers_keep_their_units_on_a_phone(
    clock: None, live_server, tmp_path: Path, width: int
) -> None:  # type: ignore[no-untyped-def]
    """The hint under the serial's field broke 至多40|位 at 360 px (12-07): each number with its
    unit is kept on one line (``|numbers_whole``), and phone_checks.js's ``units`` (which measures
    a number split from its unit) finds nothing on the page, the footer's （演示） included."""
    with chromium() as browser:
        page = new_page(browser, width, 780)
        page.goto(f"{live_server.url}/status/")
        whole = page.locator("#serial-hint .nowrap").all_inner_texts()
        assert {"40位", "0-7"} <= set(whole), whole
        got = measure(page, tmp_path, f"status-{width}")
        assert got["units"] == [], got["units"]
        assert phone_problems(got, width) == {}
