"""Where the instance's Ukeys are reached: a PKCS#11 module and, for SoftHSM2, a token store.

Framework-free (the command line uses it without Django). The Ukey store is separate from the
CA's own token store: ``home/ukeys/tokens`` with ``home/ukeys/softhsm2.conf``, next to the CA's
``home/softhsm``. A Ukey formatted for a customer never shares a directory with the CA keys.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from certhall.tokens.softhsm import write_softhsm_conf

DEFAULT_PKCS11_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


@dataclass(frozen=True)
class UkeyStore:
    """A PKCS#11 module and its configuration file (None: the environment's)."""

    module: str
    conf: Path | None


def is_softhsm(module: str) -> bool:
    return "softhsm" in os.path.basename(os.path.realpath(module)).lower()


def ukey_store_at(home: Path, module: str = DEFAULT_PKCS11_MODULE) -> UkeyStore:
    """The Ukey store of the instance whose home is ``home`` (created when missing)."""
    if not is_softhsm(module):
        return UkeyStore(module, None)
    base = home / "ukeys"
    conf = write_softhsm_conf(base / "tokens", conf_path=base / "softhsm2.conf")
    return UkeyStore(module, conf)


def token_dir(conf: Path) -> Path | None:
    """The token directory a SoftHSM2 configuration names (``directories.tokendir``), resolved;
    None when it names none or cannot be read."""
    try:
        lines = conf.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    for line in lines:
        key, _, value = line.partition("=")
        if key.strip() == "directories.tokendir" and value.strip():
            return Path(value.strip()).resolve()
    return None


def is_ca_store(store: UkeyStore, home: Path) -> bool:
    """Whether ``store`` is the CA's own SoftHSM2 token store (``home/softhsm/tokens``, the CA
    key's: ``ca.keystore``), whichever configuration file names it."""
    if store.conf is None or not is_softhsm(store.module):
        return False
    return token_dir(store.conf) == (home / "softhsm" / "tokens").resolve()


def instance_store() -> UkeyStore:
    """The Ukey store of this instance (``CERTHALL_HOME``, ``CERTHALL_PKCS11_MODULE``)."""
    from certhall import config

    cfg = config.get()
    return ukey_store_at(cfg.home, cfg.pkcs11_module)
