from __future__ import annotations

import re
import stat
from pathlib import Path

import pytest

from certhall.config import RateSetting, TokenTools, load, token_tools
from certhall.errors import ConfigurationError

GOOD_SECRET = "kV3q9ZpL2mW8xR4tY7uB1nC6eD0fG5hJ-aS_dQ2wE9rT3yU8iO4pA7sD1fG6hJ0k"
GOOD_AUDIT_KEY = "p9Xq2Lm7Wz4Rt8Yv1Bn6Cd3Ef0Gh5JkQ"


def test_development_generates_private_secrets_once(tmp_path: Path) -> None:
    env = {"CERTHALL_HOME": str(tmp_path), "CERTHALL_CA_KEY_BACKEND": "file"}
    first = load(env)
    secrets_file = tmp_path / "secrets.json"
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600
    second = load(env)
    assert first.secret_key == second.secret_key
    assert len(first.ca_key_passphrase) >= 16
    assert first.database_url == f"sqlite:///{tmp_path / 'certhall.sqlite3'}"
    assert first.base_url == "http://127.0.0.1:8000"


def test_production_refuses_missing_or_default_secrets(tmp_path: Path) -> None:
    base = {
        "CERTHALL_HOME": str(tmp_path),
        "CERTHALL_ENV": "production",
        "CERTHALL_CA_KEY_BACKEND": "file",
        "CERTHALL_BASE_URL": "https://ca.example.cn",
    }
    with pytest.raises(ConfigurationError, match="CERTHALL_SECRET_KEY"):
        load(base)
    with pytest.raises(ConfigurationError, match="CERTHALL_SECRET_KEY"):
        load({**base, "CERTHALL_SECRET_KEY": "django-insecure-" + "x" * 60})
    with pytest.raises(ConfigurationError, match="CERTHALL_SECRET_KEY"):
        load({**base, "CERTHALL_SECRET_KEY": "a" * 60})  # long, and nothing in it
    with pytest.raises(ConfigurationError, match="CERTHALL_CA_KEY_PASSPHRASE"):
        load({**base, "CERTHALL_SECRET_KEY": GOOD_SECRET})
    good = {
        **base,
        "CERTHALL_SECRET_KEY": GOOD_SECRET,
        "CERTHALL_CA_KEY_PASSPHRASE": "correct horse battery",
    }
    with pytest.raises(ConfigurationError, match="CERTHALL_AUDIT_KEY"):
        load(good)
    with pytest.raises(ConfigurationError, match="CERTHALL_AUDIT_KEY"):
        load({**good, "CERTHALL_AUDIT_KEY": "ab" * 20})
    cfg = load({**good, "CERTHALL_AUDIT_KEY": GOOD_AUDIT_KEY})
    assert cfg.production
    assert not (tmp_path / "secrets.json").exists()


def test_production_refuses_an_http_base_url(tmp_path: Path) -> None:
    """No TLS, no Secure cookies, no HSTS: production needs the https:// origin, with TLS
    terminated by a declared proxy in front of certhall serve."""
    env = {
        "CERTHALL_HOME": str(tmp_path),
        "CERTHALL_ENV": "production",
        "CERTHALL_CA_KEY_BACKEND": "file",
        "CERTHALL_SECRET_KEY": GOOD_SECRET,
        "CERTHALL_CA_KEY_PASSPHRASE": "correct horse battery",
        "CERTHALL_AUDIT_KEY": GOOD_AUDIT_KEY,
    }
    with pytest.raises(ConfigurationError, match="https://") as refused:
        load(env)  # the default base URL is http://127.0.0.1:8000
    assert "CERTHALL_TLS_PROXY" in refused.value.message
    with pytest.raises(ConfigurationError, match="https://"):
        load({**env, "CERTHALL_BASE_URL": "http://ca.example.cn", "CERTHALL_TLS_PROXY": "1"})
    cfg = load({**env, "CERTHALL_BASE_URL": "https://ca.example.cn", "CERTHALL_TLS_PROXY": "1"})
    assert cfg.tls_proxy and cfg.base_url == "https://ca.example.cn"
    assert not load({**env, "CERTHALL_BASE_URL": "https://ca.example.cn"}).tls_proxy
    development = {**env, "CERTHALL_BASE_URL": "http://x", "CERTHALL_ENV": "development"}
    assert not load(development).tls_proxy


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CERTHALL_BASE_URL", "ftp://x", "http"),
        ("CERTHALL_BASE_URL", "http://x/?a=1", "http"),
        ("CERTHALL_CRL_NEXT_UPDATE_HOURS", "0", "须在 1 到"),
        ("CERTHALL_CRL_NEXT_UPDATE_HOURS", "soon", "须为整数"),
        ("CERTHALL_CA_KEY_BACKEND", "hsm", "只能是 pkcs11、file 或 auto"),
        ("CERTHALL_ENV", "staging", "只能是 development 或 production"),
        ("CERTHALL_BASE_URL", "https://ca.example.cn/hall", "不是网站来源"),
        ("CERTHALL_AGENT_URL", "127.0.0.1:17443", "CERTHALL_AGENT_URL"),
        ("CERTHALL_AGENT_URL", "http://127.0.0.1:17443/x", "CERTHALL_AGENT_URL"),
        ("CERTHALL_STATUS_RATE_LIMIT", "20", "CERTHALL_STATUS_RATE_LIMIT 须写成“次数/秒数”"),
        ("CERTHALL_STATUS_RATE_LIMIT", "20 per minute", "例如 20/60，而不是 '20 per minute'"),
        ("CERTHALL_STATUS_RATE_LIMIT", "0/60", "1-100000 次"),
        ("CERTHALL_STATUS_RATE_LIMIT", "20/-5", "1-86400 秒"),
        ("CERTHALL_STATUS_RATE_LIMIT", "²/60", "1-100000 次"),  # "²".isdigit(), int("²") raises
        ("CERTHALL_OCSP_LISTEN", "8001", "CERTHALL_OCSP_LISTEN 须写成“主机:端口”"),
        ("CERTHALL_OCSP_LISTEN", "127.0.0.1:0", "而不是 '127.0.0.1:0'"),
        ("CERTHALL_OCSP_LISTEN", ":8001", "主机:端口"),
        ("CERTHALL_OCSP_LISTEN", "127.0.0.1:http", "主机:端口"),
        ("CERTHALL_OCSP_LISTEN", "127.0.0.1:²", "主机:端口"),
        ("CERTHALL_REFUND_BATCH_MAX_LINES", "0", "须在 1 到"),
        ("CERTHALL_REFUND_BATCH_MAX_LINES", "all", "须为整数"),
    ],
)
def test_bad_settings_fail_at_start(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load({"CERTHALL_HOME": str(tmp_path), "CERTHALL_CA_KEY_BACKEND": "file", name: value})


def test_base_url_goes_without_trailing_slash(tmp_path: Path) -> None:
    cfg = load(
        {
            "CERTHALL_HOME": str(tmp_path),
            "CERTHALL_CA_KEY_BACKEND": "file",
            "CERTHALL_BASE_URL": "https://ca.example.cn/",
        }
    )
    assert cfg.base_url == "https://ca.example.cn"
    assert "ca.example.cn" in cfg.allowed_hosts


def test_agent_url_and_status_rate_limit(tmp_path: Path) -> None:
    base = {"CERTHALL_HOME": str(tmp_path), "CERTHALL_CA_KEY_BACKEND": "file"}
    default = load(base)
    assert default.agent_url == "http://127.0.0.1:17443"
    assert default.status_rate_limit == RateSetting(20, 60)
    cfg = load(
        {
            **base,
            "CERTHALL_AGENT_URL": "http://127.0.0.1:18000/",
            "CERTHALL_STATUS_RATE_LIMIT": " 100 / 3600 ",
        }
    )
    assert cfg.agent_url == "http://127.0.0.1:18000"
    assert cfg.status_rate_limit == RateSetting(100, 3600)


def test_ocsp_listen(tmp_path: Path) -> None:
    base = {"CERTHALL_HOME": str(tmp_path), "CERTHALL_CA_KEY_BACKEND": "file"}
    assert load(base).ocsp_listen is None
    assert load({**base, "CERTHALL_OCSP_LISTEN": ""}).ocsp_listen is None
    listen = load({**base, "CERTHALL_OCSP_LISTEN": "10.0.0.7:8001"}).ocsp_listen
    assert listen == ("10.0.0.7", 8001)
    assert load({**base, "CERTHALL_OCSP_LISTEN": "[::1]:9001"}).ocsp_listen == ("::1", 9001)


def test_token_tools_need_no_secrets(tmp_path: Path) -> None:
    tools = token_tools(
        {
            "CERTHALL_HOME": str(tmp_path),
            "CERTHALL_ENV": "production",  # no secrets given: the token commands do not care
            "CERTHALL_PKCS11_MODULE": "/opt/vendor/libpkcs11.so",
            "SOFTHSM2_CONF": str(tmp_path / "softhsm2.conf"),
        }
    )
    assert tools == TokenTools(tmp_path, "/opt/vendor/libpkcs11.so", tmp_path / "softhsm2.conf")
    assert token_tools({"CERTHALL_HOME": str(tmp_path)}).softhsm_conf is None
    assert not (tmp_path / "secrets.json").exists()


#: Places in src/ that touch the process environment without reading a setting.
ENVIRONMENT_WRITERS = {
    "certhall/cli/main.py": "names Django's settings module before django.setup()",
    "certhall/wsgi.py": "names Django's settings module for the WSGI server",
    "certhall/rsgi.py": "names Django's settings module for the granian workers",
    "certhall/cli/serve_cmd.py": "hands `serve --threads` to the workers' config",
    "certhall/tokens/module.py": "hands SOFTHSM2_CONF to the PKCS#11 library while it loads",
    "certhall/hall/checking.py": "gives numpy one BLAS thread in the zygote, which forks",
}
SETTING_READS = re.compile(r"\bos\.environ\b|\bos\.getenv\b|\benviron\b|getattr\(settings\b")
DJANGO_SETTING_READS = re.compile(r"\bsettings\.CERTHALL_|\bsettings\.CERTLOGIN_")


def test_settings_are_read_only_in_config() -> None:
    """Every setting is read once, in certhall.config (typed, checked at start-up): no module
    reads the environment or a Django setting of ours on its own."""
    src = Path(__file__).resolve().parents[1] / "src"
    found = []
    for path in sorted(src.rglob("*.py")):
        name = path.relative_to(src).as_posix()
        if name in ("certhall/config.py", "certhall/settings.py") or "/migrations/" in name:
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            environment = SETTING_READS.search(line) and not line.lstrip().startswith("#")
            if (environment and name not in ENVIRONMENT_WRITERS) or DJANGO_SETTING_READS.search(
                line
            ):
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "settings read outside certhall.config:\n" + "\n".join(found)


CONFIG_VARIABLE = re.compile(r'"((?:CERTHALL|SOFTHSM2)_[A-Z0-9_]+)"')
README_VARIABLE = re.compile(r"`((?:CERTHALL|SOFTHSM2)?_[A-Z0-9_]+)`")


def test_the_readme_lists_every_variable() -> None:
    """The README's configuration table and certhall.config name the same variables (the
    Makefile reads CERTHALL_TEST_POSTGRES_URL)."""
    root = Path(__file__).resolve().parents[1]
    read = set(CONFIG_VARIABLE.findall((root / "src/certhall/config.py").read_text("utf-8")))
    listed: set[str] = set()
    for row in (root / "README.md").read_text("utf-8").splitlines():
        names = README_VARIABLE.findall(row.split("|")[1]) if row.startswith("| `") else []
        if names:  # `CERTHALL_SMTP_HOST`, `_PORT`, ... share the first name's prefix
            prefix = names[0].rsplit("_", 1)[0]
            listed.update(prefix + n if n.startswith("_") else n for n in names)
    assert listed - {"CERTHALL_TEST_POSTGRES_URL"} == read
