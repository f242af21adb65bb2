"""PKCS#11 token access: SoftHSM2 stores, logged-in sessions, token keys as ``cryptography`` keys.

Framework-free. See docs/tokens.md. Modules, each importing only the ones listed before it
(tests/test_imports.py checks that there is no cycle):

* :mod:`~certhall.tokens.errors`: the outcomes of PIN checks as exception classes;
* :mod:`~certhall.tokens.module`: one initialised module per (module file, configuration);
* :mod:`~certhall.tokens.session`: :func:`open_token` and :class:`TokenSession`;
* :mod:`~certhall.tokens.keys`: key generation and the private key adapters;
* :mod:`~certhall.tokens.objects`: certificates on the token, signing, CSRs;
* :mod:`~certhall.tokens.pin`: the Ukey PIN policy (retry counter on the token, SO unlock);
* :mod:`~certhall.tokens.admin`: formatting tokens (``C_InitToken``) and listing them;
* :mod:`~certhall.tokens.softhsm`: SoftHSM2 token store configuration files, the CA's token.
"""

from certhall.tokens.admin import TokenInfo, check_format, format_token, list_tokens, token_info
from certhall.tokens.errors import (
    PinChangeRequired,
    PinError,
    PinExpired,
    PinLengthInvalid,
    PinLocked,
    PinNotInitialised,
    PinPolicyViolation,
    PinRejected,
    SessionFailed,
    SoPinLocked,
    TokenBusy,
    TokenInitFailed,
    TokenNotFound,
    TokenRefusal,
    WrongPin,
    WrongSoPin,
)
from certhall.tokens.keys import (
    KEY_SPECS,
    KeySpec,
    Pkcs11ECPrivateKey,
    Pkcs11RSAPrivateKey,
    TokenPrivateKey,
    generate_keypair,
    load_private_key,
)
from certhall.tokens.objects import (
    TokenCertificate,
    TokenObject,
    build_csr,
    delete_certificate,
    delete_key_pair,
    key_label_for,
    list_certificates,
    list_objects,
    new_key_label,
    private_key_labels,
    sign,
    write_certificate,
)
from certhall.tokens.pin import (
    DEFAULT_MAX_TRIES,
    PinStatus,
    change_pin,
    check_so_pin,
    pin_status,
    so_reset_pin,
    user_login,
)
from certhall.tokens.session import TokenSession, check_pin_length, open_public, open_token
from certhall.tokens.softhsm import DEFAULT_MODULE, init_token, write_softhsm_conf

__all__ = [
    "DEFAULT_MAX_TRIES",
    "DEFAULT_MODULE",
    "KEY_SPECS",
    "KeySpec",
    "PinChangeRequired",
    "PinError",
    "PinExpired",
    "PinLengthInvalid",
    "PinLocked",
    "PinNotInitialised",
    "PinPolicyViolation",
    "PinRejected",
    "PinStatus",
    "Pkcs11ECPrivateKey",
    "Pkcs11RSAPrivateKey",
    "SessionFailed",
    "SoPinLocked",
    "TokenBusy",
    "TokenCertificate",
    "TokenInfo",
    "TokenInitFailed",
    "TokenNotFound",
    "TokenObject",
    "TokenPrivateKey",
    "TokenRefusal",
    "TokenSession",
    "WrongPin",
    "WrongSoPin",
    "build_csr",
    "change_pin",
    "check_format",
    "check_pin_length",
    "check_so_pin",
    "delete_certificate",
    "delete_key_pair",
    "format_token",
    "generate_keypair",
    "init_token",
    "key_label_for",
    "list_certificates",
    "list_objects",
    "list_tokens",
    "load_private_key",
    "new_key_label",
    "open_public",
    "open_token",
    "pin_status",
    "private_key_labels",
    "sign",
    "so_reset_pin",
    "token_info",
    "user_login",
    "write_certificate",
    "write_softhsm_conf",
]
