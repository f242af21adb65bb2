"""Kill it mid-step: the CA. A real ``certhall ca ...`` SIGKILLed between two of its effects
(``certhall.crashpoints``), in the shared demo home; then the registry, the stored OCSP answers,
the CRLs (numbers never reused), the files the command writes (none that claims what the
registry does not hold) and the audit chain (``certhall audit verify``'s check, in the process
that looks), and the run that finishes the work.

Points: ``ca.revoked`` (the revocation and its OCSP answer committed, the CRL not yet re-signed),
``output.settled`` (``--out`` on the disk beside its target, the work not yet committed),
``output.committed`` (the work committed, the file not yet renamed into place)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.support.crash import Home

pytestmark = [pytest.mark.slow, pytest.mark.softhsm]

ORG = {"org_name": "深圳市崩溃测试有限公司", "uscc": "91440300MA5DEM0K1W"}


def _manifest(folder: Path, count: int) -> Path:
    folder.mkdir()
    lines = []
    for n in range(count):
        key = ec.generate_private_key(ec.SECP256R1())
        csr = (
            x509.CertificateSigningRequestBuilder()
            .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, f"c{n}")]))
            .sign(key, hashes.SHA256())
        )
        (folder / f"{n}.csr").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
        lines.append(json.dumps({"csr": f"{n}.csr", "profile": "org", "years": 1, **ORG}))
    manifest = folder / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def _in_files(folder: Path) -> tuple[set[str], set[int]]:
    """The certificates (serial, hex) and CRL numbers in every file of ``folder``, temporary
    ones included: what an operator could hand out."""
    serials: set[str] = set()
    numbers: set[int] = set()
    for path in folder.iterdir():
        data = path.read_bytes()
        if b"BEGIN CERTIFICATE" in data:
            serials |= {f"{c.serial_number:x}" for c in x509.load_pem_x509_certificates(data)}
        elif ".crl" in path.name:
            crl = x509.load_der_x509_crl(data)
            numbers.add(crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number)
    return serials, numbers


def _seen(home: Home, audit: bool = False) -> dict[str, Any]:
    """The issuing CA's CRLs, the registry and the stored OCSP answers; with ``audit``, the audit
    chain is then verified in the same process (``certhall audit verify``'s check)."""
    seen: dict[str, Any] = home.json("ca-inspect", audit=audit)
    return seen


def _files_hold_only_what_the_registry_does(home: Home, folder: Path, audit: bool = False) -> None:
    seen = _seen(home, audit)
    serials, numbers = _in_files(folder)
    assert serials <= set(seen["certificates"]), serials - set(seen["certificates"])
    stored = {c["number"]: c for c in seen["crls"]}
    assert numbers <= set(stored), (numbers, set(stored))
    for path in folder.iterdir():
        if ".crl" in path.name:
            crl = x509.load_der_x509_crl(path.read_bytes())
            number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
            assert _sha(path) == stored[number]["sha256"], path  # the one signed with it


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ca_killed_mid_step_leaves_nothing_unknown(demo_home: Home, tmp_path: Path) -> None:
    home = demo_home
    manifest = _manifest(tmp_path / "csrs", 3)
    out = tmp_path / "out"
    out.mkdir()
    pem = str(out / "batch.pem")
    before = set(_seen(home)["certificates"])

    # Batch issuance, killed with the PEM file written beside its target but the batch not
    # committed: the registry holds none of them, and no file holds a certificate it does not.
    home.kill_cli_at("output.settled", "ca", "issue-batch", str(manifest), "--out", pem)
    assert set(_seen(home, audit=True)["certificates"]) == before
    assert not Path(pem).exists()
    # Killed with the batch committed, the file not yet in place: the registry holds the three.
    home.kill_cli_at("output.committed", "ca", "issue-batch", str(manifest), "--out", pem)
    committed = set(_seen(home, audit=True)["certificates"]) - before
    assert len(committed) == 3 and not Path(pem).exists()
    # Those three are written from the registry (not signed again).
    home.cli("ca", "export", *sorted(committed), "--out", str(out / "committed.pem"))
    exported = x509.load_pem_x509_certificates((out / "committed.pem").read_bytes())
    assert {f"{c.serial_number:x}" for c in exported} == committed
    # Run again: the file in place, every certificate in it registered and valid.
    home.cli("ca", "issue-batch", str(manifest), "--out", pem)
    seen = _seen(home)
    written, _ = _in_files(out)
    assert len(written) >= 3 and all(seen["certificates"][s] == "valid" for s in written)
    _files_hold_only_what_the_registry_does(home, out)

    # Revocation, killed once committed but before the CRL was re-signed.
    target = sorted(committed)[0]
    numbers = [c["number"] for c in seen["crls"]]
    home.kill_cli_at("ca.revoked", "ca", "revoke", target, "--reason", "keyCompromise")
    seen = _seen(home, audit=True)
    assert seen["certificates"][target] == "revoked"
    assert seen["ocsp"][target] == "revoked"  # the stored answer was re-signed with it
    assert [c["number"] for c in seen["crls"]] == numbers  # no CRL yet
    # The jobs' next round publishes the CRL the kill stopped.
    home.cli("jobs")
    seen = _seen(home, audit=True)
    newest = seen["crls"][-1]
    assert newest["number"] == numbers[-1] + 1 and target in newest["serials"], seen["crls"]

    # `certhall ca crl --out`, killed at each side of its commit: numbers only grow, and no file
    # holds a CRL other than the one stored under its number.
    crl = str(out / "issuing.crl")
    home.kill_cli_at("output.settled", "ca", "crl", "--out", crl)
    assert _seen(home)["crl_number"] == newest["number"]
    home.kill_cli_at("output.committed", "ca", "crl", "--out", crl)
    assert _seen(home)["crl_number"] == newest["number"] + 1
    assert not Path(crl).exists()
    home.cli("ca", "crl", "--out", crl)
    seen = _seen(home)
    assert seen["crl_number"] == newest["number"] + 2
    numbers = [c["number"] for c in seen["crls"]]
    assert numbers == sorted(set(numbers))
    _files_hold_only_what_the_registry_does(home, out, audit=True)
