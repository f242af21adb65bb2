"""Isolation between enterprises, and between CAs' staff, through the whole JSON API.

Two enterprises each have an application, an order, a handler and a refund application. Every
route of `/api/openapi.json` that names an object (a path parameter, or an id, serial or USCC in
its query or body) is asked by the other enterprise's applicant for ours, and by another CA's
staff, and must refuse with 403 or 404, the `{"error", "message"}` body, and nothing changed. The
routes are read from the document, so a new one fails here until it says how to ask for ours
(`REQUESTS`) or why no enterprise owns what it names (`NOT_AN_ENTERPRISES`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certhall.accounts.models import Handler, Organization, Provider, User
from certhall.certlogin.models import CertificateAccount
from certhall.refunds.models import Channel, PayeeKind, Programme, RefundApplication
from tests.hall.conftest import FRIDAY, HANDLER_ID, PHONE, PNG, at
from tests.hall.test_authorization import ROUTES, World, snapshot
from tests.refunds.conftest import announced

pytestmark = pytest.mark.django_db

HALL = "/api/hall"
ACCOUNT = {"account_name": "某某", "account_number": "6222020200001234567", "bank_name": "工行"}
NEW_HANDLER = {"name": "赵六", "id_kind": "resident_id", "id_number": HANDLER_ID, "phone": PHONE}

#: Parameters that name something an enterprise or a CA owns (a programme's slug does not).
SCOPED = {"handler_id", "organization_id", "serial", "uscc", "customer"}

#: Routes naming something, asked by whoever does not own it: why they are left out.
NOT_AN_ENTERPRISES = {
    ("GET", "/api/status/{serial}"): "the public status query answers any certificate",
    ("POST", "/api/refunds/progress/code"): "sends the code to the application's own phone",
    ("POST", "/api/refunds/progress"): "opened only by that code",
    ("POST", "/api/refunds/programmes/{slug}/counter-applications"): "a counter's new entry",
    ("POST", "/api/accounts/register"): "a new account naming its enterprise's USCC",
    ("POST", "/api/refunds/batches/{number}/release"): "the programme's: refund officers' only",
    ("POST", "/api/refunds/batches/{number}/cancel"): "the programme's: refund officers' only",
    ("GET", "/api/refunds/batches/{number}/file"): "the programme's: refund officers' only",
}

Ask = Callable[[World], tuple[str, dict[str, Any] | None]]


def _refund(w: World) -> str:
    number = f"TF20261120-{w.organization.pk:06d}"
    RefundApplication.objects.get_or_create(
        number=number,
        defaults={
            "programme": Programme.objects.get(slug="sz-2021"),
            "uscc": w.organization.uscc,
            "enterprise_name": w.organization.name,
            "organization": w.organization,
            "channel": Channel.OFFLINE,
            "special_case": "lost",
            "provider": Provider.objects.get(pk=w.clerk.provider_id),
            "amount": "300.00",
            "payee_kind": PayeeKind.ENTERPRISE,
            **ACCOUNT,
            "phone": PHONE,
            "entered_by": w.clerk,
            "created_at": FRIDAY,
            "updated_at": FRIDAY,
        },
    )
    return number


def _refund_route(suffix: str, body: dict[str, Any] | None = None) -> Ask:
    return lambda w: (f"/api/refunds/applications/{_refund(w)}{suffix}", body)


def _order(suffix: str) -> Ask:
    return lambda w: (f"/api/payments/orders/{w.paid.payment_reference}{suffix}", None)


def _hall(route: Any) -> Ask:
    def ask(w: World) -> tuple[str, dict[str, Any] | None]:
        path, body = route.request(w)
        return f"{HALL}{path}", body

    return ask


REQUESTS: dict[tuple[str, str], Ask] = {
    **{(r.method, f"{HALL}{r.path}"): _hall(r) for r in ROUTES},
    ("GET", "/api/payments/orders/{reference}"): _order(""),
    ("GET", "/api/payments/orders/{reference}/receipt"): _order("/receipt"),
    ("GET", "/api/accounts/handlers"): lambda w: (
        f"/api/accounts/handlers?organization_id={w.organization.pk}",
        None,
    ),
    ("POST", "/api/accounts/handlers"): lambda w: (
        f"/api/accounts/handlers?organization_id={w.organization.pk}",
        NEW_HANDLER,
    ),
    ("GET", "/api/refunds/programmes/{slug}/eligibility"): lambda w: (
        f"/api/refunds/programmes/sz-2021/eligibility?uscc={w.organization.uscc}",
        None,
    ),
    ("GET", "/api/refunds/applications/{number}"): _refund_route(""),
    ("POST", "/api/refunds/applications/{number}/approve"): _refund_route("/approve"),
    ("POST", "/api/refunds/applications/{number}/reject"): _refund_route(
        "/reject", {"reason": "x"}
    ),
    ("POST", "/api/refunds/applications/{number}/ask-more"): _refund_route(
        "/ask-more", {"reason": "x"}
    ),
    ("POST", "/api/refunds/applications/{number}/supply"): _refund_route(
        "/supply", {"reason": "x"}
    ),
    ("POST", "/api/refunds/applications/{number}/account"): _refund_route("/account", ACCOUNT),
}

#: What another CA's staff may be answered besides a refusal: their own (empty) view.
FOREIGN_OK = {(r.method, f"{HALL}{r.path}"): r.foreign_ok for r in ROUTES}
#: Listings: the asker's own, none of ours in them.
LISTINGS = {("GET", f"{HALL}/applications")}


def _properties(document: dict[str, Any], schema: dict[str, Any]) -> set[str]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return set(schema.get("properties", {}))


def naming_routes() -> set[tuple[str, str]]:
    """The document's operations that name an object: by a path parameter other than a
    programme's slug, or by one of :data:`SCOPED` in the query or the body."""
    document = Client().get("/api/openapi.json").json()
    found = set()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p["name"] != "slug"}
            for content in operation.get("requestBody", {}).get("content", {}).values():
                names |= _properties(document, content.get("schema", {}))
            in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            if names & SCOPED or in_path - {"slug"}:
                found.add((method.upper(), path))
    return found


def test_every_route_naming_an_object_is_asked_or_said_why_not() -> None:
    named = naming_routes()
    assert named - set(REQUESTS) - set(NOT_AN_ENTERPRISES) == set()
    # and none of the table is stale
    assert set(NOT_AN_ENTERPRISES) <= named
    assert {key for key in REQUESTS if not key[1].startswith(HALL)} <= named


def _holder(user: User, organization: Organization) -> User:
    """An applicant as certificate login makes one (refunds show an enterprise its own then)."""
    CertificateAccount.objects.create(
        user=user, organization=organization, holder_key=organization.uscc
    )
    return User.objects.get(pk=user.pk)


def _call(user: User, method: str, path: str, body: dict[str, Any] | None) -> Any:
    client = Client()
    client.force_login(user)
    if path == f"{HALL}/counter/applications":
        client.put(f"{HALL}/counter/point", {"point": "kejiyuan"}, content_type="application/json")
    if path.endswith("/documents") and method == "POST":
        upload = SimpleUploadedFile("x.png", PNG + b"other")
        return client.post(path, {"kind": "licence_copy", "file": upload})
    if method == "GET":
        return client.get(path, body or {})
    payload = json.dumps(body or {})
    return client.generic(method, path, payload, content_type="application/json")


def _state() -> dict[str, Any]:
    return {
        **snapshot(),
        "refunds": sorted(RefundApplication.objects.values_list("number", "state", "note")),
        "handlers": sorted(Handler.objects.values_list("pk", "organization_id", "name")),
    }


@pytest.fixture
def worlds(
    request: pytest.FixtureRequest,
    applicant: User,
    stranger: User,
    handler: Handler,
    reviewer: User,
    clerk: User,
    admin: User,
    organization: Organization,
    other_organization: Organization,
) -> tuple[World, World]:
    """Ours and theirs: each enterprise a certificate holder with its own handler, draft, order
    and refund application."""
    announced()
    theirs_handler = Handler.objects.create(
        organization=other_organization,
        name="钱七",
        id_kind=Handler.IdKind.RESIDENT_ID,
        id_number="440301199202021236",
        phone="13900139000",
    )
    ours = World(
        request, _holder(applicant, organization), handler, reviewer, clerk, admin, organization
    )
    theirs = World(
        request,
        _holder(stranger, other_organization),
        theirs_handler,
        reviewer,
        clerk,
        admin,
        other_organization,
    )
    with at(FRIDAY):
        for world in (ours, theirs):
            world.paid  # noqa: B018 (an application paid for: its order)
            _refund(world)
    return ours, theirs


def _refusal(response: Any) -> str | None:
    """What is wrong with an answer that should be a refusal, or None."""
    if response.status_code not in (403, 404):
        return f"{response.status_code} {response.content[:200]!r}"
    if set(response.json()) - {"fields"} != {"error", "message"}:
        return f"body {response.content[:200]!r}"
    return None


def test_the_other_enterprise_and_another_cas_staff_are_refused(
    worlds: tuple[World, World], foreign_staff: dict[str, User]
) -> None:
    """One test over every route (the worlds are built once: a paid, an approved, an issued
    application of each enterprise), listing every route that answered otherwise."""
    ours, theirs = worlds
    wrong = []
    with at(FRIDAY):
        for key, ask in sorted(REQUESTS.items()):
            method = key[0]
            for owner, intruder in ((ours, theirs.applicant), (theirs, ours.applicant)):
                path, body = ask(owner)
                before = _state()
                response = _call(intruder, method, path, body)
                if key in LISTINGS:
                    problem = None if response.status_code == 200 else str(response.status_code)
                    if owner.draft.number in response.content.decode():
                        problem = "listed"
                else:
                    problem = _refusal(response)
                if problem or _state() != before:
                    wrong.append((key, "the other enterprise", problem or "changed"))
            path, body = ask(ours)
            for role, staff in foreign_staff.items():
                before = _state()
                response = _call(staff, method, path, body)
                if response.status_code in FOREIGN_OK.get(key, ()) or key in LISTINGS:
                    problem = "shown" if ours.draft.number in response.content.decode() else None
                else:
                    problem = _refusal(response)
                if problem or _state() != before:
                    wrong.append((key, f"another CA's {role}", problem or "changed"))
    assert wrong == []


def test_the_owner_is_answered(worlds: tuple[World, World]) -> None:
    """The refusals above are about who asks: the owner reads each of its own."""
    ours, _ = worlds
    reads = [k for k in REQUESTS if k[0] == "GET" and k not in LISTINGS]
    with at(FRIDAY):
        for key in reads:
            path, body = REQUESTS[key](ours)
            if any(part in path for part in ("renewal", "documents/", "/identity", "/review/")):
                continue  # states the draft is not in, staff's (tests/hall/test_authorization)
            if "/counter/" in path:
                continue
            response = _call(ours.applicant, "GET", path, body)
            assert response.status_code == 200, (key, response.content)
