"""The staff consoles under /console/: counter (受理), review (审核), issuance (制证), Ukey stock.

Thin views over the same services as the JSON API (``certhall.hall.api``): read the request,
call one service, render or redirect. Every permission and rule is checked by the service (the
``can_*`` flags only decide which buttons a page shows). A refusal of a POST is shown on the
page it came from, in the service's own words (a rule's refusal quotes the rule), a form as
typed (the counter's and the application page's: ``form_page``); a
``Forbidden`` is a 403 page, a ``NotFound`` the 404 page. POSTs are CSRF-protected by Django's
middleware; the pages are never cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhall import clock
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.ca import renewal as ca_renewal
from certhall.ca.models import Certificate
from certhall.errors import CerthallError, Forbidden, InvalidInput, bounded
from certhall.forms import FORM_FILES, render_forms_for
from certhall.hall import (
    access,
    calendar,
    counter,
    documents,
    issuance,
    payment,
    printing,
    realname,
    review,
    services,
)
from certhall.hall.api import SESSION_POINT
from certhall.hall.items import REPLACE_CAUSES, REVOCATION_REASONS
from certhall.hall.models import REASON_LENGTH, Application, Business, Channel
from certhall.hall.schemas import application_detail
from certhall.hall.states import IN_REVIEW, State, done_words, state_label
from certhall.hall.web import staff_forms, staff_page
from certhall.hall.web.staff_forms import field
from certhall.messages import text
from certhall.payments.lifecycle import COUNTER_METHODS
from certhall.pki.identity import ID_DOCUMENT_KINDS
from certhall.rules import default_catalog, point_status, quote
from certhall.ukeys import services as ukeys
from certhall.ukeys.lifecycle import Status as UkeyStatus
from certhall.web.errors import act_and_return, act_on_page, attempt, form_page, typed, whole_number

#: Who works in the console (auditors read through the audit tools, not here).
CONSOLE_ROLES = frozenset({Role.CLERK, Role.REVIEWER, Role.ISSUER, Role.CA_ADMIN})
LOGIN = "/accounts/login/"

View = Callable[..., HttpResponse]


def _actor(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):
        raise Forbidden(code="not_authenticated")
    return user


def _denied(request: HttpRequest, error: Forbidden) -> HttpResponse:
    return render(request, "hall/staff/denied.html", {"message": error.message}, status=403)


def staff(view: View) -> View:
    """Console pages: a login, then a staff role of a CA; a Forbidden from a service becomes
    the console's 403 page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponseRedirect(f"{LOGIN}?{urlencode({'next': request.get_full_path()})}")
        user = request.user
        if not isinstance(user, User) or user.role not in CONSOLE_ROLES or not user.provider_id:
            return _denied(request, Forbidden(code="staff_console_only"))
        try:
            return view(request, *args, **kwargs)
        except Forbidden as error:
            return _denied(request, error)

    return wrapped


def _detail_url(number: str) -> str:
    return reverse("hall-staff:application", args=[number])


# --- home ----------------------------------------------------------------------------------


@require_GET
@staff
def home(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    role = actor.role
    context: dict[str, Any] = {
        "section": "home",
        "role": role,
        "role_label": Role(role).label,
        "calendar_warning": calendar.next_year_warning(clock.today()),
    }
    if calendar.may_import(actor):
        context["calendar_years"] = calendar.around(clock.today().year)
    if counter.serves(actor):
        context["point"] = _session_point(request)
        context["counter_open"], context["counter_open_count"] = counter.in_progress(actor, 10)
    if role in access.REVIEW_ROLES:
        context["queue"] = review.review_queue(actor, limit=10)
    if role in access.ONLINE_ISSUE_ROLES:
        context["to_issue"] = services.list_applications(
            actor, state=State.APPROVED, limit=10, staff_work=True
        )
        context["stock"] = _stock_counts(actor)
    return render(request, "hall/staff/home.html", context)


def _stock_counts(actor: User) -> list[tuple[str, int]]:
    rows = ukeys.list_ukeys(actor)
    return [(str(s.label), sum(1 for u in rows if u.status == s)) for s in UkeyStatus]


# --- counter (受理) --------------------------------------------------------------------------


def _session_point(request: HttpRequest) -> Any:
    slug = request.session.get(SESSION_POINT)
    if not slug:
        return None
    try:
        return default_catalog().point(str(slug))
    except CerthallError:
        return None


def _allowed_now(slug: str) -> list[dict[str, Any]]:
    """What the rules allow now at the point, per business and certificate type (the rules'
    own words for a refusal)."""
    catalog = default_catalog()
    now = clock.now()
    rows = []
    for business in Business:
        cells = []
        for cert_type in catalog.cert_types:
            years = 1 if catalog.businesses[business.value].has_term else None  # type: ignore[index]
            answer = quote(
                business.value, cert_type, years=years, channel="onsite", point=slug, at=now
            )
            cells.append({"allowed": answer.allowed, "reasons": answer.reasons})
        rows.append({"label": business.label, "cells": cells})
    return rows


@require_http_methods(["GET", "POST"])
@staff
def counter_page(request: HttpRequest) -> HttpResponse:
    """The counter: 1. the point, 2. the customer. 选择受理点: done, back here with a notice;
    refused (unknown, none chosen, too long), the page again with the refusal inside the
    points' form and the radio buttons marked (``act_on_page``, as 入库)."""
    actor = _actor(request)
    if request.method == "POST":

        def choose() -> None:
            counter.require_counter(actor)
            point = field(request.POST, "point", 32)  # too long: refused as unknown is
            request.session[SESSION_POINT] = counter.check_point(point)

        def again(error: CerthallError, typed_form: dict[str, str]) -> HttpResponse:
            context = counter_context(request, actor, request.GET)
            context["refused_in"] = "points"
            return form_page(request, "hall/staff/counter.html", context, error)

        return act_on_page(
            request,
            reverse("hall-staff:counter"),
            choose,
            text("done_point_chosen"),
            again,
            limit=32,
        )
    return render(request, "hall/staff/counter.html", counter_context(request, actor, request.GET))


def counter_context(request: HttpRequest, actor: User, data: QueryDict) -> dict[str, Any]:
    """The counter page: the points, and the organisation ``data["uscc"]`` looked up."""
    counter.require_counter(actor)
    catalog = default_catalog()
    now = clock.now()
    chosen = _session_point(request)
    context: dict[str, Any] = {
        "section": "counter",
        "points": [(p, point_status(p, now)) for p in catalog.points],
        "point": chosen,
        "now": now,
        "cert_types": [spec.name for spec in catalog.cert_types.values()],
        "id_kinds": ID_DOCUMENT_KINDS,
    }
    if chosen is not None:
        context["allowed_now"] = _allowed_now(chosen.slug)
    uscc = str(data.get("uscc", "") or "").strip()
    if uscc:
        try:
            found = counter.look_up(actor, bounded(uscc, 32, "统一社会信用代码"))
        except InvalidInput as error:
            context.update(uscc=uscc if len(uscc) <= 32 else "", lookup_error=error.message)
        else:
            context.update(uscc=found.uscc, customer=found.organization, handlers=found.handlers)
    context["recent"], context["recent_count"] = counter.in_progress(actor)
    return context


@require_POST
@staff
def counter_open(request: HttpRequest) -> HttpResponse:
    """受理: the new on-site draft and its page; refused, the counter page again with the
    refusal beside the form and what the clerk typed (it went back with the USCC alone)."""
    actor = _actor(request)
    data = request.POST
    point = str(request.session.get(SESSION_POINT) or "")
    opened, error = attempt(
        lambda: counter.open_application(actor, point=point, **staff_forms.counter_open(data))
    )
    if opened is not None:
        messages.success(request, text("done_counter_accepted", number=opened.number))
        return HttpResponseRedirect(_detail_url(opened.number), status=303)
    if error is not None and (isinstance(error, Forbidden) or error.http_status == 404):
        raise error
    context = counter_context(request, actor, data)
    context["typed"] = typed(data, staff_forms.COUNTER_OPEN_FIELDS, staff_forms.FIELD_LIMIT)
    return form_page(request, "hall/staff/counter.html", context, error)


# --- one application -----------------------------------------------------------------------


@require_GET
@staff
def application_page(request: HttpRequest, number: str) -> HttpResponse:
    context = _application_context(_actor(request), number)
    return render(request, "hall/staff/application.html", context)


def _application_context(actor: User, number: str) -> dict[str, Any]:
    application = services.get_application(actor, number)
    detail = application_detail(application, actor)
    lines = list(application.items.all())
    flags = staff_page.flags(actor, application, lines)
    businesses = [line.business for line in lines]
    renewal_online = application.is_online_renewal
    checks = list(application.identity_checks.all()) if realname.applies(application, lines) else []
    context: dict[str, Any] = {
        "section": "counter" if application.channel == Channel.ONSITE else "review",
        "application": application,
        "detail": detail,
        "state_label": state_label(application.state, businesses, renewal_online),
        "history": [
            {**h, "label": state_label(h["state"], businesses, renewal_online)}
            for h in detail["history"]
        ],
        "in_review": application.state in IN_REVIEW,
        "checklist": staff_page.checklist(application, detail),
        "notes": [
            text
            for text, channels in default_catalog().document_notes
            if application.channel in channels
        ],
        "point_name": default_catalog().point(application.point).name if application.point else "",
        "businesses": list(Business),
        "revocation_reasons": list(REVOCATION_REASONS.items()),
        "replace_causes": list(REPLACE_CAUSES.items()),
        "counter_methods": [(m.value, m.label) for m in COUNTER_METHODS],
        "forms": printing.forms_offered(lines),
        "identity_applies": realname.applies(application, lines),
        "identity_checks": checks,
        "identity_verified": realname.verified(application, documents.current(application), checks),
        **flags,
    }
    if flags["submit_needs_items"]:  # the refusal's own words, before 提交 is pressed
        context["submit_needs_items_text"] = text("no_items.submit")
    if flags["can_edit_items"]:
        # this CA's only (accounts.visibility), held by the organisation or its USCC
        context["certificates"] = list(
            Certificate.objects.visible_to(actor)
            .of_organization(application.organization_id)
            .filter(status=Certificate.Status.VALID)
            .prefetch_related("ukeys")
            .order_by("-not_after")[:20]
        )
        unwritten = ca_renewal.unwritten_renewals(context["certificates"])  # a lost Ukey's way
        context["certificate_rows"] = [
            (c, unwritten.get(c.serial)) for c in context["certificates"]
        ]
    if flags["can_issue"]:
        pending = [line for line in lines if line.done_at is None]
        context["issue_words"] = staff_page.issue_words(application, pending)
        positions = {line.pk: n for n, line in enumerate(lines, 1)}
        context["stock_lines"] = [
            {"line": line, "n": positions[line.pk]}
            for line in pending
            if line.business in issuance.FROM_STOCK
        ]
        context["pin_needed"] = any(line.business in issuance.REKEY for line in pending)
        context["unlock_pending"] = any(line.business == Business.UNLOCK for line in pending)
        if context["stock_lines"]:
            context["stock"] = ukeys.list_ukeys(actor, status=UkeyStatus.IN_STOCK)
    return context


def _act_on_page(
    request: HttpRequest,
    number: str,
    form: str,
    action: Callable[[], object],
    done: str | Callable[[Any], str],
) -> HttpResponse:
    """A form of the application page: done, back to the page (303) with ``done``'s notice;
    refused, the page again with the refusal and the form ``form`` as typed (a reviewer's
    return reasons, a reason, a tracking number: they went back empty). Forbidden and NotFound
    are the 403 and 404 pages, as for ``act_and_return``; PINs are never shown again."""

    def again(error: CerthallError, typed_form: dict[str, str]) -> HttpResponse:
        context = _application_context(_actor(request), number)
        context["typed"] = {form: typed_form}
        for document in context["detail"]["documents"]:  # 退回补正: a reason per document
            document["typed_reason"] = typed_form.get(f"reason_{document['id']}", "")
        if error.code == "certificate_busy":  # the way to the application holding it
            context["busy_number"] = error.params.get("number")
        return form_page(request, "hall/staff/application.html", context, error)

    limit = staff_forms.FIELD_LIMIT * 3
    return act_on_page(request, _detail_url(number), action, done, again, limit=limit)


def _done_text(application: object) -> str:
    """What the issue button did: 制证完成, or 已解锁 / 已吊销 when no certificate was made."""
    if isinstance(application, Application):
        done = done_words(line.business for line in application.items.all())
        if done is not None:
            return text("done_business", done=done)
    return text("done_issued")


@require_POST
@staff
def add_item(request: HttpRequest, number: str) -> HttpResponse:
    actor = _actor(request)
    return _act_on_page(
        request,
        number,
        "item",
        lambda: services.add_item(actor, number, staff_forms.item_request(request.POST)),
        text("done_item_added"),
    )


@require_POST
@staff
def remove_item(request: HttpRequest, number: str, item_id: int) -> HttpResponse:
    actor = _actor(request)
    return act_and_return(
        request,
        _detail_url(number),
        lambda: services.remove_item(actor, number, item_id),
        text("done_item_removed"),
    )


def _tick(actor: User, number: str, data: QueryDict) -> None:
    """The checklist form: every ticked document is recorded (copy received, original seen)."""
    originals = set(data.getlist("original"))
    kinds = list(dict.fromkeys([*data.getlist("received"), *originals]))
    if not kinds:
        raise InvalidInput(code="nothing_ticked")
    for kind in kinds:
        documents.check_at_counter(actor, number, kind, original_seen=kind in originals)


def _return(actor: User, number: str, data: QueryDict) -> object:
    reasons, note = staff_forms.return_reasons(data)
    return review.return_application(actor, number, reasons=reasons, note=note)


def _issue(actor: User, number: str, data: QueryDict) -> object:
    tokens, pin = staff_forms.issue_choices(data)
    return issuance.issue_application(actor, number, tokens=tokens, pin=pin)


@dataclass(frozen=True)
class Action:
    """One button of the application page: a service call on the posted form, and the notice
    shown when it succeeds (a refusal is shown in the service's words instead)."""

    run: Callable[[User, str, QueryDict], object]
    #: The notice, or how to word it from what ``run`` returned.
    done: str | Callable[[object], str]


#: The application page's POST actions, by URL suffix (which is also the URL name).
ACTIONS: dict[str, Action] = {
    "checklist": Action(_tick, text("done_checklist")),
    "submit": Action(
        lambda actor, number, data: services.submit(actor, number), text("done_submitted")
    ),
    "resubmit": Action(
        lambda actor, number, data: services.resubmit(actor, number), text("done_resubmitted")
    ),
    "payment": Action(
        lambda actor, number, data: payment.take_counter_payment(
            actor,
            number,
            method=field(data, "method", 16),
            voucher=field(data, "voucher", 64) or None,
        ),
        text("done_payment_recorded"),
    ),
    "approve": Action(
        lambda actor, number, data: review.approve(
            actor, number, note=field(data, "note", 2 * review.NOTE_LIMIT)
        ),
        text("done_approved"),
    ),
    "return": Action(_return, text("done_returned")),
    "issue": Action(_issue, _done_text),
    "deliver": Action(
        lambda actor, number, data: issuance.deliver(
            actor,
            number,
            tracking_number=field(data, "tracking_number", 40),
            carrier=field(data, "carrier", 32),
        ),
        text("done_delivered"),
    ),
    "cancel": Action(
        lambda actor, number, data: services.cancel(
            actor, number, field(data, "reason", REASON_LENGTH)
        ),
        text("done_cancelled"),
    ),
    "refund": Action(
        lambda actor, number, data: payment.refund_application(
            actor, number, field(data, "reason", REASON_LENGTH)
        ),
        text("done_refunded"),
    ),
}


@require_POST
@staff
def application_action(request: HttpRequest, number: str, action: str) -> HttpResponse:
    actor, spec = _actor(request), ACTIONS[action]
    return _act_on_page(
        request, number, action, lambda: spec.run(actor, number, request.POST), spec.done
    )


@require_GET
@staff
def document_file(request: HttpRequest, number: str, document_id: int) -> HttpResponse:
    document, content = documents.open_document(_actor(request), number, document_id)
    response = HttpResponse(content, content_type=document.content_type)
    disposition = "inline" if request.GET.get("view") else "attachment"
    extension = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}.get(
        document.content_type, "bin"
    )
    # the stored number, not the link's spelling (a line break in it was an HTTP 500)
    stored = document.application.number
    response["Content-Disposition"] = (
        f'{disposition}; filename="{stored}-{document.kind}.{extension}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    return response


@require_GET
@staff
def form_pdf(request: HttpRequest, number: str, key: str) -> HttpResponse:
    """One printed form of the application, filled in (for printing and stamping)."""
    actor = _actor(request)
    application = services.get_application(actor, number)
    if key not in FORM_FILES:
        raise InvalidInput(code="form_unknown", variant="staff", key=key)
    pdfs = render_forms_for(printing.form_data(application))
    if key not in pdfs:
        raise InvalidInput(code="form_not_needed")
    return HttpResponse(
        pdfs[key],
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{application.number}-{key}.pdf"',
        },
    )


# --- queues --------------------------------------------------------------------------------


@require_GET
@staff
def review_queue(request: HttpRequest) -> HttpResponse:
    entries = review.review_queue(_actor(request))
    return render(
        request,
        "hall/staff/review_queue.html",
        {"section": "review", "entries": entries, "today": clock.today()},
    )


@require_GET
@staff
def issuance_queue(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require_role(actor, *access.ONSITE_ISSUE_ROLES)
    return render(
        request,
        "hall/staff/issuance_queue.html",
        {
            "section": "issuance",
            "approved": services.list_applications(
                actor, state=State.APPROVED, limit=200, staff_work=True
            ),
            "issued": services.list_applications(
                actor, state=State.ISSUED, limit=200, staff_work=True
            ),
            "stock_count": len(ukeys.list_ukeys(actor, status=UkeyStatus.IN_STOCK)),
        },
    )


# --- Ukey stock ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@staff
def ukey_stock(request: HttpRequest) -> HttpResponse:
    """The stock by state; 入库: done, back here with the count added; refused, the page again
    with the refusal inside the 入库 form and the count as typed, marked (``act_on_page``: a
    notice after a redirect could not say which field it was about)."""
    actor = _actor(request)
    if request.method == "POST":

        def again(error: CerthallError, typed_form: dict[str, str]) -> HttpResponse:
            context = _stock_context(actor, None)
            context["typed"] = typed_form
            return form_page(request, "hall/staff/ukeys.html", context, error)

        return act_on_page(
            request,
            reverse("hall-staff:ukeys"),
            lambda: ukeys.add_stock(actor, whole_number(field(request.POST, "count", 4))),
            lambda added: text("done_ukeys_stocked", count=len(added)),
            again,
            limit=4,
        )
    context = _stock_context(actor, field(request.GET, "status", 16) or None)
    return render(request, "hall/staff/ukeys.html", context)


def _stock_context(actor: User, status: str | None) -> dict[str, Any]:
    return {
        "section": "ukeys",
        "ukeys": ukeys.list_ukeys(actor, status=status),
        "status": status,
        "counts": _stock_counts(actor),
        "statuses": [(s.value, s.label) for s in UkeyStatus],
        "can_add": actor.role in ukeys.STOCK_ROLES,
    }
