"""Every URL of the staff console as an applicant, as staff of another provider and without a
CSRF token: refused, and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from certhall.accounts.models import Handler, User
from certhall.hall import counter, documents, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.web import staff_urls
from tests.hall.conftest import FRIDAY, at
from tests.hall.web.staff_support import (
    HANDLER_ID,
    NEW_USCC,
    counter_client,
    login,
    online_paid_at,
    snapshot,
    text,
)

pytestmark = pytest.mark.django_db


# --- every URL: applicants, other providers, CSRF --------------------------------------------


ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", "home", {}),
    ("GET", "counter", {}),
    ("POST", "counter", {"point": "kejiyuan"}),
    ("POST", "counter-open", {"uscc": NEW_USCC, "name": "x", "handler_id": "<handler>"}),
    ("POST", "counter-licence", {"uscc": "x", "name": "x", "disown": "1"}),
    ("GET", "review", {}),
    ("GET", "issuance", {}),
    ("GET", "ukeys", {}),
    ("POST", "ukeys", {"count": "1"}),
    ("GET", "calendar", {}),
    ("POST", "calendar", {"step": "confirm", "year": "2027", "notice": "一、元旦：1月1日放假。"}),
    ("GET", "application", {}),
    ("POST", "add-item", {"business": "new", "cert_type": "personal", "years": "1"}),
    ("POST", "remove-item", {}),
    ("POST", "checklist", {"received": ["licence_copy"], "original": ["licence_copy"]}),
    ("POST", "submit", {}),
    ("POST", "resubmit", {}),
    ("POST", "payment", {"method": "cash"}),
    ("POST", "approve", {}),
    ("POST", "return", {"note": "x"}),
    ("POST", "issue", {}),
    ("POST", "deliver", {}),
    ("POST", "cancel", {"reason": "x"}),
    ("POST", "refund", {"reason": "x"}),
    ("GET", "document", {}),
    ("GET", "form", {}),
]
LISTINGS = {"home", "review", "issuance", "ukeys", "counter", "calendar"}


def test_every_url_is_tried() -> None:
    names = {pattern.name for pattern in staff_urls.urlpatterns}  # type: ignore[union-attr]
    assert names == {name for _, name, _ in ROUTES}


@pytest.fixture
def counter_draft(clerk: User, handler: Handler) -> Application:
    """An on-site draft with a line and a checked document, at 科技园 on Friday."""
    with at(FRIDAY):
        draft = counter.open_application(
            clerk,
            point="kejiyuan",
            customer=counter.Customer(uscc=handler.organization.uscc),
            handler_id=handler.pk,
        )
        services.add_item(clerk, draft.number, ItemRequest(business="new", cert_type="org"))
        documents.check_at_counter(clerk, draft.number, "licence_copy")
    return draft


@pytest.fixture
def online_paid(applicant: User, handler: Handler) -> Application:
    return online_paid_at(applicant, handler, FRIDAY)


def _url(name: str, application: Application) -> str:
    if name in LISTINGS or name == "counter-open":
        return reverse(f"hall-staff:{name}")
    args: list[Any] = [application.number]
    if name == "remove-item":
        args.append(application.items.get().pk)
    elif name == "document":
        args.append(application.documents.order_by("pk").first().pk)  # type: ignore[union-attr]
    elif name == "form":
        args.append("unit_application")
    elif name == "counter-licence":
        args = [application.organization_id]
    return reverse(f"hall-staff:{name}", args=args)


def _target(name: str, draft: Application, online: Application) -> Application:
    return online if name in ("approve", "return", "document") else draft


@pytest.mark.parametrize(("method", "name", "data"), ROUTES, ids=[f"{m} {n}" for m, n, _ in ROUTES])
def test_applicants_are_refused_everywhere(
    method: str,
    name: str,
    data: dict[str, Any],
    applicant: User,
    handler: Handler,
    counter_draft: Application,
    online_paid: Application,
) -> None:
    client = login(applicant)
    target = _target(name, counter_draft, online_paid)
    payload = {k: (str(handler.pk) if v == "<handler>" else v) for k, v in data.items()}
    with at(FRIDAY):
        before = snapshot()
        url = _url(name, target)
        response = client.get(url) if method == "GET" else client.post(url, payload)
        assert response.status_code == 403, (name, response.status_code)
        assert "工作台只对受理员" in text(response)
        assert snapshot() == before


@pytest.mark.parametrize(("method", "name", "data"), ROUTES, ids=[f"{m} {n}" for m, n, _ in ROUTES])
def test_other_providers_staff_see_and_change_nothing(
    method: str,
    name: str,
    data: dict[str, Any],
    handler: Handler,
    counter_draft: Application,
    online_paid: Application,
    foreign_staff: dict[str, User],
) -> None:
    target = _target(name, counter_draft, online_paid)
    payload = {k: (str(handler.pk) if v == "<handler>" else v) for k, v in data.items()}
    with at(FRIDAY):
        url = _url(name, target)
        for role, user in foreign_staff.items():
            client = login(user)
            if name == "counter-open":
                client.post(reverse("hall-staff:counter"), {"point": "kejiyuan"})
            if (method, name) == ("POST", "ukeys") and role in ("issuer", "ca_admin"):
                continue  # they stock their own provider's Ukeys (tested with SoftHSM above)
            before = snapshot()
            response = client.get(url) if method == "GET" else client.post(url, payload)
            if name in LISTINGS:
                # their own (empty) listings; none of ours
                assert response.status_code in (200, 303, 403), role
                if response.status_code == 200:
                    body = text(response)
                    assert counter_draft.number not in body and online_paid.number not in body
            elif name == "counter-open":
                # a clerk of another provider cannot open an application for our provider
                assert response.status_code in (303, 403), role
                assert not Application.objects.exclude(
                    pk__in=[counter_draft.pk, online_paid.pk]
                ).exists()
            else:
                assert response.status_code in (403, 404), (role, response.status_code)
            assert snapshot() == before, role


def test_the_counters_work_in_hand_is_not_lost_among_online_applications(
    counter_draft: Application, applicant: User, clerk: User
) -> None:
    """It was the on-site ones among the newest 100 of all: a busy online hall hid them."""
    with at(FRIDAY):
        for _ in range(101):
            services.create_draft(applicant)
        client = counter_client(clerk)
        page = text(client.get(reverse("hall-staff:counter")))
        home = text(client.get(reverse("hall-staff:home")))
    assert counter_draft.number in page and "办理中的现场申请（1 件）" in page
    assert counter_draft.number in home and "办理中的现场申请 1 件" in home


def test_other_providers_staff_cannot_look_customers_up(
    clerk: User, handler: Handler, foreign_staff: dict[str, User]
) -> None:
    """The counter's USCC look-up shows handlers' full ID numbers and phones: this CA's
    counter only (it showed them to a clerk of any provider)."""
    page = reverse("hall-staff:counter")
    lookup = f"{page}?uscc={handler.organization.uscc}"
    with at(FRIDAY):
        ours = login(clerk)
        ours.post(page, {"point": "kejiyuan"})
        assert HANDLER_ID in text(ours.get(lookup))
        for role, user in foreign_staff.items():
            client = login(user)
            chosen = client.post(page, {"point": "kejiyuan"})
            assert chosen.status_code == 403, role
            response = client.get(lookup)
            assert response.status_code == 403, role
            assert HANDLER_ID not in text(response) and handler.name not in text(response)


@pytest.mark.parametrize(
    ("method", "name", "data"),
    [r for r in ROUTES if r[0] == "POST"],
    ids=[n for m, n, _ in ROUTES if m == "POST"],
)
def test_posts_need_the_csrf_token(
    method: str,
    name: str,
    data: dict[str, Any],
    ca_admin: User,
    handler: Handler,
    counter_draft: Application,
    online_paid: Application,
) -> None:
    client = login(ca_admin, enforce_csrf_checks=True)
    target = _target(name, counter_draft, online_paid)
    payload = {k: (str(handler.pk) if v == "<handler>" else v) for k, v in data.items()}
    with at(FRIDAY):
        before = snapshot()
        response = client.post(_url(name, target), payload)
        assert response.status_code == 403
        assert snapshot() == before
