"""经办人实名核验 pages: the wizard step with the QR code (applicant), the phone pages reached by
the QR code's secret URL (no login), the liveness sandbox, and the provider's notify URL."""

from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from certhall.accounts import profile
from certhall.accounts.models import User
from certhall.errors import CerthallError, InvalidInput
from certhall.hall import documents, identity, liveness, realname, storage
from certhall.hall.models import Application, IdentityCheck
from certhall.hall.web.applicant_base import row, wizard_step
from certhall.hall.web.applicant_new import steps_of
from certhall.messages import text
from certhall.ratelimit import client_address
from certhall.web.errors import act_and_return, attempt, form_page
from certhall.web.status import mask_name

OPEN_STATES = identity.OPEN


def qr_svg(data: str) -> str:
    """The QR code as inline SVG (no image request, nothing for the CSP to allow)."""
    code = segno.make(data, error="m")
    return code.svg_inline(scale=5, dark="#111", light="#fff", title="实名核验二维码")


@require_http_methods(["GET", "POST"])
@wizard_step
def identity_step(request: HttpRequest, actor: User, application: Application) -> HttpResponse:
    number = application.number
    here = reverse("hall-applicant:identity", args=[application.number])
    if request.method == "POST":
        return act_and_return(
            request, here, lambda: identity.start(actor, number), text("done_identity_qr")
        )
    check = identity.latest(application)
    current = documents.current(application)
    context: dict[str, Any] = {
        "application": application,
        "row": row(application),
        "steps": steps_of("identity", application),
        "check": check,
        "verified": realname.verified(application, current),
        "handler_masked": profile.mask_id_number(application.handler.id_number)
        if application.handler
        else "",
        "valid_minutes": identity.VALID_MINUTES,
        "open": check is not None and check.state in OPEN_STATES,
        "available": liveness.available(),
    }
    if check is not None and check.state in OPEN_STATES:
        url = identity.phone_url(check)
        context.update(phone_url=url, qr=mark_safe(qr_svg(url)), watch=True)  # noqa: S308
    return render(request, "hall/applicant/identity.html", context)


# --- the phone (no login: the QR code's token is the key) -------------------------------------


def _phone_context(check: IdentityCheck) -> dict[str, Any]:
    handler = check.handler
    return {
        "check": check,
        "handler_name": mask_name(handler.name),
        "handler_masked": profile.mask_id_number(handler.id_number),
        "front_done": bool(check.front_sha256),
        "back_done": bool(check.back_sha256),
        # a photo over them is made smaller on the phone before upload (web/file-pick.js)
        "limit_bytes": storage.MAX_BYTES,
        "limit_pixels": storage.MAX_PIXELS,
        "limit_side": storage.MAX_SIDE,
    }


@require_http_methods(["GET", "POST"])
def phone(request: HttpRequest, token: str) -> HttpResponse:
    check = identity.by_token(token)
    error: CerthallError | None = None
    if request.method == "POST":
        here = reverse("hall-identity:phone", args=[token])
        if request.POST.get("action") == "begin":
            begun, error = attempt(lambda: identity.begin(token))
            if begun is not None:
                return HttpResponseRedirect(begun[1], status=303)
        else:
            upload = request.FILES.get("file")
            side = str(request.POST.get("side", ""))
            if upload is None:
                error = InvalidInput(code="identity_photo_missing")
            else:
                _, error = attempt(
                    lambda: identity.upload_photo(
                        token, side, filename=upload.name or "", chunks=upload.chunks(64 * 1024)
                    )
                )
            if error is None:
                messages.success(request, text("done_identity_photo"))
                return HttpResponseRedirect(here, status=303)
        check = identity.by_token(token)
    return form_page(request, "hall/identity/phone.html", _phone_context(check), error)


@require_http_methods(["GET", "POST"])
def sandbox(request: HttpRequest, token: str) -> HttpResponse:
    """The liveness sandbox: the tester chooses what the provider reports."""
    provider = liveness.provider("sandbox")
    check = identity.by_token(token)
    if check.provider != liveness.SANDBOX.name:
        raise InvalidInput(code="identity_provider")
    if request.method == "POST" and check.state == IdentityCheck.State.VERIFYING:
        outcome = str(request.POST.get("outcome", ""))
        reasons = {"failed": "人脸与证件照片不一致", "timeout": "活体检测超时"}
        body, signature = liveness.SANDBOX.notification(
            check.reference, outcome, reasons.get(outcome, "")
        )
        identity.receive_result(provider.name, body, signature, client_address(request))
        return HttpResponseRedirect(reverse("hall-identity:phone", args=[token]), status=303)
    return render(request, "hall/identity/sandbox.html", _phone_context(check))


@csrf_exempt
@require_POST
def notify(request: HttpRequest, provider: str) -> HttpResponse:
    """The provider's signed result notification (server to server)."""
    signature = request.headers.get("X-Identity-Signature", "")
    identity.receive_result(provider, request.body, signature, client_address(request))
    return HttpResponse("success", content_type="text/plain")
