"""The platform's side of the online gateways' keys: PUBLIC keys only.

The platform verifies notifications with the gateway's RSA public key, read from
``<CERTHALL_HOME>/payments/gateways/<gateway>-public.pem``. For a real gateway an operator puts
the gateway's published public key there. With the sandbox enabled
(``CERTHALL_PAYMENT_SANDBOX``), a missing key is provisioned on first use by the sandbox
(``certhall.payments.sandbox.provision``, reached as ``gateways.stand_in().provide_key``),
which keeps its private key to itself.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from certhall import config
from certhall.errors import ConfigurationError
from certhall.payments import gateways
from certhall.payments.signing import MIN_KEY_BITS

_lock = threading.Lock()
_cache: dict[Path, tuple[int, rsa.RSAPublicKey]] = {}


def payments_dir() -> Path:
    return config.get().home / "payments"


def public_key_path(gateway: str) -> Path:
    return payments_dir() / "gateways" / f"{gateway}-public.pem"


def public_key(gateway: str) -> rsa.RSAPublicKey:
    """The gateway's RSA public key (cached until the file changes)."""
    path = public_key_path(gateway)
    if not path.exists():
        sandbox = gateways.stand_in()
        if sandbox is None:
            raise ConfigurationError(code="gateway_key_missing", gateway=gateway, path=path)
        sandbox.provide_key(gateway)
    stat = path.stat()
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == stat.st_mtime_ns:
            return cached[1]
        try:
            key = load_pem_public_key(path.read_bytes())
        except ValueError:
            raise ConfigurationError(code="gateway_key_not_pem", path=path) from None
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < MIN_KEY_BITS:
            raise ConfigurationError(code="gateway_key_weak", path=path)
        _cache[path] = (stat.st_mtime_ns, key)
        return key


def forget() -> None:
    """Drop cached keys (tests that replace a key file)."""
    with _lock:
        _cache.clear()
