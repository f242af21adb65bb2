"""An answer to an account is that account's: no browser cache or proxy keeps it.

Before (a probe, 12-07) each view said so itself (``never_cache`` on the hall's, the
accounts', the refunds' and the portal's pages, ``Cache-Control`` on a few downloads), and
those that did not, the orders' pages and every JSON answer of the API (an application with
the legal representative's ID number, an order, a refund application's account), went out with
no ``Cache-Control`` at all: a browser's disk cache or a shared proxy could keep them after
logout, for the next user of a shared computer. This middleware is the floor for every
answer: one to a logged-in account, or one that sets a cookie (a session or a CSRF token), is
``private, no-store`` unless its view chose its own caching (a public certificate's
``max-age``). Anonymous answers that set no cookie stay as their views made them, but those of
:data:`ALWAYS_PRIVATE`.

This is the one rule: views set no ``never_cache`` or ``private, no-store`` of their own. The
pages that are someone's without a session (a link's token, a code typed, a form typed) are
named once, in :data:`ALWAYS_PRIVATE`, rather than each view deciding again.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase

PRIVATE = "private, no-store"

#: Answers private whoever asks, by URL name: anonymous, and still one person's. 登录 and 注册
#: (the phone and the organisation as typed, a refusal's words), the handler's 人脸识别 page on
#: the phone and its sandbox (a link's token), the refund pages (进度查询 with its code, an
#: application opened by it, 申请 and 补充材料 as typed) and the portal's 在线咨询 and 查看答复
#: (a 查询码), 证书状态查询 (a holder's name and a certificate's state, looked up by a limit).
ALWAYS_PRIVATE = frozenset(
    {
        "accounts-login",
        "accounts-register",
        "hall-identity:phone",
        "hall-identity:sandbox",
        "refunds:progress",
        "refunds:application",
        "refunds:supply",
        "refunds:programme",
        "refunds:apply",
        "portal:questions",
        "portal:question-answer",
        "status",
    }
)


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
    match = getattr(request, "resolver_match", None)  # None when no route answered
    if match is not None and match.view_name in ALWAYS_PRIVATE:
        return True
    user = getattr(request, "user", None)  # absent when a middleware above answered
    return bool(user is not None and user.is_authenticated)
