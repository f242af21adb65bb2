"""A Ukey pulled out while the helper works on it: a clear message, never a hang or a 500."""

from __future__ import annotations

import shutil
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certhall.agent import protocol
from certhall.agent.server import AgentConfig, AgentServer
from certhall.agent.ukey import UkeyCertificate, Ukeys
from certhall.tokens.session import TokenSession
from tests.agent.support import PIN, SoftwareCA, call, running_agent, ukey_with_certificate
from tests.agent.test_renewal_flow import renew_request
from tests.agent.test_server import form_token, new_login, pin_page_post
from tests.conftest_softhsm import SoftHSMStore

pytestmark = pytest.mark.softhsm


def pull_out(store: SoftHSMStore) -> None:
    """SoftHSM2's equivalent of pulling the Ukey out: its token directory disappears."""
    for token_dir in store.token_dir.iterdir():
        if token_dir.is_dir():
            shutil.rmtree(token_dir)


@pytest.fixture
def cert(softhsm_store: SoftHSMStore) -> x509.Certificate:
    return ukey_with_certificate(softhsm_store, SoftwareCA.create())


def test_removed_before_the_pin_is_typed(
    softhsm_store: SoftHSMStore, cert: x509.Certificate
) -> None:
    with running_agent(softhsm_store) as agent:
        request_id = str(new_login(agent, cert).json["id"])
        token = form_token(agent, request_id)
        pull_out(softhsm_store)
        answer = pin_page_post(agent, request_id, token, PIN).json
        assert answer["state"] == "failed"
        assert answer["error"]["code"] == "token_removed"  # type: ignore[index]
        assert "拔出" in answer["error"]["message"]  # type: ignore[index]
        polled = call(agent, "GET", f"/v1/requests/{request_id}").json
        assert polled["error"]["code"] == "token_removed"  # type: ignore[index]
        listed = call(agent, "GET", "/v1/certificates").json
        assert listed == {"tokens": [], "certificates": []}


class PulledAfterLogin(Ukeys):
    """The Ukey goes away between the PIN check and the signature."""

    def __init__(self, store: SoftHSMStore) -> None:
        super().__init__(store.module, store.conf)
        self.store = store

    def login(self, entry: UkeyCertificate, pin: str) -> TokenSession:
        session = super().login(entry, pin)
        pull_out(self.store)
        return session


def test_removed_while_signing(softhsm_store: SoftHSMStore, cert: x509.Certificate) -> None:
    config = AgentConfig(
        hall_origin="http://hall.example:8000",
        port=0,
        module=softhsm_store.module,
        conf=softhsm_store.conf,
    )
    agent = AgentServer(config, ukeys=PulledAfterLogin(softhsm_store))
    thread = threading.Thread(target=agent.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        request_id = str(new_login(agent, cert).json["id"])
        answer = pin_page_post(agent, request_id, form_token(agent, request_id), PIN).json
        assert answer["state"] == "failed"
        assert answer["error"]["code"] == "token_removed"  # type: ignore[index]
    finally:
        agent.shutdown()
        agent.server_close()
        thread.join(5)


def test_a_ukey_pulled_and_plugged_back_during_a_renewal_is_listed_again(
    softhsm_store: SoftHSMStore,
) -> None:
    """A renewal keeps its logged-in session for install and finish. Pulled out then, the
    Ukey's session is dead, and SoftHSM2 fails every other session of the store while it is
    open: the helper listed no certificate at all, even with the Ukey plugged back in, until
    the renewal session expired (5 minutes). It is closed as soon as the Ukey is missed."""
    old = ukey_with_certificate(softhsm_store, SoftwareCA.create())
    with running_agent(softhsm_store) as agent:
        request = renew_request(agent, old)
        (token_dir,) = [d for d in softhsm_store.token_dir.iterdir() if d.is_dir()]
        aside = softhsm_store.token_dir.parent / "pulled-out"
        shutil.move(token_dir, aside)  # pulled out ...
        install = call(
            agent,
            "POST",
            f"/v1/requests/{request['id']}/install",
            body={"certificate": protocol.b64encode(old.public_bytes(Encoding.DER))},
        )
        assert install.error_code() == "token_removed"
        shutil.move(aside, token_dir)  # ... and back
        listed = call(agent, "GET", "/v1/certificates").json
        assert [c["serial"] for c in listed["certificates"]] == [format(old.serial_number, "x")]  # type: ignore[union-attr]
        polled = call(agent, "GET", f"/v1/requests/{request['id']}").json
        assert polled["state"] == "failed"
        assert polled["error"]["code"] == "token_removed"  # type: ignore[index]
