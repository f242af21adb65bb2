"""An answer to an account is that account's: no browser cache or proxy keeps it.

Before (a probe, 12-07) each view said so itself (``never_cache`` on the hall's, the
accounts', the refunds' and the portal's pages, ``Cache-Control`` on a few downloads), and
those that did not, the orders' pages and every JSON answer of the API (an application with
the legal representative's ID number, an order, a refund application's account), went out with
no ``Cache-Control`` at all: a browser's disk cache or a shared proxy could keep them after
logout, for the next user of a shared computer. This middleware is the floor for every
answer: one to a logged-in account, or one that sets a cookie (a session or a CSRF token), is
``private, no-store`` unless its view chose its own caching (a public certificate's
``max-age``). Anonymous answers that set no cookie stay as their views made them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase

PRIVATE = "private, no-store"


class PrivateAnswersMiddleware:
    """``Cache-Control: private, no-store`` on what an account or a cookie makes private.

    Listed before the session middleware, so that it sees the cookies the session and the CSRF
    middleware set on the way out."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not response.has_header("Cache-Control") and _private(request, response):
            response["Cache-Control"] = PRIVATE
        return response


def _private(request: HttpRequest, response: HttpResponseBase) -> bool:
    if response.cookies:
        return True
    user = getattr(request, "user", None)  # absent when a middleware above answered
    return bool(user is not None and user.is_authenticated)
