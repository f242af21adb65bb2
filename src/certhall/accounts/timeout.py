"""Sessions end: after a while without a request, and some hours after the login whatever
happens (docs/security.md, "Sessions").

CA staff and refund officers sign, revoke and approve money: their sessions end after 30
minutes without a request; an enterprise's after 2 hours (a form filled in slowly, documents
scanned in between); every session 12 hours after its login (each configurable,
``certhall.config``). The moment of the login and of the last request are kept in the session
itself; the last request's is written at most once a minute (:data:`REFRESH_SECONDS`), so that
the session row is not rewritten on every request the hall answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse

from certhall import clock, config
from certhall.accounts.models import Role, User
from certhall.messages import text

LOGIN_AT = "login_at"
SEEN_AT = "seen_at"
IDLE = "idle_seconds"
REFRESH_SECONDS = 60


def idle_seconds(user: User) -> int:
    cfg = config.get()
    customer = user.role == Role.APPLICANT
    minutes = cfg.session_idle_customer_minutes if customer else cfg.session_idle_staff_minutes
    return minutes * 60


def on_login(sender: Any, request: HttpRequest | None, user: User, **_: Any) -> None:
    """``user_logged_in``: the session starts its clocks (every way in: password, SMS code,
    certificate)."""
    if request is None or not hasattr(request, "session"):
        return
    now = clock.now().timestamp()
    request.session.update({LOGIN_AT: now, SEEN_AT: now, IDLE: idle_seconds(user)})


def ended(session: SessionBase) -> bool:
    """Whether an authenticated session has run out; a live one has its last request noted
    (at most once a minute)."""
    now = clock.now().timestamp()
    seen, login_at = session.get(SEEN_AT), session.get(LOGIN_AT)
    if seen is None or login_at is None:  # opened before sessions ended: from now on
        session.update({LOGIN_AT: now, SEEN_AT: now})
        return False
    idle = session.get(IDLE) or config.get().session_idle_staff_minutes * 60
    if now - seen > idle or now - login_at > config.get().session_max_hours * 3600:
        return True
    if now - seen >= REFRESH_SECONDS:
        session[SEEN_AT] = now
    return False


class SessionTimeoutMiddleware:
    """Logs out a session that has run out before the view sees it: a page then asks for a
    login (with a notice saying why), the API answers ``not_authenticated``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = request.session
        if SESSION_KEY in session and ended(session):
            logout(request)
            messages.info(request, text("session_timed_out"))
        return self.get_response(request)
