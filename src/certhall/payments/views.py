"""Payment pages. Thin: read the request, call one service, render.

* ``/payments/orders/`` and ``/payments/orders/<reference>``: an organisation's (or a
  provider's staff's) orders and how to pay one;
* ``/payments/sandbox/<reference>?gateway=alipay|wechat``: the sandbox cashier page;
* ``/payments/notify/<gateway>``: the gateways' server-to-server notification (CSRF-exempt:
  authenticated by its RSA signature, not by a session);
* ``/payments/receipt/<reference>.pdf``: the receipt of a paid order;
* ``/payments/orders/<reference>/invoice`` (POST): the customer asks for the order's invoice;
  ``/payments/invoices/``: the staff's invoice queue, ``/payments/invoices/<id>/issue`` (POST)
  records an issued invoice's number and its PDF, ``/payments/invoices/<id>.pdf`` downloads it
  (``certhall.payments.invoices``); the same page lists the gateways' daily bills' open
  discrepancies, ``/payments/discrepancies/<id>/handled`` (POST) marks one handled
  (``certhall.payments.gateway_bills``), ``/payments/orders/<reference>/refund-alert-handled``
  (POST) a refund-twice alert (``certhall.payments.refunding``).

Errors are ``CerthallError``s, rendered by ``certhall.web.errors.CerthallErrorMiddleware``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhall import clock, money
from certhall.accounts.models import Role, User
from certhall.errors import CerthallError, Forbidden, InvalidInput, bounded
from certhall.hall import services as hall_services
from certhall.hall.payment import PURPOSE as APPLICATION
from certhall.hall.web.applicant_base import NextAction, next_action
from certhall.messages import text
from certhall.payments import (
    gateway_bills,
    gateways,
    invoices,
    notify,
    receipts,
    refund_state,
    refunding,
    sandbox,
    services,
    surplus,
)
from certhall.payments.lifecycle import InvoiceKind, InvoiceStatus, Status, SurplusStatus
from certhall.payments.models import Invoice, Order, SurplusPayment
from certhall.ratelimit import client_address
from certhall.rules import default_catalog, local
from certhall.web.errors import act_on_page, attempt, form_page, text_field

logger = logging.getLogger(__name__)


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # login_required lets only accounts through
        raise Forbidden(code="not_authenticated")
    return user


@require_GET
@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    orders = services.list_orders(_actor(request))
    return render(request, "payments/orders.html", {"orders": orders})


@require_GET
@login_required
def order_detail(request: HttpRequest, reference: str) -> HttpResponse:
    order = services.get_order(_actor(request), reference)
    pending = order.status == Status.PENDING
    gateway = request.GET.get("paid")
    # Back from the cashier before the gateway's notification: no second 去支付 beside the
    # first payment, and the page looks again by itself for a while.
    waiting = pending and gateway in gateways.ONLINE
    waited_long = request.GET.get("waited") == "long"
    context = _order_context(request, order, waiting=waiting, waited_long=waited_long)
    context["back_from_cashier"] = gateway in gateways.ONLINE
    if waiting and not waited_long:  # web/watch.js looks, WAIT_LOOKS times, then says so
        context["watch_looks"] = WAIT_LOOKS
        long_wait = urlencode({"paid": str(gateway), "waited": "long"})
        context["watch_then"] = f"{request.path}?{long_wait}"
    return render(request, "payments/order.html", context)


def _order_context(
    request: HttpRequest, order: Order, *, waiting: bool = False, waited_long: bool = False
) -> dict[str, Any]:
    actor = _actor(request)
    refused = services.payment_refusal(order)  # no way to pay offered, the reason instead
    pending = order.status == Status.PENDING and not refused
    online = gateways.for_method(order.method)
    return {
        "pay_refused": refused,
        "order": order,
        "amount": money.grouped(order.amount),
        "amount_words": money.in_words(order.amount),
        "payment": services.payment_of(order),
        "options": gateways.payment_options(order) if pending and not waiting else [],
        "waiting": waiting,
        "waited_long": waited_long,
        "has_receipt": order.status in (Status.PAID, Status.REFUNDED),
        "invoice": Invoice.objects.filter(order=order).first(),
        "can_ask_invoice": order.status == Status.PAID and actor.role == Role.APPLICANT,
        "invoice_kinds": InvoiceKind.choices,
        "email": actor.email,
        "refund_gateway": online.label if online else "",
        "refund_automatic": refund_state.automatic(order),
        "refund_by_gateway": refund_state.sent_by_gateway(order),
        "surplus_heading": text("surplus_page_customer_heading"),
        "surpluses": [_surplus_line(row) for row in surplus.of_order(order)],
        "application_url": _application_url(order, actor),
        "paid_next": _paid_next(order, actor),
    }


def _application_url(order: Order, actor: User) -> str:
    """The applicant's way from an order to the application it pays for: back from the cashier
    the order page was a dead end (the application's progress only through the menu)."""
    if order.purpose != APPLICATION or actor.role != Role.APPLICANT:
        return ""
    return reverse("hall-applicant:detail", args=[order.object_id])


def _paid_next(order: Order, actor: User) -> NextAction | None:
    """What comes after an application's payment, said on its order page (the application's
    next step, as its progress page says it): back from the cashier the page showed 已支付 and
    the invoice form, not that the CA now reviews the application and by when (12-06)."""
    if order.status != Status.PAID or not _application_url(order, actor):
        return None
    return next_action(hall_services.get_application(actor, order.object_id))


def _surplus_line(row: SurplusPayment) -> str:
    """What the customer reads of a second payment of the order: owed back, or sent back."""
    said = {
        "time": f"{local(row.paid_at):%Y-%m-%d %H:%M}",
        "gateway": row.gateway_label,
        "amount": money.grouped(row.amount),
        "trade_no": row.trade_no,
    }
    if row.status != SurplusStatus.RETURNED or row.returned_at is None:
        return text("surplus_page_customer_owed", **said)
    by_gateway = row.returned_by is not None and row.returned_by.is_system
    what = "退款单号" if by_gateway else "流水号"
    return text(
        "surplus_page_customer_returned",
        date=f"{local(row.returned_at):%Y-%m-%d}",
        reference=f"{what} {row.returned_reference}",
        **said,
    )


#: Back from the cashier: the order page looks again (web/watch.js, every 5 s) WAIT_LOOKS times,
#: a minute, before it says the gateway's notification is late.
WAIT_LOOKS = 12


@require_POST
@login_required
def invoice_request(request: HttpRequest, reference: str) -> HttpResponse:
    """The customer asks for the invoice of a paid order: done, back to the order; refused, the
    order page with the refusal beside the form and what was typed (the form came back with
    the account's email and the first kind)."""
    actor = _actor(request)
    order = services.get_order(actor, reference)  # another organisation's: 403/404, no message
    kind = str(request.POST.get("kind", "") or "").strip()
    email = str(request.POST.get("email", "") or "").strip()
    _, error = attempt(
        lambda: invoices.request_invoice(
            actor,
            reference,
            kind=bounded(kind, 10, "发票类型"),
            email=bounded(email, 254, "接收电子发票的邮箱"),
        )
    )
    if error is None:
        messages.success(request, text("done_invoice_requested"))
        return HttpResponseRedirect(reverse("payments-order", args=[reference]), status=303)
    if isinstance(error, Forbidden) or error.http_status == 404:
        raise error
    order.refresh_from_db()
    context = _order_context(request, order)
    context.update(email=email if len(email) <= 254 else "", kind=kind)  # as typed
    return form_page(request, "payments/order.html", context, error)


@require_GET
@login_required
def invoice_queue(request: HttpRequest) -> HttpResponse:
    """The staff's invoices: requested first (oldest first), then the issued ones."""
    return render(request, "payments/invoices.html", _finance_context(_actor(request)))


def _finance_context(actor: User) -> dict[str, Any]:
    """Finance's 发票与退款 page: its rows, each list under the name ``FINANCE_ROWS`` gives."""
    if actor.role not in invoices.INVOICE_ROLES:
        raise Forbidden(code="invoice_staff_only")
    now = clock.now()
    return {
        "section": "invoices",
        "requested": invoices.list_invoices(actor, status=InvoiceStatus.REQUESTED),
        "reversal_due": invoices.list_invoices(actor, status=InvoiceStatus.REVERSAL_DUE),
        "refunds_owed": [_owed_row(order, now) for order in services.refunds_owed(actor)],
        "refund_alerts": services.refund_alerts(actor),
        "automatic_methods": refund_state.automatic_methods(),
        "max_attempts": refund_state.MAX_ATTEMPTS,
        "refunds_sent": services.refunds_sent(actor),
        "issued": invoices.list_invoices(actor, status=InvoiceStatus.ISSUED)[::-1][:50],
        **_surplus_section(actor),
        **_discrepancy_section(actor),
    }


def _surplus_section(actor: User) -> dict[str, object]:
    """多余到账，待退回: money that arrived for orders no longer waiting for it, each with what
    finance may do (原路退回 when the gateway's refund API is there; 已手工退回), in the
    catalogue's words."""
    rows = surplus.owed(actor)
    return {
        "surpluses": [_surplus_row(row) for row in rows],
        "surplus_words": {
            "section": text("surplus_page_section", count=len(rows)),
            "intro": text("surplus_page_section_intro"),
            "return_button": text("surplus_page_return_button"),
            "hand_button": text("surplus_page_hand_button"),
            "hand_label": text("surplus_page_hand_label"),
        },
    }


def _discrepancy_section(actor: User) -> dict[str, object]:
    """对账差异，待处理: what the gateways' daily bills and the platform disagree on, each with
    已处理 and a note, in the catalogue's words."""
    rows = gateway_bills.open_discrepancies(actor)
    failed = gateway_bills.failed_runs(actor)
    return {
        "bill_failures": [
            text(
                "bill_run_page_row",
                gateway=run.get_gateway_display(),
                day=run.day.isoformat(),
                attempts=run.attempts,
                error=run.last_error,
            )
            for run in failed
        ],
        "bill_failure_words": {
            "section": text("bill_run_page_section", count=len(failed)),
            "intro": text("bill_run_page_intro"),
        },
        "discrepancies": rows,
        "discrepancy_words": {
            "section": text("discrepancy_page_section", count=len(rows)),
            "intro": text("discrepancy_page_intro"),
            "handle_button": text("discrepancy_page_handle_button"),
            "note_label": text("discrepancy_page_note_label"),
        },
    }


def _surplus_row(row: SurplusPayment) -> dict[str, object]:
    gateway = gateways.online(row.gateway)
    said = {"gateway": gateway.label, "amount": money.grouped(row.amount)}
    calling = row.status == SurplusStatus.RETURNING
    return {
        "row": row,
        "calling": text("surplus_page_calling", refund_no=surplus.refund_no(row), **said)
        if calling
        else "",
        "last_error": text("surplus_page_last_error", error=row.return_last_error)
        if row.return_last_error and not calling
        else "",
        "by_gateway": not calling and gateways.refund_client(gateway) is not None,
        "confirm": text("surplus_page_confirm", reference=row.order.reference, **said),
    }


def _owed_row(order: Order, now: datetime) -> dict[str, object]:
    """An owed refund on finance's page, with what finance may do about it: record it by hand
    (not while the gateway's refund is pending), stop the automatic refund, retry it now."""
    pending = refund_state.pending(order)
    return {
        "order": order,
        "refund_no": refund_state.refund_no(order),
        "pending": pending,
        "calling": refund_state.calling(order, now),
        "stoppable": pending and not refund_state.calling(order, now),
        "retry": refund_state.failed(order, now),
    }


# --- finance's buttons on the 发票与退款 page ------------------------------------------------


#: Where the row of each of finance's row forms is on the page (the form's class): the page's
#: list and the row's key there, the URL's one argument (an order's reference, a row's id).
FINANCE_ROWS: dict[str, tuple[str, Callable[[Any], object]]] = {
    "refund-alert-handled": ("refund_alerts", lambda order: order.reference),
    "discrepancy-handled": ("discrepancies", lambda row: row.pk),
    "surplus-return": ("surpluses", lambda item: item["row"].pk),
    "surplus-hand": ("surpluses", lambda item: item["row"].pk),
    "refund-stop": ("refunds_owed", lambda item: item["order"].reference),
    "refund-retry": ("refunds_owed", lambda item: item["order"].reference),
    "refund-sent": ("refunds_owed", lambda item: item["order"].reference),
    "issue-invoice": ("requested", lambda invoice: invoice.pk),
    "reverse-invoice": ("reversal_due", lambda invoice: invoice.pk),
}

#: A text typed past its bound (200 characters at most here) is shown again to be shortened;
#: one past this (pasted by mistake) is left out, as ``typed`` does on the hall's page.
TYPED_LIMIT = 600


def _act_on_page(
    request: HttpRequest,
    form: str,
    key: object,
    action: Callable[[], object],
    done: Callable[[Any], str],
) -> HttpResponse:
    """A row form of finance's page: done, back to the page (303) with ``done``'s notice;
    refused, the page again with the refusal beside that row's forms and its texts as typed
    (a note, a reason, a serial, an invoice number: they were lost behind a notice), the other
    rows as they are; above the page when the row has left it (another clerk's step).
    Forbidden and NotFound are the 403 and 404 pages, as for ``act_and_return``."""

    def again(error: CerthallError, typed_form: dict[str, str]) -> HttpResponse:
        context = _finance_context(_actor(request))
        rows, key_of = FINANCE_ROWS[form]
        refused = {"error": error.message, "typed": typed_form}
        for row in context[rows]:
            if key_of(row) == key:
                if isinstance(row, dict):
                    row["refused"] = refused
                else:
                    row.refused = refused  # the model row shown, for its form's template
                context["refused"] = True
        return form_page(request, "payments/invoices.html", context, error)

    target = reverse("payments-invoices")
    return act_on_page(request, target, action, done, again, limit=TYPED_LIMIT)


def _finance_button(
    form: str,
    service: Callable[..., Any],
    done: Callable[[Any], str],
    field: str | None = None,
) -> Callable[..., HttpResponse]:
    """A POST form of a row of finance's page (``form``: its class): ``service(actor, key)``,
    with the text of the form's ``field`` when it has one (the service bounds it and names it
    in its refusal: one bound, one wording), then ``_act_on_page``. ``key`` is the URL's one
    argument (an order's reference, a row's id)."""

    @require_POST
    @login_required
    def view(request: HttpRequest, **url: Any) -> HttpResponse:
        actor = _actor(request)
        [key] = url.values()

        def act() -> Any:
            sent = [str(request.POST.get(field, ""))] if field else []
            return service(actor, key, *sent)

        return _act_on_page(request, form, key, act, done)

    return view


#: 已处理: a discrepancy of a gateway's daily bill, with a note.
discrepancy_handled = _finance_button(
    "discrepancy-handled",
    gateway_bills.mark_handled,
    lambda row: text(
        "discrepancy_page_done", gateway=row.get_gateway_display(), reference=row.reference
    ),
    "note",
)
#: 已处理 of a refund-twice alert, with a note (as a discrepancy's).
refund_alert_handled = _finance_button(
    "refund-alert-handled",
    refunding.alert_handled,
    lambda order: text("refund_alert_page_done", reference=order.reference),
    "note",
)
#: 原路退回: a surplus payment sent back through its gateway's refund API.
surplus_return = _finance_button(
    "surplus-return",
    surplus.send_back,
    lambda row: text(
        "surplus_page_done_gateway",
        gateway=row.gateway_label,
        reference=row.order.reference,
        amount=money.grouped(row.amount),
        refund_id=row.returned_reference,
    ),
)
#: 已手工退回: finance sent a surplus payment back itself.
surplus_hand = _finance_button(
    "surplus-hand",
    surplus.record_by_hand,
    lambda row: text(
        "surplus_page_done_hand",
        reference=row.order.reference,
        amount=money.grouped(row.amount),
        sent_reference=row.returned_reference,
    ),
    "sent_reference",
)
#: 停止自动退款: an order's automatic refund stopped, to be sent by hand.
refund_stop = _finance_button(
    "refund-stop",
    refunding.stop,
    lambda order: text("refund_page_done_stop", reference=order.reference),
    "reason",
)
#: 立即重试: the gateway asked again at once for a refused or failed refund.
refund_retry = _finance_button(
    "refund-retry",
    refunding.retry_now,
    lambda order: text(
        "refund_page_done_retry",
        reference=order.reference,
        refund_id=order.refund_sent_reference,
    ),
)
#: A refunded order's money recorded as sent back (the bank's reference).
refund_sent = _finance_button(
    "refund-sent",
    services.record_refund_sent,
    lambda order: text("refund_page_done_sent", reference=order.reference),
    "sent_reference",
)


@require_POST
@login_required
def invoice_issue(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _register(
        request,
        invoice_id,
        "issue-invoice",
        invoices.issue_invoice,
        lambda invoice: text("done_invoice_issued", number=invoice.number),
    )


@require_POST
@login_required
def invoice_reverse(request: HttpRequest, invoice_id: int) -> HttpResponse:
    return _register(
        request,
        invoice_id,
        "reverse-invoice",
        invoices.reverse_invoice,
        lambda invoice: text("done_invoice_reversed", number=invoice.reversal_number),
    )


def _register(
    request: HttpRequest,
    invoice_id: int,
    form: str,
    service: Callable[[User, int, str, Iterable[bytes] | None], Invoice],
    done: Callable[[Invoice], str],
) -> HttpResponse:
    """Finance's form: a number from the tax system and its PDF, for ``service``."""
    actor, upload = _actor(request), request.FILES.get("pdf")
    chunks = upload.chunks() if upload else None
    return _act_on_page(
        request,
        form,
        invoice_id,
        lambda: service(
            actor, invoice_id, text_field(request.POST, "number", 40, what="发票号码"), chunks
        ),
        done,
    )


@require_http_methods(["GET", "POST"])
@login_required
def sandbox_page(request: HttpRequest, reference: str) -> HttpResponse:
    name = request.GET.get("gateway", "alipay")
    actor = _actor(request)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "pay":
            trade = sandbox.pay_and_notify(actor, reference, name)
            target = reverse("payments-order", args=[trade.out_trade_no]) + f"?paid={name}"
            return HttpResponseRedirect(target)
        if action == "cancel":
            order = sandbox.cashier(actor, reference, name)
            return HttpResponseRedirect(reverse("payments-order", args=[order.reference]))
        raise InvalidInput(code="sandbox_action")
    order = sandbox.cashier(actor, reference, name)
    return render(
        request,
        "payments/sandbox.html",
        {
            "order": order,
            "gateway": gateways.online(name),
            "amount": money.grouped(order.amount),
            "payee": default_catalog().payee,
            "payable": order.status == Status.PENDING,
        },
    )


@csrf_exempt
@require_POST
def notify_view(request: HttpRequest, gateway: str) -> HttpResponse:
    """The gateway's asynchronous notification: ``success`` or ``fail``, plain text."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = notify.MAX_BODY + 1
    if length > notify.MAX_BODY:
        return HttpResponse("fail", status=413, content_type="text/plain")
    try:
        outcome = notify.handle(gateway, request.body, source=client_address(request))
    except CerthallError as error:
        logger.warning("payment notification refused (%s): %s", error.code, error.message)
        return HttpResponse("fail", status=error.http_status, content_type="text/plain")
    except Exception:
        logger.exception("payment notification failed")
        return HttpResponse("fail", status=500, content_type="text/plain")
    return HttpResponse(outcome.answer, content_type="text/plain")


@require_GET
@login_required
def invoice_pdf(request: HttpRequest, invoice_id: int, reversal: bool = False) -> HttpResponse:
    filename, pdf = invoices.invoice_pdf(_actor(request), invoice_id, reversal=reversal)
    return _pdf(filename, pdf, disposition="attachment")


@require_GET
@login_required
def receipt_pdf(request: HttpRequest, reference: str) -> HttpResponse:
    filename, pdf = receipts.receipt(_actor(request), reference)
    return _pdf(filename, pdf, disposition="inline")


def _pdf(filename: str, pdf: bytes, *, disposition: str) -> HttpResponse:
    return HttpResponse(
        pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
        },
    )
