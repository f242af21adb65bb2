"""The 新办 wizard's steps open only while the application can be changed: once it is
submitted, every step opens the progress page and says why, and a step's form changes nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from certhall.accounts.models import Handler, User
from certhall.hall.models import Application
from certhall.hall.states import State
from tests.hall.conftest import FRIDAY, at, online_draft

pytestmark = pytest.mark.django_db

STEPS = ("handler", "delivery", "documents", "identity", "confirm")


@pytest.fixture
def client_a(applicant: User) -> Client:
    client = Client()
    client.force_login(applicant)
    return client


def _snapshot(application: Application) -> tuple[object, ...]:
    application.refresh_from_db()
    documents = sorted(application.documents.values_list("pk", "kind", "sha256"))
    return (application.state, application.handler_id, application.delivery, documents)


@pytest.mark.parametrize("step", STEPS)
def test_a_submitted_application_opens_its_progress_page(
    client_a: Client, applicant: User, handler: Handler, step: str
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        assert client_a.get(f"/hall/applications/{draft.number}/{step}/").status_code == 200
        client_a.post(f"/hall/applications/{draft.number}/confirm/")
        submitted = Application.objects.get(pk=draft.pk)
        assert submitted.state == State.AWAITING_PAYMENT
        before = _snapshot(submitted)

        url = f"/hall/applications/{draft.number}/{step}/"
        response = client_a.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"/hall/applications/{draft.number}/"
        page = client_a.get(response["Location"]).content.decode()
        assert "申请当前为“待付款”，不能再修改。" in page

        posted = client_a.post(url, {"action": "add", "delivery": "pickup", "kind": "licence_copy"})
    assert posted.status_code == 302
    assert _snapshot(submitted) == before
