"""修改PIN in the helper's own window: the forced change of a new or unlocked Ukey during a login
(the login then goes on with the new PIN), and a change the holder asks for; guessable and
mismatched new PINs are refused without using a try."""

from __future__ import annotations

import pytest
from cryptography import x509

from certhall.agent import protocol
from certhall.agent.server import AgentServer
from certhall.tokens.pin import pin_status, so_reset_pin, user_login
from tests.agent.support import (
    PIN,
    SO_PIN,
    Answer,
    SoftwareCA,
    call,
    fingerprint,
    running_agent,
    ukey_with_certificate,
)
from tests.agent.test_server import CHALLENGE, form_token, new_login, pin_page_post
from tests.conftest_softhsm import SoftHSMStore

pytestmark = pytest.mark.softhsm

SMS_PIN = "482913"  # what the SO set and the SMS told the holder
NEW_PIN = "730518"


@pytest.fixture
def cert(softhsm_store: SoftHSMStore) -> x509.Certificate:
    return ukey_with_certificate(softhsm_store, SoftwareCA.create())


@pytest.fixture
def agent(softhsm_store: SoftHSMStore, cert: x509.Certificate):  # type: ignore[no-untyped-def]
    with running_agent(softhsm_store) as server:
        yield server


def reset_by_so(store: SoftHSMStore) -> None:
    """As an unlock at the counter does: a new PIN the holder must change before use."""
    so_reset_pin(store.module, "ukey-1", SO_PIN, SMS_PIN, conf=store.conf)


def change_post(
    agent: AgentServer, request_id: str, token: str, new: str, *, again: str = "", old: str = ""
) -> Answer:
    body = {"form_token": token, "new_pin": new, "new_pin_again": again or new}
    if old:
        body["old_pin"] = old
    return call(agent, "POST", f"/pin/{request_id}/change", origin=agent.url, body=body)


def test_forced_change_during_login_then_the_login_goes_on(
    softhsm_store: SoftHSMStore, agent: AgentServer, cert: x509.Certificate
) -> None:
    reset_by_so(softhsm_store)
    request_id = str(new_login(agent, cert).json["id"])
    token = form_token(agent, request_id)
    first = pin_page_post(agent, request_id, token, SMS_PIN).json
    assert first["state"] == "must_change"
    page = call(agent, "GET", f"/pin/{request_id}", origin=None).body.decode()
    assert "请设置新PIN码" in page and 'id="change-form"' in page and 'name="old_pin"' not in page
    assert call(agent, "GET", f"/v1/requests/{request_id}").json["state"] == "must_change"

    refused = change_post(agent, request_id, token, "123456")
    assert refused.json["state"] == "must_change"
    assert refused.json["error"]["code"] == "pin_policy"  # type: ignore[index]
    assert "过于简单" in refused.json["error"]["message"]  # type: ignore[index]
    mismatch = change_post(agent, request_id, token, NEW_PIN, again="730519")
    assert mismatch.status == 400 and mismatch.error_code() == "pin_mismatch"

    done = change_post(agent, request_id, token, NEW_PIN)
    assert done.json["state"] == "done"
    result = call(agent, "GET", f"/v1/requests/{request_id}").json["result"]
    signature = protocol.b64decode(result["signature"], "signature")  # type: ignore[index]
    message = protocol.login_message(str(result["signed_origin"]), CHALLENGE)  # type: ignore[index]
    assert protocol.verify_signature(cert.public_key(), signature, message)

    status = pin_status(softhsm_store.module, "ukey-1", conf=softhsm_store.conf)
    assert (status.must_change, status.tries_left) == (False, 6)
    user_login(softhsm_store.module, "ukey-1", NEW_PIN, conf=softhsm_store.conf).close()


def test_the_holder_changes_the_pin(
    softhsm_store: SoftHSMStore, agent: AgentServer, cert: x509.Certificate
) -> None:
    created = call(
        agent, "POST", "/v1/requests", body={"op": "change_pin", "certificate": fingerprint(cert)}
    )
    assert created.status == 201
    request_id = str(created.json["id"])
    token = form_token(agent, request_id)
    page = call(agent, "GET", f"/pin/{request_id}", origin=None).body.decode()
    assert "修改Ukey的PIN码" in page and 'name="old_pin"' in page
    # a PIN alone is not how a change is asked
    assert pin_page_post(agent, request_id, token, PIN).error_code() == "pin_missing"

    wrong = change_post(agent, request_id, token, NEW_PIN, old="000000")
    assert wrong.json["state"] == "waiting_pin"
    assert wrong.json["error"]["code"] == "wrong_pin"  # type: ignore[index]
    assert wrong.json["error"]["tries_left"] == 5  # type: ignore[index]

    for guessable in ("111111", "654321"):
        refused = change_post(agent, request_id, token, guessable, old=PIN)
        assert refused.json["error"]["code"] == "pin_policy"  # type: ignore[index]
    # the refused new PINs used no try
    status = pin_status(softhsm_store.module, "ukey-1", conf=softhsm_store.conf)
    assert status.tries_left == 5

    done = change_post(agent, request_id, token, NEW_PIN, old=PIN)
    assert done.json == {"state": "done", "op": "change_pin", "attempts": 4}
    polled = call(agent, "GET", f"/v1/requests/{request_id}").json
    assert polled["result"] == {"changed": True}
    assert PIN not in repr(polled) and NEW_PIN not in repr(polled)
    user_login(softhsm_store.module, "ukey-1", NEW_PIN, conf=softhsm_store.conf).close()


def test_a_cancelled_forced_change_forgets_the_pin(
    softhsm_store: SoftHSMStore, agent: AgentServer, cert: x509.Certificate
) -> None:
    reset_by_so(softhsm_store)
    request_id = str(new_login(agent, cert).json["id"])
    token = form_token(agent, request_id)
    assert pin_page_post(agent, request_id, token, SMS_PIN).json["state"] == "must_change"
    request = agent.registry.get(request_id)
    assert request.pending_pin == SMS_PIN
    call(agent, "POST", f"/v1/requests/{request_id}/cancel", body={})
    assert request.pending_pin is None
    late = change_post(agent, request_id, token, NEW_PIN)
    assert late.error_code() == "request_closed"
    status = pin_status(softhsm_store.module, "ukey-1", conf=softhsm_store.conf)
    assert status.must_change is True
