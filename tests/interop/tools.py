"""Independent checkers: OpenSSL and pkilint, run as separate processes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def run(*cmd: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))}: {result.stdout}{result.stderr}")
    return result


def pkilint(kind: str, *paths: Path) -> None:
    """Assert pkilint reports nothing at WARNING or above (its exit code counts findings)."""
    commands = {
        "cert": ["lint_pkix_cert", "lint"],
        "crl": ["lint_crl", "lint", "-t", "CRL", "-p", "PKIX"],
        "ocsp": ["lint_ocsp_response", "lint"],
        "chain": ["lint_pkix_signer_signee_cert_chain", "lint"],
    }
    tool, *args = commands[kind]
    result = run(BIN / tool, *args, "-s", "WARNING", *paths, check=False)
    assert result.returncode == 0, f"pkilint {kind} {paths}:\n{result.stdout}{result.stderr}"


def new_csr(directory: Path, name: str, key: str = "ec") -> Path:
    """A CSR from a key OpenSSL generates (its subject is deliberately not ours)."""
    newkey = {
        "ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
        "p384": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:secp384r1"],
        "rsa1024": ["-newkey", "rsa:1024"],
        "rsa2048": ["-newkey", "rsa:2048"],
    }[key]
    csr = directory / f"{name}.csr"
    run(
        "openssl",
        "req",
        "-new",
        *newkey,
        "-nodes",
        "-keyout",
        directory / f"{name}.key",
        "-subj",
        "/CN=whatever the CSR says/O=ignored",
        "-out",
        csr,
    )
    return csr
