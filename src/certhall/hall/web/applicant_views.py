"""网上营业厅: the applicant's pages under ``/hall/`` (zh-CN, server-rendered).

Thin views over the same services the JSON API (``certhall.hall.api``) uses: read the form,
call the service, render or redirect. Permissions and rules live in the services
(``certhall.hall.access``, ``certhall.rules.enforce``); a refusal (``CerthallError``) is shown
on the page it came from, with its HTTP status. Object lookups go through
``services.get_application`` (``access.load``): another enterprise's application is a 403 or a
404 here exactly as in the API. Every POST is CSRF-checked by Django's middleware.

This module: the hall's home, the list and the progress page of one application. The online
新办 wizard is ``applicant_new``, online 续期 ``applicant_renew``; what they share
``applicant_base``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from certhall.accounts import profile
from certhall.accounts.models import User
from certhall.certlogin import conf as certlogin_conf
from certhall.errors import CerthallError, NotFound
from certhall.forms import FORM_FILES, render_forms_for
from certhall.hall import documents, services
from certhall.hall.models import REASON_LENGTH, Application, ApplicationItem, Document
from certhall.hall.printing import form_data
from certhall.hall.renewal import ended_notice, replaced_renewal
from certhall.hall.states import TRANSITIONS, State, done_words
from certhall.hall.web.applicant_base import (
    CLOSING_STEP,
    FREE_SKIPPED,
    ONLINE_PATH,
    PATH_LABELS,
    PATH_POSITION,
    RENEWAL_LABELS,
    REVIEW_STEP,
    applicant_page,
    catalog_context,
    field,
    form_links,
    history_label,
    next_step_url,
    point_name,
    row,
    to,
)
from certhall.messages import text
from certhall.web.errors import act_and_return, act_on_page, attempt, form_page

ViewFunc = Callable[..., HttpResponse]

# --- hall home and lists ---------------------------------------------------------------------


@require_GET
@applicant_page
def home(request: HttpRequest, actor: User) -> HttpResponse:
    mine = services.list_applications(actor, limit=10, lines=services.ROW_ITEMS, parties=False)
    context = {
        **catalog_context(),
        "organization": actor.organization,
        "rows": [row(a) for a in mine],
    }
    return render(request, "hall/applicant/home.html", context)


@require_GET
@applicant_page
def application_list(request: HttpRequest, actor: User) -> HttpResponse:
    state = request.GET.get("state") or None
    listed, error = attempt(
        lambda: services.list_applications(
            actor, state=state, limit=100, lines=services.ROW_ITEMS, parties=False
        )
    )
    rows = [row(a) for a in listed or []]
    context = {"rows": rows, "states": State.choices, "state": state or ""}
    return form_page(request, "hall/applicant/list.html", context, error)


# --- the application page (progress) ---------------------------------------------------------


def _path(
    application: Application, lines: list[ApplicationItem], closing: bool
) -> list[dict[str, Any]]:
    """The progress path's steps (label, done / current / to come). ``closing``: an online
    renewal the jobs' next round will close (``applicant_base.renewal_closing``, the chip's and
    the next step's one answer): its current step says so (将自动关闭并退款 / 将自动取消, in the
    warning's colour) instead of 待付款 / 待在线更新, and the steps after it, which will not come,
    are left out (12-07; after the round the path is gone, as for any cancelled one)."""
    state = State(application.state)
    renewal_flow = application.is_online_renewal
    path: tuple[State, ...] = ONLINE_PATH
    labels = RENEWAL_LABELS if renewal_flow else PATH_LABELS
    done = done_words(line.business for line in lines)
    if done is not None:  # 解锁 / 吊销: nothing is 制证
        labels = {**labels, State.ISSUED: done}
    if state in (State.CANCELLED, State.REFUNDED):
        return []
    if application.total == 0 and lines:  # free: nothing to pay
        # an ODC renewal online is not reviewed either; the rest go to 已提交，待审核
        skipped = (State.AWAITING_PAYMENT, State.PAID) if renewal_flow else FREE_SKIPPED
        path = tuple(s for s in path if s not in skipped)
        labels = {**labels, State.PAID: str(State.SUBMITTED.label)}
    if state in REVIEW_STEP:  # the customer's turn (退回补正), then the review's again
        labels = {**labels, State.PAID: text(REVIEW_STEP[state])}
    position = path.index(PATH_POSITION.get(state, state))
    current = "current returned" if state == State.RETURNED else "current"
    if closing:
        paid = application.paid_at is not None  # refunded; unpaid or free: cancelled
        labels = {**labels, path[position]: text(CLOSING_STEP[paid])}
        path, current = path[: position + 1], "current closing"
    return [
        {
            "label": labels[s],
            "state": "done"
            if i < position or state == State.DELIVERED
            else current
            if i == position
            else "",
        }
        for i, s in enumerate(path)
    ]


@require_GET
@applicant_page
def continue_draft(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    """继续填写: the first wizard step the draft still needs (the application page once it is
    no longer a draft)."""
    application = services.get_application(actor, number, lines=services.ROW_ITEMS)
    if application.state != State.DRAFT:
        return to("detail", application.number)
    return HttpResponseRedirect(next_step_url(application))


@require_GET
@applicant_page
def detail(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    return render(request, "hall/applicant/detail.html", _detail_context(actor, number))


def _detail_context(actor: User, number: str) -> dict[str, Any]:
    """The application page's context (the page, and the page again with a refusal)."""
    application = services.get_application(actor, number)
    lines = list(application.items.all())
    shown = row(application)
    docs = [d for d in services.documents_of(application) if not d.superseded]
    renew_line = lines[0] if application.is_online_renewal and lines else None
    renewal_ended = ended_notice(application, renew_line)
    businesses = [line.business for line in lines]
    context: dict[str, Any] = {
        "application": application,
        "row": shown,
        "lines": lines,
        "holder_ids": {i.pk: profile.mask_id_number(i.person_id_number) for i in lines},
        "path": _path(application, lines, shown["closing"]),
        "history": [
            {**event, "label": history_label(event["state"], businesses)}
            for event in services.history(actor, application)
        ],
        "documents": [{"document": d, "name": documents.document_name(d.kind)} for d in docs],
        "returned": [
            {"name": documents.document_name(d.kind), "reason": d.review_reason}
            for d in docs
            if d.status == Document.Status.RETURNED
        ],
        "forms": form_links(application),
        "pickup_name": point_name(application.pickup_point),
        "can_cancel": application.paid_at is None
        and State.CANCELLED in _allowed_next(application.state),
        "renewal": renew_line,
        "show_renewal": renew_line is not None
        and application.state in (State.APPROVED, State.ISSUED)
        and renewal_ended is None,
        "renewal_ended": renewal_ended,
        "renewal_replaced": replaced_renewal(renew_line),
        "agent_url": certlogin_conf.get().agent_url if renew_line is not None else "",
    }
    return context


def _allowed_next(state: str) -> frozenset[str]:
    return TRANSITIONS[State(state)]


@require_POST
@applicant_page
def cancel(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    """撤销申请: done, the application page with the notice; refused, the application page
    again with the refusal inside the cancel form, its reason as sent and marked when the
    refusal names it (``act_on_page``: a notice after a redirect lost it)."""
    services.get_application(actor, number)  # another enterprise's: 403/404, not a message

    def again(error: CerthallError, typed: dict[str, str]) -> HttpResponse:
        context = _detail_context(actor, number)
        context["typed"] = typed
        return form_page(request, "hall/applicant/detail.html", context, error)

    return act_on_page(
        request,
        to("detail", number).url,
        lambda: services.cancel(actor, number, field(request, "reason")),
        text("done_application_cancelled", number=number),
        again,
        limit=REASON_LENGTH,
    )


@require_POST
@applicant_page
def resubmit(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    services.get_application(actor, number)  # another enterprise's: 403/404, not a message
    return act_and_return(
        request,
        to("detail", number).url,
        lambda: services.resubmit(actor, number),
        text("done_resubmitted_review"),
    )


@require_GET
@applicant_page
def form_pdf(request: HttpRequest, actor: User, number: str, key: str) -> HttpResponse:
    """《机构数字证书申请表》 etc., filled from the application, to print, stamp and upload."""
    application = services.get_application(actor, number)
    if key not in FORM_FILES:
        raise NotFound(code="form_unknown")
    if application.is_online_renewal:
        raise NotFound(code="form_unknown", variant="online_renewal")
    pdfs = render_forms_for(form_data(application))
    if key not in pdfs:
        raise NotFound(code="form_unknown", variant="not_needed")
    filename = FORM_FILES[key]
    response = HttpResponse(pdfs[key], content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="{application.number}-{key}.pdf"; '
        f"filename*=UTF-8''{quote(application.number + '-' + filename)}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
