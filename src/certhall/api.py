"""The JSON API (OpenAPI at /api/docs): the same services the web pages call.

Each bounded context contributes a router below; errors come out as
``{"error": code, "message": text}`` (``certhall.web.errors``, the one boundary).
"""

from __future__ import annotations

from ninja import NinjaAPI

from certhall.web.errors import api_handlers

api = NinjaAPI(title="certhall", version="1", urls_namespace="api")

# Every error, ninja's own included, as {"error", "message"} (certhall.web.errors).
for _kind, _handler in api_handlers().items():
    api.add_exception_handler(_kind, _handler)


# Routers, one per bounded context (import paths, so this module stays import-light):
ROUTERS: list[tuple[str, str]] = [
    ("/accounts/", "certhall.accounts.api.router"),
    ("/payments/", "certhall.payments.api.router"),
    ("/hall/", "certhall.hall.api.router"),
    ("/status/", "certhall.web.status_api.router"),
    ("/refunds/", "certhall.refunds.api.router"),
]
for prefix, router in ROUTERS:
    api.add_router(prefix, router)
