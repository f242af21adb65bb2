"""The helper's HTTP server on 127.0.0.1: the API for the hall's pages and the PIN page.

Security model (docs/certificate-login.md has the whole of it):

* It listens on 127.0.0.1 only.
* ``Host`` must be ``127.0.0.1:PORT`` or ``localhost:PORT``, else 403: a DNS-rebinding page
  (evil.example resolving to 127.0.0.1) sends its own host name and is refused.
* The API (``/v1/...``) answers only the configured hall origin: a request whose ``Origin`` is
  anything else gets 403 and no CORS headers; a POST without ``Origin`` gets 403 too (a browser
  always sends one on cross-origin and on POST requests). Only ``GET /v1/status`` answers without
  an ``Origin`` (diagnostics with curl). Preflights (OPTIONS) are answered for the hall origin
  only, including Chrome's Private Network Access header.
* The PIN is typed into the helper's own page (``/pin/<id>``, origin ``http://127.0.0.1:PORT``),
  opened by the hall page in a popup window. The hall page never sees the PIN; it long-polls
  its request and gets the signature. The PIN page may only be posted to from the helper's own
  origin, carries a per-request form token, and cannot be framed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from certhall.agent import DEFAULT_PORT, pinpage, protocol
from certhall.agent.requests import Registry, Request
from certhall.agent.ukey import AgentError, Ukeys
from certhall.errors import CerthallError, ConfigurationError, InvalidInput
from certhall.messages import text
from certhall.tokens.softhsm import DEFAULT_MODULE

log = logging.getLogger("certhall.agent")

LISTEN_HOST = "127.0.0.1"
MAX_BODY = 256 * 1024
LONG_POLL_SECONDS = 25.0

_REQUEST_PATH = re.compile(r"/v1/requests/([A-Za-z0-9_-]{10,64})(/install|/finish|/cancel)?")
_PIN_PATH = re.compile(r"/pin/([A-Za-z0-9_-]{10,64})(/cancel|/change)?")
_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
#: The PIN page's files: (package, path in it, type). The words reader is the site's own
#: (web/words.js), so that the helper's page reads the catalogue's words as the site's pages do.
_STATIC = {
    "/static/pin.js": ("certhall.agent", "static/pin.js", "application/javascript"),
    "/static/pin.css": ("certhall.agent", "static/pin.css", "text/css"),
    "/static/words.js": ("certhall.web", "static/web/words.js", "application/javascript"),
    # the site's icon: without one the browser asks for /favicon.ico, a 404 in the console
    "/static/favicon.svg": ("certhall.web", "static/web/favicon.svg", "image/svg+xml"),
}

_SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


@dataclass(frozen=True)
class AgentConfig:
    """Validated at start-up: a bad origin or a missing module fails before listening."""

    hall_origin: str
    port: int = DEFAULT_PORT
    module: str = DEFAULT_MODULE
    conf: Path | None = None
    request_ttl: float = 180.0
    session_ttl: float = 300.0

    def __post_init__(self) -> None:
        try:
            origin = protocol.normalise_origin(self.hall_origin)
        except InvalidInput as e:
            raise ConfigurationError(code="agent_hall_origin", detail=e.message) from None
        object.__setattr__(self, "hall_origin", origin)
        if not 0 <= self.port <= 65535:
            raise ConfigurationError(code="agent_port", port=self.port)
        if not Path(self.module).is_file():
            raise ConfigurationError(code="module_not_found", module=self.module)
        if self.conf is not None and not self.conf.is_file():
            raise ConfigurationError(code="softhsm_conf_missing", conf=self.conf)


class AgentServer(ThreadingHTTPServer):
    daemon_threads = True
    # A helper restarted at once (stopped, crashed) must get its port back although its last
    # connections are still in TIME_WAIT (it closes them first: one request per connection).
    # On POSIX SO_REUSEADDR allows only that: a second helper on a port in use is still
    # refused. On Windows it would let another program take the port over, so not there.
    allow_reuse_address = os.name != "nt"

    def __init__(self, config: AgentConfig, ukeys: Ukeys | None = None) -> None:
        self.config = config
        self.ukeys = ukeys or Ukeys(config.module, config.conf)
        self.registry = Registry(
            self.ukeys, request_ttl=config.request_ttl, session_ttl=config.session_ttl
        )
        # Before binding: a refused bind calls server_close(), which uses it.
        self._stopping = threading.Event()
        super().__init__((LISTEN_HOST, config.port), _Handler)
        self.port = int(self.server_address[1])
        self.own_origins = (f"http://127.0.0.1:{self.port}", f"http://localhost:{self.port}")
        self.hosts = (f"127.0.0.1:{self.port}", f"localhost:{self.port}")
        self._sweeper = threading.Thread(target=self._sweep_loop, daemon=True)
        self._sweeper.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(2.0):
            try:
                self.registry.sweep()
            except Exception:  # never let the janitor die
                log.exception("sweeping helper requests failed")

    def server_close(self) -> None:
        self._stopping.set()
        self.registry.close()
        super().server_close()


class _Refused(Exception):
    """A request the helper refuses: the HTTP status, the code the page reads, and the words
    from the catalogue (``agent_<code>``, ``.variant`` for a second wording)."""

    def __init__(self, status: int, code: str, variant: str | None = None) -> None:
        message = text(f"agent_{code}" + (f".{variant}" if variant else ""))
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class _Handler(BaseHTTPRequestHandler):
    server: AgentServer
    server_version = "certhall-agent/1"
    sys_version = ""
    # One request per connection: a refused request never leaves an unread body behind.
    protocol_version = "HTTP/1.0"

    # --- plumbing -----------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    def _origin(self) -> str | None:
        value = self.headers.get("Origin")
        if value is None:
            return None
        try:
            return protocol.normalise_origin(value)
        except InvalidInput:
            return "invalid"

    def _hall_cors(self) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": self.server.config.hall_origin, "Vary": "Origin"}

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        for name, value in {**_SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: object, *, cors: bool = True) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        headers = self._hall_cors() if cors else {"Vary": "Origin"}
        self._send(status, body, "application/json; charset=utf-8", headers)

    def _error(self, status: int, code: str, message: str, *, cors: bool = True) -> None:
        self._json(status, {"error": {"code": code, "message": message}}, cors=cors)

    def _body(self) -> dict[str, Any]:
        ctype = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            raise _Refused(415, "content_type")
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            raise _Refused(400, "bad_request", "length") from None
        if length > MAX_BODY:
            raise _Refused(413, "too_large")
        raw = self.rfile.read(length) if length else b"{}"
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested too deep
            raise _Refused(400, "bad_json") from None
        if not isinstance(data, dict):
            raise _Refused(400, "bad_json", "object")
        return data

    def _check_host(self) -> None:
        host = (self.headers.get("Host") or "").strip().lower()
        if host not in self.server.hosts:
            raise _Refused(403, "host_refused")

    # --- dispatch -----------------------------------------------------------------------------

    def _dispatch(self) -> None:
        path = urlsplit(self.path).path
        is_api = path.startswith("/v1/")
        try:
            self._check_host()
            if is_api:
                self._api(path)
            else:
                self._pages(path)
        except _Refused as refused:
            self._error(refused.status, refused.code, refused.message, cors=False)
        except AgentError as error:
            body = {"error": error.as_json()}
            self._json(error.http_status, body, cors=is_api)
        except CerthallError as error:
            self._json(
                error.http_status if error.http_status < 500 else 400,
                {"error": {"code": error.code, "message": error.message}},
                cors=is_api,
            )
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception:
            log.exception("helper request failed")
            self._error(500, "agent_failed", "证书助手内部错误。", cors=False)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        try:
            self._check_host()
        except _Refused as refused:
            self._error(refused.status, refused.code, refused.message, cors=False)
            return
        origin = self._origin()
        if origin != self.server.config.hall_origin:
            self._error(403, "origin_refused", "来源网站不被证书助手接受。", cors=False)
            return
        headers = {
            **self._hall_cors(),
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": "600",
        }
        if self.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
            headers["Access-Control-Allow-Private-Network"] = "true"
        self.send_response(204)
        for name, value in {**_SECURITY_HEADERS, **headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # --- the API for the hall's pages ----------------------------------------------------------

    def _api(self, path: str) -> None:
        origin = self._origin()
        hall = self.server.config.hall_origin
        if origin is None:
            if not (self.command == "GET" and path == "/v1/status"):
                raise _Refused(403, "origin_missing")
        elif origin != hall:
            raise _Refused(403, "origin_refused")
        registry = self.server.registry
        if self.command == "GET" and path == "/v1/status":
            self._json(200, {"agent": "certhall-agent", "version": 1, "hall_origin": hall})
            return
        if self.command == "GET" and path == "/v1/certificates":
            registry.sweep()  # a session left on a pulled Ukey would hide every certificate
            ukeys = self.server.ukeys
            tokens = ukeys.status()
            certs = [c.as_json() for c in ukeys.list_certificates()] if tokens else []
            self._json(200, {"tokens": tokens, "certificates": certs})
            return
        if self.command == "POST" and path == "/v1/requests":
            self._create(hall)
            return
        match = _REQUEST_PATH.fullmatch(path)
        if match is None:
            raise _Refused(404, "not_found")
        request_id, action = match.group(1), match.group(2)
        if self.command == "GET" and action is None:
            query = parse_qs(urlsplit(self.path).query)
            after = _int(query.get("after", ["0"])[0])
            wait = float(_int(query.get("wait", ["0"])[0]))
            request = registry.wait(request_id, after, min(wait, LONG_POLL_SECONDS))
            self._json(200, request.as_json())
            return
        if self.command != "POST" or action is None:
            raise _Refused(405, "method")
        body = self._body()
        if action == "/cancel":
            asking_only = body.get("asking_only") is True
            self._json(200, registry.cancel(request_id, asking_only=asking_only).as_json())
        elif action == "/install":
            registry.open_renewal(request_id)
            der = protocol.b64decode(body.get("certificate"), "certificate")
            chain_data = body.get("chain") or []
            if not isinstance(chain_data, list) or len(chain_data) > 5:
                raise _Refused(400, "bad_request", "chain")
            chain = tuple(protocol.b64decode(item, "chain") for item in chain_data)
            self._json(200, registry.install(request_id, der, chain).as_json())
        else:
            request, removed = registry.finish(request_id)
            self._json(200, {**request.as_json(), "removed": len(removed)})

    def _create(self, hall: str) -> None:
        body = self._body()
        op = body.get("op")
        fingerprint = body.get("certificate")
        if op not in ("login", "renew", "change_pin"):
            raise _Refused(400, "bad_request", "operation")
        if not isinstance(fingerprint, str) or not _FINGERPRINT.fullmatch(fingerprint):
            raise _Refused(400, "bad_request", "no_certificate")
        years = body.get("years")
        request = self.server.registry.create(
            op,
            hall,
            fingerprint,
            challenge=body.get("challenge") if op == "login" else None,
            years=years if isinstance(years, int) and op == "renew" else None,
        )
        pin_url = f"{self.server.url}/pin/{request.id}"
        self._json(201, {**request.as_json(), "pin_url": pin_url})

    # --- the helper's own pages -----------------------------------------------------------------

    def _pages(self, path: str) -> None:
        if self.command == "GET" and path in _STATIC:
            package, name, content_type = _STATIC[path]
            data = resources.files(package).joinpath(name).read_bytes()
            self._send(200, data, f"{content_type}; charset=utf-8")
            return
        if self.command == "GET" and path == "/":
            page = pinpage.render_index(self.server.config.hall_origin)
            self._page(200, page)
            return
        match = _PIN_PATH.fullmatch(path)
        if match is None:
            raise _Refused(404, "not_found", "page")
        request_id, action = match.group(1), match.group(2)
        registry = self.server.registry
        if self.command == "GET" and action is None:
            try:
                request = registry.get(request_id)
            except AgentError as error:
                self._page(404, pinpage.render_gone(error.message))
                return
            self._page(200, pinpage.render_pin(request))
            return
        if self.command != "POST":
            raise _Refused(405, "method")
        # Only the helper's own page may post the PIN (or cancel from the PIN window).
        if self._origin() not in self.server.own_origins:
            raise _Refused(403, "origin_refused", "pin_page")
        body = self._body()
        if action == "/cancel":
            request = registry.get(request_id)
            if not isinstance(body.get("form_token"), str) or body["form_token"] != (
                request.form_token
            ):
                raise _Refused(403, "form_invalid")
            self._json(200, _pin_view(registry.cancel(request_id)), cors=False)
            return
        form_token = body.get("form_token")
        if not isinstance(form_token, str):
            raise _Refused(400, "bad_request", "page")
        if action == "/change":
            request = self._change_pin(request_id, form_token, body)
        else:
            pin = _pin_field(body, "pin")
            request = registry.submit_pin(request_id, form_token, pin)
        self._json(200, _pin_view(request), cors=False)

    def _change_pin(self, request_id: str, form_token: str, body: dict[str, Any]) -> Request:
        new_pin, again = _pin_field(body, "new_pin"), _pin_field(body, "new_pin_again")
        if not new_pin:
            raise _Refused(400, "pin_missing")
        if new_pin != again:
            raise _Refused(400, "pin_mismatch")
        old_pin = _pin_field(body, "old_pin") or None
        return self.server.registry.submit_new_pin(request_id, form_token, new_pin, old_pin)

    def _page(self, status: int, html: str) -> None:
        headers = {
            "Content-Security-Policy": _PAGE_CSP,
            "X-Frame-Options": "DENY",
        }
        self._send(status, html.encode("utf-8"), "text/html; charset=utf-8", headers)


def _pin_view(request: Request) -> dict[str, object]:
    """What the PIN page learns: the state and the message, never the signature."""
    data: dict[str, object] = {
        "state": request.state,
        "op": request.op,
        "attempts": request.attempts,
    }
    if request.error is not None:
        data["error"] = request.error.as_json()
    return data


def _pin_field(body: dict[str, Any], name: str) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > 64:
        raise _Refused(400, "bad_request", "pin")
    return value


def _int(text: str) -> int:
    try:
        return max(0, int(text))
    except ValueError:
        return 0


def serve(config: AgentConfig, ready: threading.Event | None = None) -> None:
    """Run the helper until interrupted."""
    server = AgentServer(config)
    log.info("certhall agent on %s for %s", server.url, config.hall_origin)
    print(text("agent_listening", url=server.url, origin=config.hall_origin), flush=True)
    if ready is not None:
        ready.set()
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
