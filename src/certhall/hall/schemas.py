"""JSON shapes of the hall API, and how an application is shown to whom.

Amounts are strings with two decimals (``"300.00"``), never JSON numbers. Applicants see
identity numbers masked (their own data, but a list on a screen is not the place for it);
staff see them in full, they compare them with the ID copies.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from ninja import Schema
from pydantic import BaseModel, Field, WithJsonSchema

from certhall.accounts.models import Handler, Role, User
from certhall.hall import documents, services
from certhall.hall.models import (
    Application,
    ApplicationItem,
    Business,
    CertType,
    Delivery,
    Document,
)
from certhall.hall.review import QUEUE_LIMIT, QueueEntry
from certhall.hall.states import State
from certhall.hall.storage import MAX_BYTES
from certhall.notify.models import mask_phone


class Out(BaseModel):
    """An answer's shape, validated from the dicts built below: plain pydantic, whose checks
    run in its compiled core, where ninja's ``Schema`` reads every field of every row through
    a Python getter, made for answers that are objects (measured: ninja's answer validation
    took 35% of the API list's CPU, 15% now)."""


class ApplicationOrganizationOut(Out):
    id: int
    name: str
    uscc: str


class ApplicationHandlerOut(Out):
    id: int
    name: str
    phone: str


class ItemOut(Out):
    id: int
    business: str
    business_label: str
    cert_type: str
    cert_type_label: str
    years: int | None
    fee: str
    org_name: str
    person_name: str
    person_id_number: str
    target_serial: str | None
    token_serial: str | None
    result_serial: str | None
    revocation_reason: str
    replace_cause: str
    done_at: datetime | None


class DocumentOut(Out):
    id: int
    kind: str
    kind_label: str
    medium: str
    filename: str
    sha256: str
    size: int
    content_type: str
    original_seen: bool
    status: str
    status_label: str
    review_reason: str
    superseded: bool
    uploaded_at: datetime


class DeliveryOut(Out):
    method: str
    method_label: str
    recipient_name: str
    recipient_phone: str
    address: str
    pickup_point: str
    carrier: str
    tracking_number: str


class HistoryOut(Out):
    at: datetime
    action: str
    state: str
    reason: str
    actor: str | None = None


class ApplicationOut(Out):
    number: str
    project: str
    project_label: str
    state: str
    state_label: str
    channel: str
    point: str
    organization: ApplicationOrganizationOut
    handler: ApplicationHandlerOut | None
    created_at: datetime
    submitted_at: datetime | None
    complete_at: datetime | None
    due_date: date | None
    #: The deadline counts a year whose official holiday arrangement is not known yet (预计).
    due_provisional: bool
    paid_at: datetime | None
    approved_at: datetime | None
    issued_at: datetime | None
    delivered_at: datetime | None
    fee_total: str
    postage: str
    total: str
    payment_reference: str
    delivery: DeliveryOut
    return_note: str
    items: list[ItemOut]


class ApplicationDetailOut(ApplicationOut):
    documents: list[DocumentOut]
    required_documents: list[str]
    missing: list[str]
    history: list[HistoryOut]
    upload_limit_bytes: int


class QueueEntryOut(Out):
    application: ApplicationOut
    due_date: date | None
    overdue: bool
    due_today: bool


def mask_id(number: str) -> str:
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def _item(item: ApplicationItem, staff: bool) -> dict[str, Any]:
    return {
        "id": item.pk,
        "business": item.business,
        "business_label": Business(item.business).label,
        "cert_type": item.cert_type,
        "cert_type_label": CertType(item.cert_type).label,
        "years": item.years,
        "fee": str(item.fee),
        "org_name": item.org_name,
        "person_name": item.person_name,
        "person_id_number": item.person_id_number if staff else mask_id(item.person_id_number),
        "target_serial": item.target_certificate.serial if item.target_certificate else None,
        "token_serial": item.token.serial if item.token else None,
        "result_serial": item.result_certificate.serial if item.result_certificate else None,
        "revocation_reason": item.revocation_reason,
        "replace_cause": item.replace_cause,
        "done_at": item.done_at,
    }


def _document(document: Document) -> dict[str, Any]:
    return {
        "id": document.pk,
        "kind": document.kind,
        "kind_label": documents.document_name(document.kind),
        "medium": document.medium,
        "filename": document.filename,
        "sha256": document.sha256,
        "size": document.size,
        "content_type": document.content_type,
        "original_seen": document.original_seen,
        "status": document.status,
        "status_label": document.get_status_display(),
        "review_reason": document.review_reason,
        "superseded": document.superseded,
        "uploaded_at": document.uploaded_at,
    }


def application_out(application: Application, actor: User) -> dict[str, Any]:
    staff = actor.role != Role.APPLICANT
    handler = application.handler
    lines = list(application.items.all())  # prefetched by the services (ITEMS)
    return {
        "number": application.number,
        "project": application.project,
        "project_label": application.get_project_display(),
        "state": application.state,
        "state_label": State(application.state).label,
        "channel": application.channel,
        "point": application.point,
        "organization": {
            "id": application.organization.pk,
            "name": application.organization.name,
            "uscc": application.organization.uscc,
        },
        "handler": None
        if handler is None
        else {
            "id": handler.pk,
            "name": handler.name,
            "phone": handler.phone if staff else mask_phone(handler.phone),
        },
        "created_at": application.created_at,
        "submitted_at": application.submitted_at,
        "complete_at": application.complete_at,
        "due_date": application.due_date,
        "due_provisional": application.due_provisional,
        "paid_at": application.paid_at,
        "approved_at": application.approved_at,
        "issued_at": application.issued_at,
        "delivered_at": application.delivered_at,
        "fee_total": str(application.fee_total),
        "postage": str(application.postage),
        "total": str(application.total),
        "payment_reference": application.payment_reference,
        "delivery": {
            "method": application.delivery,
            "method_label": Delivery(application.delivery).label if application.delivery else "",
            "recipient_name": application.recipient_name,
            "recipient_phone": application.recipient_phone,
            "address": application.address,
            "pickup_point": application.pickup_point,
            "carrier": application.carrier,
            "tracking_number": application.tracking_number,
        },
        "return_note": application.return_note,
        "items": [_item(line, staff) for line in lines],
    }


def application_detail(application: Application, actor: User) -> dict[str, Any]:
    lines = list(application.items.all())
    return {
        **application_out(application, actor),
        "documents": [_document(d) for d in services.documents_of(application)],
        "required_documents": documents.required(application, lines),
        "missing": documents.missing(application, lines),
        "history": services.history(actor, application),
        "upload_limit_bytes": MAX_BYTES,
    }


def queue_entry_out(entry: QueueEntry, actor: User) -> dict[str, Any]:
    return {
        "application": application_out(entry.application, actor),
        "due_date": entry.due_date,
        "overdue": entry.overdue,
        "due_today": entry.due_today,
    }


# --- inputs --------------------------------------------------------------------------------


class DraftIn(Schema):
    project: str = "sz_medical_insurance"
    handler_id: int | None = None


class DetailsIn(Schema):
    handler_id: int | None = None
    delivery: DeliveryCode | None = None
    recipient_name: str | None = None
    recipient_phone: str | None = None
    address: str | None = None
    pickup_point: str | None = None


class ItemIn(Schema):
    business: BusinessCode
    cert_type: CertTypeCode | None = None
    years: int | None = None
    person_name: str = ""
    person_id_number: str = ""
    serial: str = ""
    org_name: str = ""
    revocation_reason: str = ""
    replace_cause: str = ""


class ReasonIn(Schema):
    reason: str = ""


class NoteIn(Schema):
    note: str = ""


def one_of(values: list[str]) -> WithJsonSchema:
    """A text documented as one of ``values``: the service refuses another with its own Chinese
    message naming them (a ``Literal`` would answer ninja's generic 422 instead)."""
    return WithJsonSchema({"type": "string", "enum": values})


BusinessCode = Annotated[str, one_of(Business.values)]
CertTypeCode = Annotated[str, one_of(CertType.values)]
DeliveryCode = Annotated[str, one_of([str(d) for d in services.CHOSEN_DELIVERIES])]
#: a list's filter by state ("": every state, as when absent)
StateFilter = Annotated[str, one_of(["", *State.values])]
IdKindCode = Annotated[str, one_of(Handler.IdKind.values)]


def within(low: int, high: int) -> WithJsonSchema:
    """A whole number documented with the bounds the service refuses outside of."""
    return WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})


ListLimit = Annotated[int, within(1, services.LIST_LIMIT)]
ListOffset = Annotated[int, within(0, services.OFFSET_LIMIT)]
QueueLimit = Annotated[int, within(1, QUEUE_LIMIT)]

#: a JSON object keyed by ids: its keys are text in JSON ("12"), documented as digits
ById = Annotated[
    dict[int, str], Field(json_schema_extra={"propertyNames": {"pattern": "^[0-9]+$"}})
]


class ReturnIn(Schema):
    #: document id -> the reason it is returned
    reasons: ById = {}
    note: str = ""


class IssueIn(Schema):
    #: line id -> serial of the Ukey from stock (新办, 介质补办)
    tokens: ById = {}
    #: PIN of the customer's own Ukey (续期 / 变更), or the new PIN with 解锁
    pin: str | None = None


class DeliverIn(Schema):
    tracking_number: str = ""
    carrier: str = ""


class RenewalIn(Schema):
    serial: str
    years: int | None = None


class RenewalRequestIn(Schema):
    #: the new key's CSR, PEM text or base64 DER
    csr: str
    #: base64 signature of the old key over the renewal message (certhall.agent.protocol)
    signature: str
    origin: str


class PointIn(Schema):
    point: str


class PointOut(Schema):
    point: str | None
    name: str | None


class CustomerIn(Schema):
    uscc: str
    name: str = ""
    legal_representative: str = ""


class CounterHandlerIn(Schema):
    name: str
    id_kind: IdKindCode
    id_number: str
    phone: str


class CounterOpenIn(Schema):
    customer: CustomerIn
    handler_id: int | None = None
    handler: CounterHandlerIn | None = None
    project: str = "sz_medical_insurance"


class ChecklistIn(Schema):
    kind: str
    original_seen: bool = False


class CounterPaymentIn(Schema):
    method: str
    voucher: str | None = None


class LookupOut(Schema):
    serial: str
    cert_type: str
    org_name: str
    person_name: str
    not_before: datetime
    not_after: datetime
    status: str
    quote: dict[str, Any]
    open_application: str | None


class IdentityOut(Schema):
    """经办人实名核验: the phone URL (for a QR code) while open; the outcome when finished."""

    state: str
    state_label: str
    phone_url: str
    expires_at: datetime
    reason: str
    verified: bool


class TicketOut(Schema):
    number: str
    old_serial: str
    years: int
    payment_reference: str
    fee_yuan: str
    origin: str
    state: str


class RenewalOut(Schema):
    renewal_id: int
    state: str
    new_serial: str | None
    new_certificate_der_b64: str | None
    #: The new certificate's CA chain (issuing CA, then up to the root), for the Ukey.
    chain_der_b64: list[str] = []
