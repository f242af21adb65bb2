"""Ukeys with certificates, a helper running in a thread, and an HTTP client for it.

Shared by the helper, certificate login, renewal and browser tests.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from certhall.agent.server import AgentConfig, AgentServer
from certhall.pki import authority
from certhall.pki.issuance import Issuer, Subscriber, build_certificate, new_serial
from certhall.pki.profiles import get_profile
from certhall.tokens import format_token, generate_keypair, user_login, write_certificate
from certhall.tokens.objects import build_csr
from tests.conftest_softhsm import SoftHSMStore

PIN = "246810"
SO_PIN = "so-pin-13579"
HALL = "http://hall.example:8000"
KEY_LABEL = "key-1"

ORG = Subscriber(org_name="深圳市演示医疗科技有限公司", uscc="91350100M000100Y43")
PERSON = Subscriber(
    org_name="深圳市演示医疗科技有限公司",
    uscc="91350100M000100Y43",
    person_name="张三",
    id_number="11010519491231002X",
)


@dataclass(frozen=True)
class SoftwareCA:
    """A throwaway two-level CA with software keys (another CA, as far as the hall knows)."""

    root: x509.Certificate
    issuer: Issuer

    @classmethod
    def create(cls, name: str = "其他CA", now: datetime | None = None) -> SoftwareCA:
        now = now or datetime.now(UTC) - timedelta(days=1)
        root_key = ec.generate_private_key(ec.SECP256R1())
        issuing_key = ec.generate_private_key(ec.SECP256R1())
        root_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"{name} 根CA")])
        issuing_name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"{name} 签发CA")])
        root = authority.build_root(root_key, root_name, now)
        base = f"http://{abs(hash(name)) % 10_000}.ca.example"
        issuing = authority.build_intermediate(
            root,
            root_key,
            issuing_key.public_key(),
            issuing_name,
            now,
            crl_url=f"{base}/root.crl",
            ca_issuers_url=f"{base}/root.crt",
        )
        issuer = Issuer(
            issuing, issuing_key, f"{base}/issuing.crl", f"{base}/ocsp", f"{base}/i.crt"
        )
        return cls(root, issuer)

    def issue(
        self,
        public_key: object,
        subscriber: Subscriber = ORG,
        profile: str = "org",
        years: int = 1,
        now: datetime | None = None,
    ) -> x509.Certificate:
        return build_certificate(
            self.issuer,
            public_key,  # type: ignore[arg-type]
            get_profile(profile),
            years,
            subscriber,
            new_serial(),
            now or datetime.now(UTC) - timedelta(hours=1),
        )


def new_ukey(store: SoftHSMStore, label: str = "ukey-1", pin: str = PIN) -> str:
    format_token(store.module, label, SO_PIN, pin, conf=store.conf)
    return label


def ukey_csr(store: SoftHSMStore, label: str, key_type: str = "ec") -> bytes:
    """Generate the key pair KEY_LABEL on the Ukey; return its CSR (PEM)."""
    with user_login(store.module, label, PIN, conf=store.conf) as session:
        generate_keypair(session, KEY_LABEL, key_type)  # type: ignore[arg-type]
        return build_csr(session, KEY_LABEL).public_bytes(serialization.Encoding.PEM)


def put_certificate(
    store: SoftHSMStore, label: str, cert: x509.Certificate, chain: list[x509.Certificate]
) -> None:
    with user_login(store.module, label, PIN, conf=store.conf) as session:
        write_certificate(session, KEY_LABEL, cert, chain)


def ukey_with_certificate(
    store: SoftHSMStore,
    ca: SoftwareCA,
    label: str = "ukey-1",
    subscriber: Subscriber = ORG,
    profile: str = "org",
    now: datetime | None = None,
) -> x509.Certificate:
    """A formatted Ukey holding KEY_LABEL and a certificate from ``ca`` for it."""
    new_ukey(store, label)
    csr = x509.load_pem_x509_csr(ukey_csr(store, label))
    cert = ca.issue(csr.public_key(), subscriber, profile, now=now)
    put_certificate(store, label, cert, [ca.issuer.certificate, ca.root])
    return cert


def fingerprint(cert: x509.Certificate) -> str:
    import hashlib

    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


@contextmanager
def running_agent(store: SoftHSMStore, hall: str = HALL, **options: float) -> Iterator[AgentServer]:
    config = AgentConfig(hall_origin=hall, port=0, module=store.module, conf=store.conf, **options)
    server = AgentServer(config)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, object]:
        data = json.loads(self.body)
        assert isinstance(data, dict)
        return data

    def error_code(self) -> str | None:
        error = self.json.get("error")
        return error.get("code") if isinstance(error, dict) else None  # type: ignore[return-value]


def call(
    server: AgentServer,
    method: str,
    path: str,
    *,
    origin: str | None = HALL,
    body: object = None,
    host: str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    sent = {"Host": host or f"127.0.0.1:{server.port}"}
    if origin is not None:
        sent["Origin"] = origin
    data = None
    if body is not None:  # bytes are sent as they are
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    sent.update(headers or {})
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        return Answer(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        connection.close()
