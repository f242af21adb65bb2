"""网厅续期 in a real browser, on the Ukey `setup --demo` seeds with a certificate that ends in 20
days: certificate login (the SMS PIN changed in the helper's window), the renewal application,
payment in the sandbox cashier, then 在线更新证书 through the helper. The first try loses the
helper just when the new certificate is to be written: the page must say so (not blame the
site) and a second click must finish the renewal without paying again."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Route, expect

from certhall.tokens import open_public
from certhall.tokens.admin import list_tokens
from certhall.tokens.objects import list_certificates
from certhall.tokens.softhsm import DEFAULT_MODULE
from tests.browser.conftest import Stack, chromium, new_page, refused, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NEW_PIN = "730518"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = new_page(browser, 1366, 800)
    yield page
    page.context.close()


@pytest.fixture
def store_helper(stack: Stack) -> Iterator[Stack]:
    """The helper on the instance's own Ukey store (where the demo certificate is), on the
    port the hall's pages call."""
    assert stack.agent is not None
    stack.agent.terminate()
    stack.agent.wait(timeout=15)
    port = stack.agent_url.rsplit(":", 1)[1]
    conf = f"{stack.env['CERTHALL_HOME']}/ukeys/softhsm2.conf"
    helper = subprocess.Popen(
        [sys.executable, "-m", "certhall.cli.main", "agent", "--hall-origin", stack.url,
         "--port", port, "--conf", conf],
        env=stack.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(f"{stack.agent_url}/v1/status", helper, "certhall agent")
        yield stack
        # a helper that died (two PKCS#11 calls at once used to kill it) shows as a lost
        # connection on the page: say so
        assert helper.poll() is None, (helper.returncode, helper.stderr and helper.stderr.read())
    finally:
        helper.terminate()
        helper.wait(timeout=15)


def pin_window(page: Page, stack: Stack, button: str) -> Page:
    with page.expect_popup() as popup_info:
        page.click(button)
    popup = popup_info.value
    popup.wait_for_url(f"{stack.agent_url}/pin/**")
    return popup


def token_serials(stack: Stack) -> set[str]:
    """The end-entity certificates on the Ukeys of the instance's store."""
    conf = Path(stack.env["CERTHALL_HOME"]) / "ukeys" / "softhsm2.conf"
    found: set[str] = set()
    for info in list_tokens(DEFAULT_MODULE, conf=conf):
        with open_public(DEFAULT_MODULE, info.label, conf=conf) as session:
            found |= {c.serial_hex for c in list_certificates(session) if not c.is_ca}
    return found


@pytest.mark.allow_page_error(
    refused("/install"), why="the helper is stopped on purpose before the new certificate's write"
)
def test_online_renewal_survives_losing_the_helper_at_the_write(
    page: Page, store_helper: Stack
) -> None:
    stack = store_helper
    certs = json.loads(stack.cli("ca", "list", "--json"))
    old = next(c for c in certs if c["profile"] == "personal" and c["status"] == "valid")
    sms = json.loads(stack.cli("outbox", "--json", "--kind", "ukey.pin"))
    match = re.search(r"PIN码）为(\d+)", sms[0]["text"])
    assert match is not None
    sms_pin = match.group(1)

    # certificate login; the SO-set PIN is changed in the helper's window first
    page.goto(f"{stack.url}/login/certificate/")
    expect(page.locator(f'#cert-list input[data-serial="{old["serial"]}"]')).to_have_count(1)
    popup = pin_window(page, stack, "#login-button")
    popup.fill("#pin", sms_pin)
    popup.click("#submit")
    expect(popup.locator("#change-form")).to_be_visible()
    popup.fill("#new_pin", NEW_PIN)
    popup.fill("#new_pin_again", NEW_PIN)
    popup.click("#submit")
    page.wait_for_url(f"{stack.url}/my/")

    # the renewal application, paid in the sandbox cashier
    page.goto(f"{stack.url}/hall/renew/?serial={old['serial']}&years=1")
    page.get_by_role("button", name="提交续期申请").click()
    page.wait_for_url(re.compile(r".*/hall/applications/SQ[^/]+/$"))
    application = page.url
    page.get_by_role("link", name=re.compile("支付宝支付")).click()
    page.get_by_role("button", name="确认支付").click()
    for _ in range(40):  # the gateway's notification arrives asynchronously
        page.goto(application)
        if page.locator("#renew-button").count():
            break
        page.wait_for_timeout(500)
    expect(page.locator("#renew-button")).to_be_enabled()

    # the PIN window closed without a PIN: the request is cancelled, the page says so at once
    # (not at the helper's timeout) and the button can be pressed again
    pin_window(page, stack, "#renew-button").close()
    expect(page.locator("#renew-message")).to_have_text("已取消。")
    expect(page.locator("#renew-button")).to_be_enabled()

    # the helper goes away just when the new certificate is to be written to the Ukey
    install = f"{stack.agent_url}/v1/requests/*/install"

    def helper_gone(route: Route) -> None:
        route.abort("connectionrefused")

    page.route(install, helper_gone)
    popup = pin_window(page, stack, "#renew-button")
    popup.fill("#pin", NEW_PIN)
    popup.click("#submit")
    message = page.locator("#renew-message")
    expect(message).to_contain_text("与证书助手的连接中断")
    expect(message).not_to_contain_text("本站")
    # the page's progress says what the site did (it said 待在线更新 until a reload before)
    expect(page.locator("#application-state")).to_have_text("新证书已签发，待写入Ukey")
    expect(page.locator("#progress ol.path li.current")).to_have_text("新证书已签发")
    expect(page.locator("#history li").last).to_contain_text("已制证")
    page.screenshot(path=stack.shots / "renewal-helper-lost.png", full_page=True)
    page.unroute(install)
    assert token_serials(stack) == {old["serial"]}  # nothing written yet

    # back: the same new certificate is written, with its CA chain, the old one revoked and
    # removed
    installs: list[dict[str, object]] = []

    def install_body(route: Route) -> None:
        installs.append(route.request.post_data_json)
        route.continue_()

    page.route(install, install_body)
    page.reload()
    expect(page.locator("#renew-button")).to_be_enabled()
    popup = pin_window(page, stack, "#renew-button")
    popup.fill("#pin", NEW_PIN)
    popup.click("#submit")
    expect(message).to_contain_text("续期完成")
    assert len(installs) == 1 and len(installs[0]["chain"]) == 2  # type: ignore[arg-type]
    page.wait_for_timeout(1500)
    page.goto(application)
    expect(page.locator("main")).to_contain_text("已办结")
    page.screenshot(path=stack.shots / "renewal-done.png", full_page=True)
    now = {c["serial"]: c for c in json.loads(stack.cli("ca", "list", "--json"))}
    assert now[old["serial"]]["status"] == "revoked"
    (new_serial,) = token_serials(stack)
    assert new_serial != old["serial"] and now[new_serial]["status"] == "valid"
