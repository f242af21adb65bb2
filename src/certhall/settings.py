"""Django settings, derived from the validated ``certhall.config``; nothing is read elsewhere."""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

import dj_database_url
from django.utils.csp import CSP

from certhall import config as _config

CONFIG = _config.get()

BASE_DIR = CONFIG.home
SECRET_KEY = CONFIG.secret_key
DEBUG = False
ALLOWED_HOSTS = list(CONFIG.allowed_hosts)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "certhall.accounts",
    "certhall.audit",
    "certhall.ca",
    "certhall.ukeys",
    "certhall.notify",
    "certhall.certlogin",
    "certhall.hall",
    "certhall.payments",
    "certhall.refunds",
    "certhall.portal",
    "certhall.web",
]

MIDDLEWARE = [
    # The response headers first, so that every answer carries them, a refusal of the NUL
    # guard and WhiteNoise's static files included.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "certhall.web.nul.RefuseNulMiddleware",
    # Outside the session and CSRF middleware: it sees the cookies they set (web/private.py).
    "certhall.web.private.PrivateAnswersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "certhall.accounts.timeout.SessionTimeoutMiddleware",
    "certhall.web.errors.CerthallErrorMiddleware",
]

# django-ninja's templates and static files: /api/docs served from here, not from a CDN (the
# Content-Security-Policy allows scripts from 'self' only; certhall.api renders the local
# page). Its directories, not an installed app: every app is imported at every process's
# start, and ninja imports pydantic (0.1 s of CPU for each `certhall` command, none of which
# uses the API). find_spec finds the package without importing it.
_NINJA = Path(find_spec("ninja").origin).parent  # type: ignore[union-attr,arg-type]
STATICFILES_DIRS = [_NINJA / "static"]

ROOT_URLCONF = "certhall.urls"
CSRF_FAILURE_VIEW = "certhall.web.errors.csrf_failure"
WSGI_APPLICATION = "certhall.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [_NINJA / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

_db = dj_database_url.parse(CONFIG.database_url, conn_max_age=600)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + IMMEDIATE transactions: writers queue on the database lock instead of failing
    # with "database is locked" half-way, and the audit chain head is read under that lock.
    # Connections persist (conn_max_age above): opening one per request halves OCSP throughput.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's password backend and database sessions, with the two rows every request reads
# fetched by prepared statements (certhall.reads).
AUTHENTICATION_BACKENDS = ["certhall.accounts.backends.UserBackend"]
SESSION_ENGINE = "certhall.accounts.sessions"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = CONFIG.home / "static"
# Everything Django writes into the home (static files, uploads) is private too.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
# No session outlives its login by more than this (accounts.timeout ends it sooner when idle).
SESSION_COOKIE_AGE = CONFIG.session_max_hours * 3600
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Not Django's default "same-origin": the certificate login and renewal pages open the helper's
# PIN window (another origin, http://127.0.0.1:PORT) and must keep their handle on it. Under
# "same-origin" the opener sees the popup as closed as soon as it reaches the helper, and the
# login page cancelled the request ("已取消") while the user was still typing the PIN.
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin-allow-popups"
# One Content-Security-Policy on every page (Django's middleware; a view that needs a stricter
# one, like the document preview, sets its own header and keeps it). No inline script, style
# attribute or event handler anywhere: tests/web/test_csp.py greps the templates, and
# tests/browser/test_csp.py loads the pages of every role and fails on any violation.
# connect-src names the certificate helper on the user's own computer (CERTHALL_AGENT_URL):
# the certificate login and online renewal pages call it with fetch (docs/certificate-login.md).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF, CONFIG.agent_url],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if CONFIG.production and CONFIG.base_url.startswith("https://"):  # production: always
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
if CONFIG.tls_proxy:
    # The declared TLS-terminating proxy says which scheme the client used (docs/security.md).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Outgoing mail through SMTP (CERTHALL_SMTP_*), Django 6.1's MAILERS (the EMAIL_* host settings
# are deprecated); without a host the notifier sends no email.
MAILERS = {
    "default": {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": CONFIG.smtp.host or "localhost",
            "port": CONFIG.smtp.port,
            "username": CONFIG.smtp.user or None,
            "password": CONFIG.smtp.password or None,
            "use_tls": CONFIG.smtp.security == "starttls",
            "use_ssl": CONFIG.smtp.security == "ssl",
            "timeout": CONFIG.smtp.timeout,
        },
    }
}
DEFAULT_FROM_EMAIL = CONFIG.smtp.from_address
SERVER_EMAIL = CONFIG.smtp.from_address

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {"certhall": {"level": "INFO"}},
}
