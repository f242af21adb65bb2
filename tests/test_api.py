import pytest
from django.test import Client


@pytest.mark.django_db
def test_openapi_document_is_served(client: Client) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "certhall"
