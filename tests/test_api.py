from collections.abc import Callable

import pytest
from django.test import Client

from certhall.accounts.models import Role, User


@pytest.mark.django_db
def test_openapi_document_is_served(client: Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "certhall"


DOCS = ["/api/docs", "/api/openapi.json"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", DOCS)
def test_docs_are_hidden_from_the_public_in_production(
    client: Client, configure: Callable[..., object], make_user: Callable[..., User], path: str
) -> None:
    configure(production=True)
    assert client.get(path).status_code == 404
    client.force_login(make_user(Role.APPLICANT))
    assert client.get(path).status_code == 404
    client.force_login(make_user(Role.REVIEWER))
    assert client.get(path).status_code == 200


@pytest.mark.django_db
def test_docs_are_open_in_development(client: Client) -> None:
    response = client.get("/api/docs")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in body  # served here, not from a CDN
    assert "cdn." not in body
    assert "/static/ninja/favicon.svg" in body
    script = client.get("/static/ninja/swagger-ui-bundle.js")
    assert script.status_code == 200
