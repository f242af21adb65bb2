"""The Content-Security-Policy (settings.SECURE_CSP, Django's middleware) and what it needs of
the templates: no inline script, event handler, style attribute or ``javascript:`` URL in any
template (the browser test ``tests/browser/test_csp.py`` checks the rendered pages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from certhall import config

SRC = Path(__file__).resolve().parents[2] / "src" / "certhall"
TEMPLATES = sorted(SRC.rglob("templates/**/*.html"))

FORBIDDEN = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_the_templates_are_found() -> None:
    assert len(TEMPLATES) > 50


@pytest.mark.parametrize("kind", FORBIDDEN)
def test_no_template_has_inline_code(kind: str) -> None:
    found = [
        f"{path.relative_to(SRC)}:{text[: match.start()].count(chr(10)) + 1}: {match.group(0)}"
        for path in TEMPLATES
        for text in [path.read_text(encoding="utf-8")]
        for match in FORBIDDEN[kind].finditer(text)
    ]
    assert not found, "\n".join(found)


POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def _directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in header.split(";") if part.strip())
    return {name: value for name, value in parts}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 200), ("/accounts/login/", 200), ("/no-such-page/", 404), ("/status/?serial=%00", 400)],
)
def test_every_page_carries_the_policy(client: Client, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    directives = _directives(response["Content-Security-Policy"])
    for name, value in POLICY.items():
        assert directives[name] == value, (name, directives)
    # the certificate helper on the user's computer, reached with fetch() (certlogin, renewal)
    assert directives["connect-src"] == f"'self' {config.get().agent_url}"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/login/certificate/", "/"])
def test_pages_keep_their_handle_on_the_helpers_pin_window(path: str) -> None:
    """The PIN window is the helper's page (another origin): with COOP ``same-origin`` the
    opener's handle reads as closed at once and the login page cancels the request."""
    response = Client().get(path)
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin-allow-popups"
