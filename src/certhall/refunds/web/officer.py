"""The refund officers' console under /refunds/console/: dashboard with chart, the review
queue and the list, an application with its records and the review actions, payout batches
(create, a second officer's release or a cancel, download, bank return) and the CSV export.
Thin views over the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhall.accounts.models import Provider, Role, User
from certhall.accounts.permissions import require_role
from certhall.errors import CerthallError, Forbidden, InvalidInput, NotFound, about
from certhall.messages import text
from certhall.refunds import payout, programmes, reports, review, services
from certhall.refunds.eligibility import explain
from certhall.refunds.models import Business, PayoutBatch, Programme, RefundApplication
from certhall.refunds.progress import history
from certhall.refunds.records import get_programme
from certhall.refunds.services import BankAccount
from certhall.refunds.states import APPLICATIONS, IN_REVIEW, State
from certhall.refunds.web import staff_page, staff_step
from certhall.web.errors import act_and_return, act_on_page, attempt, form_page, typed

#: The approved applications the batches page lists by name (the count covers them all).
SHOWN_PENDING = 20

officer = staff_page(Role.REFUND_OFFICER)


def _programme_slug(request: HttpRequest) -> str:
    slug = request.GET.get("programme") or request.POST.get("programme")
    if slug:
        return str(slug)[:50]
    first = Programme.objects.order_by("-apply_to", "slug").first()
    if first is None:
        raise NotFound(code="refund_programme_unknown", slug="", known="无")
    return first.slug


@require_GET
@officer
def dashboard(request: HttpRequest, actor: User) -> HttpResponse:
    slug = _programme_slug(request)
    context = reports.dashboard(actor, slug)
    context["programmes"] = Programme.objects.order_by("-apply_to", "slug")
    context["queue"] = review.review_queue(actor, slug)[:20]
    context["section"] = "dashboard"
    return render(request, "refunds/console/dashboard.html", context)


@require_GET
@officer
def application_list(request: HttpRequest, actor: User) -> HttpResponse:
    slug = _programme_slug(request)
    state = request.GET.get("state") or None
    rows = services.list_applications(actor, slug, state)
    return render(
        request,
        "refunds/console/list.html",
        {
            "programme": get_programme(slug),
            "applications": rows,
            "states": State.choices,
            "state": state,
            "section": "list",
        },
    )


@require_GET
@officer
def application_page(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    context = _application_context(actor, number)
    return render(request, "refunds/console/application.html", context)


def _application_context(actor: User, number: str) -> dict[str, Any]:
    application = services.get_application(actor, number)
    eligibility = explain(application.programme, application.uscc)
    claimed = set(application.lines.values_list("fee_id", flat=True))
    return {
        "application": application,
        "eligibility": eligibility,
        "claimed": claimed,
        "history": history(application),
        "next_states": APPLICATIONS.next_states(application.state),
        "needs_second": review.needs_second_officer(application),
        # approving starts from review only (a failed payout's corrected account is a first
        # approval: review.correct_account)
        "in_review": application.state in IN_REVIEW,
        "section": "list",
    }


ACTIONS: dict[str, tuple[str | Callable[[Any], str], Callable[[User, str, HttpRequest], Any]]] = {
    "approve": (
        text("done_refund_approved"),
        lambda actor, number, request: review.approve(actor, number),
    ),
    "reject": (
        text("done_refund_rejected"),
        lambda actor, number, request: review.reject(
            actor, number, str(request.POST.get("reason", ""))
        ),
    ),
    "ask-more": (
        text("done_refund_more_info"),
        lambda actor, number, request: review.ask_more(
            actor, number, str(request.POST.get("reason", ""))
        ),
    ),
    "correct": (
        # the corrected account waits for a second officer (review.correct_account)
        text("done_refund_account_corrected"),
        lambda actor, number, request: review.correct_account(
            actor,
            number,
            BankAccount(
                str(request.POST.get("account_name", "")),
                str(request.POST.get("account_number", "")),
                str(request.POST.get("bank_name", "")),
            ),
        ),
    ),
}


@require_POST
@staff_step  # the services ask the role and audit a refusal
def application_action(request: HttpRequest, actor: User, number: str, action: str) -> HttpResponse:
    """Done, back to the application (303) with the notice; refused, the page again with the
    refusal and the form as typed (a reason, a corrected account: they were lost, the
    correction's form coming back with the account it corrected)."""
    done, call = ACTIONS[action]
    result, refused = attempt(lambda: call(actor, number, request))
    if refused is None:
        messages.success(request, done if isinstance(done, str) else done(result))
        target = reverse("refunds:console-application", args=[number])
        return HttpResponseRedirect(target, status=303)
    if isinstance(refused, Forbidden) or refused.http_status == 404:
        raise refused
    context = _application_context(actor, number)
    names = ("reason", "account_name", "account_number", "bank_name")
    context["typed"] = {action.replace("-", "_"): typed(request.POST, names, 1000)}
    return form_page(request, "refunds/console/application.html", context, refused)


@require_GET
@officer
def batches(request: HttpRequest, actor: User) -> HttpResponse:
    return render(request, "refunds/console/batches.html", _batches_context(request, actor))


def _batches_context(request: HttpRequest, actor: User) -> dict[str, Any]:
    """The batches page (the page, and the page again with a bank return refused)."""
    slug = _programme_slug(request)
    programme = get_programme(slug)
    approved = services.list_applications(actor, slug, State.APPROVED, limit=SHOWN_PENDING)
    waiting = payout.pending(slug)
    return {
        "programme": programme,
        "batches": PayoutBatch.objects.filter(programme=programme)
        .select_related("created_by", "released_by", "cancelled_by")
        .order_by("-pk")[:50],
        "approved": approved,
        "pending": waiting,
        "more_pending": max(0, waiting.count - len(approved)),
        "actor_id": actor.pk,  # who may release which batch (never its maker)
        "report": request.session.pop("refund_settle_report", None),
        "section": "batches",
    }


@require_POST
@staff_step  # the services ask the role and audit a refusal
def batch_create(request: HttpRequest, actor: User) -> HttpResponse:
    slug = _programme_slug(request)
    return act_and_return(
        request, _to_batches(request), lambda: payout.create_batch(actor, slug), _batch_made
    )


def _batch_made(batch: PayoutBatch) -> str:
    left = payout.pending(batch.programme.slug).count
    if left:
        return text("done_refund_batch_more", number=batch.number, count=batch.count, left=left)
    return text("done_refund_batch_created", number=batch.number, count=batch.count)


def _to_batches(request: HttpRequest) -> str:
    slug = _programme_slug(request)
    return f"{reverse('refunds:console-batches')}?{urlencode({'programme': slug})}"


#: A batch's buttons: 复核放行 (a second officer's; its maker is refused) and 撤销批次. Done or
#: refused, back to the batches with the notice.
BATCH_STEPS: dict[str, tuple[Callable[[User, str], PayoutBatch], str]] = {
    "release": (payout.release, "done_refund_batch_released"),
    "cancel": (payout.cancel, "done_refund_batch_cancelled"),
}


@require_POST
@staff_step  # the services ask the role and audit a refusal
def batch_step(request: HttpRequest, actor: User, number: str, step: str) -> HttpResponse:
    service, done = BATCH_STEPS[step]
    return act_and_return(
        request,
        _to_batches(request),
        lambda: service(actor, number),
        lambda batch: text(done, number=batch.number, count=batch.count),
    )


@require_GET
@officer
def batch_file(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    batch = payout.batch_file(actor, number)
    response = HttpResponse(batch.content.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{batch.number}.csv"'
    return response


#: A refused bank return's lines whose reasons the page lists (the API's report has them all; a
#: file of 100,000 refused lines made a 1.2 MB session and a page of as many lines).
SHOWN_REFUSALS = 20


@require_POST
@staff_step  # the service asks the role and audits a refusal
def batch_settle(request: HttpRequest, actor: User) -> HttpResponse:
    slug = _programme_slug(request)
    target = _to_batches(request)
    upload = request.FILES.get("bank_return")

    def run() -> payout.SettleReport:
        with about("bank_return"):
            if upload is None:
                raise InvalidInput(code="refund_bank_return_missing")
            report = payout.settle(actor, slug, upload.read())
        shown = report.as_json()  # the first lines' reasons: a page, and the session, stay small
        shown["refusals"] = shown["refusals"][:SHOWN_REFUSALS]
        request.session["refund_settle_report"] = shown
        return report

    def done(report: payout.SettleReport) -> str:
        return text("done_bank_return_refused" if report.refused else "done_bank_return")

    def again(error: CerthallError, sent: dict[str, str]) -> HttpResponse:
        """The batches again, the refusal inside the 导入回盘 form, the file field marked (a
        notice after a redirect said it above the page; a file is never filled in again)."""
        context = _batches_context(request, actor)
        return form_page(request, "refunds/console/batches.html", context, error)

    return act_on_page(request, target, run, done, again, limit=0)


@require_GET
@officer
def export(request: HttpRequest, actor: User) -> HttpResponse:
    slug = _programme_slug(request)
    response = HttpResponse(
        reports.export_csv(actor, slug).encode("utf-8"), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="refunds-{slug}.csv"'
    return response


@require_GET
@officer
def programme_list(request: HttpRequest, actor: User) -> HttpResponse:
    rows = Programme.objects.order_by("-apply_to", "slug")
    applied = set(RefundApplication.objects.values_list("programme_id", flat=True).distinct())

    return render(
        request,
        "refunds/console/programmes.html",
        {"programmes": rows, "applied": applied, "section": "programmes"},
    )


@require_http_methods(["GET", "POST"])
@staff_step  # the POST's service asks the role and audits a refusal
def programme_edit(request: HttpRequest, actor: User, slug: str | None = None) -> HttpResponse:
    """Create a programme (``slug`` None; ``?from=SLUG`` starts from a copy) or edit one."""
    existing = get_programme(slug) if slug else None  # public: /refunds/<slug>/
    if request.method == "GET":
        require_role(actor, Role.REFUND_OFFICER)
        copied = request.GET.get("from")
        source = existing or (get_programme(str(copied)[:50]) if copied else None)
        values = programmes.as_form(source) if source else {}
        if source is not existing:  # a copy: its own slug, its own notice
            values["slug"] = values["notice"] = ""
        return _programme_form(request, existing, values)
    values = {
        **request.POST.dict(),
        "businesses": request.POST.getlist("businesses"),
        "cas": request.POST.getlist("cas"),
    }
    saved, refusal = attempt(
        lambda: programmes.save_programme(
            actor, request.POST, existing=existing.slug if existing else None
        )
    )
    if isinstance(refusal, Forbidden):
        raise refusal  # another role: the 403 page, not the editor
    if saved is None:
        return _programme_form(request, existing, values, refusal)
    messages.success(request, text("done_refund_programme_saved", name=saved.name))
    return HttpResponseRedirect(reverse("refunds:console-programmes"), status=303)


def _programme_form(
    request: HttpRequest,
    existing: Programme | None,
    values: dict[str, Any],
    refusal: CerthallError | None = None,
) -> HttpResponse:
    cas = values.get("cas") or []
    context: dict[str, Any] = {
        "existing": existing,
        "locked": existing is not None and programmes.has_applications(existing),
        "form": values,
        "businesses": Business.choices,
        "business_labels": [
            label for value, label in Business.choices if value in values.get("businesses", [])
        ],
        "providers": [
            (provider, provider.slug in cas, values.get(f"counters:{provider.slug}", ""))
            for provider in Provider.objects.order_by("pk")
        ],
        "notices": programmes.notice_choices(existing),
        "section": "programmes",
    }
    return form_page(request, "refunds/console/programme.html", context, refusal)
