"""The validation services over HTTP (Django's views): HEAD is answered like GET, without the
body (RFC 9110 9.1: every general-purpose server supports GET and HEAD); caches and monitors
ask HEAD for a CRL's Last-Modified and ETag."""

from __future__ import annotations

import base64

import pytest
from django.test import Client

from tests.ca.test_ocsp_store import ca as ca
from tests.ca.test_ocsp_store import issue_org, request

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "path", ["/crl/szca-issuing.crl", "/ca/szca-issuing.crt", "/ca/szca-root.crt"]
)
def test_head_is_get_without_the_body(admin, ca, path: str) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    got = client.get(path)
    head = client.head(path)
    assert (got.status_code, head.status_code) == (200, 200)
    assert head.content == b""
    for name in ("Content-Type", "Cache-Control", "ETag", "Last-Modified", "Expires"):
        assert head.headers.get(name) == got.headers.get(name)


def test_head_of_an_ocsp_get(admin, ca) -> None:  # type: ignore[no-untyped-def]
    _, issuing = ca
    encoded = base64.b64encode(request(issue_org(admin), issuing)).decode()
    head = Client().head(f"/ocsp/{encoded}")
    assert head.status_code == 200
    assert head.headers["Content-Type"] == "application/ocsp-response"
    assert "max-age=" in head.headers["Cache-Control"]
