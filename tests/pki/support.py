"""Test support for the CA core: a declarative in-memory PKI, named clocks, external checkers."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from certhall.pki import authority
from certhall.pki.issuance import Issuer, Subscriber

# Named clocks.
CA_CREATED = datetime(2025, 1, 6, 2, 0, 0, tzinfo=UTC)
#: "now" for issuance in the tests: a Tuesday morning in Shenzhen, with microseconds on purpose.
NOW = datetime(2026, 3, 3, 1, 30, 15, 987654, tzinfo=UTC)

CRL_URL = "http://127.0.0.1:8000/crl/sz-issuing.crl"
OCSP_URL = "http://127.0.0.1:8000/ocsp"
CA_ISSUERS_URL = "http://127.0.0.1:8000/ca/sz-issuing.crt"
ROOT_CRL_URL = "http://127.0.0.1:8000/crl/sz-root.crl"
ROOT_CA_ISSUERS_URL = "http://127.0.0.1:8000/ca/sz-root.crt"

ORG = Subscriber(org_name="深圳市演示医疗科技有限公司", uscc="91350100M000100Y43")
PERSON = Subscriber(
    org_name="深圳市演示医疗科技有限公司",
    uscc="91350100M000100Y43",
    person_name="张三",
    id_number="11010519491231002X",
)


@dataclass(frozen=True)
class PKI:
    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    issuing_key: ec.EllipticCurvePrivateKey
    issuing: x509.Certificate
    issuer: Issuer
    responder_key: ec.EllipticCurvePrivateKey
    responder: x509.Certificate


def make_pki(now: datetime = CA_CREATED) -> PKI:
    names = authority.demo_names()
    root_key = ec.generate_private_key(ec.SECP384R1())
    root = authority.build_root(root_key, names.root, now)
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    issuing = authority.build_intermediate(
        root,
        root_key,
        issuing_key.public_key(),
        names.issuing,
        now,
        crl_url=ROOT_CRL_URL,
        ca_issuers_url=ROOT_CA_ISSUERS_URL,
    )
    issuer = Issuer(issuing, issuing_key, CRL_URL, OCSP_URL, CA_ISSUERS_URL)
    responder_key = ec.generate_private_key(ec.SECP256R1())
    responder = authority.build_ocsp_responder(
        issuer, responder_key.public_key(), authority.demo_responder_name(), NOW
    )
    return PKI(root_key, root, issuing_key, issuing, issuer, responder_key, responder)


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def write(path: Path, data: bytes | x509.Certificate) -> Path:
    path.write_bytes(pem(data) if isinstance(data, x509.Certificate) else data)
    return path


BIN = Path(sys.executable).parent


def run(*cmd: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120)


PKILINT = {
    "cert": ["lint_pkix_cert", "lint"],
    "crl": ["lint_crl", "lint", "-t", "CRL", "-p", "PKIX"],
    "ocsp": ["lint_ocsp_response", "lint"],
    "chain": ["lint_pkix_signer_signee_cert_chain", "lint"],
}


def lint(kind: str, *paths: Path, severity: str = "WARNING") -> subprocess.CompletedProcess[str]:
    """Run pkilint from this interpreter's venv; its exit code counts findings >= severity."""
    tool, *args = PKILINT[kind]
    return run(BIN / tool, *args, "-s", severity, *paths)


def assert_lint_clean(kind: str, *paths: Path) -> None:
    result = lint(kind, *paths)
    assert result.returncode == 0, (
        f"pkilint {kind} found {result.returncode} problem(s) in {[p.name for p in paths]}:\n"
        f"{result.stdout}{result.stderr}"
    )
