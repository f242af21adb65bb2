"""The JSON API (OpenAPI at /api/docs): the same services the web pages call.

Each bounded context contributes a router below; errors come out as
``{"error": code, "message": text}`` with the status of the ``CerthallError``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from certhall.errors import CerthallError

api = NinjaAPI(title="certhall", version="1", urls_namespace="api")


@api.exception_handler(CerthallError)
def _certhall_error(request: HttpRequest, exc: CerthallError) -> HttpResponse:
    return api.create_response(
        request, {"error": exc.code, "message": exc.message}, status=exc.http_status
    )


# Routers, one per bounded context (import paths, so this module stays import-light):
ROUTERS: list[tuple[str, str]] = [
    ("/accounts/", "certhall.accounts.api.router"),
    ("/payments/", "certhall.payments.api.router"),
    ("/hall/", "certhall.hall.api.router"),
    ("/status/", "certhall.web.status_api.router"),
]
for prefix, router in ROUTERS:
    api.add_router(prefix, router)
