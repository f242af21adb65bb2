"""Authorisation: every hall API route, tried by an applicant of another enterprise and by the
staff of another certification service provider, is refused (403/404) and changes nothing."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certhall.accounts.models import Handler, Organization, User
from certhall.audit.models import AuditEvent
from certhall.hall import counter, documents, review, services
from certhall.hall.api import router
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application, ApplicationItem, Document, IdentityCheck
from certhall.hall.states import State
from certhall.payments.models import Order
from tests.hall.conftest import (
    FRIDAY,
    LEGAL_REP_ID,
    PNG,
    at,
    online_draft,
    pay_online,
    software_certificate,
)

pytestmark = pytest.mark.django_db

API = "/api/hall"


@dataclass
class World:
    """Applications of our organisation in the states each route acts on, built on demand."""

    request: pytest.FixtureRequest
    applicant: User
    handler: Handler
    reviewer: User
    clerk: User
    admin: User
    organization: Organization

    @cached_property
    def draft(self) -> Application:
        return online_draft(self.applicant, self.handler)

    def _paid(self) -> Application:
        application = online_draft(self.applicant, self.handler)
        services.submit(self.applicant, application.number)
        pay_online(application.number, self.applicant)
        return Application.objects.get(pk=application.pk)

    @cached_property
    def paid(self) -> Application:
        return self._paid()

    @cached_property
    def returned(self) -> Application:
        application = self._paid()
        review.return_application(self.reviewer, application.number, reasons={}, note="补正")
        return Application.objects.get(pk=application.pk)

    @cached_property
    def approved(self) -> Application:
        application = self._paid()
        return review.approve(self.reviewer, application.number)

    @cached_property
    def issued(self) -> Application:
        application = self._paid()
        review.approve(self.reviewer, application.number)
        Application.objects.filter(pk=application.pk).update(state=State.ISSUED)
        return Application.objects.get(pk=application.pk)

    @cached_property
    def certificate(self) -> Any:
        self.request.getfixturevalue("hall_ca")
        return software_certificate(self.admin, self.organization)[1]

    @cached_property
    def renewal(self) -> Application:
        from certhall.hall import renewal

        self.request.getfixturevalue("hall_ca")
        _, cert = software_certificate(self.admin, self.organization)
        return renewal.start(self.applicant, cert.serial)

    @cached_property
    def onsite_draft(self) -> Application:
        application = counter.open_application(
            self.clerk,
            point="kejiyuan",
            customer=counter.Customer(uscc=self.organization.uscc),
            handler_id=self.handler.pk,
        )
        services.add_item(
            self.clerk,
            application.number,
            ItemRequest(
                business="new",
                cert_type="personal",
                years=1,
                person_name="王五",
                person_id_number=LEGAL_REP_ID,
            ),
        )
        return application

    @cached_property
    def onsite_awaiting(self) -> Application:
        application = self.onsite_draft
        for kind in documents.required(application, list(application.items.all())):
            documents.check_at_counter(self.clerk, application.number, kind, original_seen=True)
        return services.submit(self.clerk, application.number)


def snapshot() -> dict[str, Any]:
    """Everything a refused call must leave as it was."""
    return {
        "applications": sorted(
            Application.objects.values_list("number", "state", "updated_at", "organization_id")
        ),
        "items": sorted(ApplicationItem.objects.values_list("pk", "done_at", "fee")),
        "documents": sorted(Document.objects.values_list("pk", "status", "superseded")),
        "orders": sorted(Order.objects.values_list("reference", "status")),
        "identity_checks": sorted(IdentityCheck.objects.values_list("pk", "state")),
        "ok_events": AuditEvent.objects.filter(result="ok").count(),
    }


JSON = "application/json"
B64 = base64.b64encode(b"x").decode()


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    #: The World attribute the route acts on (built before the picture is taken).
    target: str | None
    #: (path with {number} etc. filled in, JSON body or None); ``multipart`` for uploads.
    request: Callable[[World], tuple[str, dict[str, Any] | None]]
    multipart: bool = False
    #: Statuses staff of another provider may get: their own session's service point.
    foreign_ok: frozenset[int] = frozenset()


def _route(
    method: str,
    path: str,
    target: str | None,
    body: dict[str, Any] | None = None,
    **options: Any,
) -> Route:
    def request(w: World) -> tuple[str, dict[str, Any] | None]:
        application = getattr(w, target) if target else None
        filled = path
        if application is not None and "{number}" in path:
            filled = filled.replace("{number}", application.number)
        if "{item_id}" in path:
            filled = filled.replace("{item_id}", str(application.items.first().pk))
        if "{document_id}" in path:
            filled = filled.replace("{document_id}", str(application.documents.first().pk))
        data = dict(body or {})
        for key, value in data.items():
            if value == "<serial>":
                data[key] = w.certificate.serial
            if value == "<handler>":
                data[key] = w.handler.pk
            if value == "<uscc>":
                data[key] = {"uscc": w.organization.uscc}
        return filled, data

    return Route(method, path, target, request, **options)


NEW_PERSONAL = {
    "business": "new",
    "cert_type": "personal",
    "years": 1,
    "person_name": "X",
    "person_id_number": LEGAL_REP_ID,
}
ROUTES = [
    _route("GET", "/applications", "draft"),
    # a draft naming our handler: the handler is not theirs
    _route("POST", "/applications", "draft", {"handler_id": "<handler>"}),
    _route("GET", "/applications/{number}", "draft"),
    _route("PATCH", "/applications/{number}", "draft", {"address": "别处"}),
    _route("POST", "/applications/{number}/items", "draft", NEW_PERSONAL),
    _route("DELETE", "/applications/{number}/items/{item_id}", "draft"),
    _route("POST", "/applications/{number}/documents", "draft", multipart=True),
    _route("GET", "/applications/{number}/documents/{document_id}", "draft"),
    _route("POST", "/applications/{number}/identity", "draft"),
    _route("GET", "/applications/{number}/identity", "draft"),
    _route("POST", "/applications/{number}/submit", "draft"),
    _route("POST", "/applications/{number}/resubmit", "returned"),
    _route("POST", "/applications/{number}/cancel", "draft", {"reason": "x"}),
    _route("GET", "/renewals/lookup", "certificate", {"serial": "<serial>"}),
    _route("POST", "/renewals", "certificate", {"serial": "<serial>"}),
    _route("GET", "/applications/{number}/renewal", "renewal"),
    _route(
        "POST",
        "/applications/{number}/renewal",
        "renewal",
        {"csr": B64, "signature": B64, "origin": "http://127.0.0.1:8000"},
    ),
    _route("POST", "/applications/{number}/renewal/installed", "renewal"),
    # their own provider's queue: none of ours in it
    _route("GET", "/review/queue", "paid", foreign_ok=frozenset({200})),
    _route("POST", "/applications/{number}/approve", "paid"),
    _route("POST", "/applications/{number}/return", "paid", {"note": "不行"}),
    _route("POST", "/applications/{number}/issue", "approved", {"tokens": {}}),
    _route("POST", "/applications/{number}/deliver", "issued", {"tracking_number": "SF1234567890"}),
    _route("POST", "/applications/{number}/refund", "paid", {"reason": "退"}),
    _route("GET", "/counter/point", None, foreign_ok=frozenset({200})),
    _route("PUT", "/counter/point", None, {"point": "kejiyuan"}, foreign_ok=frozenset({200})),
    _route(
        "POST",
        "/counter/applications",
        None,
        {"customer": "<uscc>", "handler_id": "<handler>"},
    ),
    _route(
        "POST",
        "/applications/{number}/checklist",
        "onsite_draft",
        {"kind": "licence_copy", "original_seen": True},
    ),
    _route("POST", "/applications/{number}/counter-payment", "onsite_awaiting", {"method": "cash"}),
]


def test_every_route_is_tried() -> None:
    routes = {
        (method, path)
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    }
    assert routes == {(r.method, r.path) for r in ROUTES}


@pytest.fixture
def world(
    request: pytest.FixtureRequest,
    applicant: User,
    handler: Handler,
    reviewer: User,
    clerk: User,
    admin: User,
    organization: Organization,
) -> World:
    return World(request, applicant, handler, reviewer, clerk, admin, organization)


def call(route: Route, user: User, world: World) -> Any:
    client = Client()
    client.force_login(user)
    if route.path == "/counter/applications":
        client.put(f"{API}/counter/point", {"point": "kejiyuan"}, content_type=JSON)
    path, body = route.request(world)
    url = f"{API}{path}"
    if route.multipart:
        upload = SimpleUploadedFile("x.png", PNG + b"other")
        return client.post(url, {"kind": "licence_copy", "file": upload})
    if route.method == "GET":
        return client.get(url, body or {})
    return client.generic(route.method, url, json.dumps(body or {}), content_type=JSON)


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_other_enterprises_and_providers_are_refused(
    route: Route, world: World, stranger: User, foreign_staff: dict[str, User]
) -> None:
    actors = {"stranger": stranger, **{f"foreign {k}": v for k, v in foreign_staff.items()}}
    with at(FRIDAY):
        # what the route acts on exists before the picture is taken
        target = getattr(world, route.target) if route.target is not None else None
        target = target if isinstance(target, Application) else None
        ours = world.draft.number
        for name, actor in actors.items():
            before = snapshot()
            response = call(route, actor, world)
            if (route.method, route.path) == ("GET", "/applications"):
                # a listing, of none of ours
                assert response.status_code == 200, name
                assert ours not in response.content.decode(), name
                continue
            if name != "stranger" and response.status_code in route.foreign_ok:
                assert snapshot() == before, name
                if target is not None:
                    assert target.number not in response.content.decode(), name
                continue
            assert response.status_code in (403, 404), (
                name,
                response.status_code,
                response.content,
            )
            assert snapshot() == before, name
        # the same read by the owner works: the refusals above are about who asks
        if route.method == "GET" and route.path.startswith("/applications/{number}"):
            assert call(route, world.applicant, world).status_code == 200


def test_another_enterprises_object_is_answered_as_one_that_does_not_exist(
    world: World, stranger: User
) -> None:
    """403 for another enterprise's application, order or certificate and 404 for a number
    that does not exist told an enterprise which numbers exist. Both answers are now the same
    (status and body, the number asked for aside), on the pages and in the API."""
    with at(FRIDAY):
        paid = world.paid
        order = Order.objects.get(reference=paid.payment_reference)
        cert = world.certificate
    nothing = {
        paid.number: "SQ20991231-999999",
        order.reference: "ZF20991231-999999",
        cert.serial: "7" * len(cert.serial),
    }
    urls = [
        f"{API}/applications/{paid.number}",
        f"{API}/applications/{paid.number}/submit",
        f"/hall/applications/{paid.number}/",
        f"/api/payments/orders/{order.reference}",
        f"/payments/orders/{order.reference}",
        f"{API}/renewals/lookup?serial={cert.serial}",
        f"/my/certificates/{cert.serial}.pem",
    ]
    client = Client()
    client.force_login(stranger)

    def ask(url: str) -> tuple[int, str]:
        method = client.post if url.endswith("/submit") else client.get
        response = method(url)
        return response.status_code, response.content.decode()

    with at(FRIDAY):
        for url in urls:
            ours = next(key for key in nothing if key in url)
            foreign = ask(url)
            missing = ask(url.replace(ours, nothing[ours]))
            assert foreign[0] == missing[0] == 404, (url, foreign[0], missing[0])
            assert foreign[1].replace(ours, nothing[ours]) == missing[1], url
    # the audit log tells them apart: the submit of another enterprise's application
    refused = AuditEvent.objects.filter(action="hall.application.submit", result="refused")
    notes = sorted((e.object_id, (e.after or {}).get("other_organization")) for e in refused)
    assert notes == [(paid.number, True), ("SQ20991231-999999", None)]
