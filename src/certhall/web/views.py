from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from certhall.ca.models import CertificateAuthority
from certhall.ca.signers import urls_for


def home(request: HttpRequest) -> HttpResponse:
    cas = [
        {"ca": ca, "crl_url": urls_for(ca.slug)[0], "cert_url": urls_for(ca.slug)[2]}
        for ca in CertificateAuthority.objects.order_by("pk")
    ]
    return render(request, "web/home.html", {"cas": cas, "ocsp_url": urls_for("x")[1]})


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
