"""The enterprise's pages under /refunds/: the programmes, a programme with the enterprise's
explained amount and the online application (after certificate login), an application's
progress, and the offline applicant's progress query (number + USCC + SMS code).

Thin: read the request, call one service of ``certhall.refunds``, render. Refusals of a form
are shown beside it (``web.errors.attempt`` / ``form_page``); other refusals go to the error
boundary.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from certhall import clock
from certhall.accounts import codes
from certhall.accounts.models import Role, User
from certhall.errors import Forbidden, InvalidInput, NotFound, quoted
from certhall.ratelimit import client_address
from certhall.refunds import progress, services
from certhall.refunds.models import Programme, RefundApplication, certificate_holder
from certhall.refunds.records import (
    application_of,
    get_programme,
    is_open,
    notice_of,
    participating,
)
from certhall.refunds.services import BankAccount
from certhall.refunds.states import State
from certhall.web.errors import attempt, form_page, text_field, typed

SESSION_PROGRESS = "refund_progress"
PROGRESS_MINUTES = 15
#: An application number's length (FH<YYYYMMDD>-<NNNNNN>, the field's maximum): what a link may
#: fill in.
NUMBER_LENGTH = 24
LOGIN = "/login/certificate/"
#: The states in which the enterprise waits for the officers or the bank: its page says what
#: comes next and where to follow it (a customer who had just applied read only 已提交，待审核).
WAITING = frozenset({State.SUBMITTED, State.FIRST_APPROVED, State.APPROVED, State.BATCHED})


def _applicant(request: HttpRequest) -> User | None:
    user = request.user
    if isinstance(user, User) and user.is_authenticated and user.role == Role.APPLICANT:
        return user
    return None


def _field(request: HttpRequest, name: str, limit: int = 1000) -> str:
    return text_field(request.POST, name, limit, strip=False)


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    programmes = [
        {"programme": p, "open": is_open(p, today), "cas": participating(p)}
        for p in Programme.objects.order_by("-apply_to", "slug")
    ]
    return render(request, "refunds/index.html", {"programmes": programmes, "today": today})


def _programme_context(request: HttpRequest, programme: Programme) -> dict[str, Any]:
    today = clock.today()
    cas = participating(programme)
    context: dict[str, Any] = {
        "programme": programme,
        "notice": notice_of(programme),
        "cas": cas,
        "open": is_open(programme, today),
        "not_started": today < programme.apply_from,
        "today": today,
        "login_url": f"{LOGIN}?{urlencode({'next': request.path})}",
    }
    actor = _applicant(request)
    org = certificate_holder(actor) if actor is not None else None
    context["password_login"] = actor is not None and org is None
    if actor is not None and org is not None:
        context["organization"] = org
        context["eligibility"] = services.eligibility_in(actor, programme, org.uscc, cas)
        context["application"] = application_of(programme, org.uscc)
    return context


@require_safe
def programme_page(request: HttpRequest, slug: str) -> HttpResponse:
    programme = get_programme(slug)
    return render(request, "refunds/programme.html", _programme_context(request, programme))


@require_POST
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    actor = _applicant(request)
    if actor is None:
        return HttpResponseRedirect(f"{LOGIN}?{urlencode({'next': f'/refunds/{slug}/'})}")
    programme = get_programme(slug)
    if request.POST.get("confirm") != "yes":
        context = _programme_context(request, programme)
        context["form"] = request.POST
        return form_page(
            request,
            "refunds/programme.html",
            context,
            InvalidInput(code="refund_confirm_required"),
        )

    def applied() -> RefundApplication:
        names = ("account_name", "account_number", "bank_name")
        account = BankAccount(*(_field(request, name) for name in names))
        return services.apply_online(actor, slug, account, phone=_field(request, "phone", 20))

    done, refused = attempt(applied)
    if refused is not None or done is None:
        context = _programme_context(request, programme)
        context["form"] = request.POST
        return form_page(request, "refunds/programme.html", context, refused)
    return HttpResponseRedirect(reverse("refunds:application", args=[done.number]), status=303)


def _opened_by_code(request: HttpRequest, number: str) -> bool:
    opened = request.session.get(SESSION_PROGRESS) or {}
    until = opened.get("until", "")
    return bool(opened.get("number") == number and until > clock.now().isoformat())


def _viewable(request: HttpRequest, number: str) -> RefundApplication:
    """An enterprise's own application, or the one its SMS code opened in this session."""
    if _opened_by_code(request, number):
        row = RefundApplication.objects.filter(number=number).first()
        if row is None:
            raise NotFound(code="refund_application_unknown", number=quoted(number, 24))
        return row
    user = request.user
    if not isinstance(user, User):
        raise Forbidden(code="refund_no_organization")
    return services.get_application(user, number)


@require_safe
def application_page(request: HttpRequest, number: str) -> HttpResponse:
    if not request.user.is_authenticated and not _opened_by_code(request, number):
        # a link followed on a phone (the SMS the enterprise was sent): the query by SMS
        # code, the number filled in
        query = urlencode({"number": number[:NUMBER_LENGTH]})
        return HttpResponseRedirect(f"{reverse('refunds:progress')}?{query}")
    context = _application_context(request, _viewable(request, number))
    return render(request, "refunds/application.html", context)


def _application_context(request: HttpRequest, application: RefundApplication) -> dict[str, Any]:
    return {
        "application": application,
        "summary": progress.summary(application),
        "can_supply": _applicant(request) is not None and application.state == "more_info",
        "waiting": WAITING,
    }


@require_POST
def supply(request: HttpRequest, number: str) -> HttpResponse:
    actor = _applicant(request)
    if actor is None:
        raise Forbidden(code="refund_no_organization")

    def supplied() -> RefundApplication:
        note = text_field(request.POST, "note", services.NOTE_LENGTH, what="补充说明")
        return services.supply(actor, number, note)

    _, refused = attempt(supplied)
    if refused is None:
        return HttpResponseRedirect(reverse("refunds:application", args=[number]), status=303)
    if isinstance(refused, Forbidden) or refused.http_status == 404:
        raise refused
    # the application's page again, the refusal beside the form, the note as typed (it was
    # the error page: the note was lost)
    context = _application_context(request, services.get_application(actor, number))
    context.update(typed(request.POST, ("note",), services.NOTE_LENGTH))
    return form_page(request, "refunds/application.html", context, refused)


@require_http_methods(["GET", "POST"])
def progress_page(request: HttpRequest) -> HttpResponse:
    """Step 1: number + USCC -> a code to the registered phone; step 2: the code -> the
    application's page for this session (15 minutes)."""
    prefill = {"number": request.GET.get("number", "")[:NUMBER_LENGTH]}
    form = request.POST if request.method == "POST" else prefill
    context: dict[str, Any] = {"form": form}
    if request.method == "GET":
        return render(request, "refunds/progress.html", context)
    client = client_address(request)

    def asked() -> tuple[str, str]:
        return _field(request, "number", 40), _field(request, "uscc", 40)

    if request.POST.get("step") == "code":
        sent, refused = attempt(lambda: progress.request_code(*asked(), client=client))
        if sent is not None:
            context["sent"] = sent.message
        elif (wait := codes.sending_wait(refused)) is not None:
            # a code asked again too soon: the button counts the wait down; a progress code
            # sent before still opens it, so its field stays (not after too many look-ups, nor
            # when the phone's last code was another purpose's: a field for no code, 12-07)
            context["code_wait"] = wait
            context["sent"] = progress.code_pending(*asked())
        return form_page(request, "refunds/progress.html", context, refused)
    opened, refused = attempt(
        lambda: progress.open_progress(*asked(), _field(request, "code", 12), client=client)
    )
    if refused is not None or opened is None:
        context["sent"] = True
        return form_page(request, "refunds/progress.html", context, refused)
    until = clock.now() + timedelta(minutes=PROGRESS_MINUTES)
    request.session[SESSION_PROGRESS] = {"number": opened.number, "until": until.isoformat()}
    return HttpResponseRedirect(reverse("refunds:application", args=[opened.number]), status=303)
