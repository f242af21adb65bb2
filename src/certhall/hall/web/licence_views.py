"""The counter's check of a registered organisation against its business licence
(``accounts.licence``): a form on the counter page, shown instead of 受理 until it is done."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from certhall.accounts import licence
from certhall.accounts.models import User
from certhall.errors import CerthallError
from certhall.hall.web import staff_forms
from certhall.hall.web.staff_views import counter_context, staff
from certhall.messages import text
from certhall.web.errors import act_on_page, form_page


@require_POST
@staff
def check_licence(request: HttpRequest, organization_id: int) -> HttpResponse:
    actor = cast(User, request.user)  # ``staff`` let only a CA's staff in
    data = request.POST

    def check() -> object:
        return licence.check_at_counter(
            actor,
            organization_id,
            name=staff_forms.field(data, "name", 200),
            legal_representative=staff_forms.field(data, "legal_representative", 200),
            disown_registration=data.get("disown") == "1",
        )

    query = urlencode({"uscc": staff_forms.field(data, "uscc", 32)})
    back = f"{reverse('hall-staff:counter')}?{query}"

    def again(error: CerthallError, typed: dict[str, str]) -> HttpResponse:
        """The counter again with the organisation looked up, the refusal above the licence
        form, its fields as typed and the refused one marked (a notice lost them)."""
        context = counter_context(request, actor, QueryDict(query))
        context["typed"] = typed
        return form_page(request, "hall/staff/counter.html", context, error)

    return act_on_page(request, back, check, text("done_licence_checked"), again, limit=200)
