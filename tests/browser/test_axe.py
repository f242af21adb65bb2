"""The crawl's accessibility check can fail: on a page served with the site's kind of
Content-Security-Policy (no inline script, no eval), ``axe_violations`` still runs axe-core
and names what is wrong, with the elements."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Route

from tests.browser.axe import axe_source, axe_violations
from tests.browser.conftest import new_page

pytestmark = [pytest.mark.browser]

POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; frame-ancestors 'none'"
WRONG = """<!doctype html><html><head><title>t</title></head><body><main>
<h1>申请</h1><img src="/x.png"><form><input id="name"><button></button></form>
<p id="note">一</p><p id="note">二</p></main></body></html>"""
RIGHT = """<!doctype html><html lang="zh-CN"><head><title>t</title></head><body><main>
<h1>申请</h1><form><label for="name">单位名称</label><input id="name">
<button type="submit">提交</button></form></main></body></html>"""


def test_axe_names_the_violations_under_the_sites_policy(browser: Browser, tmp_path: Path) -> None:
    source = axe_source(tmp_path)
    page = new_page(browser, 390)

    def serve(route: Route) -> None:
        body = WRONG if route.request.url.endswith("/wrong") else RIGHT
        headers = {"content-type": "text/html; charset=utf-8", "content-security-policy": POLICY}
        route.fulfill(status=200, headers=headers, body=body)

    page.route("http://hall.test/**", serve)
    page.goto("http://hall.test/wrong")
    found = axe_violations(page, source)
    rules = {line.split(" ", 1)[0] for line in found}
    assert {"html-has-lang", "image-alt", "label", "button-name"} <= rules, found
    assert any("#name" in line for line in found if line.startswith("label ")), found
    assert "duplicate-id: #note on more than one element" in found
    page.goto("http://hall.test/right")
    assert axe_violations(page, source) == []
    page.context.close()
