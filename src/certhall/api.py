"""The JSON API (OpenAPI at /api/docs): the same services the web pages call.

Each bounded context contributes a router below; errors come out as
``{"error": code, "message": text}``, with ``"fields": [...]`` when the refusal names the inputs
it is about (``certhall.web.errors``, the one boundary).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.openapi.docs import ABS_TPL_PATH, Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.parser import Parser

from certhall.web.errors import api_handlers, document_refusals, json_object

DocsView = Callable[..., HttpResponse]


def staff_docs_in_production(view: DocsView) -> DocsView:
    """``/api/docs`` and ``/api/openapi.json``: in production, staff only (everyone else gets
    the 404 of a page that does not exist: the API's map is not published to the internet);
    in development, everyone."""

    @wraps(view)
    def docs(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from certhall import config
        from certhall.accounts.models import Role
        from certhall.errors import NotFound

        user = request.user
        staff = user.is_authenticated and getattr(user, "role", Role.APPLICANT) != Role.APPLICANT
        if config.get().production and not staff:
            raise NotFound()
        return view(request, *args, **kwargs)

    return docs


class _JsonObjects(Parser):
    """Every JSON body is an object (``web.errors.json_object``): anything else is refused
    with ``json_invalid`` before a schema fills in its defaults."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        return json_object(request.body)


class _LocalSwagger(Swagger):
    """Swagger UI on the static files served here: ninja renders its local page only when it
    is an installed app, and settings.py lists its directories instead (its CDN page would be
    refused by the Content-Security-Policy)."""

    template_cdn = str(ABS_TPL_PATH / "swagger.html")


class _Api(NinjaAPI):
    """The OpenAPI document names every refusal an operation may answer
    (``web.errors.document_refusals``), not only its success."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        document = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        document_refusals(document)
        return document


api = _Api(
    title="certhall",
    version="1",
    urls_namespace="api",
    docs=_LocalSwagger(),
    docs_decorator=staff_docs_in_production,
    parser=_JsonObjects(),
)

# Every error, ninja's own included, as {"error", "message"[, "fields"]} (certhall.web.errors).
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
