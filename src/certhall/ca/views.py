"""Validation services: CRL, CA certificates and OCSP. Thin: fetch, call a service, answer."""

from __future__ import annotations

from cryptography.x509.ocsp import OCSPResponseStatus
from django.http import HttpRequest, HttpResponse
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from certhall import clock
from certhall.ca import crls, ocsp
from certhall.ca.ocsp_serve import request_from_path, response_headers
from certhall.ca.services import get_ca
from certhall.pki.ocsp import MAX_REQUEST_BYTES, error_response


@require_safe
def crl(request: HttpRequest, slug: str) -> HttpResponse:
    current = crls.current_crl(get_ca(slug))
    der = bytes(current.der)
    response = HttpResponse(der, content_type="application/pkix-crl")
    remaining = int((current.next_update - clock.now()).total_seconds())
    response["Cache-Control"] = f"public, max-age={max(0, min(remaining, 3600))}"
    response["Expires"] = http_date(current.next_update.timestamp())
    response["Last-Modified"] = http_date(current.this_update.timestamp())
    response["ETag"] = f'"{current.ca.slug}-{current.number}"'
    response["Content-Disposition"] = f'attachment; filename="{slug}.crl"'
    return response


@require_safe
def ca_certificate(request: HttpRequest, slug: str) -> HttpResponse:
    ca = get_ca(slug)
    response = HttpResponse(bytes(ca.certificate_der), content_type="application/pkix-cert")
    response["Cache-Control"] = "public, max-age=86400"
    response["Content-Disposition"] = f'attachment; filename="{slug}.crt"'
    return response


def _ocsp_response(der: bytes, cacheable: bool) -> HttpResponse:
    """The headers the gateway's OCSP paths send too (``ocsp_serve.response_headers``)."""
    response = HttpResponse(der)
    for name, value in response_headers(der, cacheable):
        response[name] = value
    return response


@csrf_exempt
@require_http_methods(["POST"])
def ocsp_post(request: HttpRequest) -> HttpResponse:
    if int(request.headers.get("Content-Length") or 0) > MAX_REQUEST_BYTES:
        return _ocsp_response(error_response(OCSPResponseStatus.MALFORMED_REQUEST), False)
    return _ocsp_response(ocsp.respond(request.body), False)


@require_safe
def ocsp_get(request: HttpRequest, encoded: str) -> HttpResponse:
    """RFC 6960 A.1: GET {url}/{url-encoding of base-64 encoding of the DER request}."""
    return _ocsp_response(ocsp.respond(request_from_path(encoded) or b""), True)
