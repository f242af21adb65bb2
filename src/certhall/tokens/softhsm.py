"""SoftHSM2 token stores: the configuration file and token initialisation.

A SoftHSM2 "token store" is a directory of token sub-directories plus a ``softhsm2.conf`` that
points at it. The library reads the file named by ``SOFTHSM2_CONF`` once, in ``C_Initialize``;
:mod:`certhall.tokens.module` takes care of giving each configuration its own initialised copy of
the library, so several stores can be used in one process.

``python-pkcs11`` has no ``C_InitToken``, so tokens are initialised by ``softhsm2-util`` in a
subprocess. Two consequences:

* the PINs are on that subprocess's command line for the few milliseconds it runs (visible in
  ``/proc/PID/cmdline`` to local users unless ``/proc`` is mounted with ``hidepid``);
* a process that already has the store's module initialised only sees the new token after a
  re-initialisation, which :func:`certhall.tokens.session.open_token` does when the store has no
  open session (see :meth:`certhall.tokens.module.ModuleBinding.refresh`).

``softhsm2-util`` happily creates two tokens with the same label; :func:`init_token` refuses
instead, under a lock file, because tokens are found by label.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

from certhall.errors import ConfigurationError, TokenError

DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
CONF_ENV = "SOFTHSM2_CONF"
CONF_NAME = "softhsm2.conf"

#: PKCS#11 token labels are 32 bytes of UTF-8, blank padded.
MAX_LABEL_BYTES = 32
#: SoftHSM2's PIN length limits.
MIN_PIN_LENGTH = 4
MAX_PIN_LENGTH = 255

_TIMEOUT_SECONDS = 60
_LABEL_LINE = re.compile(r"^\s*Label:\s*(.*?)\s*$")


def write_softhsm_conf(token_dir: Path, conf_path: Path | None = None) -> Path:
    """Write a SoftHSM2 configuration for an isolated token store in ``token_dir``.

    Creates ``token_dir`` (mode 0700). The configuration goes to ``conf_path``, by default
    ``token_dir / "softhsm2.conf"`` (SoftHSM2 only looks at sub-directories of the token
    directory, so the file does not disturb it). The file is rewritten atomically, only when its
    content changes. Returns the path of the configuration file.
    """
    token_dir = token_dir.resolve()
    if "\n" in str(token_dir) or "\r" in str(token_dir):
        raise ConfigurationError(
            f"token directory name must not contain a line break: {token_dir!r}"
        )
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


def check_label(label: str) -> None:
    """TokenError unless ``label`` is a usable token label (1-32 bytes of UTF-8, no padding)."""
    if not label or label != label.strip() or len(label.encode("utf-8")) > MAX_LABEL_BYTES:
        raise TokenError(
            f"token label must be 1 to {MAX_LABEL_BYTES} bytes without leading or trailing "
            f"blanks, not {label!r}",
            code="token_label_invalid",
        )


def _check_pin(pin: str, what: str) -> None:
    if not MIN_PIN_LENGTH <= len(pin.encode("utf-8")) <= MAX_PIN_LENGTH:
        raise TokenError(
            f"{what} must be {MIN_PIN_LENGTH} to {MAX_PIN_LENGTH} characters",
            code="pin_length",
        )


def _util() -> str:
    util = shutil.which("softhsm2-util")
    if util is None:
        raise ConfigurationError("softhsm2-util not found: install the softhsm2 package")
    return util


def _run(conf: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    if not conf.is_file():
        raise ConfigurationError(f"SoftHSM2 configuration {conf} does not exist")
    env = {**os.environ, CONF_ENV: str(conf)}
    try:
        return subprocess.run(
            [_util(), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise TokenError(f"softhsm2-util did not finish within {_TIMEOUT_SECONDS} s") from None


def token_labels(conf: Path) -> list[str]:
    """Labels of the initialised tokens of the store ``conf`` (read by ``softhsm2-util``)."""
    result = _run(conf, ["--show-slots"])
    if result.returncode != 0:
        raise TokenError(f"softhsm2-util --show-slots failed: {result.stderr.strip()}")
    labels = []
    for line in result.stdout.splitlines():
        match = _LABEL_LINE.match(line)
        if match and match.group(1):
            labels.append(match.group(1))
    return labels


def init_token(conf: Path, label: str, so_pin: str, pin: str) -> None:
    """Initialise a new token ``label`` in the store ``conf`` with the given SO PIN and user PIN.

    TokenError when a token with that label already exists, a PIN has a length SoftHSM2 refuses,
    or ``softhsm2-util`` fails (its message, with any PIN blanked out, is included).
    """
    check_label(label)
    _check_pin(so_pin, "SO PIN")
    _check_pin(pin, "user PIN")
    lock_path = conf.with_name(f".{conf.name}.init-lock")
    with open(lock_path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if label in token_labels(conf):
            raise TokenError(f"a token labelled {label!r} already exists", code="token_exists")
        result = _run(
            conf,
            ["--init-token", "--free", "--label", label, "--so-pin", so_pin, "--pin", pin],
        )
    if result.returncode != 0:
        message = (result.stderr.strip() or result.stdout.strip() or "no message").replace(
            "\n", " "
        )
        for secret in (so_pin, pin):
            message = message.replace(secret, "***")
        raise TokenError(
            f"softhsm2-util could not initialise token {label!r}: {message}",
            code="token_init_failed",
        )
