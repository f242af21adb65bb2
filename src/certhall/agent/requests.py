"""Pending helper requests: what a hall page asked for, waiting for the user's PIN.

A hall page creates a request (``login`` or ``renew``) and then long-polls it; the user types the
PIN into the helper's own page, which submits it to :meth:`Registry.submit_pin`. The PIN goes to
the token and nowhere else: it is not stored, logged or returned. The hall page gets the outcome:
a signature (and certificate), or an error with a stable code.

States::

    waiting_pin --PIN ok--> done        (login: session closed; renew: session kept for install)
    waiting_pin --wrong PIN--> waiting_pin   (error wrong_pin, tries_left)
    waiting_pin --locked / no token / removed--> failed
    waiting_pin | done --cancel--> cancelled
    done (renew) --install, finish--> finished   (old certificate and key removed)
    any open state --time--> expired    (a kept session is closed)

Each change bumps ``version`` and wakes the long-polls (:meth:`Registry.wait`).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from certhall.agent import protocol
from certhall.agent.ukey import AgentError, RenewalPrep, UkeyCertificate, Ukeys
from certhall.tokens.session import TokenSession

Op = Literal["login", "renew"]
State = Literal["waiting_pin", "working", "done", "finished", "failed", "cancelled", "expired"]

#: At most this many requests are open at once (a page cannot pile up PIN windows).
MAX_OPEN = 8
#: Terminal requests are forgotten after this many seconds.
KEEP_FINISHED = 60.0


@dataclass
class Request:
    id: str
    form_token: str
    op: Op
    origin: str
    entry: UkeyCertificate
    expires: float
    challenge: str | None = None
    years: int | None = None
    state: State = "waiting_pin"
    version: int = 1
    attempts: int = 0
    error: AgentError | None = None
    result: dict[str, object] | None = None
    session: TokenSession | None = None
    prep: RenewalPrep | None = None
    installed: UkeyCertificate | None = None
    finished_at: float | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def open(self) -> bool:
        return self.state in ("waiting_pin", "working", "done")

    def as_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "id": self.id,
            "op": self.op,
            "state": self.state,
            "version": self.version,
            "attempts": self.attempts,
            "certificate": self.entry.as_json(),
        }
        if self.error is not None:
            data["error"] = self.error.as_json()
        if self.result is not None:
            data["result"] = self.result
        if self.installed is not None:
            data["installed"] = self.installed.as_json()
        return data


class Registry:
    """Thread-safe store of requests; a long-poll waits on its condition."""

    def __init__(
        self,
        ukeys: Ukeys,
        *,
        request_ttl: float = 180.0,
        session_ttl: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ukeys = ukeys
        self.request_ttl = request_ttl
        self.session_ttl = session_ttl
        self._clock = clock
        self._requests: dict[str, Request] = {}
        self._changed = threading.Condition()
        # One PIN at a time: wrong-PIN counting must not race, and tokens are slow anyway.
        self._pin_lock = threading.Lock()

    # --- bookkeeping -------------------------------------------------------------------------

    def _bump(self, request: Request) -> None:
        """Caller holds ``self._changed``."""
        request.version += 1
        if not request.open and request.finished_at is None:
            request.finished_at = self._clock()
        self._changed.notify_all()

    def _close_session(self, request: Request) -> None:
        session, request.session = request.session, None
        if session is not None:
            session.close()

    def sweep(self) -> None:
        """Expire old requests (closing kept sessions) and forget finished ones."""
        now = self._clock()
        to_close: list[Request] = []
        with self._changed:
            for request in list(self._requests.values()):
                if request.open and request.state != "working" and now >= request.expires:
                    request.state = "expired"
                    request.error = AgentError(
                        "请求已超时，请在网页上重新操作。", code="request_expired"
                    )
                    to_close.append(request)
                    self._bump(request)
                elif request.finished_at is not None and now - request.finished_at > KEEP_FINISHED:
                    del self._requests[request.id]
        for request in to_close:
            with request.lock:
                self._close_session(request)

    def close(self) -> None:
        with self._changed:
            requests = list(self._requests.values())
            self._requests.clear()
            self._changed.notify_all()
        for request in requests:
            with request.lock:
                self._close_session(request)

    # --- the hall page's side ----------------------------------------------------------------

    def create(
        self,
        op: Op,
        origin: str,
        fingerprint: str,
        *,
        challenge: str | None = None,
        years: int | None = None,
    ) -> Request:
        self.sweep()
        if op == "login":
            protocol.check_challenge(challenge or "")
        elif isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 5:
            raise AgentError("续期年限不正确。", code="years_invalid", http_status=400)
        entry = self.ukeys.find(fingerprint)
        if not entry.has_key:
            raise AgentError("Ukey中没有该证书对应的私钥，无法签名。", code="key_not_found")
        with self._changed:
            if sum(1 for r in self._requests.values() if r.open) >= MAX_OPEN:
                raise AgentError(
                    "未完成的请求太多，请先完成或关闭已打开的PIN码窗口。",
                    code="too_many_requests",
                    http_status=429,
                )
            request = Request(
                id=secrets.token_urlsafe(18),
                form_token=secrets.token_urlsafe(18),
                op=op,
                origin=origin,
                entry=entry,
                expires=self._clock() + self.request_ttl,
                challenge=challenge,
                years=years,
            )
            self._requests[request.id] = request
        return request

    def get(self, request_id: str) -> Request:
        self.sweep()
        with self._changed:
            request = self._requests.get(request_id)
        if request is None:
            raise AgentError(
                "请求不存在或已过期，请在网页上重新操作。", code="request_unknown", http_status=404
            )
        return request

    def wait(self, request_id: str, after: int, timeout: float) -> Request:
        """The request once its version is above ``after``, or after ``timeout`` seconds."""
        deadline = self._clock() + max(0.0, min(timeout, 30.0))
        request = self.get(request_id)
        with self._changed:
            while request.version <= after:
                remaining = deadline - self._clock()
                if remaining <= 0:
                    break
                self._changed.wait(min(remaining, 1.0))
                if request.open and self._clock() >= request.expires:
                    break
        self.sweep()
        return request

    def cancel(self, request_id: str) -> Request:
        request = self.get(request_id)
        with request.lock:
            with self._changed:
                if request.open:
                    request.state = "cancelled"
                    request.error = AgentError("已取消。", code="cancelled")
                    self._bump(request)
            self._close_session(request)
        return request

    # --- the PIN page's side -----------------------------------------------------------------

    def submit_pin(self, request_id: str, form_token: str, pin: str) -> Request:
        """Log in with ``pin`` and do the request's operation. Wrong PIN: stays waiting."""
        request = self.get(request_id)
        if not secrets.compare_digest(form_token.encode(), request.form_token.encode()):
            raise AgentError("页面已失效，请关闭后重新操作。", code="form_invalid", http_status=403)
        if not pin:
            raise AgentError("请输入PIN码。", code="pin_missing", http_status=400)
        with self._pin_lock, request.lock:
            with self._changed:
                if request.state != "waiting_pin":
                    raise AgentError(
                        "该请求已处理或已失效，请在网页上重新操作。",
                        code="request_closed",
                        http_status=409,
                    )
                request.state = "working"
                request.attempts += 1
                self._bump(request)
            try:
                self._run(request, pin)
            except AgentError as error:
                with self._changed:
                    request.error = error
                    request.state = "waiting_pin" if error.code == "wrong_pin" else "failed"
                    self._bump(request)
                return request
            except Exception:
                with self._changed:
                    request.error = AgentError(
                        "证书助手内部错误，请重试。", code="agent_failed", http_status=500
                    )
                    request.state = "failed"
                    self._bump(request)
                raise
            with self._changed:
                request.error = None
                request.state = "done"
                if request.op == "renew":
                    request.expires = self._clock() + self.session_ttl
                self._bump(request)
        return request

    def _run(self, request: Request, pin: str) -> None:
        session = self.ukeys.login(request.entry, pin)
        keep = False
        try:
            if request.op == "login":
                signed = self.ukeys.sign_login(
                    session, request.entry, request.origin, request.challenge or ""
                )
                request.result = signed.as_json()
            else:
                prep = self.ukeys.prepare_renewal(
                    session, request.entry, request.origin, request.years or 1
                )
                request.prep = prep
                request.result = prep.as_json()
                request.installed = prep.installed
                request.session, keep = session, True  # kept for install / finish
        finally:
            if not keep:
                session.close()

    # --- renewal, after the PIN ----------------------------------------------------------------

    def open_renewal(self, request_id: str) -> Request:
        """A renew request whose logged-in session is still open (else renewal_session_closed)."""
        request = self.get(request_id)
        if request.op != "renew" or request.state != "done" or request.session is None:
            raise AgentError(
                "续期会话已结束，请重新发起续期（需要再次输入PIN码）。",
                code="renewal_session_closed",
                http_status=409,
            )
        return request

    def install(self, request_id: str, der: bytes, chain: tuple[bytes, ...]) -> Request:
        request = self.open_renewal(request_id)
        with request.lock:
            if request.session is None:
                raise AgentError("续期会话已结束。", code="renewal_session_closed")
            installed = self.ukeys.install(request.session, request.entry, der, chain)
            with self._changed:
                request.installed = installed
                self._bump(request)
        return request

    def finish(self, request_id: str) -> tuple[Request, list[str]]:
        request = self.open_renewal(request_id)
        with request.lock:
            if request.session is None:
                raise AgentError("续期会话已结束。", code="renewal_session_closed")
            removed = self.ukeys.finish_renewal(request.session, request.entry)
            self._close_session(request)
            with self._changed:
                request.state = "finished"
                self._bump(request)
        return request, removed
