"""审计日志 under /console/audit/: the home provider's auditors and CA administrators read the
audit chain and run its verification. Thin views: ``audit.reading`` checks who reads."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from django.contrib import messages
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    QueryDict,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_POST

from certhall import clock
from certhall.accounts.models import User
from certhall.accounts.views import account_page
from certhall.audit import export, reading
from certhall.messages import text
from certhall.web.errors import attempt, form_page, int_field, text_field, typed

HOME = "/console/audit/"
#: The verification's result is shown by web/staff.html with this id (a message's extra_tags).
VERIFIED = "verify-result"
#: The filter form's fields (and the bound each is typed again within).
FIELDS = ("action", "object_id", "actor", "result", "since", "until")


def _filters(query: QueryDict) -> reading.Filters:
    return reading.Filters(
        action=text_field(query, "action", reading.ACTION_LENGTH, what="操作"),
        object_id=text_field(query, "object_id", reading.ID_LENGTH, what="对象"),
        actor=text_field(query, "actor", reading.ACTOR_LENGTH, what="操作人"),
        result=text_field(query, "result", 16, what="结果"),
        since=reading.parse_day(text_field(query, "since", 10, what="开始日期")),
        until=reading.parse_day(text_field(query, "until", 10, what="结束日期")),
        before=int_field(query, "before", "序号", limit=19),
        after=int_field(query, "after", "序号", limit=19),
    )


@require_GET
@account_page
def log_page(request: HttpRequest, actor: User) -> HttpResponse:
    state = reading.state(actor)  # refuses (403) whoever may not read the log
    form = typed(request.GET, FIELDS, reading.ACTOR_LENGTH)
    context: dict[str, Any] = {"state": state, "form": form, "results": reading.RESULTS}
    if state.verified is not None:
        context["verified"] = reading.verified_text(state.verified)
    kept = [(name, value) for name, value in form.items() if value]
    context["export"] = "export.csv" + ("?" + urlencode(kept) if kept else "")
    page, error = attempt(lambda: reading.events(actor, _filters(request.GET)))
    if page is not None:
        context["events"] = page.events
        if page.older is not None:
            context["older"] = "?" + urlencode([*kept, ("before", str(page.older))])
        if page.newer is not None:
            context["newer"] = "?" + urlencode([*kept, ("after", str(page.newer))])
        if "before" in request.GET or "after" in request.GET:
            context["newest"] = "?" + urlencode(kept) if kept else HOME
    return form_page(request, "audit/log.html", context, error)


@require_GET
@account_page
def export_csv(request: HttpRequest, actor: User) -> HttpResponseBase:
    """导出CSV: the filtered list as a file, streamed (records ``audit.export``)."""
    filters = _filters(request.GET)
    lines = export.start(actor, replace(filters, before=None, after=None))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    name = export.filename(clock.now())
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@account_page
def event_page(request: HttpRequest, actor: User, seq: int) -> HttpResponse:
    event = reading.event(actor, seq)
    context = {"event": event, "before": _pretty(event.before), "after": _pretty(event.after)}
    return render(request, "audit/event.html", context)


def _pretty(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@require_POST
@account_page
def verify(request: HttpRequest, actor: User) -> HttpResponse:
    """校验审计链: walks the whole chain (records ``audit.verify``), then back to the log."""
    result = reading.verify(actor)
    if result.ok:
        messages.success(request, text("done_audit_verified", checked=result.checked), VERIFIED)
    elif result.seq is None:  # the checkpoints disagree, before any row was read
        messages.error(request, text("audit_chain_failed", problem=result.message()), VERIFIED)
    else:
        broken = text("audit_chain_broken", seq=result.seq, problem=result.message())
        messages.error(request, broken, VERIFIED)
    return HttpResponseRedirect(HOME, status=303)
