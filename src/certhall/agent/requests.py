"""Pending helper requests: what a hall page asked for, waiting for the user's PIN.

A hall page creates a request (``login``, ``renew`` or ``change_pin``) and then long-polls it;
the user types the PIN into the helper's own page, which submits it to
:meth:`Registry.submit_pin` (or, to set a new PIN, :meth:`Registry.submit_new_pin`). A PIN goes
to the token and nowhere else: it is not logged or returned. The hall page gets the outcome: a
signature (and certificate), or an error with a stable code.

States::

    waiting_pin --PIN ok--> done        (login: session closed; renew: session kept for install)
    waiting_pin --wrong PIN--> waiting_pin   (error wrong_pin, tries_left)
    waiting_pin --right PIN, but the Ukey must have it changed--> must_change
    must_change --new PIN set--> done   (the login or renewal goes on with the new PIN)
    waiting_pin (change_pin) --old PIN ok, new PIN set--> done
    waiting_pin --locked / no token / removed--> failed
    waiting_pin | must_change | done --cancel--> cancelled
    done (renew) --install, finish--> finished   (old certificate and key removed)
    any open state --time--> expired    (a kept session is closed)

A new or unlocked Ukey carries a PIN the SO set (sent by SMS) and must have it changed before
use ("请先修改PIN码后再使用"). The helper takes the holder through that change in the same window:
the PIN just typed is right, so it is kept in this process's memory (``pending_pin``) only
until the new PIN is set or the request ends, and the login or renewal then goes on.

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
from certhall.agent.ukey import AgentError, RenewalPrep, UkeyCertificate, Ukeys, token_removed
from certhall.tokens.session import TokenSession

Op = Literal["login", "renew", "change_pin"]
State = Literal[
    "waiting_pin", "must_change", "working", "done", "finished", "failed", "cancelled", "expired"
]
#: The states in which the PIN page takes input.
INPUT_STATES = ("waiting_pin", "must_change")

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
    #: The right but SO-set PIN, between "must change" and the new PIN (never serialised).
    pending_pin: str | None = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def open(self) -> bool:
        return self.state in ("waiting_pin", "must_change", "working", "done")

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
        if not request.open:
            request.pending_pin = None
            if request.finished_at is None:
                request.finished_at = self._clock()
        self._changed.notify_all()

    def _close_session(self, request: Request) -> None:
        session, request.session = request.session, None
        if session is not None:
            session.close()

    def sweep(self) -> None:
        """Expire old requests (closing kept sessions), end the renewals whose Ukey went away
        and forget finished ones."""
        self._drop_lost_sessions()
        now = self._clock()
        to_close: list[Request] = []
        with self._changed:
            for request in list(self._requests.values()):
                if request.open and request.state != "working" and now >= request.expires:
                    request.state = "expired"
                    request.error = AgentError(code="request_expired")
                    to_close.append(request)
                    self._bump(request)
                elif request.finished_at is not None and now - request.finished_at > KEEP_FINISHED:
                    del self._requests[request.id]
        for request in to_close:
            with request.lock:
                self._close_session(request)

    def _lose_session(self, request: Request, error: AgentError) -> None:
        """The Ukey of a kept renewal session went away: close the session and end the request
        (a retry opens a new one). Caller holds ``request.lock``."""
        self._close_session(request)
        with self._changed:
            if request.open:
                request.state = "failed"
                request.error = error
                self._bump(request)

    def _drop_lost_sessions(self) -> None:
        """Close every kept session whose Ukey cannot be opened any more. A session kept on a
        Ukey that was pulled out makes every other session of the store fail (SoftHSM2 cannot
        re-read its tokens while one is open): until it is closed the helper would list no
        certificate at all, not even on the Ukey plugged back in."""
        with self._changed:
            kept = [r for r in self._requests.values() if r.session is not None]
        for request in kept:
            if not request.lock.acquire(blocking=False):
                continue  # in use: that operation reports the removal itself
            try:
                if request.session is not None and not self.ukeys.reachable(request.entry):
                    self._lose_session(request, token_removed())
            finally:
                request.lock.release()

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
        elif op == "renew" and (
            isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 5
        ):
            raise AgentError(code="years_invalid", http_status=400)
        entry = self.ukeys.find(fingerprint)
        if op != "change_pin" and not entry.has_key:
            raise AgentError(code="key_not_found")
        with self._changed:
            if sum(1 for r in self._requests.values() if r.open) >= MAX_OPEN:
                raise AgentError(
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
            raise AgentError(code="request_unknown", http_status=404)
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

    def cancel(self, request_id: str, *, asking_only: bool = False) -> Request:
        """Cancel the request (closing a kept session). ``asking_only``: only while it still
        waits for a PIN (the page's cancel when the PIN window closed: the window closes itself
        once the PIN is done, and the page may not have heard so yet)."""
        request = self.get(request_id)
        with request.lock:  # after a PIN being worked on
            if asking_only and request.state not in INPUT_STATES:
                return request
            with self._changed:
                if request.open:
                    request.state = "cancelled"
                    request.error = AgentError(code="cancelled")
                    self._bump(request)
            self._close_session(request)
        return request

    # --- the PIN page's side -----------------------------------------------------------------

    def submit_pin(self, request_id: str, form_token: str, pin: str) -> Request:
        """Log in with ``pin`` and do the request's operation. Wrong PIN: stays waiting; a PIN
        the Ukey wants changed: ``must_change`` (the page then asks for a new one)."""
        if not pin:
            raise AgentError(code="pin_missing", http_status=400)
        request = self._checked(request_id, form_token)
        if request.op == "change_pin":
            raise AgentError(code="pin_missing", variant="change", http_status=400)
        return self._work(request, "waiting_pin", lambda: self._run(request, pin), pin=pin)

    def submit_new_pin(
        self, request_id: str, form_token: str, new_pin: str, old_pin: str | None = None
    ) -> Request:
        """Set a new PIN: the one ``change_pin`` asks for (with the old PIN), or the forced
        change of a login or renewal (the PIN just typed is the old one); then go on."""
        request = self._checked(request_id, form_token)
        expected: State = "waiting_pin" if request.op == "change_pin" else "must_change"
        old = old_pin if request.op == "change_pin" else request.pending_pin
        if not old and request.state == expected:
            raise AgentError(code="pin_missing", variant="old", http_status=400)

        def work() -> None:
            self.ukeys.change_pin(request.entry, old or "", new_pin)
            request.pending_pin = None
            if request.op == "change_pin":
                request.result = {"changed": True}
            else:
                self._run(request, new_pin)

        return self._work(request, expected, work)

    def _checked(self, request_id: str, form_token: str) -> Request:
        request = self.get(request_id)
        if not secrets.compare_digest(form_token.encode(), request.form_token.encode()):
            raise AgentError(code="form_invalid", http_status=403)
        return request

    def _work(
        self, request: Request, expected: State, work: Callable[[], None], *, pin: str = ""
    ) -> Request:
        """Run ``work`` for ``request`` (in state ``expected``), one PIN at a time, and record
        the outcome: done; back to ``expected`` after a refusal the user can correct (wrong
        PIN, an unacceptable new PIN); ``must_change``; or failed."""
        with self._pin_lock, request.lock:
            with self._changed:
                if request.state != expected:
                    raise AgentError(
                        code="request_closed",
                        http_status=409,
                    )
                request.state = "working"
                request.attempts += 1
                self._bump(request)
            try:
                work()
            except AgentError as error:
                with self._changed:
                    request.error = error
                    if error.code == "pin_must_change" and pin:
                        request.state, request.pending_pin = "must_change", pin
                    elif error.code in ("wrong_pin", "pin_policy", "pin_length"):
                        request.state = expected
                    else:
                        request.state = "failed"
                    self._bump(request)
                return request
            except Exception:
                with self._changed:
                    request.error = AgentError(code="agent_failed", http_status=500)
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
            if request.error is not None and request.error.code == "token_removed":
                raise token_removed()  # its Ukey was pulled out: say so
            raise AgentError(
                code="renewal_session_closed",
                http_status=409,
            )
        return request

    def install(self, request_id: str, der: bytes, chain: tuple[bytes, ...]) -> Request:
        request = self.open_renewal(request_id)
        with request.lock:
            if request.session is None:
                raise AgentError(code="renewal_session_closed")
            try:
                installed = self.ukeys.install(request.session, request.entry, der, chain)
            except AgentError as error:
                if error.code == "token_removed":
                    self._lose_session(request, error)
                raise
            with self._changed:
                request.installed = installed
                self._bump(request)
        return request

    def finish(self, request_id: str) -> tuple[Request, list[str]]:
        request = self.open_renewal(request_id)
        with request.lock:
            if request.session is None:
                raise AgentError(code="renewal_session_closed")
            try:
                removed = self.ukeys.finish_renewal(request.session, request.entry)
            except AgentError as error:
                if error.code == "token_removed":
                    self._lose_session(request, error)
                raise
            self._close_session(request)
            with self._changed:
                request.state = "finished"
                self._bump(request)
        return request, removed
