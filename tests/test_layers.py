"""The framework-free cores stay framework-free (DESIGN.md: imports point inward)."""

import subprocess
import sys

import pytest

FORBIDDEN = ("django", "certhall.accounts", "certhall.ca.", "certhall.hall", "certhall.audit")
CORES = [
    "certhall.pki",
    "certhall.tokens",
    "certhall.rules",
    "certhall.forms",
    "certhall.agent",
    "certhall.money",
    "certhall.pdf",
]


@pytest.mark.parametrize("package", CORES)
def test_core_imports_no_django(package: str) -> None:
    code = (
        "import importlib, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for m in pkgutil.walk_packages(getattr(pkg, '__path__', []), pkg.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = sorted(n for n in sys.modules if n.startswith({FORBIDDEN!r}))\n"
        "print(','.join(bad))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": ""}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{package} pulls in {result.stdout.strip()}"
