"""发票: a customer asks for an invoice of a paid order; the CA's finance (clerks and CA admins,
who take the money at the counter) issue it in the tax system and record its number here.

* one invoice per order (a unique key, and a refusal in Chinese before it);
* the title is the organisation's name and the tax number its USCC (统一社会信用代码 is the
  taxpayer identification number of a Chinese enterprise); the amount is the order's;
* the customer chooses 普通 or 专用 and the email the tax system sends the electronic invoice to;
* finance issues it in the tax system, then records its number and uploads the PDF the tax
  system produced (a PDF only, sniffed from its first bytes, at most 5 MiB, whole, opening
  without a password and within ``INVOICE_PDF``'s pages, stored by SHA-256 under
  ``<uploads>/invoices`` with the hall's one upload store);
* asking and issuing are audited (``payments.invoice.request``, ``payments.invoice.issue``,
  refusals too); issuing tells the customer by email (and SMS to the account's phone), and the
  customer downloads the PDF from the order's page (``invoice_pdf``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Q

from certhall import clock, config
from certhall.accounts import validation
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.errors import Conflict, InvalidInput, NotFound, about
from certhall.hall import storage
from certhall.lifecycle import transition
from certhall.notify.notifier import notify
from certhall.payments.lifecycle import INVOICES, InvoiceKind, InvoiceStatus, Status
from certhall.payments.models import Invoice, Order
from certhall.payments.services import get_order
from certhall.pki.identity import fold_width
from certhall.web import paths

#: Who issues invoices: the staff who take the money.
INVOICE_ROLES = (Role.CLERK, Role.CA_ADMIN)
#: A 数电发票's 20-digit number, or a 发票代码 (10 or 12 digits) followed by its 8-digit 发票号码
#: (增值税电子普通发票, paper invoices): the 8 digits alone start again at 00000001 under each
#: code, a new one each year, so they name no invoice by themselves (12-06).
NUMBER = re.compile(r"[0-9]{18}|[0-9]{20}")
#: Blanks and hyphens between the code and the number (as printed) are dropped.
SEPARATORS = re.compile(r"[\s\-－]+")


def invoice_number(typed: str) -> str:
    """The invoice's number as stored: digits only, the code first. InvalidInput otherwise; a
    bare 8-digit 发票号码 is refused saying that its 发票代码 goes with it."""
    # NFKC: a Chinese input method's full-width digits, blank and hyphen are the ASCII ones
    # (the same invoice, not a refusal); other scripts' digits stay as they are and are refused.
    folded = fold_width(typed)
    number = SEPARATORS.sub("", folded.strip())
    if NUMBER.fullmatch(number):
        return number
    if re.fullmatch(r"[0-9]{8}", number):
        raise InvalidInput(code="invoice_number_without_code")
    raise InvalidInput(code="invoice_number")


#: An invoice from the tax system is a PDF of a page or two.
PDF_ONLY = ((b"%PDF-", "application/pdf"),)
MAX_PDF_BYTES = 5 * 1024 * 1024
#: Its bounds (12-07): a 数电发票 is one page (about 210 x 140 mm), its 销货清单 a page or two
#: more; the scan's bounds (20 pages, 500 mm, 2000 objects) fit it with room, and a file that
#: is not one (a manual, a poster) is refused as out of bounds rather than sent to the customer.
INVOICE_PDF = storage.SCAN_PDF


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


def issue_invoice(
    actor: User, invoice_id: int, number: str, pdf: Iterable[bytes] | None
) -> Invoice:
    """Finance records the number of the invoice it issued in the tax system and uploads its
    PDF (``pdf``: the file's chunks). The PDF is stored before the transaction: a refusal after
    that leaves at most an unreferenced file, never an issued invoice without its document."""
    invoice = _register(actor, invoice_id, number, pdf, InvoiceStatus.ISSUED)
    _tell(actor, invoice)
    return invoice


def reverse_invoice(
    actor: User, invoice_id: int, number: str, pdf: Iterable[bytes] | None
) -> Invoice:
    """Finance records the red-letter invoice (红字发票) it issued in the tax system for an
    issued invoice whose order was refunded, and uploads its PDF."""
    return _register(actor, invoice_id, number, pdf, InvoiceStatus.REVERSED)


def _register(
    actor: User, invoice_id: int, number: str, pdf: Iterable[bytes] | None, target: str
) -> Invoice:
    """An invoice number from the tax system, and its PDF, recorded: the invoice itself
    (``issued``) or its red-letter one (``reversed``)."""
    require_role(actor, *INVOICE_ROLES)
    action = INVOICES.actions[target]
    with audit.refusals_recorded(actor, action, object_type="invoice", object_id=invoice_id):
        # each refusal names finance's row form's field (web.refused)
        with about("number"):
            number = invoice_number(number)
        if pdf is None:
            raise InvalidInput(code="invoice_pdf_missing").naming("pdf")
        with about("pdf"):
            document = _store_pdf(pdf)
        with transaction.atomic():
            invoice = (
                Invoice.objects.select_for_update(of=("self",))
                .select_related("order", "organization", "requested_by")
                .filter(pk=invoice_id)
                .first()
            )
            missing = NotFound(code="invoice_not_found", id=invoice_id)
            if invoice is None:
                raise missing
            Invoice.objects.require_visible(actor, invoice, missing=missing)
            taken = Q(number=number) | Q(reversal_number=number)
            if Invoice.objects.filter(taken, provider=invoice.provider).exists():
                raise Conflict(code="invoice_number_taken", number=number).naming("number")
            now = clock.now()
            if target == InvoiceStatus.ISSUED:
                fields = {"number": number, "issued_by": actor, "issued_at": now}
                fields |= {"pdf_sha256": document.sha256, "pdf_size": document.size}
            else:
                fields = {"reversal_number": number, "reversed_by": actor, "reversed_at": now}
                fields |= {"reversal_pdf_sha256": document.sha256}
            transition(actor, INVOICES, invoice, target, fields=fields)
    return invoice


def on_order_refunded(sender: type, order: Order, actor: User, **kwargs: object) -> None:
    """The order refunded (inside its transaction): its invoice must not stand. A requested one
    is withdrawn; an issued one awaits its red-letter invoice in finance's queue."""
    invoice = Invoice.objects.select_for_update().filter(order=order).first()
    if invoice is None:
        return
    if invoice.status == InvoiceStatus.REQUESTED:
        transition(actor, INVOICES, invoice, InvoiceStatus.WITHDRAWN)
    elif invoice.status == InvoiceStatus.ISSUED:
        transition(actor, INVOICES, invoice, InvoiceStatus.REVERSAL_DUE)


def invoice_pdf(actor: User, invoice_id: int, *, reversal: bool = False) -> tuple[str, bytes]:
    """The issued invoice's PDF (or its red-letter one's) and a file name, for its organisation
    or its provider's staff."""
    invoice = Invoice.objects.filter(pk=invoice_id).first()
    missing = NotFound(code="invoice_not_found", id=invoice_id)
    if invoice is None:
        raise missing
    Invoice.objects.require_visible(actor, invoice, missing=missing)
    number, sha256 = (
        (invoice.reversal_number, invoice.reversal_pdf_sha256)
        if reversal
        else (invoice.number, invoice.pdf_sha256)
    )
    if not sha256:
        raise NotFound(code="invoice_pdf_not_issued", id=invoice_id)
    return f"invoice-{number}.pdf", storage.read(sha256, _pdf_root())


def _pdf_root() -> Path:
    return config.get().uploads_dir / "invoices"


def _store_pdf(chunks: Iterable[bytes]) -> storage.Blob:
    """The invoice's PDF stored: a PDF only, within ``MAX_PDF_BYTES`` and ``INVOICE_PDF``, not
    cut short, opening without a password (the customer downloads it); nothing stored otherwise
    (docs/security.md, "Broken files and PDF bounds")."""
    try:
        return storage.store(
            chunks, limit=MAX_PDF_BYTES, base=_pdf_root(), signatures=PDF_ONLY, pdf=INVOICE_PDF
        )
    except InvalidInput as error:
        if error.code == "file_type":
            raise InvalidInput(code="invoice_pdf_type") from None
        if error.code in ("file_too_big", "file_empty"):
            raise InvalidInput(code="invoice_pdf_size", limit=MAX_PDF_BYTES >> 20) from None
        if error.code in storage.BROKEN_FILE:
            raise InvalidInput(code=error.code, variant="invoice", **error.params) from None
        raise


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
            "link": paths.absolute("payments-order", invoice.order.reference),
        },
        phone=phone,
        email=invoice.email,
        actor=actor,
    )
