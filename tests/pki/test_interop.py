"""What the CA core emits, checked by independent tools: pkilint and OpenSSL.

pkilint's exit code is the number of findings at or above the given severity; everything here must
be clean at WARNING (INFO notes are allowed and listed in docs/profiles.md).
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp as cocsp
from cryptography.x509.ocsp import OCSPResponseStatus

from certhall.pki.crl import build_crl
from certhall.pki.keys import CertAndKey
from certhall.pki.ocsp import build_response, error_response, parse_request

from .conftest import Issue
from .support import NOW, ORG, PERSON, PKI, assert_lint_clean, lint, run, write

pytestmark = pytest.mark.interop

ATTIME = str(int((NOW + timedelta(hours=1)).timestamp()))  # OpenSSL checks dates at this instant


@pytest.fixture(scope="module")
def certs(issue: Issue) -> dict[str, x509.Certificate]:
    return {
        "org": issue("org", 1, ORG),
        "org-rsa": issue("org", 1, ORG, rsa.generate_private_key(65537, 2048).public_key()),
        "personal": issue("personal", 5, PERSON),
        "personal-rsa": issue(
            "personal", 3, PERSON, rsa.generate_private_key(65537, 3072).public_key()
        ),
        "long-names": issue(
            "personal", 1, replace(PERSON, org_name="医" * 64, person_name="欧阳" * 32)
        ),
    }


def test_subscriber_certificates_lint_clean(
    tmp_path: Path, pki: PKI, certs: dict[str, x509.Certificate]
) -> None:
    issuing = write(tmp_path / "issuing.pem", pki.issuing)
    for name, cert in certs.items():
        path = write(tmp_path / f"{name}.pem", cert)
        assert_lint_clean("cert", path)
        assert_lint_clean("chain", issuing, path)


def test_hierarchy_lints_clean(tmp_path: Path, pki: PKI) -> None:
    root = write(tmp_path / "root.pem", pki.root)
    issuing = write(tmp_path / "issuing.pem", pki.issuing)
    responder = write(tmp_path / "responder.pem", pki.responder)
    for path in (root, issuing, responder):
        assert_lint_clean("cert", path)
    assert_lint_clean("chain", root, issuing)
    assert_lint_clean("chain", issuing, responder)


def test_only_info_notes_remain(
    tmp_path: Path, pki: PKI, certs: dict[str, x509.Certificate]
) -> None:
    """The remaining INFO notes are the ones docs/profiles.md lists, nothing else."""
    documented = {
        "pkix.subject_key_identifier_method_1_identified",
        "pkix.certificate_has_no_certificate_policies_extension",
    }
    paths = [write(tmp_path / f"{n}.pem", c) for n, c in certs.items()]
    paths += [write(tmp_path / "root.pem", pki.root), write(tmp_path / "resp.pem", pki.responder)]
    found: set[str] = set()
    for path in paths:
        result = lint("cert", path, severity="INFO")
        found |= {line.split()[0] for line in result.stdout.splitlines() if "(INFO)" in line}
    chain = lint(
        "chain", write(tmp_path / "i.pem", pki.issuing), tmp_path / "resp.pem", severity="INFO"
    )
    found |= {line.split()[0] for line in chain.stdout.splitlines() if "(INFO)" in line}
    assert found <= documented, found - documented


def test_openssl_verifies_both_profiles(
    tmp_path: Path, pki: PKI, certs: dict[str, x509.Certificate]
) -> None:
    root = write(tmp_path / "root.pem", pki.root)
    issuing = write(tmp_path / "issuing.pem", pki.issuing)
    for name in ("org", "personal", "org-rsa", "long-names"):
        ee = write(tmp_path / f"{name}.pem", certs[name])
        result = run(
            "openssl", "verify", "-attime", ATTIME, "-CAfile", root, "-untrusted", issuing, ee
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip().endswith(": OK")
        # clientAuth EKU + digitalSignature: usable for TLS client authentication
        result = run(
            "openssl", "verify", "-purpose", "sslclient", "-attime", ATTIME,
            "-CAfile", root, "-untrusted", issuing, ee,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr


def test_openssl_rejects_a_foreign_chain(tmp_path: Path, pki: PKI, issue: Issue) -> None:
    """The check above can fail: the issuing CA is needed, the root alone does not do."""
    root = write(tmp_path / "root.pem", pki.root)
    ee = write(tmp_path / "ee.pem", issue("org", 1, ORG))
    result = run("openssl", "verify", "-attime", ATTIME, "-CAfile", root, ee)
    assert result.returncode != 0


def _crls(pki: PKI, certs: dict[str, x509.Certificate]) -> dict[str, bytes]:
    this, next_ = NOW, NOW + timedelta(days=7)
    entries = [
        (certs["org"].serial_number, NOW - timedelta(hours=2), x509.ReasonFlags.key_compromise),
        (certs["personal"].serial_number, NOW - timedelta(hours=1), None),
        (12345, NOW - timedelta(days=30), x509.ReasonFlags.unspecified),
        (67890, NOW - timedelta(days=40), x509.ReasonFlags.cessation_of_operation),
    ]
    return {
        "empty": build_crl(pki.issuer, [], 1, this, next_),
        "entries": build_crl(pki.issuer, entries, 2, this, next_),
        "root": build_crl(
            CertAndKey(pki.root, pki.root_key), [], 1, this, this + timedelta(days=90)
        ),
    }


def test_crls_lint_clean(tmp_path: Path, pki: PKI, certs: dict[str, x509.Certificate]) -> None:
    for name, data in _crls(pki, certs).items():
        path = tmp_path / f"{name}.crl"
        path.write_bytes(data)
        assert_lint_clean("crl", path)


def test_openssl_reads_the_crl(
    tmp_path: Path, pki: PKI, certs: dict[str, x509.Certificate]
) -> None:
    crls = _crls(pki, certs)
    root = write(tmp_path / "root.pem", pki.root)
    issuing = write(tmp_path / "issuing.pem", pki.issuing)
    crl_pem = tmp_path / "crl.pem"
    # -crl_check_all needs the CRLs of both CAs: the issuing CA's and the root's
    for name in ("entries", "root"):
        der_path = tmp_path / f"{name}.crl"
        der_path.write_bytes(crls[name])
        converted = run("openssl", "crl", "-inform", "DER", "-in", der_path, "-outform", "PEM")
        assert converted.returncode == 0, converted.stderr
        with crl_pem.open("a") as out:
            out.write(converted.stdout)
    for name, expected in (("org", 2), ("personal", 2), ("org-rsa", 0)):
        ee = write(tmp_path / f"{name}.pem", certs[name])
        result = run(
            "openssl", "verify", "-attime", ATTIME, "-crl_check_all", "-CAfile", root,
            "-untrusted", issuing, "-CRLfile", crl_pem, ee,
        )  # fmt: skip
        assert result.returncode == expected, result.stdout + result.stderr
        if expected:
            assert "certificate revoked" in result.stdout + result.stderr


def _responses(pki: PKI, cert: x509.Certificate) -> dict[str, bytes]:
    request = (
        cocsp.OCSPRequestBuilder()
        .add_certificate(cert, pki.issuing, hashes.SHA256())
        .add_extension(x509.OCSPNonce(os.urandom(32)), critical=False)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    query = parse_request(request)

    def answer(
        status: str, revoked_at: datetime | None = None, reason: x509.ReasonFlags | None = None
    ) -> bytes:
        return build_response(
            query,
            status=status,  # type: ignore[arg-type]
            revoked_at=revoked_at,
            reason=reason,
            issuer_cert=pki.issuing,
            responder_cert=pki.responder,
            responder_key=pki.responder_key,
            this_update=NOW,
            next_update=NOW + timedelta(hours=12),
        )

    return {
        "good": answer("good"),
        "revoked": answer("revoked", NOW - timedelta(hours=3), x509.ReasonFlags.key_compromise),
        "unknown": answer("unknown"),
        "malformed": error_response(OCSPResponseStatus.MALFORMED_REQUEST),
        "unauthorized": error_response(OCSPResponseStatus.UNAUTHORIZED),
    }


def test_ocsp_responses_lint_clean(
    tmp_path: Path, pki: PKI, certs: dict[str, x509.Certificate]
) -> None:
    for name, data in _responses(pki, certs["org"]).items():
        path = tmp_path / f"{name}.der"
        path.write_bytes(data)
        assert_lint_clean("ocsp", path)


def test_openssl_verifies_ocsp_responses(
    tmp_path: Path, pki: PKI, certs: dict[str, x509.Certificate]
) -> None:
    root = write(tmp_path / "root.pem", pki.root)
    issuing = write(tmp_path / "issuing.pem", pki.issuing)
    ee = write(tmp_path / "ee.pem", certs["org"])
    for name, data in _responses(pki, certs["org"]).items():
        if name in {"malformed", "unauthorized"}:
            continue
        path = tmp_path / f"{name}.der"
        path.write_bytes(data)
        result = run(
            "openssl", "ocsp", "-respin", path, "-issuer", issuing, "-sha256", "-cert", ee,
            "-CAfile", root, "-verify_other", issuing, "-no_nonce", "-attime", ATTIME,
            # thisUpdate/nextUpdate are checked against the real clock, not -attime: the tests'
            # frozen NOW is long past, so allow any age
            "-validity_period", "2000000000",
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr
        assert "Response verify OK" in result.stderr
        assert f"ee.pem: {name}" in result.stdout


def test_rsa_issued_hierarchy_lints_clean(tmp_path: Path, pki: PKI) -> None:
    from certhall.pki import authority
    from certhall.pki.issuance import Issuer, build_certificate, new_serial
    from certhall.pki.profiles import ORG as ORG_PROFILE

    from .support import CA_ISSUERS_URL, CRL_URL, OCSP_URL

    key = rsa.generate_private_key(65537, 2048)
    issuing = authority.build_intermediate(
        pki.root, pki.root_key, key.public_key(), authority.demo_names().issuing, NOW
    )
    issuer = Issuer(issuing, key, CRL_URL, OCSP_URL, CA_ISSUERS_URL)
    ee = build_certificate(
        issuer, ec.generate_private_key(ec.SECP256R1()).public_key(), ORG_PROFILE, 1, ORG,
        new_serial(), NOW,
    )  # fmt: skip
    crl = tmp_path / "rsa.crl"
    crl.write_bytes(build_crl(issuer, [(5, NOW, None)], 1, NOW, NOW + timedelta(days=1)))
    paths = [write(tmp_path / "i.pem", issuing), write(tmp_path / "e.pem", ee)]
    for path in paths:
        assert_lint_clean("cert", path)
    assert_lint_clean("chain", *paths)
    assert_lint_clean("crl", crl)


def test_lint_catches_problems(tmp_path: Path, pki: PKI) -> None:
    """pkilint really runs and really fails: a v1-style certificate without extensions."""
    key = ec.generate_private_key(ec.SECP256R1())
    bad = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(pki.issuing.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(NOW)
        .not_valid_after(NOW + timedelta(days=1))
        .sign(pki.issuing_key, hashes.SHA256())
    )
    result = lint("cert", write(tmp_path / "bad.pem", bad))
    assert result.returncode > 0, result.stdout
