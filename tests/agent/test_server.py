"""The helper's HTTP API: origin, host and CORS checks; listing; the PIN flow for a login."""

from __future__ import annotations

import _thread
import errno
import re
import signal
import threading
import time
from html.parser import HTMLParser

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certhall.agent import protocol
from certhall.agent.server import AgentConfig, AgentServer
from tests.agent.support import (
    HALL,
    PIN,
    Answer,
    SoftwareCA,
    call,
    fingerprint,
    running_agent,
    ukey_with_certificate,
)
from tests.conftest_softhsm import SoftHSMStore

pytestmark = pytest.mark.softhsm

CHALLENGE = protocol.new_challenge_text(bytes(range(32)))


@pytest.fixture
def ca() -> SoftwareCA:
    return SoftwareCA.create()


@pytest.fixture
def cert(softhsm_store: SoftHSMStore, ca: SoftwareCA) -> x509.Certificate:
    return ukey_with_certificate(softhsm_store, ca)


@pytest.fixture
def agent(softhsm_store: SoftHSMStore, cert: x509.Certificate):  # type: ignore[no-untyped-def]
    with running_agent(softhsm_store) as server:
        yield server


def new_login(agent: AgentServer, cert: x509.Certificate) -> Answer:
    return call(
        agent,
        "POST",
        "/v1/requests",
        body={"op": "login", "certificate": fingerprint(cert), "challenge": CHALLENGE},
    )


def pin_page_post(agent: AgentServer, request_id: str, form_token: str, pin: str) -> Answer:
    return call(
        agent,
        "POST",
        f"/pin/{request_id}",
        origin=agent.url,
        body={"pin": pin, "form_token": form_token},
    )


def form_token(agent: AgentServer, request_id: str) -> str:
    page = call(agent, "GET", f"/pin/{request_id}", origin=None)
    assert page.status == 200
    marker = b'data-form-token="'
    start = page.body.index(marker) + len(marker)
    return page.body[start : page.body.index(b'"', start)].decode()


def test_lists_certificates_for_the_hall_origin(agent: AgentServer, cert: x509.Certificate) -> None:
    answer = call(agent, "GET", "/v1/certificates")
    assert answer.status == 200
    assert answer.headers["access-control-allow-origin"] == HALL
    data = answer.json
    assert [t["label"] for t in data["tokens"]] == ["ukey-1"]  # type: ignore[index]
    [listed] = data["certificates"]  # type: ignore[misc]
    assert listed["id"] == fingerprint(cert)
    assert listed["serial"] == format(cert.serial_number, "x")
    assert listed["subject_cn"] == "深圳市演示医疗科技有限公司"
    assert listed["issuer_cn"] == "其他CA 签发CA"
    assert listed["not_after"] == cert.not_valid_after_utc.isoformat()
    assert listed["has_key"] is True


def test_foreign_origin_is_refused_without_cors(agent: AgentServer) -> None:
    for method, path, body in [
        ("GET", "/v1/certificates", None),
        ("GET", "/v1/status", None),
        ("POST", "/v1/requests", {"op": "login"}),
    ]:
        answer = call(agent, method, path, origin="http://evil.example", body=body)
        assert answer.status == 403, path
        assert answer.error_code() == "origin_refused"
        assert "access-control-allow-origin" not in answer.headers
    # the same host on another port or scheme is another origin
    for origin in ("http://hall.example:8001", "https://hall.example:8000", "null"):
        assert call(agent, "GET", "/v1/certificates", origin=origin).status == 403


def test_missing_origin_is_refused_except_for_status(agent: AgentServer) -> None:
    answer = call(agent, "POST", "/v1/requests", origin=None, body={"op": "login"})
    assert answer.status == 403
    assert answer.error_code() == "origin_missing"
    assert call(agent, "GET", "/v1/certificates", origin=None).status == 403
    status = call(agent, "GET", "/v1/status", origin=None)
    assert status.status == 200
    assert status.json["hall_origin"] == HALL


def test_preflight(agent: AgentServer) -> None:
    ok = call(
        agent,
        "OPTIONS",
        "/v1/requests",
        headers={
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert ok.status == 204
    assert ok.headers["access-control-allow-origin"] == HALL
    assert "POST" in ok.headers["access-control-allow-methods"]
    assert ok.headers["access-control-allow-headers"].lower() == "content-type"
    assert ok.headers["access-control-allow-private-network"] == "true"
    refused = call(
        agent,
        "OPTIONS",
        "/v1/requests",
        origin="http://evil.example",
        headers={"Access-Control-Request-Method": "POST"},
    )
    assert refused.status == 403
    assert "access-control-allow-origin" not in refused.headers


def test_host_must_be_loopback_with_the_port(agent: AgentServer) -> None:
    for host in ("evil.example", f"evil.example:{agent.port}", "127.0.0.1:1", "127.0.0.1"):
        answer = call(agent, "GET", "/v1/certificates", host=host)
        assert answer.status == 403, host
        assert answer.error_code() == "host_refused"
        assert call(agent, "OPTIONS", "/v1/requests", host=host).status == 403
    assert call(agent, "GET", "/v1/certificates", host=f"localhost:{agent.port}").status == 200


def test_json_only(agent: AgentServer, cert: x509.Certificate) -> None:
    answer = call(
        agent,
        "POST",
        "/v1/requests",
        body=None,
        headers={"Content-Type": "text/plain"},
    )
    assert answer.status == 415
    for body in (b"{not json", b"[" * 100_000):  # nested too deep was a 500
        answer = call(agent, "POST", "/v1/requests", body=body)
        assert answer.status == 400 and answer.error_code() == "bad_json"


def test_login_signature_after_pin(agent: AgentServer, cert: x509.Certificate) -> None:
    created = new_login(agent, cert)
    assert created.status == 201, created.body
    request_id = str(created.json["id"])
    assert created.json["pin_url"] == f"{agent.url}/pin/{request_id}"
    assert created.json["state"] == "waiting_pin"
    version = int(created.json["version"])  # type: ignore[call-overload]
    token = form_token(agent, request_id)

    done = pin_page_post(agent, request_id, token, PIN)
    assert done.status == 200
    assert done.json["state"] == "done"
    assert "result" not in done.json  # the PIN page never sees the signature

    polled = call(agent, "GET", f"/v1/requests/{request_id}?after={version}&wait=5").json
    assert polled["state"] == "done"
    result = polled["result"]
    assert isinstance(result, dict)
    assert result["signed_origin"] == HALL
    assert protocol.b64decode(result["certificate"], "c") == cert.public_bytes(Encoding.DER)
    assert len(result["chain"]) == 2
    signature = protocol.b64decode(result["signature"], "signature")
    message = protocol.login_message(HALL, CHALLENGE)
    assert protocol.verify_signature(cert.public_key(), signature, message)
    assert PIN not in repr(polled)


def test_wrong_pin_shows_tries_left_then_locks(agent: AgentServer, cert: x509.Certificate) -> None:
    request_id = str(new_login(agent, cert).json["id"])
    token = form_token(agent, request_id)
    first = pin_page_post(agent, request_id, token, "000000").json
    assert first["state"] == "waiting_pin"
    error = first["error"]
    assert isinstance(error, dict)
    assert error["code"] == "wrong_pin"
    assert error["tries_left"] == 5
    assert "还可以尝试 5 次" in str(error["message"])
    polled = call(agent, "GET", f"/v1/requests/{request_id}").json
    assert polled["error"]["code"] == "wrong_pin"  # type: ignore[index]
    assert polled["error"]["tries_left"] == 5  # type: ignore[index]
    for left in (4, 3, 2, 1):
        answer = pin_page_post(agent, request_id, token, "000000").json
        assert answer["error"]["tries_left"] == left  # type: ignore[index]
    locked = pin_page_post(agent, request_id, token, "000000").json
    assert locked["state"] == "failed"
    assert locked["error"]["code"] == "pin_locked"  # type: ignore[index]
    assert "锁定" in locked["error"]["message"]  # type: ignore[index]
    # a locked Ukey refuses the right PIN too, in a new request
    again = str(new_login(agent, cert).json["id"])
    answer = pin_page_post(agent, again, form_token(agent, again), PIN).json
    assert answer["state"] == "failed"
    assert answer["error"]["code"] == "pin_locked"  # type: ignore[index]
    listed = call(agent, "GET", "/v1/certificates").json
    assert listed["tokens"][0]["pin_locked"] is True  # type: ignore[index]


def test_pin_page_accepts_posts_from_its_own_origin_only(
    agent: AgentServer, cert: x509.Certificate
) -> None:
    request_id = str(new_login(agent, cert).json["id"])
    token = form_token(agent, request_id)
    for origin in (HALL, None, "http://evil.example"):
        answer = call(
            agent,
            "POST",
            f"/pin/{request_id}",
            origin=origin,
            body={"pin": PIN, "form_token": token},
        )
        assert answer.status == 403
    wrong_token = pin_page_post(agent, request_id, "x" * 24, PIN)
    assert wrong_token.status == 403
    assert call(agent, "GET", f"/v1/requests/{request_id}").json["state"] == "waiting_pin"


def test_pin_page_cannot_be_framed_and_runs_no_inline_script(
    agent: AgentServer, cert: x509.Certificate
) -> None:
    request_id = str(new_login(agent, cert).json["id"])
    page = call(agent, "GET", f"/pin/{request_id}", origin=None)
    assert page.headers["x-frame-options"] == "DENY"
    csp = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "<script>" not in page.body.decode()
    assert HALL in page.body.decode()  # the user sees who asks


def test_no_token(softhsm_store: SoftHSMStore) -> None:
    with running_agent(softhsm_store) as agent:
        listed = call(agent, "GET", "/v1/certificates")
        assert listed.status == 200
        assert listed.json == {"tokens": [], "certificates": []}
        answer = call(
            agent,
            "POST",
            "/v1/requests",
            body={"op": "login", "certificate": "0" * 64, "challenge": CHALLENGE},
        )
        assert answer.status == 409
        assert answer.error_code() == "no_token"
        assert "未检测到Ukey" in answer.json["error"]["message"]  # type: ignore[index]


def test_cancel_and_expiry(softhsm_store: SoftHSMStore, cert: x509.Certificate) -> None:
    with running_agent(softhsm_store, request_ttl=0.5) as agent:
        request_id = str(new_login(agent, cert).json["id"])
        token = form_token(agent, request_id)
        time.sleep(0.7)
        polled = call(agent, "GET", f"/v1/requests/{request_id}").json
        assert polled["state"] == "expired"
        assert pin_page_post(agent, request_id, token, PIN).status == 409
        other = str(new_login(agent, cert).json["id"])
        cancelled = call(agent, "POST", f"/v1/requests/{other}/cancel", body={})
        assert cancelled.json["state"] == "cancelled"


def test_the_pages_cancel_leaves_a_request_whose_pin_was_typed(
    agent: AgentServer, cert: x509.Certificate
) -> None:
    """The PIN window closes itself once the PIN is done, and the page, not yet told, asks to
    cancel: only a request still waiting for its PIN is cancelled."""
    request_id = str(new_login(agent, cert).json["id"])
    assert pin_page_post(agent, request_id, form_token(agent, request_id), PIN).status == 200
    path = f"/v1/requests/{request_id}/cancel"
    answer = call(agent, "POST", path, body={"asking_only": True})
    assert (answer.status, answer.json["state"]) == (200, "done")
    assert call(agent, "GET", f"/v1/requests/{request_id}").json["state"] == "done"
    waiting = str(new_login(agent, cert).json["id"])
    answer = call(agent, "POST", f"/v1/requests/{waiting}/cancel", body={"asking_only": True})
    assert answer.json["state"] == "cancelled"


def test_long_poll_wakes_up_on_a_change(agent: AgentServer, cert: x509.Certificate) -> None:
    created = new_login(agent, cert).json
    request_id, version = str(created["id"]), int(created["version"])  # type: ignore[call-overload]
    token = form_token(agent, request_id)
    timer = threading.Timer(0.5, pin_page_post, (agent, request_id, token, PIN))
    started = time.monotonic()
    timer.start()
    polled = call(agent, "GET", f"/v1/requests/{request_id}?after={version}&wait=20").json
    timer.join()
    assert time.monotonic() - started < 10
    assert polled["state"] in ("working", "done")


def test_a_port_in_use_is_refused_as_an_os_error(softhsm_store: SoftHSMStore) -> None:
    """The command line turns the OSError into its one line (cli_listen); the failed bind
    must not end in an AttributeError of the half-built server instead."""
    with running_agent(softhsm_store) as first:
        config = AgentConfig(
            hall_origin=HALL, port=first.port, module=softhsm_store.module, conf=softhsm_store.conf
        )
        with pytest.raises(OSError) as refused:
            AgentServer(config)
    assert refused.value.errno == errno.EADDRINUSE


def test_a_restarted_helper_gets_its_port_back_at_once(
    softhsm_store: SoftHSMStore, cert: x509.Certificate
) -> None:
    """The helper closes each connection first, so its port has connections in TIME_WAIT
    when it stops: a helper started again right away must still be able to listen."""
    with running_agent(softhsm_store) as first:
        port = first.port
        assert call(first, "GET", "/v1/certificates").status == 200
    config = AgentConfig(
        hall_origin=HALL, port=port, module=softhsm_store.module, conf=softhsm_store.conf
    )
    again = AgentServer(config)
    again.server_close()


@pytest.mark.parametrize("pin", ["1", "123"])
def test_a_too_short_pin_is_refused_beside_the_form_and_costs_no_try(
    agent: AgentServer, cert: x509.Certificate, pin: str
) -> None:
    request_id = str(new_login(agent, cert).json["id"])
    token = form_token(agent, request_id)
    answer = pin_page_post(agent, request_id, token, pin).json
    assert answer["state"] == "waiting_pin"  # the user can correct it
    assert answer["error"]["code"] == "pin_length"  # type: ignore[index]
    listed = call(agent, "GET", "/v1/certificates").json
    assert listed["tokens"][0]["tries_left"] == 6  # type: ignore[index]
    assert pin_page_post(agent, request_id, token, PIN).json["state"] == "done"


#: What the helper's pages may show in Latin letters besides the values they quote (the
#: requesting site, the certificate's serial and names, the Ukey's label): the words of the
#: Chinese UI itself.
LATIN_WORDS = {"Ukey", "PIN"}


def latin_words(html: bytes, *values: str) -> set[str]:
    """The Latin words a customer reads on a helper page: its title and body text, the values
    it quotes taken out."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.skip = False

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.skip = tag in ("script", "style")

        def handle_data(self, data: str) -> None:
            if not self.skip:
                self.parts.append(data)

    parser = Text()
    parser.feed(html.decode())
    shown = " ".join(parser.parts)
    for value in values:
        shown = shown.replace(value, " ")
    return set(re.findall(r"[A-Za-z]{2,}", shown)) - LATIN_WORDS


def test_every_word_of_the_helpers_pages_is_chinese(
    agent: AgentServer, cert: x509.Certificate
) -> None:
    """The PIN window's bar read "证书助手 · certhall" (12-06): the pages a customer sees (the
    PIN window, an expired request's, the index) say nothing in English but what they quote."""
    request_id = str(new_login(agent, cert).json["id"])
    pin = call(agent, "GET", f"/pin/{request_id}", origin=None)
    quoted = [HALL, format(cert.serial_number, "x"), "ukey-1"]
    quoted += [a.value for a in cert.subject if isinstance(a.value, str)]
    assert b"certhall" not in pin.body.split(b"<body", 1)[1].split(b"<script", 1)[0]
    assert '<header class="bar">深圳医保在线签约 · 证书助手</header>' in pin.body.decode()
    assert latin_words(pin.body, *quoted) == set()
    gone = call(agent, "GET", "/pin/" + "0" * 32, origin=None)
    assert gone.status == 404 and latin_words(gone.body) == set()
    index = call(agent, "GET", "/", origin=None)
    assert latin_words(index.body, HALL) == set()
    # a wrong address typed into the browser: a JSON answer in Chinese, no header's name
    wrong_host = call(agent, "GET", "/", origin=None, host="example.cn")
    assert wrong_host.status == 403
    assert latin_words(wrong_host.body, "error", "code", "message", "host_refused") == set()


def test_the_helper_says_in_chinese_that_it_runs(
    softhsm_store: SoftHSMStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """The line the customer's terminal shows when the helper starts (English until 12-06)."""
    from certhall.agent.server import serve

    config = AgentConfig(
        hall_origin=HALL, port=0, module=softhsm_store.module, conf=softhsm_store.conf
    )
    ready = threading.Event()
    # interrupt_main() does nothing where SIGINT is ignored, as it is for a job a shell started
    # in the background without job control (the test then waited forever): Python's own handler
    # for the test's length
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            # serve() runs until interrupted: stop it once it has said it runs
            def stop() -> None:
                ready.wait(10)
                _thread.interrupt_main()

            threading.Thread(target=stop, daemon=True).start()
            serve(config, ready)
    finally:
        signal.signal(signal.SIGINT, inherited)
    line = capsys.readouterr().out.strip()
    assert line.startswith("证书助手已启动：http://127.0.0.1:"), line
    assert latin_words(line.encode(), HALL, "http://127.0.0.1") <= {"localhost"}


def test_the_helpers_pages_have_an_icon_it_serves(agent: AgentServer) -> None:
    """Without an icon of its own the browser asked for /favicon.ico, which the helper
    answered 404: an error in the console of every PIN window (tests/browser)."""
    index = call(agent, "GET", "/", origin=None)
    found = re.search(
        r'<link rel="icon" type="image/svg\+xml" href="([^"]+)">', index.body.decode()
    )
    assert found is not None
    icon = call(agent, "GET", found.group(1), origin=None)
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.body.startswith(b"<svg")
