"""Process-wide access to CA keys: one keystore, one loaded signer per CA.

Opening a PKCS#11 session or decrypting a key file is slow, so each process does it once per CA
and keeps the result; issuance, CRL and OCSP code only sees ``pki.issuance.Issuer`` objects and
does not know where the key lives.
"""

from __future__ import annotations

import threading
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes as PrivateKey,
)

from certhall import config
from certhall.ca.keystore import KeyStore, open_keystore
from certhall.ca.models import CertificateAuthority
from certhall.pki.issuance import Issuer

_lock = threading.Lock()
_issuers: dict[tuple[int, str], Issuer] = {}
_keys: dict[str, PrivateKey] = {}


@cache
def keystore() -> KeyStore:
    cfg = config.get()
    return open_keystore(cfg.ca_key_backend, cfg.home, cfg.ca_key_passphrase, cfg.pkcs11_module)


@cache
def software_keystore() -> KeyStore:
    """Encrypted key files for short-lived delegated keys (OCSP responders)."""
    cfg = config.get()
    return open_keystore("file", cfg.home, cfg.ca_key_passphrase, cfg.pkcs11_module)


def urls_for(slug: str) -> tuple[str, str, str]:
    """(CRL distribution point, OCSP, caIssuers) URLs for certificates a CA issues."""
    base = config.get().base_url
    return f"{base}/crl/{slug}.crl", f"{base}/ocsp", f"{base}/ca/{slug}.crt"


def load_key(ref: str) -> PrivateKey:
    with _lock:
        key = _keys.get(ref)
        if key is None:
            store = software_keystore() if ref.startswith("file:") else keystore()
            key = _keys[ref] = store.load(ref)
        return key


def issuer_for(ca: CertificateAuthority) -> Issuer:
    cache_key = (ca.pk, ca.key_ref)
    issuer = _issuers.get(cache_key)
    if issuer is None:
        crl_url, ocsp_url, ca_issuers_url = urls_for(ca.slug)
        issuer = Issuer(
            certificate=x509.load_der_x509_certificate(bytes(ca.certificate_der)),
            key=load_key(ca.key_ref),
            crl_url=crl_url,
            ocsp_url=ocsp_url,
            ca_issuers_url=ca_issuers_url,
        )
        _issuers[cache_key] = issuer
    return issuer


def forget() -> None:
    """Drop cached signers (tests create a new CA per test). Keystores stay open."""
    with _lock:
        _issuers.clear()
        _keys.clear()
