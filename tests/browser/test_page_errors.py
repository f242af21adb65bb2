"""Every browser test hears what goes wrong on its pages (conftest ``PAGE_ERRORS``): a script's
uncaught error and a console error, on a page of a new context and on ``browser.new_page``'s."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import PAGE_ERRORS, new_page

pytestmark = [pytest.mark.browser]

BROKEN = "<script>console.error('said');</script><script>certhallWords('no_such_code');</script>"


def _heard(page: Page) -> list[str]:
    page.set_content(BROKEN)
    page.evaluate("1")  # a round trip: the page's events have arrived
    heard = list(PAGE_ERRORS)
    PAGE_ERRORS.clear()  # heard on purpose: not this test's failure
    return heard


@pytest.mark.parametrize("opened", ["new_context", "browser.new_page"])
def test_a_pages_uncaught_error_and_console_error_are_heard(browser: Browser, opened: str) -> None:
    page = new_page(browser) if opened == "new_context" else browser.new_page()
    heard = _heard(page)
    assert any("console error said" in error for error in heard), heard
    assert any("uncaught" in error and "certhallWords" in error for error in heard), heard
