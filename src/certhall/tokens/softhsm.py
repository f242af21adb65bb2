"""SoftHSM2 token stores: the configuration file and token initialisation.

A SoftHSM2 "token store" is a directory of token sub-directories plus a ``softhsm2.conf`` that
points at it. The library reads the file named by ``SOFTHSM2_CONF`` once, in ``C_Initialize``;
:mod:`certhall.tokens.module` takes care of giving each configuration its own initialised copy of
the library, so several stores can be used in one process.

Tokens are initialised through PKCS#11 in this process (``C_InitToken`` and ``C_InitPIN`` via
:func:`certhall.tokens.admin.format_token`), so no PIN is ever on a command line. A process that
already has the store's module initialised only sees a token formatted elsewhere after a
re-initialisation, which :func:`certhall.tokens.session.open_token` does when the store has no
open session (see :meth:`certhall.tokens.module.ModuleBinding.refresh`).

PKCS#11 lets two tokens share a label; :func:`init_token` refuses instead, under a lock file,
because tokens are found by label.
"""

from __future__ import annotations

import os
from pathlib import Path

from certhall.errors import ConfigurationError
from certhall.tokens.admin import format_token, list_tokens

DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
CONF_NAME = "softhsm2.conf"


def write_softhsm_conf(token_dir: Path, conf_path: Path | None = None) -> Path:
    """Write a SoftHSM2 configuration for an isolated token store in ``token_dir``.

    Creates ``token_dir`` (mode 0700). The configuration goes to ``conf_path``, by default
    ``token_dir / "softhsm2.conf"`` (SoftHSM2 only looks at sub-directories of the token
    directory, so the file does not disturb it). The file is rewritten atomically, only when its
    content changes. Returns the path of the configuration file.
    """
    token_dir = token_dir.resolve()
    if "\n" in str(token_dir) or "\r" in str(token_dir):
        raise ConfigurationError(code="token_dir_line_break", path=token_dir)
    token_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    conf = (conf_path if conf_path is not None else token_dir / CONF_NAME).resolve()
    conf.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    content = (
        "# written by certhall: an isolated SoftHSM2 token store\n"
        f"directories.tokendir = {token_dir}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
    )
    try:
        if conf.read_text(encoding="utf-8") == content:
            return conf
    except FileNotFoundError:
        pass
    tmp = conf.with_name(f".{conf.name}.{os.getpid()}.tmp")
    tmp.write_text(content, encoding="utf-8")
    tmp.replace(conf)
    return conf


def token_labels(conf: Path, *, module_path: str = DEFAULT_MODULE) -> list[str]:
    """Labels of the initialised tokens of the store ``conf``."""
    if not conf.is_file():
        raise ConfigurationError(code="softhsm_conf_missing", conf=conf)
    return [info.label for info in list_tokens(module_path, conf=conf)]


def init_token(
    conf: Path, label: str, so_pin: str, pin: str, *, module_path: str = DEFAULT_MODULE
) -> str:
    """Initialise a new token ``label`` in the store ``conf`` with the given SO PIN and user PIN;
    return its serial.

    Through PKCS#11 (``C_InitToken``, ``C_InitPIN``) in this process: no PIN on a command
    line. TokenError when a token with that label already exists or a PIN has a length SoftHSM2
    refuses; no PIN appears in a message. No PIN retry state is written (see
    :func:`certhall.tokens.admin.format_token` for Ukeys).
    """
    if not conf.is_file():
        raise ConfigurationError(code="softhsm_conf_missing", conf=conf)
    return format_token(module_path, label, so_pin, pin, conf=conf, pin_state=False).serial
