"""JSON API of the hall (``/api/hall/``): the same services the pages use.

Thin: read the request, call one service, shape the answer (:mod:`certhall.hall.schemas`).
Session-authenticated (``accounts.api.session``, which checks CSRF on every unsafe method); errors
are ``{"error", "message"}``, with ``fields`` when the refusal names inputs, answered with the
status of the ``CerthallError`` (``certhall.api``).
The clerk's service point is the clerk's context: chosen once per session
(``PUT /counter/point``) and used for every application the clerk opens.
"""

from __future__ import annotations

import base64
from dataclasses import asdict
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.http import HttpRequest, HttpResponse
from ninja import File, Form, Router, Status, UploadedFile

from certhall.accounts.api import session
from certhall.accounts.models import User
from certhall.agent import protocol
from certhall.ca import services as ca_services
from certhall.errors import Forbidden, InvalidInput, NotFound
from certhall.hall import (
    counter,
    documents,
    identity,
    issuance,
    payment,
    renewal,
    review,
    services,
)
from certhall.hall.items import ItemRequest
from certhall.hall.schemas import (
    ApplicationDetailOut,
    ApplicationOut,
    ChecklistIn,
    CounterOpenIn,
    CounterPaymentIn,
    DeliverIn,
    DetailsIn,
    DocumentOut,
    DraftIn,
    IdentityOut,
    IssueIn,
    ItemIn,
    ItemOut,
    ListLimit,
    ListOffset,
    LookupOut,
    NoteIn,
    PointIn,
    PointOut,
    QueueEntryOut,
    QueueLimit,
    ReasonIn,
    RenewalIn,
    RenewalOut,
    RenewalRequestIn,
    ReturnIn,
    StateFilter,
    TicketOut,
    application_detail,
    application_out,
    queue_entry_out,
)
from certhall.hall.storage import EXTENSIONS
from certhall.rules import default_catalog
from certhall.web.errors import refusals

router = Router(tags=["hall"], auth=session)

SESSION_POINT = "hall_point"


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Forbidden(code="not_authenticated")
    return user


def _detail(request: HttpRequest, number: str) -> dict[str, Any]:
    actor = _actor(request)
    application = services.get_application(actor, number, lines=services.ITEM_SERIALS)
    return application_detail(application, actor)


# --- applications (applicant and staff) ----------------------------------------------------


@router.get("/applications", response=list[ApplicationOut])
def list_applications(
    request: HttpRequest,
    state: StateFilter | None = None,
    limit: ListLimit = 50,
    offset: ListOffset = 0,
) -> list[dict[str, Any]]:
    actor = _actor(request)
    rows = services.list_applications(
        actor, state=state, limit=limit, offset=offset, lines=services.ITEM_SERIALS
    )
    return [application_out(row, actor) for row in rows]


@router.post("/applications", response={201: ApplicationDetailOut})
def create_draft(request: HttpRequest, body: DraftIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    application = services.create_draft(actor, project=body.project, handler_id=body.handler_id)
    return Status(201, application_detail(application, actor))


@router.get("/applications/{number}", response=ApplicationDetailOut)
def get_application(request: HttpRequest, number: str) -> dict[str, Any]:
    return _detail(request, number)


@router.patch("/applications/{number}", response=ApplicationDetailOut)
def update_details(request: HttpRequest, number: str, body: DetailsIn) -> dict[str, Any]:
    actor = _actor(request)
    services.update_details(actor, number, services.Details(**body.dict()))
    return _detail(request, number)


@router.post("/applications/{number}/items", response={201: ItemOut})
def add_item(request: HttpRequest, number: str, body: ItemIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    item = services.add_item(actor, number, ItemRequest(**body.dict()))
    application = services.get_application(actor, number)
    shown = next(i for i in application_out(application, actor)["items"] if i["id"] == item.pk)
    return Status(201, shown)


@router.delete("/applications/{number}/items/{item_id}", response=ApplicationDetailOut)
def remove_item(request: HttpRequest, number: str, item_id: int) -> dict[str, Any]:
    services.remove_item(_actor(request), number, item_id)
    return _detail(request, number)


@router.post("/applications/{number}/documents", response={201: DocumentOut})
def upload_document(
    request: HttpRequest, number: str, kind: Form[str], file: File[UploadedFile]
) -> Status[dict[str, Any]]:
    actor = _actor(request)
    document = documents.upload(
        actor, number, kind, filename=file.name or "", chunks=file.chunks(64 * 1024)
    )
    shown = next(d for d in _detail(request, number)["documents"] if d["id"] == document.pk)
    return Status(201, shown)


@router.get("/applications/{number}/documents/{document_id}")
def download_document(request: HttpRequest, number: str, document_id: int) -> HttpResponse:
    document, content = documents.open_document(_actor(request), number, document_id)
    response = HttpResponse(content, content_type=document.content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{document.sha256[:16]}.{_ext(document.content_type)}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _ext(content_type: str) -> str:
    return EXTENSIONS.get(content_type, "bin")


@router.post("/applications/{number}/identity", response={201: IdentityOut})
def identity_start(request: HttpRequest, number: str) -> Status[dict[str, Any]]:
    """A new 经办人实名核验: show ``phone_url`` as a QR code for the handler's phone."""
    actor = _actor(request)
    return Status(201, identity.describe(identity.start(actor, number), actor))


@router.get("/applications/{number}/identity", response=IdentityOut)
def identity_state(request: HttpRequest, number: str) -> dict[str, Any]:
    actor = _actor(request)
    found = identity.latest(services.get_application(actor, number))
    if found is None:
        raise NotFound(code="identity_never_started", number=number)
    return identity.describe(found, actor)


@router.post("/applications/{number}/submit", response=ApplicationDetailOut)
def submit(request: HttpRequest, number: str) -> dict[str, Any]:
    services.submit(_actor(request), number)
    return _detail(request, number)


@router.post("/applications/{number}/resubmit", response=ApplicationDetailOut)
def resubmit(request: HttpRequest, number: str) -> dict[str, Any]:
    services.resubmit(_actor(request), number)
    return _detail(request, number)


@router.post("/applications/{number}/cancel", response=ApplicationDetailOut)
def cancel(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    services.cancel(_actor(request), number, body.reason)
    return _detail(request, number)


# --- online renewal (网厅续期) ---------------------------------------------------------------


@router.get("/renewals/lookup", response=LookupOut)
def renewal_lookup(request: HttpRequest, serial: str, years: int | None = None) -> dict[str, Any]:
    found = renewal.lookup(_actor(request), serial, years)
    cert = found.certificate
    return {
        "serial": cert.serial,
        "cert_type": cert.profile,
        "org_name": cert.org_name,
        "person_name": cert.person_name,
        "not_before": cert.not_before,
        "not_after": cert.not_after,
        "status": cert.status,
        "quote": found.quote.as_json(),
        "open_application": found.open_application,
    }


@router.post("/renewals", response={201: ApplicationDetailOut})
def renewal_start(request: HttpRequest, body: RenewalIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    application = renewal.start(actor, body.serial, body.years)
    return Status(201, application_detail(application, actor))


@router.get("/applications/{number}/renewal", response=TicketOut, openapi_extra=refusals(409))
def renewal_ticket(request: HttpRequest, number: str) -> dict[str, Any]:
    return asdict(renewal.ticket(_actor(request), number))


def _csr_bytes(text: str) -> bytes:
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        if len(stripped) > 16 * 1024:
            raise InvalidInput(code="csr_too_large", variant="short")
        return stripped.encode("ascii", errors="replace")
    return protocol.b64decode(stripped, "csr", limit=16 * 1024)


@router.post("/applications/{number}/renewal", response=RenewalOut)
def renewal_request(request: HttpRequest, number: str, body: RenewalRequestIn) -> dict[str, Any]:
    done = renewal.request_renewal(
        _actor(request),
        number,
        csr=_csr_bytes(body.csr),
        signature=protocol.b64decode(body.signature, "signature", limit=2048),
        origin=body.origin,
    )
    new = done.new_certificate
    chain = x509.load_pem_x509_certificates(ca_services.chain_pem(new.ca)) if new else []
    return {
        "renewal_id": done.pk,
        "state": done.state,
        "new_serial": new.serial if new else None,
        "new_certificate_der_b64": base64.b64encode(bytes(new.der)).decode() if new else None,
        "chain_der_b64": [
            base64.b64encode(cert.public_bytes(Encoding.DER)).decode() for cert in chain
        ],
    }


@router.post("/applications/{number}/renewal/installed", response=ApplicationDetailOut)
def renewal_installed(request: HttpRequest, number: str) -> dict[str, Any]:
    renewal.confirm_installed(_actor(request), number)
    return _detail(request, number)


# --- review (审核) ---------------------------------------------------------------------------


@router.get("/review/queue", response=list[QueueEntryOut])
def review_queue(request: HttpRequest, limit: QueueLimit = 200) -> list[dict[str, Any]]:
    actor = _actor(request)
    return [queue_entry_out(e, actor) for e in review.review_queue(actor, limit=limit)]


@router.post("/applications/{number}/approve", response=ApplicationDetailOut)
def approve(request: HttpRequest, number: str, body: NoteIn) -> dict[str, Any]:
    review.approve(_actor(request), number, note=body.note)
    return _detail(request, number)


@router.post("/applications/{number}/return", response=ApplicationDetailOut)
def return_application(request: HttpRequest, number: str, body: ReturnIn) -> dict[str, Any]:
    review.return_application(_actor(request), number, reasons=body.reasons, note=body.note)
    return _detail(request, number)


# --- issuance, delivery, refund --------------------------------------------------------------


@router.post("/applications/{number}/issue", response=ApplicationDetailOut)
def issue(request: HttpRequest, number: str, body: IssueIn) -> dict[str, Any]:
    issuance.issue_application(_actor(request), number, tokens=body.tokens, pin=body.pin)
    return _detail(request, number)


@router.post("/applications/{number}/deliver", response=ApplicationDetailOut)
def deliver(request: HttpRequest, number: str, body: DeliverIn) -> dict[str, Any]:
    issuance.deliver(
        _actor(request), number, tracking_number=body.tracking_number, carrier=body.carrier
    )
    return _detail(request, number)


@router.post("/applications/{number}/refund", response=ApplicationDetailOut)
def refund(request: HttpRequest, number: str, body: ReasonIn) -> dict[str, Any]:
    payment.refund_application(_actor(request), number, body.reason)
    return _detail(request, number)


# --- the counter (受理点) --------------------------------------------------------------------


@router.get("/counter/point", response=PointOut)
def get_point(request: HttpRequest) -> dict[str, Any]:
    counter.require_counter(_actor(request))
    slug = request.session.get(SESSION_POINT)
    name = default_catalog().point(slug).name if slug else None
    return {"point": slug, "name": name}


@router.put("/counter/point", response=PointOut)
def set_point(request: HttpRequest, body: PointIn) -> dict[str, Any]:
    counter.require_counter(_actor(request))
    slug = counter.check_point(body.point)
    request.session[SESSION_POINT] = slug
    return {"point": slug, "name": default_catalog().point(slug).name}


@router.post("/counter/applications", response={201: ApplicationDetailOut})
def counter_open(request: HttpRequest, body: CounterOpenIn) -> Status[dict[str, Any]]:
    actor = _actor(request)
    application = counter.open_application(
        actor,
        point=str(request.session.get(SESSION_POINT) or ""),
        customer=counter.Customer(**body.customer.dict()),
        handler_id=body.handler_id,
        handler=counter.HandlerData(**body.handler.dict()) if body.handler else None,
        project=body.project,
    )
    return Status(201, application_detail(application, actor))


@router.post("/applications/{number}/checklist", response=DocumentOut)
def checklist(request: HttpRequest, number: str, body: ChecklistIn) -> dict[str, Any]:
    document = documents.check_at_counter(
        _actor(request), number, body.kind, original_seen=body.original_seen
    )
    return next(d for d in _detail(request, number)["documents"] if d["id"] == document.pk)


@router.post("/applications/{number}/counter-payment", response=ApplicationDetailOut)
def counter_payment(request: HttpRequest, number: str, body: CounterPaymentIn) -> dict[str, Any]:
    payment.take_counter_payment(_actor(request), number, method=body.method, voucher=body.voucher)
    return _detail(request, number)
