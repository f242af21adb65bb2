"""The error boundary of the web: every refusal a person or a client sees is made here.

:func:`refusal_response` is the one function that turns a :class:`CerthallError` into an HTTP
answer: for the JSON API (``/api/`` or ``Accept: application/json``) always
``{"error": code, "message": text}``, with ``"fields": [...]`` when the refusal names the inputs
it is about (:attr:`CerthallError.fields`, the names the pages mark), for pages the zh-CN
error page; both with the error's status, and ``Retry-After`` on 429; the error page leads back
to the page of this site the request came from (:func:`came_from`). Everything else routes into
it: the middleware (errors a view raises), the JSON API's exception handlers (``certhall.api``),
Django's CSRF failure view and the 400/403/404/500 handlers, and 405 answers of
``require_POST``/``require_GET``.

Views do not catch errors to render them; a form view that shows the refusal next to the form
uses :func:`attempt` and :func:`form_page` (:func:`typed`: the fields to show again), a POST
button :func:`act_and_return`. A number a form or a link sends is read by :func:`whole_number`
(and :func:`int_field`, which refuses), a JSON body by :func:`json_object` (the API's and the
certificate login's), a raw body of another type by :func:`raw_body` (its Content-Type checked).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from certhall.errors import (
    CerthallError,
    Forbidden,
    InvalidInput,
    NotFound,
    TooManyRequests,
    about,
    bounded,
    quoted,
)
from certhall.web import refused

log = logging.getLogger(__name__)


def answers_json[V: Callable[..., HttpResponse]](view: V) -> V:
    """Mark a view outside ``/api/`` that answers JSON only (the certificate login's challenge
    and verify): its refusals are JSON whatever the client accepts, a CSRF failure included
    (the mark is read from the resolved URL, which the CSRF check comes after)."""
    view.answers_json = True  # type: ignore[attr-defined]
    return view


def wants_json(request: HttpRequest) -> bool:
    match = getattr(request, "resolver_match", None)
    if match is not None and getattr(match.func, "answers_json", False):
        return True
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def refusal_response(request: HttpRequest, error: CerthallError) -> HttpResponse:
    """The answer to ``error``: JSON for the API (``fields``: the inputs it names, as a page
    marks them), the error page otherwise."""
    response: HttpResponse
    if wants_json(request):
        body: dict[str, object] = {"error": error.code, "message": error.message}
        if error.fields:
            body["fields"] = list(error.fields)
        response = JsonResponse(
            body,
            status=error.http_status,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = render(
            request,
            "web/error.html",
            {"message": error.message, "status": error.http_status, "back": came_from(request)},
            status=error.http_status,
        )
    if isinstance(error, TooManyRequests):
        response["Retry-After"] = str(error.retry_after)
    return response


def came_from(request: HttpRequest) -> str | None:
    """The page of this site the refused request came from (its Referer: a button pressed on
    it, a link followed), for the error page's way back; None from elsewhere or itself."""
    referer = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return None
    back = urlsplit(referer)
    if back.path == request.path and back.query == request.META.get("QUERY_STRING", ""):
        return None
    # A path of this site opening with // or /\ (http://host//evil.example/) would be written
    # as a link to another site (a browser reads /\ as //): no way back then.
    if back.path[1:2] in ("/", "\\"):
        return None
    return urlunsplit(("", "", back.path or "/", back.query, ""))


def form_page(
    request: HttpRequest,
    template: str,
    context: dict[str, Any],
    error: CerthallError | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    """A page whose form shows a refusal beside it (``context["error"]``), answered with the
    refusal's status and, on 429, ``Retry-After``: the customer keeps what was typed. The fields
    the refusal names are marked invalid, described by it (``web.refused``)."""
    if error is not None:
        context["error"] = error.message
        status = error.http_status
    response = render(request, template, context, status=status)
    if error is not None and error.fields:
        page = response.content.decode(response.charset)
        response.content = refused.mark(page, error.fields).encode(response.charset)
    if isinstance(error, TooManyRequests):
        response["Retry-After"] = str(error.retry_after)
    return response


def attempt[T](call: Callable[[], T]) -> tuple[T | None, CerthallError | None]:
    """Run ``call``; a refusal comes back as the second value for the form to show it.

    For views that re-render their form with the refusal beside it (the customer keeps what
    was typed); everything that is not a :class:`CerthallError` propagates to the boundary."""
    try:
        return call(), None
    except CerthallError as refusal:
        return None, refusal


def whole_number(text: str) -> int | None:
    """``text`` as a whole number when it is written in the digits 0-9 alone, else None.

    Not ``str.isdigit()``, which is true of "²" and "①" that ``int`` refuses (``?page=²`` was
    an HTTP 500), nor ``int`` alone, which also reads "+1", " 1", "1_0" and other scripts'
    digits, or a number of more than 4,300 digits (Python's limit: a ValueError). A link's or a
    form's numbers go through here: a bad page number is page 1, a bad field the form's refusal.
    """
    if len(text) > 18 or not (text.isascii() and text.isdigit()):
        return None
    return int(text)


def text_field(
    data: Mapping[str, Any], name: str, limit: int, *, strip: bool = True, what: str = ""
) -> str:
    """A text a form or a link sent (``request.POST``, ``request.GET``): "" when absent, refused
    when longer than ``limit`` characters (``errors.bounded``: never cut; ``what`` names the
    field in the refusal, in Chinese)."""
    text = str(data.get(name, "") or "")
    with about(name):
        return bounded(text.strip() if strip else text, limit, what)


def typed(data: Mapping[str, Any], names: Iterable[str], limit: int) -> dict[str, str]:
    """A form's fields as typed (stripped), for the form shown again beside its refusal; a field
    longer than ``limit`` is left out (the refusal names it; it is neither echoed nor cut)."""
    texts = {name: str(data.get(name, "") or "").strip() for name in names}
    return {name: text for name, text in texts.items() if len(text) <= limit}


def int_field(
    data: Mapping[str, Any], name: str, what: str, *, signed: bool = False, limit: int | None = None
) -> int | None:
    """A number a form sent (``request.POST``, ``request.GET``) in its field ``name`` (``what``:
    the field, in Chinese): None when absent or left empty, refused beside the form
    (``not_a_number``, naming the field as :func:`text_field` does) when it is not a whole
    number; ``signed``: a leading "-" is its sign (the portal's 顺序); ``limit``: refused past
    it first (``field_too_long``, a link's long text said too long rather than not a number)."""
    text = str(data.get(name, "") or "").strip()
    if limit is not None:
        text = text_field(data, name, limit, what=what)
    if not text:
        return None
    negative = signed and text.startswith("-")
    number = whole_number(text.removeprefix("-") if negative else text)
    if number is None:
        raise InvalidInput(code="not_a_number", what=what).naming(name)
    return -number if negative else number


def json_object(body: bytes) -> dict[str, Any]:
    """A JSON request body: an object everywhere on this platform, refused (``json_invalid``,
    400) when it is not JSON (or not UTF-8), nested deeper than the parser goes (100,000 ``[``
    were a RecursionError, an HTTP 500) or not an object. ninja's own parser took an array or a
    string as a body of defaults (``[1,2]`` created a draft)."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        raise InvalidInput(code="json_invalid") from None
    if not isinstance(document, dict):
        raise InvalidInput(code="json_invalid", variant="object")
    return document


class _Refusal(CerthallError):
    """A refusal of the web entry point itself (no service raised it)."""


def raw_body(request: HttpRequest, media_type: str) -> bytes:
    """The body of a route that reads it whole as ``media_type`` (the refund settlement's
    ``text/csv``), refused with 415 ``unsupported_media_type`` when the request names another
    Content-Type or none; its parameters (``charset=utf-8``) are not looked at: the reader
    decides what it reads (a file not UTF-8 is refused there)."""
    given = (request.content_type or "").strip().lower()
    if given != media_type:
        sent = request.META.get("CONTENT_TYPE", "").strip()
        error = _Refusal(
            code="unsupported_media_type",
            variant=None if sent else "none",
            expected=media_type,
            given=quoted(sent, 100),
        )
        error.http_status = 415
        raise error
    return request.body


def act_and_return(
    request: HttpRequest,
    target: str,
    action: Callable[[], object],
    done: str | Callable[[Any], str],
) -> HttpResponse:
    """A POST button: do ``action`` (one service call), then back to ``target`` (303) with
    ``done`` (or ``done(result)``) or the refusal shown as a notice there. Forbidden and
    NotFound are not notices: they are the 403 and 404 pages."""
    try:
        result = action()
    except CerthallError as error:
        if isinstance(error, Forbidden) or error.http_status == 404:
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, done if isinstance(done, str) else done(result))
    return HttpResponseRedirect(target, status=303)


#: Fields a form shown again never echoes.
NOT_ECHOED = ("csrfmiddlewaretoken", "pin")


def act_on_page(
    request: HttpRequest,
    target: str,
    action: Callable[[], object],
    done: str | Callable[[Any], str],
    again: Callable[[CerthallError, dict[str, str]], HttpResponse],
    *,
    limit: int,
) -> HttpResponse:
    """A POST form of a page that shows more than the form (the console's application page,
    finance's page): done, back to ``target`` (303) with ``done``'s notice, as
    :func:`act_and_return`; refused, ``again(error, typed)``: the page again with the refusal
    and the form's fields as typed (each up to ``limit``; never the CSRF token or a PIN), where
    a notice would have lost them. Forbidden and NotFound are the 403 and 404 pages."""
    result, error = attempt(action)
    if error is None:
        messages.success(request, done if isinstance(done, str) else done(result))
        return HttpResponseRedirect(target, status=303)
    if isinstance(error, Forbidden) or error.http_status == 404:
        raise error
    names = [name for name in request.POST if name not in NOT_ECHOED]
    return again(error, typed(request.POST, names, limit))


def _entry_refusal(code: str, status: int) -> CerthallError:
    error = _Refusal(code=code)
    error.http_status = status
    return error


class CerthallErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 405 and not getattr(response, "certhall_refusal", False):
            allow = response.get("Allow", "")
            response = refusal_response(request, _entry_refusal("method_not_allowed", 405))
            if allow:
                response["Allow"] = allow
        return response

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if not isinstance(exc, CerthallError):
            return None
        response = refusal_response(request, exc)
        response.certhall_refusal = True  # type: ignore[attr-defined]
        return response


# Django's own refusals (settings.CSRF_FAILURE_VIEW, urls.handler400/403/404/500).


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return refusal_response(request, _entry_refusal("csrf_failed", 403))


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):  # over DATA_UPLOAD_MAX_MEMORY_SIZE
        return refusal_response(request, _entry_refusal("request_too_large", 413))
    return refusal_response(request, _entry_refusal("invalid_input", 400))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return refusal_response(request, Forbidden())


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    error = NotFound(code="page_not_found") if not wants_json(request) else NotFound()
    return refusal_response(request, error)


def server_error(request: HttpRequest) -> HttpResponse:
    return refusal_response(request, _entry_refusal("server_error", 500))


def _field_name(place: Iterable[object]) -> str:
    """The field a validation error names (pydantic's ``loc``), not a list's index nor, for a
    dict's key, the key sent and pydantic's ``[key]`` (``reasons``, not ``[key]``)."""
    parts = list(place)
    if parts and parts[-1] == "[key]":
        del parts[-2:]
    while len(parts) > 1 and isinstance(parts[-1], int):
        parts.pop()
    return str(parts[-1]) if parts else ""


def api_handlers() -> dict[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]:
    """The JSON API's exception handlers: ninja's own errors in the same shape."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404
    from ninja.errors import AuthenticationError, HttpError, ValidationError

    statuses = {
        401: "not_authenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
    }

    def answer(code: str, status: int) -> Callable[[HttpRequest, Exception], HttpResponse]:
        return lambda request, exc: refusal_response(request, _entry_refusal(code, status))

    def validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        places = (_field_name(e["loc"]) for e in exc.errors if e.get("loc"))
        fields = dict.fromkeys(name for name in places if name)
        return refusal_response(request, _entry_refusal("invalid_input", 422).naming(*fields))

    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc.__cause__, CerthallError):  # the body parser's, wrapped by ninja
            return refusal_response(request, exc.__cause__)
        code = statuses.get(exc.status_code, "error")
        return refusal_response(request, _entry_refusal(code, exc.status_code))

    def unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        log.exception("API request %s %s failed", request.method, request.path)
        return refusal_response(request, _entry_refusal("server_error", 500))

    return {
        CerthallError: refusal_response,
        ValidationError: validation,
        AuthenticationError: answer("not_authenticated", 401),
        PermissionDenied: answer("forbidden", 403),
        HttpError: http_error,
        Http404: answer("not_found", 404),
        # a body read by the route itself (the settlements' CSV) over DATA_UPLOAD_MAX_MEMORY_SIZE:
        # ninja's parser met it before the route for a JSON body, a route's own read did not
        RequestDataTooBig: answer("request_too_large", 413),
        Exception: unexpected,
    }


# The API's refusals in its OpenAPI document (certhall.api): every answer above is documented
# with its status, so that a client (and schemathesis) knows what it may get.

#: the body of every refusal (``fields``: the inputs it is about, when it names them)
REFUSAL_SCHEMA: dict[str, Any] = {
    "title": "Refusal",
    "type": "object",
    "required": ["error", "message"],
    "properties": {
        "error": {"type": "string", "description": "the refusal's code (certhall.messages)"},
        "message": {"type": "string", "description": "what to tell the person, in Chinese"},
        "fields": {
            "type": "array",
            "items": {"type": "string"},
            "description": "the inputs the refusal is about, by their names in the request (a "
            "body's or a query's field: the schema's invalid fields, a service's or a business "
            "rule's refused input); absent when it names none",
        },
    },
}

REFUSALS = {
    400: "Refused: invalid input (the error code says which; json_invalid: not a JSON object)",
    401: "Not logged in (not_authenticated)",
    403: "Forbidden, or csrf_failed (an unsafe call without the X-CSRFToken header)",
    404: "No such object, or not visible to this account",
    409: "Conflict with the object's current state",
    413: "The request body is too large (request_too_large)",
    415: "The body is not of the route's Content-Type (unsupported_media_type)",
    422: "invalid_input, or a business rule refused the request (fields: the inputs refused)",
    429: "Too many requests: try again after Retry-After seconds",
}

_SAFE = ("get", "head", "options")


def refusals(*statuses: int) -> dict[str, Any]:
    """A route's ``openapi_extra`` for the refusals it answers beyond those every operation of
    its kind is documented with (:func:`document_refusals`): a rate limit's 429, a read's 409."""
    return {"responses": {status: {"description": REFUSALS[status]} for status in statuses}}


def _refusal_statuses(method: str, operation: Mapping[str, Any]) -> set[int]:
    """What an operation may be refused with by the boundary itself, from its shape: input
    (parameters or a body) invalid or refused by a rule, no session, no CSRF token or no right,
    an object named in its path (or, for a change, in its input) missing, a change the state
    does not allow, a body over the size limit."""
    parameters = operation.get("parameters", [])
    has_input = bool(parameters) or "requestBody" in operation
    unsafe = method not in _SAFE
    statuses = {400, 422} if has_input else set()
    if "requestBody" in operation:
        statuses.add(413)
    if operation.get("security"):
        statuses |= {401, 403}
    if unsafe:
        statuses.add(403)
    if any(p.get("in") == "path" for p in parameters) or (unsafe and has_input):
        statuses.add(404)
    if unsafe and has_input:
        statuses.add(409)
    return statuses


def document_refusals(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (the API's OpenAPI) with every operation's refusals: those of its kind
    (:func:`_refusal_statuses`) and those its route declares (:func:`refusals`), each with the
    :data:`REFUSAL_SCHEMA` body, and ``Retry-After`` on 429."""
    document.setdefault("components", {}).setdefault("schemas", {})["Refusal"] = REFUSAL_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Refusal"}}}
    retry_after = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "integer"}}}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            answers = {int(status): answer for status, answer in operation["responses"].items()}
            for status in _refusal_statuses(method, operation):
                answers.setdefault(status, {"description": REFUSALS[status]})
            for status, answer in answers.items():
                if status >= 400:
                    answer["content"] = body
                if status == 429:
                    answer["headers"] = retry_after
            operation["responses"] = {str(status): answers[status] for status in sorted(answers)}
    return document
