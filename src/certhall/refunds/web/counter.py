"""The counter of a participating CA under /refunds/counter/: look an enterprise's records up
by USCC, enter an offline application against the announcement's checklist, list the CA's own
offline applications and supply more material. Clerks and CA administrators only; every rule is
the services'."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhall.accounts import codes
from certhall.accounts.models import User
from certhall.errors import Forbidden
from certhall.messages import text
from certhall.pki.identity import ID_DOCUMENT_KINDS
from certhall.ratelimit import client_address
from certhall.refunds import counter, services
from certhall.refunds.models import Programme, RefundApplication, SpecialCase
from certhall.refunds.progress import history
from certhall.refunds.records import get_programme, is_open
from certhall.refunds.services import COUNTER_ROLES, BankAccount
from certhall.refunds.web import staff_page
from certhall.web.errors import attempt, form_page, text_field, typed

staff = staff_page(*COUNTER_ROLES)


def _open_programmes() -> list[Programme]:
    from certhall import clock

    today = clock.today()
    return [p for p in Programme.objects.order_by("-apply_to", "slug") if is_open(p, today)]


#: The offline application's texts: their bounds and their names in a refusal.
ENTRY_FIELDS = {
    "uscc": (40, "统一社会信用代码"),
    "enterprise_name": (1000, "单位名称"),
    "special_case": (20, "特殊情形"),
    "person_name": (1000, "姓名"),
    "id_kind": (20, "证件类型"),
    "id_number": (40, "证件号码"),
    "phone": (20, "手机号码"),
    "code": (20, "验证码"),
    "account_name": (1000, "收款账户名"),
    "account_number": (1000, "银行账号"),
    "bank_name": (1000, "开户银行"),
    "delegate_name": (1000, "委派代表姓名"),
    "delegate_id_number": (40, "委派代表身份证号"),
}


def _entry(post: QueryDict) -> counter.OfflineEntry:
    """The form as the service's input; a text over its bound refused naming it (it was cut
    there: a USCC or a phone number with more typed after its 40th or 20th character was
    taken as its start)."""
    texts = {
        name: text_field(post, name, limit, strip=False, what=what)
        for name, (limit, what) in ENTRY_FIELDS.items()
    }
    account = BankAccount(
        texts.pop("account_name"), texts.pop("account_number"), texts.pop("bank_name")
    )
    return counter.OfflineEntry(
        **texts,
        account=account,
        partnership=post.get("partnership") == "yes",
        received=frozenset(post.getlist("received")),
        signed=frozenset(post.getlist("signed")),
    )


#: Refusals of the phone or its code: shown beside the phone's fieldset, which a phone's long
#: form leaves far below the page's top (the form's other refusals stay there).
PHONE_REFUSALS = frozenset(
    {"refund_counter_code", "refund_counter_code_empty", "phone_invalid", "rate_limited"}
)


@require_http_methods(["GET", "POST"])
@staff
def counter_page(request: HttpRequest, actor: User) -> HttpResponse:
    programmes = _open_programmes()
    slug = str(request.POST.get("programme") or request.GET.get("programme") or "")
    if not slug and programmes:
        slug = programmes[0].slug
    context: dict[str, Any] = {
        "programmes": programmes,
        "programme": get_programme(slug) if slug else None,
        "cases": SpecialCase.choices,
        "id_kinds": ID_DOCUMENT_KINDS.items(),
        "checklist": counter.CHECKLIST,
        "not_signed": counter.NOT_SIGNED,
        "applications": services.list_applications(actor),
        "form": request.POST if request.method == "POST" else request.GET,
        # the ticks, kept when the form comes back (a code sent, a refusal); ``form.received``
        # was the last one alone (a QueryDict's item is its last value)
        "received": request.POST.getlist("received"),
        "signed": request.POST.getlist("signed"),
    }
    uscc = str(context["form"].get("uscc", ""))
    if slug and uscc:
        context["eligibility"], context["lookup_error"] = attempt(
            lambda: services.eligibility_for(actor, slug, uscc)
        )
    if request.method == "GET" or request.POST.get("step") == "lookup":
        refused = context.pop("lookup_error", None)
        return form_page(request, "refunds/counter.html", context, refused)
    if request.POST.get("action") == "send_code":  # the form's second button: prove the phone
        limit, what = ENTRY_FIELDS["phone"]
        sent, refused = attempt(
            lambda: counter.request_phone_code(
                actor,
                slug,
                text_field(request.POST, "phone", limit, what=what),
                client=client_address(request),
            )
        )
        context["notice"] = sent.message if sent else ""
        context["phone_error"] = refused is not None
        context["code_wait"] = codes.sending_wait(refused)
        return form_page(request, "refunds/counter.html", context, refused)
    done, refused = attempt(lambda: counter.enter_offline(actor, slug, _entry(request.POST)))
    if refused is not None or done is None:
        context["phone_error"] = refused is not None and refused.code in PHONE_REFUSALS
        return form_page(request, "refunds/counter.html", context, refused)
    messages.success(request, text("done_refund_entered", number=done.number))
    return HttpResponseRedirect(
        reverse("refunds:counter-application", args=[done.number]), status=303
    )


@require_GET
@staff
def application_page(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    context = _application_context(services.get_application(actor, number))
    return render(request, "refunds/counter_application.html", context)


def _application_context(application: RefundApplication) -> dict[str, Any]:
    return {
        "application": application,
        "history": history(application),
        "labels": dict(counter.CHECKLIST),
    }


@require_POST
@staff
def supply(request: HttpRequest, actor: User, number: str) -> HttpResponse:
    """Refused, the application's page again with the refusal beside the form and the note as
    typed (it was the error page: the note was lost)."""
    _, refused = attempt(
        lambda: services.supply(
            actor, number, text_field(request.POST, "note", services.NOTE_LENGTH, what="补充说明")
        )
    )
    if refused is None:
        target = reverse("refunds:counter-application", args=[number])
        return HttpResponseRedirect(target, status=303)
    if isinstance(refused, Forbidden) or refused.http_status == 404:
        raise refused
    context = _application_context(services.get_application(actor, number))
    context.update(typed(request.POST, ("note",), services.NOTE_LENGTH))
    return form_page(request, "refunds/counter_application.html", context, refused)
