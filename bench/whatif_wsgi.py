"""What-if WSGI applications for the OCSP benchmark (served by gunicorn like ``certhall serve``).

``lean``   POST /ocsp goes straight to ``certhall.ca.ocsp.respond`` (the same responder code,
           registry read on every request, the same response cache), bypassing Django's
           middleware, URL resolver and request/response objects; everything else is handed to
           the normal Django application. The database connection stays open per thread
           (Django's request_finished signal, which closes it when CONN_MAX_AGE is 0, is not
           sent on this path).
``floor``  answers every request with a fixed 700-byte body after reading it: what gunicorn's
           gthread worker costs by itself, the ceiling for any WSGI implementation.

    gunicorn ... bench.whatif_wsgi:lean | bench.whatif_wsgi:floor
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

StartResponse = Callable[..., Any]
MAX_REQUEST = 8 * 1024
_FIXED = b"\x30\x82\x02\xb8" + bytes(696)


def floor(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    start_response(
        "200 OK",
        [("Content-Type", "application/ocsp-response"), ("Content-Length", str(len(_FIXED)))],
    )
    return [_FIXED]


_django: Any = None
_respond: Any = None
_malformed: bytes = b""


def _setup() -> None:
    global _django, _respond, _malformed
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certhall.settings")
    from cryptography.x509.ocsp import OCSPResponseStatus
    from django.core.wsgi import get_wsgi_application

    _django = get_wsgi_application()
    from certhall.ca.ocsp import respond
    from certhall.pki.ocsp import error_response

    _respond = respond
    _malformed = error_response(OCSPResponseStatus.MALFORMED_REQUEST)


def lean(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if _django is None:
        _setup()
    if environ.get("REQUEST_METHOD") == "POST" and environ.get("PATH_INFO") in ("/ocsp", "/ocsp/"):
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if 0 < length <= MAX_REQUEST:
            der = _respond(environ["wsgi.input"].read(length))
        else:
            der = _malformed
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/ocsp-response"),
                ("Content-Length", str(len(der))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [der]
    return _django(environ, start_response)  # type: ignore[no-any-return]
