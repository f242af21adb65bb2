"""网上营业厅 pages against another enterprise (every URL taking an application number, its
certificates, the lists), CSRF on every POST, and no caching."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern

from certhall.accounts.models import Handler, Organization, User
from certhall.hall import storage
from certhall.hall.models import Application
from certhall.hall.web import applicant_urls
from tests.hall.conftest import (
    FRIDAY,
    HANDLER_ID,
    PDF,
    at,
    online_draft,
    software_certificate,
)
from tests.hall.web.conftest import file, new_form, text

pytestmark = pytest.mark.django_db


# --- authorization: enterprise A never reaches enterprise B's application ----------------------


@pytest.fixture
def b_application(stranger: User, other_organization: Organization) -> Application:
    handler_b = Handler.objects.create(
        organization=other_organization,
        name="钱七",
        id_kind=Handler.IdKind.RESIDENT_ID,
        id_number=HANDLER_ID,
        phone="13700137000",
    )
    with at(FRIDAY):
        return online_draft(stranger, handler_b)


#: Every URL taking an application number, with the method and data tried on B's application.
OBJECT_URLS = [
    ("get", "detail", "", {}),
    ("get", "continue", "continue/", {}),
    ("get", "details", "details/", {}),
    ("post", "details", "details/", {"project": "sz_medical_insurance", "years": "2"}),
    ("get", "handler", "handler/", {}),
    ("post", "handler", "handler/", {"action": "pick", "handler_id": "{handler}"}),
    ("get", "delivery", "delivery/", {}),
    ("post", "delivery", "delivery/", {"delivery": "pickup", "pickup_point": "kejiyuan"}),
    ("get", "documents", "documents/", {}),
    ("post", "documents", "documents/", {"kind": "licence_copy", "file": "FILE"}),
    ("get", "identity", "identity/", {}),
    ("post", "identity", "identity/", {}),
    ("get", "confirm", "confirm/", {}),
    ("post", "confirm", "confirm/", {}),
    ("post", "cancel", "cancel/", {}),
    ("post", "resubmit", "resubmit/", {}),
    ("get", "form-pdf", "forms/org_application.pdf", {}),
]


def _snapshot(application: Application) -> tuple[object, ...]:
    application.refresh_from_db()
    return (
        application.state,
        application.updated_at,
        application.handler_id,
        application.delivery,
        application.pickup_point,
        application.documents.count(),
        application.identity_checks.count(),
        Application.objects.count(),
        sorted(p.name for p in storage.root().rglob("*") if p.is_file()),
    )


@pytest.mark.parametrize(("method", "name", "suffix", "data"), OBJECT_URLS)
def test_another_enterprise_cannot_reach_the_application(
    client_a: Client,
    b_application: Application,
    handler: Handler,
    method: str,
    name: str,
    suffix: str,
    data: dict[str, str],
) -> None:
    before = _snapshot(b_application)
    payload: dict[str, object] = {
        k: (file(PDF, "x.pdf") if v == "FILE" else v.format(handler=handler.pk))
        for k, v in data.items()
    }
    url = f"/hall/applications/{b_application.number}/{suffix}"
    with at(FRIDAY):
        response = getattr(client_a, method)(url, payload)
    assert response.status_code in (403, 404), (url, response.status_code)
    assert b_application.number not in text(response) or response.status_code == 404
    assert _snapshot(b_application) == before  # state, data, documents, stored files


def test_every_applicant_url_is_tried_for_another_enterprise() -> None:
    names = {p.name for p in applicant_urls.urlpatterns if isinstance(p, URLPattern)}
    with_number = {
        p.name
        for p in applicant_urls.urlpatterns
        if isinstance(p, URLPattern) and "<str:number>" in str(p.pattern)
    }
    assert with_number == {name for _m, name, _s, _d in OBJECT_URLS}
    # the URLs without an application are the applicant's own: home, list, new, renew
    assert names - with_number == {"home", "list", "new", "renew"}


def test_another_enterprises_certificate_cannot_be_renewed(
    client_a: Client, admin: User, other_organization: Organization, hall_ca: object
) -> None:
    _key, cert = software_certificate(admin, other_organization, profile="personal")
    with at(FRIDAY):
        looked = client_a.get("/hall/renew/", {"serial": cert.serial, "years": "1"})
        posted = client_a.post("/hall/renew/", {"serial": cert.serial, "years": "1"})
    for response in (looked, posted):  # as a serial that does not exist (no 403 oracle)
        assert response.status_code == 404
        assert f"没有序列号为 {cert.serial} 的证书" in text(response)
        assert other_organization.name not in text(response)
    assert not Application.objects.exists()


def test_lists_show_only_the_own_enterprise(client_a: Client, b_application: Application) -> None:
    for url in ("/hall/", "/hall/applications/"):
        assert b_application.number not in text(client_a.get(url))


# --- CSRF ----------------------------------------------------------------------------------


def test_posts_without_csrf_token_are_refused(
    applicant: User, handler: Handler, organization: Organization
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
    client = Client(enforce_csrf_checks=True)
    client.force_login(applicant)
    posts = [
        ("/hall/new/", new_form()),
        ("/hall/renew/", {"serial": "01", "years": "1"}),
        *[
            (f"/hall/applications/{draft.number}/{suffix}", {})
            for method, _name, suffix, _data in OBJECT_URLS
            if method == "post"
        ],
    ]
    before = _snapshot(draft)
    with at(FRIDAY):
        for url, data in posts:
            response = client.post(url, data)
            assert response.status_code == 403, url
    assert _snapshot(draft) == before
    assert Application.objects.filter(organization=organization).count() == 1
    # with the token the same client gets through
    token_page = client.get("/hall/new/")
    token = token_page.cookies[settings.CSRF_COOKIE_NAME].value
    with at(FRIDAY):
        response = client.post("/hall/new/", {**new_form(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_pages_are_not_cached(client_a: Client) -> None:
    response = client_a.get("/hall/")
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
