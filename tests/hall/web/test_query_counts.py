"""Query counts of the main hall pages and API, pinned: they do not grow with the number of
applications (no query per row), and stay at or under the numbers measured when the repeated
queries were removed (docs/performance.md, "Hall pages"). A regression fails here first."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from certhall.accounts.models import Handler, User
from certhall.hall import services
from tests.hall.conftest import FRIDAY, at, online_draft, pay_online

pytestmark = pytest.mark.django_db


def _applications(applicant: User, handler: Handler, count: int) -> list[str]:
    numbers = []
    with at(FRIDAY):
        for i in range(count):
            draft = online_draft(applicant, handler)
            if i % 2 == 0:
                services.submit(applicant, draft.number)
                pay_online(draft.number, applicant)
            numbers.append(draft.number)
    return numbers


def _count(client: Client, url: str) -> int:
    with at(FRIDAY), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries)


def _pages(number: str) -> dict[str, str]:
    return {
        "home": reverse("hall-applicant:home"),
        "list": reverse("hall-applicant:list"),
        "detail": reverse("hall-applicant:detail", args=[number]),
        "api list": "/api/hall/applications",
        "api detail": f"/api/hall/applications/{number}",
    }


#: Statements per page, measured after the repeated ones were removed (before: home 8, list 7,
#: detail 8, API detail 9, review 7, staff application page 9 with 6 applications, growing with
#: every application). Two of each are Django's session and user. One more on API detail and
#: the staff application page since 经办人实名核验: the passed checks (hall.identity); one more
#: on the staff application page for the list of checks. Home and list lost two on 2026-12-04:
#: a draft's row links to 继续填写, which works out the step when it is followed; home one more
#: the same day: the session's user comes with its organisation (accounts.backends).
PINNED = {
    "home": 4,
    "list": 4,
    "detail": 6,
    "api list": 4,
    "api detail": 7,
    "staff home": 4,
    "review queue": 4,
    "issuance queue": 5,
    "staff application": 8,
}


def test_main_pages_make_a_fixed_number_of_queries(  # type: ignore[no-untyped-def]
    applicant: User, handler: Handler, reviewer: User, issuer: User, hall_ca
) -> None:
    clients = {}
    for name, user in (("applicant", applicant), ("reviewer", reviewer), ("issuer", issuer)):
        clients[name] = Client()
        clients[name].force_login(user)
    counts: list[dict[str, int]] = []
    numbers: list[str] = []
    for more in (2, 6):
        numbers += _applications(applicant, handler, more)
        pages = {
            **{name: ("applicant", url) for name, url in _pages(numbers[0]).items()},
            "staff home": ("reviewer", reverse("hall-staff:home")),
            "review queue": ("reviewer", reverse("hall-staff:review")),
            "issuance queue": ("issuer", reverse("hall-staff:issuance")),
            "staff application": (
                "reviewer",
                reverse("hall-staff:application", args=[numbers[0]]),
            ),
        }
        got = {}
        for name, (who, url) in pages.items():
            _count(clients[who], url)  # warm: the first request of a session may write to it
            got[name] = _count(clients[who], url)
        counts.append(got)
    assert counts[0] == counts[1], "a page makes a query per application"
    assert counts[1] == PINNED
