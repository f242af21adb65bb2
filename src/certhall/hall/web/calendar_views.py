"""节假日安排: the State Council's notice pasted by a CA administrator becomes the year's
arrangement (docs/rules.md, "Working-day calendar"). Two steps on one page: 预览 reads the text
(``rules.notice``) and shows the days, the warnings and the deadlines it would move, nothing
written; 确认导入 reads the same text again and calls the one import service
(``hall.calendar.import_year``, audited, recomputing the deadlines) with the version of the year
the preview was read against, so a stale preview is refused and a confirmation posted twice
changes nothing the second time."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from certhall import clock
from certhall.accounts.models import User
from certhall.hall import calendar
from certhall.hall.web.staff_forms import field
from certhall.hall.web.staff_views import staff
from certhall.messages import text
from certhall.rules.hours import day_label
from certhall.rules.notice import Notice, parse_notice
from certhall.web.errors import attempt, form_page, int_field, text_field

#: The notice's text: about 1,500 characters with its greeting and closing words.
NOTICE_LIMIT = 20_000
TEMPLATE = "hall/staff/calendar.html"


def _days(days: tuple[date, ...]) -> list[str]:
    return [day_label(day) for day in days]


def _preview(notice: Notice, result: calendar.ImportResult) -> dict[str, Any]:
    return {
        "source": notice.arrangement.source,
        "blocks": [
            {
                "name": block.name,
                "line": block.line,
                "first": day_label(block.days_off[0]),
                "last": day_label(block.days_off[-1]),
                "count": len(block.days_off),
                "workdays": _days(block.workdays),
            }
            for block in notice.blocks
        ],
        "changed": result.changed,
        "replaces": not result.created,
        "moved": len(result.recomputed),
        "missing": _days(result.missing_statutory_days),
        "overridden": [(day_label(day), counts) for day, counts in result.overridden],
        "basis": result.basis,
    }


@require_http_methods(["GET", "POST"])
@staff
def calendar_page(request: HttpRequest) -> HttpResponse:
    actor = cast(User, request.user)  # ``staff`` let only a CA's staff in
    calendar.require_importer(actor)  # a CA administrator of this CA: others the 403 page
    this_year = clock.today().year
    context: dict[str, Any] = {
        "section": "calendar",
        "years": calendar.around(this_year),
        "year": str(this_year + 1),
        "notice": "",
    }
    if request.method != "POST":
        return form_page(request, TEMPLATE, context)
    data = request.POST
    typed_year = field(data, "year", 8)
    typed_notice = text_field(data, "notice", NOTICE_LIMIT, what="通知正文")
    context.update(year=typed_year, notice=typed_notice)
    notice, error = attempt(lambda: parse_notice(typed_notice, int_field(data, "year", "年份")))
    if notice is None:
        return form_page(request, TEMPLATE, context, error)
    arrangement = notice.arrangement
    if data.get("step") != "confirm":
        result, error = attempt(lambda: calendar.preview(actor, arrangement))
        if result is not None:
            context.update(year=str(arrangement.year), preview=_preview(notice, result))
        return form_page(request, TEMPLATE, context, error)
    basis = field(data, "basis", 32)
    imported, error = attempt(lambda: calendar.import_year(actor, arrangement, basis=basis))
    if imported is None:
        return form_page(request, TEMPLATE, context, error)
    if imported.changed:
        done = text("done_calendar_imported", year=imported.year, count=len(imported.recomputed))
    else:
        done = text("done_calendar_unchanged", year=imported.year)
    messages.success(request, done)
    return HttpResponseRedirect(reverse("hall-staff:calendar"), status=303)
