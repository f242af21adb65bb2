"""The counter of a participating CA under /refunds/counter/: look an enterprise's records up
by USCC, enter an offline application against the announcement's checklist, list the CA's own
offline applications and supply more material. Clerks and CA administrators only; every rule is
the services'."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from certhall.accounts.models import User
from certhall.errors import Forbidden
from certhall.pki.identity import ID_DOCUMENT_KINDS
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


def _entry(post: QueryDict) -> counter.OfflineEntry:
    def get(name: str, limit: int = 1000) -> str:
        # cut only to bound the work: the service refuses what is too long
        return str(post.get(name, ""))[:limit]

    return counter.OfflineEntry(
        uscc=get("uscc", 40),
        enterprise_name=get("enterprise_name"),
        special_case=get("special_case", 20),
        person_name=get("person_name"),
        id_kind=get("id_kind", 20),
        id_number=get("id_number", 40),
        phone=get("phone", 20),
        account=BankAccount(get("account_name"), get("account_number"), get("bank_name")),
        partnership=post.get("partnership") == "yes",
        delegate_name=get("delegate_name"),
        delegate_id_number=get("delegate_id_number", 40),
        received=frozenset(post.getlist("received")),
        signed=frozenset(post.getlist("signed")),
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
    }
    uscc = str(context["form"].get("uscc", ""))
    if slug and uscc:
        context["eligibility"], context["lookup_error"] = attempt(
            lambda: services.eligibility_for(actor, slug, uscc)
        )
    if request.method == "GET" or request.POST.get("step") == "lookup":
        refused = context.pop("lookup_error", None)
        return form_page(request, "refunds/counter.html", context, refused)
    done, refused = attempt(lambda: counter.enter_offline(actor, slug, _entry(request.POST)))
    if refused is not None or done is None:
        return form_page(request, "refunds/counter.html", context, refused)
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
