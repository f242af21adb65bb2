"""网上营业厅: online 续期: the serial → the rules' window and fee → pay → 在线更新证书 through the
certificate helper."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from certhall import clock
from certhall.accounts.models import User
from certhall.errors import CerthallError, about, bounded
from certhall.hall import renewal
from certhall.hall.web.applicant_base import applicant_page, to, years_choices
from certhall.messages import text
from certhall.rules import Business as RuleBusiness
from certhall.rules import Channel as RuleChannel
from certhall.rules import default_catalog
from certhall.web.errors import attempt, form_page, int_field

ViewFunc = Callable[..., HttpResponse]
#: The longest serial the form takes (its input's ``maxlength``).
SERIAL_LENGTH = 80
#: Refusals of the term alone: the certificate was found, so its serial is shown, not asked.
TERM_REFUSALS = frozenset({"term_missing", "term_invalid", "renewal_term_not_offered"})

# --- online 续期 ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@applicant_page
def renew(request: HttpRequest, actor: User) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    serial = str(source.get("serial", "") or "").strip()
    years_text = str(source.get("years", "") or "").strip()

    def asked() -> tuple[str, int | None]:
        """What was typed, refused beside the form when too long or not a number (never cut:
        a cut serial was looked up as if it had been typed so)."""
        with about("serial"):  # the form's field (web.refused), as int_field names years
            typed_serial = bounded(serial, SERIAL_LENGTH, "证书序列号")
        return typed_serial, int_field(source, "years", "续期年限")

    error: CerthallError | None = None
    found: renewal.Lookup | None = None
    if serial:
        if request.method == "POST":
            started, error = attempt(lambda: renewal.start(actor, *asked()))
            if started is not None:
                messages.success(request, text("done_renewal_started", number=started.number))
                return to("detail", started.number)
        else:
            found, error = attempt(lambda: renewal.lookup(actor, *asked()))
    # the certificate found: its serial shown whole (wrapping), where a 40-character one
    # scrolled inside its field on a phone; 换一张证书 asks again
    known = found is not None or (error is not None and error.code in TERM_REFUSALS)
    # a link (我的证书, the reminder SMS) names the certificate, not the term: the form asks
    # for it, a refusal would greet the customer with an error
    if request.method == "GET" and not years_text and error and error.code == "term_missing":
        error = None
    catalog = default_catalog()
    choices = years_choices()
    offered = any(str(choice["years"]) == years_text for choice in choices)
    # the terms and their fees are a 机构个人证书's: shown once the certificate is known to be
    # one (a 机构证书 renews for 1 year, free; before the look-up the type is not known)
    if found is not None:
        cert_type = found.certificate.profile
    else:
        cert_type = renewal.certificate_type(actor, serial) if known else ""
    context = {
        "serial": serial if len(serial) <= SERIAL_LENGTH else "",  # the refused one not echoed
        "serial_known": known,
        "cert_type": cert_type,
        "years": years_text,
        # a link's term (?serial=…&years=2) goes on with the next look-up while none is shown
        "years_kept": years_text if offered and not known else "",
        # a term asked for that is not offered (years=9): the list shows 请选择, not 1年 as if
        # it had been chosen
        "years_unchosen": bool(years_text) and not offered,
        "found": found,
        "years_choices": choices,
        "rule": catalog.online_renewal,
        "how": catalog.businesses[RuleBusiness.RENEW].channels[RuleChannel.ONLINE].how,
        "steps": catalog.businesses[RuleBusiness.RENEW].channels[RuleChannel.ONLINE].steps,
        "today": clock.today(),
    }
    return form_page(request, "hall/applicant/renew.html", context, error)
