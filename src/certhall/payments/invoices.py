"""发票: a customer asks for an invoice of a paid order; the CA's finance (clerks and CA admins,
who take the money at the counter) issue it in the tax system and record its number here.

* one invoice per order (a unique key, and a refusal in Chinese before it);
* the title is the organisation's name and the tax number its USCC (统一社会信用代码 is the
  taxpayer identification number of a Chinese enterprise); the amount is the order's;
* the customer chooses 普通 or 专用 and the email the tax system sends the electronic invoice to;
* asking and issuing are audited (``payments.invoice.request``, ``payments.invoice.issue``,
  refusals too); issuing tells the customer by email (and SMS to the account's phone).

The invoice itself (the PDF or OFD) comes from the tax system (全电发票 by email); certhall keeps
the request and the number, not the document.
"""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction

from certhall import clock
from certhall.accounts import validation
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import Conflict, InvalidInput, NotFound
from certhall.lifecycle import transition
from certhall.notify.notifier import notify
from certhall.payments.lifecycle import INVOICES, InvoiceKind, InvoiceStatus, Status
from certhall.payments.models import Invoice
from certhall.payments.services import get_order

#: Who issues invoices: the staff who take the money.
INVOICE_ROLES = (Role.CLERK, Role.CA_ADMIN)
#: 8 digits (a paper invoice's 发票号码) up to 20 (全电发票).
NUMBER = re.compile(r"[0-9]{8,20}")


def request_invoice(actor: User, reference: str, *, kind: str, email: str) -> Invoice:
    """The customer asks for the invoice of its paid order ``reference``."""
    require_role(actor, Role.APPLICANT)
    with audit.refusals_recorded(
        actor, "payments.invoice.request", object_type="order", object_id=reference[:32]
    ):
        order = get_order(actor, reference)
        if order.status != Status.PAID:
            raise Conflict(
                code="invoice_order_unpaid",
                reference=order.reference,
                status=order.get_status_display(),
            )
        if kind not in InvoiceKind.values:
            raise InvalidInput(code="invoice_kind")
        address = validation.email(email)
        if not address:
            raise InvalidInput(code="invoice_email_missing")
        if Invoice.objects.filter(order=order).exists():
            raise Conflict(code="invoice_exists", reference=order.reference)
        organization = order.organization
        try:
            with transaction.atomic():
                invoice = Invoice.objects.create(
                    order=order,
                    organization=organization,
                    provider=order.provider,
                    kind=kind,
                    title=organization.name,
                    tax_number=organization.uscc,
                    amount=order.amount,
                    email=address,
                    requested_by=actor,
                    requested_at=clock.now(),
                )
                audit.record(
                    actor,
                    "payments.invoice.request",
                    object_type="invoice",
                    object_id=invoice.pk,
                    after={**invoice.snapshot(), "title": invoice.title},
                )
        except IntegrityError:  # asked twice at the same moment
            raise Conflict(code="invoice_exists", reference=order.reference) from None
    return invoice


def list_invoices(actor: User, *, status: str | None = None, limit: int = 200) -> list[Invoice]:
    """The invoices ``actor`` may see: an organisation's own, or the staff's provider's (the
    staff's queue with ``status="requested"``)."""
    query = Invoice.objects.visible_to(actor).select_related("order", "organization")
    if status:
        if status not in InvoiceStatus.values:
            raise InvalidInput(code="invoice_status")
        query = query.filter(status=status)
    return list(query.order_by("requested_at", "pk")[:limit])


def issue_invoice(actor: User, invoice_id: int, number: str) -> Invoice:
    """Finance records the number of the invoice it issued in the tax system."""
    require_role(actor, *INVOICE_ROLES)
    with audit.refusals_recorded(
        actor, "payments.invoice.issue", object_type="invoice", object_id=invoice_id
    ):
        number = number.strip()
        if not NUMBER.fullmatch(number):
            raise InvalidInput(code="invoice_number")
        with transaction.atomic():
            invoice = (
                Invoice.objects.select_for_update(of=("self",))
                .select_related("order", "organization", "requested_by")
                .filter(pk=invoice_id)
                .first()
            )
            if invoice is None:
                raise NotFound(code="invoice_not_found", id=invoice_id)
            Invoice.objects.require_visible(actor, invoice)
            if Invoice.objects.filter(provider=invoice.provider, number=number).exists():
                raise Conflict(code="invoice_number_taken", number=number)
            transition(
                actor,
                INVOICES,
                invoice,
                InvoiceStatus.ISSUED,
                fields={"number": number, "issued_by": actor, "issued_at": clock.now()},
            )
            _tell(actor, invoice)
    return invoice


def _tell(actor: User, invoice: Invoice) -> None:
    phone = invoice.requested_by.phone or None
    notify(
        "invoice_issued",
        context={
            "organization": invoice.title,
            "order": invoice.order.reference,
            "kind": invoice.get_kind_display(),
            "number": invoice.number,
            "amount": f"{invoice.amount:.2f}",
            "email": invoice.email,
        },
        phone=phone,
        email=invoice.email,
        actor=actor,
    )
