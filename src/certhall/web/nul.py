"""NUL characters are refused at the door, before any view, form or query sees them.

PostgreSQL cannot store U+0000 in a text column (the driver raises ``ValueError``), so a NUL
in a login name, a search term, a path segment or a JSON field reached the database as an HTTP
500 on PostgreSQL and was stored on SQLite. No field of certhall has a use for it, so one
middleware answers every such request with the zh-CN 400 (``nul_character``) through the error
boundary (``web.errors.refusal_response``): the path, the query string, cookies, form fields
and file names (URL-encoded or multipart) and JSON bodies. File contents and binary bodies
(OCSP requests, uploads) are not text and are not looked at.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse

from certhall.errors import InvalidInput
from certhall.web.errors import refusal_response

NUL = "\x00"
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _strings(document: Any) -> Iterator[str]:
    """Every key and string value of a JSON document, however deeply nested (a loop, not a
    recursion: a document just shallow enough for the parser was a RecursionError here)."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            yield from value.keys()
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)


def _pairs(pairs: Iterable[tuple[str, list[Any]]]) -> Iterator[str]:
    for key, values in pairs:
        yield key
        for value in values:
            yield value if isinstance(value, str) else str(getattr(value, "name", "") or "")


def _json_strings(body: bytes) -> Iterator[str]:
    if b"\x00" in body:
        yield NUL
        return
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested too deep for the parser:
        return  # the view's own parser refuses it (web.errors.json_object)
    yield from _strings(document)


def texts(request: HttpRequest) -> Iterator[str]:
    """Everything of ``request`` that becomes text in a view or a query."""
    yield request.path
    yield from _pairs(request.GET.lists())
    yield from request.COOKIES.keys()
    yield from request.COOKIES.values()
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.content_type or ""
    if content_type in _FORMS:
        yield from _pairs(request.POST.lists())
        yield from _pairs(request.FILES.lists())
    elif content_type == "application/json" or content_type.endswith("+json"):
        yield from _json_strings(request.body)


class RefuseNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any(NUL in text for text in texts(request)):
            return refusal_response(request, InvalidInput(code="nul_character"))
        return self.get_response(request)
