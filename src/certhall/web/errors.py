"""The one place where web requests turn ``CerthallError`` into an HTTP answer."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from certhall.errors import CerthallError


class CerthallErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, CerthallError):
            return None
        if request.path.startswith("/api/") or "application/json" in request.headers.get(
            "Accept", ""
        ):
            return JsonResponse({"error": exc.code, "message": exc.message}, status=exc.http_status)
        return render(
            request,
            "web/error.html",
            {"message": exc.message, "status": exc.http_status},
            status=exc.http_status,
        )
