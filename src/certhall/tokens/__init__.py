"""PKCS#11 token access: SoftHSM2 stores, logged-in sessions, token keys as ``cryptography`` keys.

Framework-free. See docs/tokens.md. Modules:

* :mod:`~certhall.tokens.softhsm`: token store configuration files and token initialisation;
* :mod:`~certhall.tokens.module`: one initialised module per (module file, configuration);
* :mod:`~certhall.tokens.session`: :func:`open_token` and :class:`TokenSession`;
* :mod:`~certhall.tokens.keys`: key generation and the private key adapters.
"""

from certhall.tokens.keys import (
    KEY_SPECS,
    KeySpec,
    Pkcs11ECPrivateKey,
    Pkcs11RSAPrivateKey,
    TokenPrivateKey,
    generate_keypair,
    load_private_key,
)
from certhall.tokens.session import TokenSession, open_token
from certhall.tokens.softhsm import DEFAULT_MODULE, init_token, write_softhsm_conf

__all__ = [
    "DEFAULT_MODULE",
    "KEY_SPECS",
    "KeySpec",
    "Pkcs11ECPrivateKey",
    "Pkcs11RSAPrivateKey",
    "TokenPrivateKey",
    "TokenSession",
    "generate_keypair",
    "init_token",
    "load_private_key",
    "open_token",
    "write_softhsm_conf",
]
