"""The served CA as real clients see it: OpenSSL verifies against the served CRL and queries the
served OCSP responder; pkilint checks every certificate, CRL and OCSP response we emit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp

from tests.interop.conftest import Instance
from tests.interop.tools import new_csr, pkilint, run

pytestmark = [pytest.mark.interop, pytest.mark.slow]

ORG = ["--org-name", "深圳市演示医疗科技有限公司", "--uscc", "91350100M000100Y43"]
PERSON = ["--person-name", "张三", "--id-number", "11010519491231002X"]


def _split_chain(instance: Instance, tmp: Path) -> tuple[Path, Path, Path]:
    chain = tmp / "chain.pem"
    instance.cli("ca", "chain", "--out", str(chain))
    certs = x509.load_pem_x509_certificates(chain.read_bytes())
    assert len(certs) == 2
    issuing, root = tmp / "issuing.pem", tmp / "root.pem"
    issuing.write_bytes(certs[0].public_bytes(Encoding.PEM))
    root.write_bytes(certs[1].public_bytes(Encoding.PEM))
    return chain, issuing, root


def _crl_pem(instance: Instance, tmp: Path, slug: str) -> Path:
    status, headers, der = instance.get(f"/crl/{slug}.crl")
    assert status == 200
    assert headers["Content-Type"] == "application/pkix-crl"
    assert "max-age" in headers["Cache-Control"]
    crl = x509.load_der_x509_crl(der)
    (tmp / f"{slug}.crl").write_bytes(der)
    pkilint("crl", tmp / f"{slug}.crl")
    path = tmp / f"{slug}.crl.pem"
    path.write_bytes(crl.public_bytes(Encoding.PEM))
    return path


def _ocsp(
    instance: Instance, tmp: Path, chain: Path, issuing: Path, *target: str, url: str = ""
) -> str:
    resp = tmp / "resp.der"
    result = run(
        "openssl",
        "ocsp",
        "-issuer",
        issuing,
        *target,
        "-url",
        f"{url or instance.url}/ocsp",
        "-CAfile",
        chain,
        "-respout",
        resp,
        check=False,
    )
    output = result.stdout + result.stderr
    if resp.exists() and resp.stat().st_size:
        pkilint("ocsp", resp)
    return output


def _issue(instance: Instance, tmp: Path, name: str, *extra: str) -> tuple[str, Path]:
    out = tmp / f"{name}.pem"
    result = instance.cli(
        "ca", "issue", "--csr", str(new_csr(tmp, name)), "--out", str(out), *extra
    )
    serial = result.stdout.strip()
    assert int(serial, 16) == x509.load_pem_x509_certificate(out.read_bytes()).serial_number
    return serial, out


def test_ca_certificates_are_served_and_lint_clean(instance: Instance, tmp_path: Path) -> None:
    _, issuing, root = _split_chain(instance, tmp_path)
    for slug, local in (("szca-root", root), ("szca-issuing", issuing)):
        status, headers, der = instance.get(f"/ca/{slug}.crt")
        assert status == 200
        assert headers["Content-Type"] == "application/pkix-cert"
        assert der == x509.load_pem_x509_certificate(local.read_bytes()).public_bytes(Encoding.DER)
        pkilint("cert", local)
    pkilint("chain", root, issuing)
    status, _, page = instance.get("/")
    assert status == 200
    assert "证书验证服务" in page.decode()
    assert instance.get("/ca/nope.crt")[0] == 404


@pytest.mark.parametrize(
    ("profile", "extra"),
    [("org", ["--years", "1"]), ("personal", ["--years", "3", *PERSON])],
)
def test_issue_verify_revoke_with_openssl(
    instance: Instance, tmp_path: Path, profile: str, extra: list[str]
) -> None:
    chain, issuing, root = _split_chain(instance, tmp_path)
    serial, cert = _issue(instance, tmp_path, profile, "--profile", profile, *ORG, *extra)
    pkilint("cert", cert)
    pkilint("chain", issuing, cert)

    crl = _crl_pem(instance, tmp_path, "szca-issuing")
    verify = [
        "openssl",
        "verify",
        "-CAfile",
        root,
        "-untrusted",
        issuing,
        "-crl_check",
        "-CRLfile",
        crl,
        cert,
    ]
    assert run(*verify).stdout.strip().endswith("OK")

    output = _ocsp(instance, tmp_path, chain, issuing, "-cert", cert)
    assert f"{cert}: good" in output
    assert "Response verify OK" in output

    instance.cli("ca", "revoke", serial, "--reason", "keyCompromise")

    crl = _crl_pem(instance, tmp_path, "szca-issuing")
    result = run(*verify[:-3], "-CRLfile", crl, cert, check=False)
    assert result.returncode != 0
    assert "certificate revoked" in result.stdout + result.stderr

    output = _ocsp(instance, tmp_path, chain, issuing, "-cert", cert)
    assert f"{cert}: revoked" in output
    assert "Reason: keyCompromise" in output
    assert "Response verify OK" in output


def test_ocsp_unknown_malformed_and_foreign_ca(instance: Instance, tmp_path: Path) -> None:
    chain, issuing, _ = _split_chain(instance, tmp_path)
    output = _ocsp(instance, tmp_path, chain, issuing, "-serial", "0x5eed5eed5eed5eed")
    assert "0x5eed5eed5eed5eed: unknown" in output
    assert "Response verify OK" in output

    status, body = instance.post("/ocsp", b"\x30\x03garbage", "application/ocsp-request")
    assert status == 200
    response = ocsp.load_der_ocsp_response(body)
    assert response.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    (tmp_path / "malformed.der").write_bytes(body)
    pkilint("ocsp", tmp_path / "malformed.der")

    # A CA we are not authoritative for gets "unauthorized", not "unknown".
    other_key, other = tmp_path / "other.key", tmp_path / "other.pem"
    run(
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        other_key,
        "-subj",
        "/CN=Some Other CA",
        "-days",
        "30",
        "-out",
        other,
    )
    result = run(
        "openssl",
        "ocsp",
        "-issuer",
        other,
        "-serial",
        "0x1234",
        "-url",
        f"{instance.url}/ocsp",
        "-CAfile",
        chain,
        check=False,
    )
    assert "unauthorized" in result.stdout + result.stderr


def subscribers(instance: Instance) -> list[dict[str, object]]:
    """The registry's subscriber certificates: not the OCSP responder's own, which the served
    instance's first job round issues whenever it comes (before or during a test)."""
    rows = json.loads(instance.cli("ca", "list", "--json").stdout)
    return [row for row in rows if row["profile"] != "ocsp"]


def test_bad_input_changes_nothing(instance: Instance, tmp_path: Path) -> None:
    before = subscribers(instance)
    good_csr = new_csr(tmp_path, "good")
    cases = {
        "rsa1024": (
            [
                "--csr",
                str(new_csr(tmp_path, "weak", "rsa1024")),
                "--profile",
                "org",
                "--years",
                "1",
                *ORG,
            ],
            "RSA",
        ),
        "p384": (
            [
                "--csr",
                str(new_csr(tmp_path, "p384", "p384")),
                "--profile",
                "org",
                "--years",
                "1",
                *ORG,
            ],
            "secp384r1",
        ),
        "uscc": (
            [
                "--csr",
                str(good_csr),
                "--profile",
                "org",
                "--years",
                "1",
                "--org-name",
                "x",
                "--uscc",
                "91350100M000100Y44",
            ],
            "校验位不正确",
        ),
        "years": (
            ["--csr", str(good_csr), "--profile", "org", "--years", "2", *ORG],
            "只能办理1年期",
        ),
        "years6": (
            ["--csr", str(good_csr), "--profile", "personal", "--years", "6", *ORG, *PERSON],
            "5",
        ),
    }
    (tmp_path / "garbage.csr").write_bytes(b"-----BEGIN CERTIFICATE REQUEST-----\nnope\n")
    cases["garbage"] = (
        ["--csr", str(tmp_path / "garbage.csr"), "--profile", "org", "--years", "1", *ORG],
        "CSR",
    )
    for name, (args, words) in cases.items():
        out = tmp_path / f"{name}.pem"
        result = instance.cli("ca", "issue", *args, "--out", str(out), check=False)
        assert result.returncode != 0, name
        assert result.stderr.count("\n") == 1, (name, result.stderr)
        assert words.lower() in result.stderr.lower(), (name, result.stderr)
        assert not out.exists(), name
    for args, words in [
        (["ca", "revoke", "abcdef0123", "--reason", "superseded"], "没有序列号为"),
        (["ca", "revoke", "xyz", "--reason", "superseded"], "不是证书序列号"),
        (["ca", "revoke", "abcdef0123", "--reason", "becauseISaidSo"], "未知的吊销原因"),
    ]:
        result = instance.cli(*args, check=False)
        assert result.returncode != 0
        assert words in result.stderr
    serial, _ = _issue(instance, tmp_path, "twice", "--profile", "org", "--years", "1", *ORG)
    instance.cli("ca", "revoke", serial, "--reason", "superseded")
    again = instance.cli("ca", "revoke", serial, "--reason", "keyCompromise", check=False)
    assert again.returncode != 0
    assert "吊销（原因：superseded）" in again.stderr
    assert len(subscribers(instance)) == len(before) + 1
    assert instance.cli("audit", "verify").returncode == 0


def test_a_chunked_ocsp_post_is_answered(instance: Instance, tmp_path: Path) -> None:
    """Issue 8: a POST with ``Transfer-Encoding: chunked`` (no Content-Length) arrived at the
    responder empty. The question here is about an unknown serial, so it is answered by Django
    (not the pre-signed fast path): the body must reach it whole."""
    import socket
    from urllib.parse import urlsplit

    from cryptography.hazmat.primitives import hashes

    _, issuing_pem, _ = _split_chain(instance, tmp_path)
    issuing = x509.load_pem_x509_certificate(issuing_pem.read_bytes())
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(
            _issuer_hash(issuing, name=True),
            _issuer_hash(issuing, name=False),
            0x5EED,
            hashes.SHA1(),  # noqa: S303 - OCSP CertIDs name issuers by SHA-1 (RFC 6960)
        )
        .build()
        .public_bytes(Encoding.DER)
    )
    half = len(request) // 2
    chunks = b"".join(
        f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (request[:half], request[half:])
    )
    url = urlsplit(instance.url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as conn:
        conn.sendall(
            b"POST /ocsp HTTP/1.1\r\nHost: " + url.netloc.encode() + b"\r\n"
            b"Content-Type: application/ocsp-request\r\nTransfer-Encoding: chunked\r\n"
            b"Connection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
        )
        raw = b""
        while data := conn.recv(65536):
            raw += data
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    response = ocsp.load_der_ocsp_response(body)
    assert response.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert response.serial_number == 0x5EED
    assert response.certificate_status == ocsp.OCSPCertStatus.UNKNOWN


def _issuer_hash(issuing: x509.Certificate, *, name: bool) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.serialization import PublicFormat

    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 - the CertID hash of RFC 6960
    if name:
        digest.update(issuing.subject.public_bytes())
    else:
        spki = issuing.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        # the BIT STRING content of the SubjectPublicKeyInfo: its last len(key) octets
        key = issuing.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        assert spki.endswith(key)
        digest.update(key)
    return digest.finalize()


def _unchunk(body: bytes) -> bytes:
    out = b""
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out, body = out + body[:size], body[size + 2 :]
    return out
