"""Certificate login pages and JSON endpoints. Thin: read the request, call one service.

Errors are CerthallErrors, turned into JSON (the page sends ``Accept: application/json``) or a
page by ``certhall.web.errors.CerthallErrorMiddleware``.
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from certhall import clock
from certhall.accounts.backends import BACKEND
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.agent import protocol
from certhall.ca import renewal as ca_renewal
from certhall.ca import services as ca_services
from certhall.certlogin import conf, services
from certhall.errors import Forbidden, InvalidInput
from certhall.hall.web import certificate_cards
from certhall.ratelimit import client_address
from certhall.web.errors import answers_json, json_object

SESSION_CHALLENGE = "certlogin_challenge"
SESSION_CERTIFICATE = "certlogin_certificate"
#: Where to go after the login (a path of this site, e.g. the refund programme's page).
SESSION_NEXT = "certlogin_next"
MAX_BODY = 128 * 1024


def _json_body(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY:
        raise InvalidInput(code="request_too_large")
    return json_object(request.body or b"{}")


@require_GET
@ensure_csrf_cookie
def login_page(request: HttpRequest) -> HttpResponse:
    settings = conf.get()
    after = request.GET.get("next", "")
    if after.startswith("/") and url_has_allowed_host_and_scheme(after, allowed_hosts=None):
        request.session[SESSION_NEXT] = after
    return render(
        request,
        "certlogin/login.html",
        {"agent_url": settings.agent_url, "origin": settings.origin},
    )


@answers_json
@require_POST
def challenge(request: HttpRequest) -> JsonResponse:
    issued = services.issue_challenge(client=client_address(request))
    request.session[SESSION_CHALLENGE] = issued.nonce
    return JsonResponse(
        {"challenge": issued.nonce, "expires_at": issued.expires_at.isoformat()},
        headers={"Cache-Control": "no-store"},
    )


@answers_json
@require_POST
def verify(request: HttpRequest) -> JsonResponse:
    data = _json_body(request)
    # The challenge is the one this browser session was given, never one the page names:
    # a signature captured elsewhere cannot be replayed into another session.
    nonce = request.session.pop(SESSION_CHALLENGE, "")
    chain = data.get("chain") or []
    if not isinstance(chain, list):
        raise InvalidInput(code="chain_invalid")
    attempt = services.LoginAttempt(
        challenge=str(nonce),
        certificate=protocol.b64decode(data.get("certificate"), "certificate"),
        signature=protocol.b64decode(data.get("signature"), "signature", limit=2048),
        signed_origin=str(data.get("signed_origin") or ""),
        chain=tuple(protocol.b64decode(item, "chain") for item in chain[:5]),
        client=client_address(request),
    )
    result = services.certificate_login(attempt)
    login(request, result.user, backend=BACKEND)
    request.session[SESSION_CERTIFICATE] = result.session_data()
    after = request.session.pop(SESSION_NEXT, None) or "/my/"
    return JsonResponse({"ok": True, "redirect": after}, headers={"Cache-Control": "no-store"})


@require_GET
@login_required(login_url="/login/certificate/")
def my_home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not isinstance(user, User):  # login_required let an anonymous user through: cannot be
        return HttpResponseRedirect("/login/certificate/")
    certificates = services.organization_certificates(user)
    unwritten = ca_renewal.unwritten_renewals(certificates)
    now = clock.now()
    # what each card offers: the businesses the rules allow, or the open application
    cards = certificate_cards.cards(certificates, unwritten, now)
    return render(
        request,
        "certlogin/my.html",
        {
            "organization": user.organization,
            # with its part in an online renewal issued and not written to the Ukey yet
            "rows": [(c, unwritten.get(c.serial), cards[c.serial]) for c in certificates],
            # valid in the registry but past its notAfter: 已过期, renewed at the counter only
            # (one whose online renewal was issued before its end: the helper finishes it)
            "ended": {
                c.serial
                for c in certificates
                if c.status == c.Status.VALID and c.not_after <= now and c.serial not in unwritten
            },
            "login_certificate": request.session.get(SESSION_CERTIFICATE),
        },
    )


def _applicant(request: HttpRequest) -> User:
    user = request.user
    if not isinstance(user, User):  # pragma: no cover - login_required let only users in
        raise Forbidden(code="not_authenticated")
    require_role(user, Role.APPLICANT)  # 我的证书 is the organisation's page
    return user


#: The file formats of a certificate download: (content type, extension).
FORMATS = {
    "pem": ("application/x-pem-file", "pem"),
    "der": ("application/pkix-cert", "cer"),
}


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
@login_required(login_url="/login/certificate/")
def my_certificate(request: HttpRequest, serial: str, fmt: str) -> HttpResponse:
    """One of the organisation's certificates, PEM or DER (another organisation's: 403)."""
    cert = ca_services.own_certificate(_applicant(request), serial)
    der = bytes(cert.der)
    if fmt == "pem":
        content = x509.load_der_x509_certificate(der).public_bytes(Encoding.PEM)
    else:
        content = der
    content_type, extension = FORMATS[fmt]
    return _download(content, content_type, f"{cert.serial}.{extension}")


@require_GET
@login_required(login_url="/login/certificate/")
def my_chain(request: HttpRequest, serial: str) -> HttpResponse:
    """The CA chain of one of the organisation's certificates (issuing CA, then the root), PEM."""
    cert = ca_services.own_certificate(_applicant(request), serial)
    chain = ca_services.chain_pem(cert.ca)
    return _download(chain, "application/x-pem-file", f"{cert.serial}-chain.pem")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect("/")
