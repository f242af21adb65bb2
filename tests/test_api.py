import typing
from collections.abc import Callable

import pytest
from django.test import Client
from pydantic import BaseModel

from certhall.accounts.models import Role, User
from certhall.api import api


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


def _classes(annotation: object, found: set[type[BaseModel]]) -> None:
    """Every pydantic model ``annotation`` names, its fields' models too."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in found:
            return
        found.add(annotation)
        for field in annotation.model_fields.values():
            _classes(field.annotation, found)
    for argument in typing.get_args(annotation):
        _classes(argument, found)


def test_every_schema_name_in_the_openapi_document_is_one_class() -> None:
    """ninja files a model under its class name in ``components/schemas``, and a second class of
    the same name silently took the first one's place: ``GET /api/accounts/handlers`` was
    documented with the hall's ``HandlerOut`` (id, name, phone), a payment order's organisation
    and lines with the hall's (schemathesis: "Response violates schema")."""
    found: set[type[BaseModel]] = set()
    for _prefix, router in api._routers:
        for operations in router.path_operations.values():
            for operation in operations.operations:
                for model in [*operation.models, *operation.response_models.values()]:
                    _classes(model, found)
    names: dict[str, set[str]] = {}
    for model in found:
        if model.__module__.startswith("certhall."):
            names.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
    assert {name: where for name, where in names.items() if len(where) > 1} == {}
