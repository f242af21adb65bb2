from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from certhall.ca.models import CertificateAuthority
from certhall.ca.signers import urls_for
from certhall.portal import guide, notices


def home(request: HttpRequest) -> HttpResponse:
    cas = [
        {"ca": ca, "crl_url": urls_for(ca.slug)[0], "cert_url": urls_for(ca.slug)[2]}
        for ca in CertificateAuthority.objects.order_by("pk")
    ]
    context = {
        "cas": cas,
        "ocsp_url": urls_for("x")[1],
        "guides": guide.all_guides(),
        "notices": notices.front(5),
    }
    return render(request, "web/home.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
