"""The counter's offline refund form as a clerk fills it in a browser, for the walks that enter
one (test_refund_counter_code, test_refund_seed_walk, test_refund_first_day): each filled the
same look-up and fields in its own copy. Each walk keeps its own account, bank, phone and
screenshots; the helper presses nothing after the phone (sending the code is each walk's)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page

from tests.refunds.conftest import GONE_USCC, LEGAL_REP_ID

#: The deregistered enterprise's legal representative, who comes to the counter.
REPRESENTATIVE = "李四"


def fill_offline_entry(
    clerk: Page,
    *,
    account: str,
    bank: str,
    phone: str,
    keyed: bool = False,
    looked_up: Callable[[], None] | None = None,
) -> None:
    """On 返还受理 (the page open), look up the deregistered enterprise ``GONE_USCC`` and fill
    its offline application for its legal representative, every document received and signed:
    paid to ``account`` at ``bank``, ``phone`` to be proven (``keyed``: typed key by key, as a
    keyboard sends it, rather than filled at once). ``looked_up`` runs once the look-up has
    answered (a walk's screenshot of it)."""
    clerk.fill("#lookup-uscc", GONE_USCC)
    clerk.click("#lookup")
    if looked_up is not None:
        looked_up()
    clerk.select_option("#special_case", "deregistered")
    clerk.fill("#person_name", REPRESENTATIVE)
    clerk.fill("#id_number", LEGAL_REP_ID)
    for box in clerk.locator("#offline-form td input[type=checkbox]").all():
        box.check()
    clerk.fill("#account_name", REPRESENTATIVE)
    clerk.fill("#account_number", account)
    clerk.fill("#bank_name", bank)
    if keyed:
        clerk.locator("#phone").press_sequentially(phone)
    else:
        clerk.fill("#phone", phone)
