"""Process-wide access to CA keys: one keystore, one loaded signer per CA.

Opening a PKCS#11 session or decrypting a key file is slow, so each process does it once per CA
and keeps the result; issuance, CRL and OCSP code only sees ``pki.issuance.Issuer`` objects and
does not know where the key lives.
"""

from __future__ import annotations

import threading
import time
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
#: The active issuing CA row and when it was read (``time.monotonic``: process timing, not the
#: platform's business clock). CA rows never change once written; a CA created by another
#: process is picked up within :data:`CA_CACHE_SECONDS`, one created here at once.
_issuing_ca: tuple[float, CertificateAuthority] | None = None
CA_CACHE_SECONDS = 5.0


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


def issuing_ca() -> CertificateAuthority | None:
    """The newest issuing CA, read at most once per :data:`CA_CACHE_SECONDS` per process."""
    global _issuing_ca
    cached = _issuing_ca
    if cached is not None and time.monotonic() - cached[0] < CA_CACHE_SECONDS:
        return cached[1]
    ca = (
        CertificateAuthority.objects.filter(kind=CertificateAuthority.Kind.ISSUING)
        .order_by("-pk")
        .first()
    )
    _issuing_ca = None if ca is None else (time.monotonic(), ca)
    return ca


def forget_cas() -> None:
    """A CA was created in this process: read the CA rows again next time."""
    global _issuing_ca
    _issuing_ca = None


def forget() -> None:
    """Drop cached signers and CA rows (tests create a new CA per test). Keystores stay open."""
    with _lock:
        _issuers.clear()
        _keys.clear()
    forget_cas()
