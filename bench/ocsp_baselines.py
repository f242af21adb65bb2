"""What the OCSP benchmark's baselines are started with (bench/ocsp.py): openssl's index, CA and
delegated responder, and deploy/nginx.conf with its addresses replaced."""

from __future__ import annotations

import os
import pwd
import re
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import REPO, BenchFailure

NGINX_CONF = REPO / "deploy" / "nginx.conf"


def openssl_files(home: Path, issuer: Any, rows: Sequence[Any], now: datetime) -> Path:
    """openssl's view of the same CA: index, CA certificate, a delegated responder."""
    from datetime import timedelta

    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from bench import registry
    from certhall.pki import authority

    ossl = home / "openssl"
    ossl.mkdir()
    pem = serialization.Encoding.PEM
    (ossl / "issuing.pem").write_bytes(issuer.certificate.public_bytes(pem))
    key = ec.generate_private_key(ec.SECP256R1())
    (ossl / "responder.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (ossl / "responder.key").chmod(0o600)
    name = x509.Name(
        [
            x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, "bench openssl OCSP responder"),
        ]
    )
    responder = authority.build_ocsp_responder(issuer, key.public_key(), name, now, days=30)
    (ossl / "responder.pem").write_bytes(responder.public_bytes(pem))
    expiry = now + timedelta(days=335)
    (ossl / "index.txt").write_text(
        "".join(registry.openssl_index_line(r, expiry) + "\n" for r in rows)
    )
    (ossl / "index.txt.attr").write_text("unique_subject = no\n")
    return ossl


def nginx_cache_seconds() -> int:
    """How long deploy/nginx.conf keeps an OCSP answer (its ``proxy_cache_valid 200 Ns``)."""
    found = re.search(r"proxy_cache_valid\s+200\s+(\d+)s;", NGINX_CONF.read_text())
    if found is None:
        raise BenchFailure(f"{NGINX_CONF}: no 'proxy_cache_valid 200 <N>s;'")
    return int(found.group(1))


def nginx_files(home: Path, port: int, upstream: int, ocsp_upstream: int) -> Path:
    """deploy/nginx.conf with its three addresses replaced, under a prefix of its own.

    Started as root, nginx runs its workers as ``nobody``: the prefix (outside the private
    0700 instance directory) and its cache and temp directories belong to that user.
    """
    text = NGINX_CONF.read_text()
    for old, new in (
        ("listen 127.0.0.1:8080", f"listen 127.0.0.1:{port}"),
        ("server 127.0.0.1:8000", f"server 127.0.0.1:{upstream}"),
        ("server 127.0.0.1:8001", f"server 127.0.0.1:{ocsp_upstream}"),
    ):
        if text.count(old) != 1:
            raise BenchFailure(f"{NGINX_CONF} does not contain '{old}' once")
        text = text.replace(old, new)
    prefix = Path(tempfile.mkdtemp(prefix="certhall-bench-nginx-"))
    prefix.chmod(0o755)
    (prefix / "nginx.conf").write_text(text)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for name in ("ocsp_cache", "client_body", "proxy_temp", "fastcgi_temp", "uwsgi_temp",
                     "scgi_temp"):  # fmt: skip
            (prefix / name).mkdir(mode=0o700)
            os.chown(prefix / name, nobody.pw_uid, nobody.pw_gid)
    return prefix
