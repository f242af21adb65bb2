"""Typed instance configuration, read once from the environment and validated at start-up.

This module is the only reader of settings: nothing else in ``src/`` reads ``os.environ`` or
``getattr(settings, ...)`` (``tests/test_config.py`` checks), and Django's settings are derived
from it (``certhall.settings``). The README's configuration table lists every variable.

Every piece of state of an instance lives under ``home`` (``CERTHALL_HOME``, default ``./var``):
the SQLite database, CA key files, the SoftHSM2 token store, uploads and logs. In development the
secrets are generated on first start into ``home/secrets.json`` (mode 0600, never in the
repository); in production (``CERTHALL_ENV=production``) they must come from the environment and
the process refuses to start without them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from certhall.agent import DEFAULT_PORT as AGENT_PORT
from certhall.agent.protocol import normalise_origin
from certhall.errors import ConfigurationError, InvalidInput

KeyBackend = Literal["pkcs11", "file"]

DEFAULT_PKCS11_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
MIN_SECRET_KEY_LENGTH = 50
MIN_PASSPHRASE_LENGTH = 16


SmtpSecurity = Literal["none", "starttls", "ssl"]


@dataclass(frozen=True)
class SmtpConfig:
    """Outgoing email (``CERTHALL_SMTP_*``). No host means no email: notices go by SMS only."""

    host: str = ""
    port: int = 25
    user: str = ""
    password: str = ""
    from_address: str = "深圳CA数字证书服务平台 <noreply@localhost>"
    security: SmtpSecurity = "none"
    timeout: int = 10

    @property
    def enabled(self) -> bool:
        return bool(self.host)


@dataclass(frozen=True)
class RateSetting:
    """At most ``events`` per ``seconds`` (``N/SECONDS`` in the environment, e.g. ``20/60``)."""

    events: int
    seconds: int


DEFAULT_STATUS_RATE_LIMIT = RateSetting(20, 60)


@dataclass(frozen=True)
class TokenTools:
    """What ``certhall token`` needs, without the rest of the instance (no secrets, no
    database): where the instance lives, the PKCS#11 module, and SoftHSM2's own
    ``SOFTHSM2_CONF`` as the default token store."""

    home: Path
    pkcs11_module: str
    softhsm_conf: Path | None


@dataclass(frozen=True)
class Config:
    home: Path
    production: bool
    secret_key: str
    ca_key_passphrase: str
    #: Keys the audit chain's hashes and signs its checkpoints (never in the database).
    audit_key: str
    database_url: str
    base_url: str
    allowed_hosts: tuple[str, ...]
    ca_key_backend: KeyBackend
    pkcs11_module: str
    crl_validity_hours: int
    ocsp_response_validity_hours: int
    smtp: SmtpConfig = field(default_factory=SmtpConfig)
    sms_backend: str = "certhall.notify.backends.OutboxSmsBackend"
    #: The local sandbox gateway standing in for Alipay / WeChat Pay (CERTHALL_PAYMENT_SANDBOX).
    payment_sandbox: bool = False
    #: The local sandbox standing in for the real-name (ID photo + liveness) provider
    #: (CERTHALL_IDENTITY_SANDBOX).
    identity_sandbox: bool = False
    #: Where pages find the certificate helper on the user's computer (CERTHALL_AGENT_URL).
    agent_url: str = f"http://127.0.0.1:{AGENT_PORT}"
    #: Public certificate status look-ups per client (CERTHALL_STATUS_RATE_LIMIT).
    status_rate_limit: RateSetting = DEFAULT_STATUS_RATE_LIMIT
    #: Django request threads per server process (``certhall serve --threads`` sets it).
    serve_threads: int = 8
    #: Where each server process also answers OCSP alone, as (host, port), or None
    #: (CERTHALL_OCSP_LISTEN, ``host:port``; ``certhall serve --ocsp-port`` sets it).
    ocsp_listen: tuple[str, int] | None = None
    #: Seconds between rounds of the scheduled jobs (CERTHALL_JOBS_INTERVAL): each round is
    #: claimed by one process across every server on the database (certhall.jobs).
    jobs_interval: int = 60
    #: A TLS-terminating reverse proxy is in front and says which scheme the client used in
    #: X-Forwarded-Proto (CERTHALL_TLS_PROXY): Django trusts that header for "is this secure".
    tls_proxy: bool = False
    #: Minutes without a request after which a session ends: CA staff and refund officers
    #: (CERTHALL_SESSION_IDLE_STAFF_MINUTES), enterprises (..._CUSTOMER_MINUTES); and the hours
    #: after a login after which it ends anyway (CERTHALL_SESSION_MAX_HOURS). accounts.timeout
    session_idle_staff_minutes: int = 30
    session_idle_customer_minutes: int = 120
    session_max_hours: int = 12
    #: The most lines one refund payout batch takes (CERTHALL_REFUND_BATCH_MAX_LINES): the
    #: bank's limit for one batch transfer file; the rest wait for the next batch.
    refund_batch_max_lines: int = 5000
    #: Test hook (CERTHALL_CRASH_PAUSE): stop forever at this crash point (certhall.crashpoints)
    #: so that a test can SIGKILL the process there. Empty in every real deployment.
    crash_pause: str = ""

    @property
    def softhsm_dir(self) -> Path:
        return self.home / "softhsm"

    @property
    def softhsm_conf(self) -> Path:
        return self.softhsm_dir / "softhsm2.conf"

    @property
    def ca_dir(self) -> Path:
        return self.home / "ca"

    @property
    def uploads_dir(self) -> Path:
        return self.home / "uploads"

    @property
    def audit_checkpoints(self) -> Path:
        """The audit chain's anchor outside the database: signed checkpoints, appended."""
        return self.home / "audit-checkpoints.jsonl"

    @property
    def log_dir(self) -> Path:
        return self.home / "log"


def _int(env: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(code="setting_int", name=name, raw=raw) from None
    if not low <= value <= high:
        raise ConfigurationError(
            code="setting_int", variant="range", name=name, low=low, high=high, value=value
        )
    return value


def _digits(text: str) -> bool:
    """Written in the digits 0-9 alone (``str.isdigit`` is also true of "²", which ``int``
    refuses)."""
    return text.isascii() and text.isdigit()


def _listen(env: dict[str, str], name: str) -> tuple[str, int] | None:
    """``host:port`` (an IPv6 host in brackets), or None when unset or empty."""
    raw = env.get(name, "")
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not _digits(port) or not 0 < int(port) < 65536:
        raise ConfigurationError(code="setting_listen", name=name, raw=raw)
    return host, int(port)


def _base_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigurationError(code="setting_base_url", raw=raw)
    try:
        normalise_origin(raw)  # logins and renewals are bound to this origin
    except InvalidInput as e:
        raise ConfigurationError(
            code="setting_base_url", variant="origin", detail=e.message
        ) from None
    return raw.rstrip("/")


def _agent_url(env: dict[str, str]) -> str:
    raw = env.get("CERTHALL_AGENT_URL", Config.agent_url)
    try:
        return normalise_origin(raw)
    except InvalidInput:
        raise ConfigurationError(code="setting_agent_url", raw=raw) from None


def _rate(env: dict[str, str], name: str, default: RateSetting) -> RateSetting:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    events, _, seconds = raw.partition("/")
    events, seconds = events.strip(), seconds.strip()
    rate = RateSetting(
        int(events) if _digits(events) else 0, int(seconds) if _digits(seconds) else 0
    )
    if not (1 <= rate.events <= 100_000 and 1 <= rate.seconds <= 86_400):
        raise ConfigurationError(code="setting_rate", name=name, value=raw)
    return rate


def _home(env: dict[str, str]) -> Path:
    return Path(env.get("CERTHALL_HOME", "var")).resolve()


def _pkcs11_module(env: dict[str, str]) -> str:
    return env.get("CERTHALL_PKCS11_MODULE", DEFAULT_PKCS11_MODULE)


def token_tools(env: dict[str, str] | None = None) -> TokenTools:
    env = dict(os.environ) if env is None else env
    conf = env.get("SOFTHSM2_CONF", "").strip()
    return TokenTools(_home(env), _pkcs11_module(env), Path(conf) if conf else None)


def private_process() -> None:
    """Everything this process creates is its owner's only (files 0600, directories 0700):
    the database and its journals, keys, uploads, logs. Called first at every entry point
    (``certhall``, the served application, ``manage.py``)."""
    os.umask(0o077)


def repair_modes(home: Path) -> list[Path]:
    """Take group and other permissions away from everything under ``home`` (an instance made
    before ``private_process``, or copied in). Returns what was changed."""
    changed = []
    for path in [home, *home.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            path.chmod(mode & 0o700)
            changed.append(path)
    return changed


_DEV_SECRETS: dict[str, Callable[[], str]] = {
    "secret_key": lambda: secrets.token_urlsafe(64),
    "ca_key_passphrase": lambda: secrets.token_urlsafe(24),
    "audit_key": lambda: secrets.token_urlsafe(32),
}


def _dev_secrets(home: Path) -> dict[str, str]:
    """Instance-local secrets for development, created once with owner-only permissions (a
    secret added by a later version is added to an existing file)."""
    path = home / "secrets.json"
    data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = {name: make() for name, make in _DEV_SECRETS.items() if name not in data}
    if not missing:
        return data
    data.update(missing)
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    fresh = path.with_suffix(".new")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    fresh.replace(path)
    return data


def _random_enough(value: str, length: int) -> bool:
    """Long enough and not a repeated pattern (60 × "a" is 60 characters of nothing)."""
    return len(value) >= length and len(set(value)) >= min(16, length // 2)


def load(env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ) if env is None else env
    home = _home(env)
    mode = env.get("CERTHALL_ENV", "development")
    if mode not in ("development", "production"):
        raise ConfigurationError(code="setting_env", mode=mode)
    production = mode == "production"

    if production:
        secret_key = env.get("CERTHALL_SECRET_KEY", "")
        passphrase = env.get("CERTHALL_CA_KEY_PASSPHRASE", "")
        audit_key = env.get("CERTHALL_AUDIT_KEY", "")
        if not _random_enough(secret_key, MIN_SECRET_KEY_LENGTH) or secret_key.startswith(
            "django-insecure"
        ):
            raise ConfigurationError(code="secret_key_weak", length=MIN_SECRET_KEY_LENGTH)
        if not _random_enough(passphrase, MIN_PASSPHRASE_LENGTH):
            raise ConfigurationError(code="ca_passphrase_weak", length=MIN_PASSPHRASE_LENGTH)
        if not _random_enough(audit_key, MIN_PASSPHRASE_LENGTH * 2):
            raise ConfigurationError(code="audit_key_weak", length=MIN_PASSPHRASE_LENGTH * 2)
    else:
        dev = _dev_secrets(home)
        secret_key = env.get("CERTHALL_SECRET_KEY") or dev["secret_key"]
        passphrase = env.get("CERTHALL_CA_KEY_PASSPHRASE") or dev["ca_key_passphrase"]
        audit_key = env.get("CERTHALL_AUDIT_KEY") or dev["audit_key"]

    pkcs11_module = _pkcs11_module(env)
    backend = env.get("CERTHALL_CA_KEY_BACKEND", "auto")
    if backend == "auto":
        backend = "pkcs11" if Path(pkcs11_module).exists() else "file"
    if backend not in ("pkcs11", "file"):
        raise ConfigurationError(code="setting_key_backend", backend=backend)
    if backend == "pkcs11" and not Path(pkcs11_module).exists():
        raise ConfigurationError(code="module_not_found", variant="install", module=pkcs11_module)

    hosts = tuple(h for h in env.get("CERTHALL_ALLOWED_HOSTS", "").split(",") if h)
    base_url = _base_url(env.get("CERTHALL_BASE_URL", DEFAULT_BASE_URL))
    if production and not base_url.startswith("https://"):
        # Without TLS there are no Secure cookies and no HSTS: sessions cross the wire in clear.
        raise ConfigurationError(code="setting_http_in_production", value=base_url)
    if not hosts:
        hosts = (urlsplit(base_url).hostname or "127.0.0.1", "127.0.0.1", "localhost")

    return Config(
        home=home,
        production=production,
        secret_key=secret_key,
        ca_key_passphrase=passphrase,
        audit_key=audit_key,
        database_url=env.get("CERTHALL_DATABASE_URL", f"sqlite:///{home / 'certhall.sqlite3'}"),
        base_url=base_url,
        allowed_hosts=hosts,
        ca_key_backend=backend,  # type: ignore[arg-type]
        pkcs11_module=pkcs11_module,
        crl_validity_hours=_int(env, "CERTHALL_CRL_NEXT_UPDATE_HOURS", 24, 1, 24 * 31),
        ocsp_response_validity_hours=_int(env, "CERTHALL_OCSP_VALIDITY_HOURS", 24, 1, 24 * 7),
        smtp=_smtp(env),
        sms_backend=_sms_backend(env),
        payment_sandbox=_flag(env, "CERTHALL_PAYMENT_SANDBOX", default=not production),
        identity_sandbox=_flag(env, "CERTHALL_IDENTITY_SANDBOX", default=not production),
        agent_url=_agent_url(env),
        status_rate_limit=_rate(env, "CERTHALL_STATUS_RATE_LIMIT", DEFAULT_STATUS_RATE_LIMIT),
        serve_threads=_int(env, "CERTHALL_SERVE_THREADS", 8, 1, 256),
        ocsp_listen=_listen(env, "CERTHALL_OCSP_LISTEN"),
        jobs_interval=_int(env, "CERTHALL_JOBS_INTERVAL", 60, 1, 3600),
        tls_proxy=_flag(env, "CERTHALL_TLS_PROXY", default=False),
        session_idle_staff_minutes=_int(env, "CERTHALL_SESSION_IDLE_STAFF_MINUTES", 30, 5, 480),
        session_idle_customer_minutes=_int(
            env, "CERTHALL_SESSION_IDLE_CUSTOMER_MINUTES", 120, 5, 24 * 60
        ),
        session_max_hours=_int(env, "CERTHALL_SESSION_MAX_HOURS", 12, 1, 24 * 14),
        refund_batch_max_lines=_int(env, "CERTHALL_REFUND_BATCH_MAX_LINES", 5000, 1, 100_000),
        crash_pause=env.get("CERTHALL_CRASH_PAUSE", "") if mode != "production" else "",
    )


_HOSTNAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_DOTTED_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def _smtp(env: dict[str, str]) -> SmtpConfig:
    """``CERTHALL_SMTP_HOST`` / ``_PORT`` / ``_USER`` / ``_PASSWORD`` / ``_FROM`` / ``_SECURITY``
    (none, starttls or ssl) / ``_TIMEOUT`` (seconds)."""
    default = SmtpConfig()
    host = env.get("CERTHALL_SMTP_HOST", "").strip()
    if host and not _HOSTNAME.fullmatch(host):
        raise ConfigurationError(code="setting_smtp_host", host=host)
    security = env.get("CERTHALL_SMTP_SECURITY", "none")
    if security not in ("none", "starttls", "ssl"):
        raise ConfigurationError(code="setting_smtp_security", security=security)
    port = _int(env, "CERTHALL_SMTP_PORT", 465 if security == "ssl" else 25, 1, 65535)
    user = env.get("CERTHALL_SMTP_USER", "")
    password = env.get("CERTHALL_SMTP_PASSWORD", "")
    if bool(user) != bool(password):
        raise ConfigurationError(code="setting_smtp_login")
    from_address = env.get("CERTHALL_SMTP_FROM", default.from_address).strip()
    _name, address = parseaddr(from_address)
    if "@" not in address or any(ch in from_address for ch in "\r\n"):
        raise ConfigurationError(code="setting_smtp_from", value=from_address)
    return SmtpConfig(
        host=host,
        port=port,
        user=user,
        password=password,
        from_address=from_address,
        security=security,  # type: ignore[arg-type]
        timeout=_int(env, "CERTHALL_SMTP_TIMEOUT", default.timeout, 1, 300),
    )


def _sms_backend(env: dict[str, str]) -> str:
    """``CERTHALL_SMS_BACKEND``: the dotted path of an SMS backend class (default: the outbox).
    Only its form is checked here; ``certhall.notify`` imports it when the apps load."""
    path = env.get("CERTHALL_SMS_BACKEND", "").strip() or Config.sms_backend
    if not _DOTTED_PATH.fullmatch(path):
        raise ConfigurationError(code="setting_sms_backend", path=path)
    return path


def _flag(env: dict[str, str], name: str, *, default: bool) -> bool:
    """A yes/no setting: 1/0, true/false, yes/no, on/off (any case); unset is ``default``."""
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigurationError(code="setting_flag", name=name, raw=raw)


@cache
def get() -> Config:
    return load()
