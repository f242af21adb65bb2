"""The helper's side of an online renewal, over HTTP: new key + CSR + old key's signature after
the PIN, install, retry finds the same key (and the installed certificate), finish."""

from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from certhall.agent import protocol
from certhall.agent.server import AgentServer
from tests.agent.support import (
    HALL,
    PIN,
    SoftwareCA,
    call,
    fingerprint,
    running_agent,
    ukey_with_certificate,
)
from tests.agent.test_server import form_token, pin_page_post
from tests.conftest_softhsm import SoftHSMStore

pytestmark = pytest.mark.softhsm


def renew_request(agent: AgentServer, cert: x509.Certificate) -> dict[str, object]:
    """Create a renew request, type the PIN, return the finished request (with its result)."""
    created = call(
        agent,
        "POST",
        "/v1/requests",
        body={"op": "renew", "certificate": fingerprint(cert), "years": 1},
    )
    assert created.status == 201, created.body
    request_id = str(created.json["id"])
    done = pin_page_post(agent, request_id, form_token(agent, request_id), PIN)
    assert done.json["state"] == "done", done.body
    return call(agent, "GET", f"/v1/requests/{request_id}").json


def test_renewal_steps(softhsm_store: SoftHSMStore) -> None:
    ca = SoftwareCA.create()
    old = ukey_with_certificate(softhsm_store, ca)
    with running_agent(softhsm_store) as agent:
        first = renew_request(agent, old)
        result = first["result"]
        assert isinstance(result, dict)
        csr = x509.load_pem_x509_csr(str(result["csr"]).encode())
        assert csr.is_signature_valid
        new_hash = protocol.public_key_sha256(csr.public_key())
        assert result["new_key_sha256"] == new_hash
        assert result["installed_serial"] is None
        message = protocol.renewal_message(HALL, format(old.serial_number, "x"), new_hash, 1)
        signature = protocol.b64decode(result["signature"], "signature")
        assert protocol.verify_signature(old.public_key(), signature, message)

        # the hall issues; a certificate for another key is refused by the helper
        stranger = ca.issue(ec.generate_private_key(ec.SECP256R1()).public_key())
        refused = call(
            agent,
            "POST",
            f"/v1/requests/{first['id']}/install",
            body={"certificate": protocol.b64encode(stranger.public_bytes(Encoding.DER))},
        )
        assert refused.status == 409
        assert refused.error_code() == "certificate_mismatch"
        new = ca.issue(csr.public_key())
        installed = call(
            agent,
            "POST",
            f"/v1/requests/{first['id']}/install",
            body={"certificate": protocol.b64encode(new.public_bytes(Encoding.DER))},
        )
        assert installed.status == 200, installed.body
        assert installed.json["installed"]["serial"] == format(new.serial_number, "x")  # type: ignore[index]

        # interrupted here (say the browser closed): a retry finds the key and the certificate
        again = renew_request(agent, old)
        retried = again["result"]
        assert isinstance(retried, dict)
        assert retried["new_key_sha256"] == new_hash
        assert retried["installed_serial"] == format(new.serial_number, "x")
        # install again is harmless
        assert (
            call(
                agent,
                "POST",
                f"/v1/requests/{again['id']}/install",
                body={"certificate": protocol.b64encode(new.public_bytes(Encoding.DER))},
            ).status
            == 200
        )
        finished = call(agent, "POST", f"/v1/requests/{again['id']}/finish", body={})
        assert finished.status == 200, finished.body
        assert finished.json["state"] == "finished"
        listed = call(agent, "GET", "/v1/certificates").json["certificates"]
        assert [c["serial"] for c in listed] == [format(new.serial_number, "x")]  # type: ignore[index, union-attr]
        # the request's logged-in session is gone
        closed = call(agent, "POST", f"/v1/requests/{again['id']}/install", body={})
        assert closed.status == 409


def test_finish_refuses_before_install(softhsm_store: SoftHSMStore) -> None:
    old = ukey_with_certificate(softhsm_store, SoftwareCA.create())
    with running_agent(softhsm_store) as agent:
        request = renew_request(agent, old)
        answer = call(agent, "POST", f"/v1/requests/{request['id']}/finish", body={})
        assert answer.status == 409
        assert answer.error_code() == "renewal_not_installed"
        listed = call(agent, "GET", "/v1/certificates").json["certificates"]
        assert [c["serial"] for c in listed] == [format(old.serial_number, "x")]  # type: ignore[index, union-attr]
