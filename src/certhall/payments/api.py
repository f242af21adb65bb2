"""JSON API of payments (``/api/payments/``): the same services as the pages.

Session-authenticated (``accounts.api.session``: CSRF-checked on unsafe methods; these are all
reads).
Amounts are strings with two decimals (``"300.00"``), never JSON numbers, so no client turns
them into floats.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.http import HttpRequest
from django.urls import reverse
from ninja import Router, Schema

from certhall import money
from certhall.accounts.api import session
from certhall.accounts.models import User
from certhall.errors import Conflict, Forbidden
from certhall.hall.schemas import one_of
from certhall.payments import gateways, services
from certhall.payments.lifecycle import Status
from certhall.payments.models import Order
from certhall.web.errors import refusals

router = Router(tags=["payments"], auth=session)

StatusCode = Annotated[str, one_of(Status.values)]


class OrderOrganizationOut(Schema):
    name: str
    uscc: str


class OrderItemOut(Schema):
    description: str
    amount: str


class OptionOut(Schema):
    gateway: str
    label: str
    text: str
    url: str | None
    fields: dict[str, str]


class OrderOut(Schema):
    reference: str
    purpose: str
    object_id: str
    organization: OrderOrganizationOut
    amount: str
    amount_in_words: str
    description: str
    items: list[OrderItemOut]
    status: str
    status_label: str
    method: str
    method_label: str
    created_at: datetime
    paid_at: datetime | None
    cancelled_at: datetime | None
    refunded_at: datetime | None
    receipt_url: str | None
    payment_options: list[OptionOut]
    #: Why a pending order offers no way to pay (an online renewal whose certificate ended or
    #: was revoked: the round cancels it), in Chinese; "" otherwise.
    payment_refused: str = ""


class ReceiptOut(Schema):
    reference: str
    receipt_number: str
    url: str


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Forbidden(code="not_authenticated")
    return user


def _receipt_url(order: Order) -> str | None:
    if order.status in (Status.PAID, Status.REFUNDED):
        return reverse("payments-receipt", args=[order.reference])
    return None


def _out(order: Order, *, options: bool = False) -> dict[str, object]:
    refused = services.payment_refusal(order) if options else ""
    pending = order.status == Status.PENDING and not refused
    return {
        "reference": order.reference,
        "purpose": order.purpose,
        "object_id": order.object_id,
        "organization": {"name": order.organization.name, "uscc": order.organization.uscc},
        "amount": str(order.amount),
        "amount_in_words": money.in_words(order.amount),
        "description": order.description,
        "items": order.items,
        "status": order.status,
        "status_label": order.get_status_display(),
        "method": order.method,
        "method_label": order.get_method_display() if order.method else "",
        "created_at": order.created_at,
        "paid_at": order.paid_at,
        "cancelled_at": order.cancelled_at,
        "refunded_at": order.refunded_at,
        "receipt_url": _receipt_url(order),
        "payment_options": [
            {
                "gateway": o.gateway,
                "label": o.label,
                "text": o.text,
                "url": o.url,
                "fields": dict(o.fields),
            }
            for o in (gateways.payment_options(order) if options and pending else [])
        ],
        "payment_refused": refused,
    }


@router.get("/orders", response=list[OrderOut], summary="List the orders I may see")
def list_orders(request: HttpRequest, status: StatusCode | None = None) -> list[dict[str, object]]:
    return [_out(o) for o in services.list_orders(_actor(request), status=status)]


@router.get("/orders/{reference}", response=OrderOut, summary="An order's status")
def get_order(request: HttpRequest, reference: str) -> dict[str, object]:
    return _out(services.get_order(_actor(request), reference), options=True)


@router.get(
    "/orders/{reference}/receipt",
    response=ReceiptOut,
    summary="Link to the receipt",
    openapi_extra=refusals(409),
)
def receipt_link(request: HttpRequest, reference: str) -> dict[str, str]:
    order = services.get_order(_actor(request), reference)
    url = _receipt_url(order)
    if url is None:
        raise Conflict(
            code="order_not_paid", reference=order.reference, status=order.get_status_display()
        )
    return {"reference": order.reference, "receipt_number": order.receipt_number, "url": url}
