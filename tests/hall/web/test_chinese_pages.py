"""Every word a customer or clerk reads is Chinese: crawl every page of every role.

Each role (and a visitor) starts from its home pages and follows every same-site link (GET
only) over a hall holding applications in several states; the text a person reads on each page
(body text, button values, placeholders, titles) may not contain English words, apart from an
allow-list of terms a Chinese CA's customers use as they are (CA, Ukey, PIN, OCSP ...).
The JSON API's refusals are checked the same way.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Callable
from html.parser import HTMLParser

import pytest
from django.db import transaction
from django.test import Client

from certhall import clock
from certhall.accounts.models import Handler, User
from certhall.accounts.services import system_actor
from certhall.hall import services
from certhall.payments import gateway_bills, gateways, surplus
from tests.hall.conftest import online_draft, pay_online

pytestmark = pytest.mark.django_db

#: Terms used as they are on Chinese CA sites and in the seeds.
ALLOWED = {
    "CA",
    "Ukey",
    "UKey",
    "USB",
    "PIN",
    "OCSP",
    "CRL",
    "USCC",
    "SM2",
    "RSA",
    "ECC",
    "ECDSA",
    "PDF",
    "CSV",
    "PEM",
    "DER",
    "JPG",
    "JPEG",
    "PNG",
    # file formats the portal's editors write and upload (reached by the crawl through the
    # consoles' one bar since 12-06)
    "HTML",
    "DOCX",
    "XLSX",
    "ZIP",
    "ODC",
    "API",
    "CSR",
    "SHA",
    "SHA-256",
    "SMS",
    "URL",
    "Email",
    "certhall",
    "SoftHSM",
    "PKCS",
    "ID",
    "IC",
    "POS",
    "CFCA",
    "GB",
    "PKI",
    "HTTP",
    "HTTPS",
    # 订阅公告 (12-07): how Chinese sites name a feed reader (RSS订阅, RSS阅读器)
    "RSS",
}
WORD = re.compile(r"[A-Za-z][A-Za-z\-]{2,}")
HEX = re.compile(r"^[0-9a-fA-F\-]+$")
START = [
    "/", "/hall/", "/console/", "/accounts/profile/", "/accounts/handlers/", "/accounts/password/",
    "/status/", "/console/audit/",
]  # fmt: skip
SKIP = re.compile(
    r"^/(api|ocsp|crl|ca|static)/|\.(pdf|crl|crt|pem|der|js|css|png|ico)$|/logout|/documents/\d"
    r"|^/console/audit/\d{2,}/"  # the audit log's events alike: the first nine are read
)
PAGES_PER_ROLE = 120
#: Not prose: scripts, and commands or addresses shown as code.
HIDDEN = ("script", "style", "template", "code", "pre")
#: Not words either: addresses, file names, and the accounts' login names.
NOT_WORDS = re.compile(r"(https?://|/)[^\s<>\"'，。）]*|[\w.\-]+\.(crl|crt|pdf|jpg|png)\b")


class _Reader(HTMLParser):
    """The text a person reads, and the links they can follow."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in HIDDEN:
            self._hidden += 1
        if tag == "a" and values.get("href"):
            self.links.append(str(values["href"]))
        for name in ("placeholder", "title", "aria-label", "alt"):
            if values.get(name):
                self.text.append(str(values[name]))
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.text.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.text.append(data)


def english_words(text: str) -> set[str]:
    text = NOT_WORDS.sub(" ", text)
    for username in User.objects.values_list("username", flat=True):
        text = text.replace(username, " ")
    words = set()
    for word in WORD.findall(text):
        if word in ALLOWED or HEX.match(word) or word.strip("-") in ALLOWED:
            continue
        words.add(word)
    return words


def crawl(client: Client, start: list[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    seen: set[str] = set()
    queue = deque(start)
    while queue and len(seen) < PAGES_PER_ROLE:
        path = queue.popleft()
        if path in seen or SKIP.search(path.split("?")[0]):
            continue
        seen.add(path)
        response = client.get(path)
        if response.status_code in (301, 302, 303):
            queue.append(response["Location"])
            continue
        if not response["Content-Type"].startswith("text/html"):
            continue
        reader = _Reader()
        reader.feed(response.content.decode())
        words = english_words(" ".join(reader.text))
        if words:
            found[f"{path} ({response.status_code})"] = words
        for link in reader.links:
            if link.startswith("/") and not link.startswith("//"):
                queue.append(link.split("#")[0])
    assert len(seen) > 1
    return found


@pytest.fixture
def hall(applicant: User, handler: Handler, hall_ca: object) -> None:
    """Applications in several states: a draft, one waiting for payment, one paid (and paid
    again through the other gateway: a 多余到账 on the order's and finance's pages; neither in
    the gateways' daily bills: discrepancies on finance's page)."""
    online_draft(applicant, handler)
    waiting = online_draft(applicant, handler)
    services.submit(applicant, waiting.number)
    paid = online_draft(applicant, handler)
    services.submit(applicant, paid.number)
    order = pay_online(paid.number, applicant)
    with transaction.atomic():
        surplus.receive(
            gateways.WECHAT.actor(),
            order,
            gateways.WECHAT,
            trade_no=f"42000{order.reference}",
            amount=order.amount,
            paid_at=clock.now(),
            source_sha256="",
        )
    # ... and the day's bills, where the sandbox has neither trade: discrepancies
    found = [
        gateway_bills.reconcile_day(system_actor("test"), name, clock.today()).discrepancies
        for name in gateways.ONLINE
    ]
    assert sum(map(len, found)) >= 1


@pytest.mark.parametrize(
    "role", ["visitor", "applicant", "clerk", "reviewer", "issuer", "ca_admin", "auditor"]
)
def test_pages_are_chinese(
    role: str, hall: None, request: pytest.FixtureRequest, client: Client
) -> None:
    if role != "visitor":
        client.force_login(request.getfixturevalue(role))
    english = crawl(client, START)
    assert not english, "English on pages:\n" + "\n".join(
        f"  {page}: {', '.join(sorted(words))}" for page, words in sorted(english.items())
    )


def test_api_refusals_are_chinese(client: Client, applicant: User) -> None:
    client.force_login(applicant)
    calls: list[Callable[[], object]] = [
        lambda: client.get("/api/hall/applications/SQ20990101-999999"),
        lambda: client.get("/api/nothing-here"),
        lambda: client.delete("/api/accounts/me"),
        lambda: client.get("/api/status/zz-not-hex"),
    ]
    for call in calls:
        response = call()
        body = json.loads(response.content)  # type: ignore[attr-defined]
        assert set(body) >= {"error", "message"}
        assert not english_words(body["message"]), body
