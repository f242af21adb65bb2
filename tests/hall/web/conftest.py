"""What the hall's page tests share: an enterprise's logged-in client, the 新办 form, an upload,
a page's text."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certhall.accounts.models import Handler, User
from certhall.hall.models import Application, Document
from tests.hall.conftest import FRIDAY, LEGAL_REP_ID, at, online_draft


@pytest.fixture(autouse=True)
def _static_root() -> None:
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture
def client_a(applicant: User) -> Client:
    client = Client()
    client.force_login(applicant)
    return client


def new_form(**fields: str) -> dict[str, str]:
    form = {
        "project": "sz_medical_insurance",
        "cert_type": "personal",
        "years": "2",
        "person_name": "王五",
        "person_id_number": LEGAL_REP_ID,
    }
    form.update(fields)
    return form


def file(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


def draft_without_documents(client_a: Client, applicant: User, handler: Handler) -> Application:
    """An online draft of ``applicant`` whose documents are all gone (the documents step)."""
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
    Document.objects.filter(application=draft).delete()
    return draft
