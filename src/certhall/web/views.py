from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from certhall.portal import cacard, guide, notices


def home(request: HttpRequest) -> HttpResponse:
    context = {
        "cas": cacard.rows(),
        "ocsp_url": cacard.ocsp_url(),
        "guides": guide.all_guides(),
        "notices": notices.front(5),
    }
    return render(request, "web/home.html", context)


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
