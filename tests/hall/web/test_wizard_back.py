"""证书新办's first step gone back to (12-06): a customer who went back from 经办人 (the
browser's back, or the page's own 上一步) and on again had two drafts in 我的申请, the first
step's POST making one each time. Now going back edits the draft the page made."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from certhall.accounts.models import Handler, Organization, User
from certhall.hall import services
from certhall.hall.models import Application
from tests.hall.conftest import FRIDAY, at
from tests.hall.web.conftest import new_form, text

pytestmark = pytest.mark.django_db


def token_of(page: object) -> str:
    found = re.search(r'name="form_token" value="([^"]+)"', text(page))
    assert found, "no form token on 证书新办"
    return found[1]


def drafts(organization: Organization) -> list[Application]:
    return list(Application.objects.filter(organization=organization).order_by("pk"))


def test_the_first_step_posted_again_changes_its_draft(
    client_a: Client, organization: Organization
) -> None:
    """The page the browser shows again on 返回 (or a double tap) posts its form again, with its
    token: the draft it made is changed, no second one is made."""
    with at(FRIDAY):
        token = token_of(client_a.get("/hall/new/"))
        first = client_a.post("/hall/new/", {**new_form(), "form_token": token})
        again = client_a.post("/hall/new/", {**new_form(years="3"), "form_token": token})
    (draft,) = drafts(organization)
    handler_url = f"/hall/applications/{draft.number}/handler/"
    assert first["Location"] == again["Location"] == handler_url
    line = draft.items.get()
    assert (line.business, line.years, str(line.fee)) == ("new", 3, "450.00")
    draft.refresh_from_db()
    assert str(draft.fee_total) == "450.00"


def test_opening_the_first_step_again_opens_the_draft(
    client_a: Client, organization: Organization
) -> None:
    """The browser's back from 经办人 loads /hall/new/ again: it opens the draft's 证书信息 with
    what was chosen, and going on from there changes that draft."""
    with at(FRIDAY):
        client_a.post("/hall/new/", {**new_form(), "form_token": "t1"})
        (draft,) = drafts(organization)
        base = f"/hall/applications/{draft.number}"
        back = client_a.get("/hall/new/")
        assert back.status_code == 302 and back["Location"] == f"{base}/details/"
        page = client_a.get(f"{base}/details/")
        shown = text(page)
        assert page.status_code == 200 and draft.number in shown
        assert "尚未提交的新办申请" in shown  # says why this draft is open
        assert '<option value="2" selected>' in shown and 'value="王五"' in shown
        assert f'action="{base}/details/"' in shown and 'id="another-new"' in shown
        on = client_a.post(f"{base}/details/", new_form(years="4", person_name="赵六"))
        assert on["Location"] == f"{base}/handler/"
        # the page's own way back: 上一步 on 经办人, and the steps' first step, link here
        handler_page = text(client_a.get(f"{base}/handler/"))
        assert f'href="{base}/details/" id="back-to-details"' in handler_page
        assert f'<a href="{base}/details/" aria-label="证书信息">' in handler_page
    (same,) = drafts(organization)
    line = same.items.get()
    assert (same.pk, line.years, line.person_name) == (draft.pk, 4, "赵六")


def test_a_refused_change_keeps_the_draft_as_it_was(
    client_a: Client, organization: Organization
) -> None:
    with at(FRIDAY):
        client_a.post("/hall/new/", new_form())
        (draft,) = drafts(organization)
        refused = client_a.post(f"/hall/applications/{draft.number}/details/", new_form(years="6"))
    assert refused.status_code == 422 and 'id="form-error"' in text(refused)
    line = draft.items.get()
    assert line.years == 2 and drafts(organization) == [draft]


def test_another_application_is_still_possible(
    client_a: Client, applicant: User, handler: Handler, organization: Organization
) -> None:
    """另办一份新申请 (the link on the draft's 证书信息) starts another; a draft submitted or
    made elsewhere (the API, an earlier session) does not hold /hall/new/ back."""
    with at(FRIDAY):
        client_a.post("/hall/new/", {**new_form(), "form_token": "t1"})
        another = client_a.get("/hall/new/?another=1")
        assert another.status_code == 200 and 'id="another-new"' not in text(another)
        client_a.post("/hall/new/", {**new_form(), "form_token": token_of(another)})
        assert len(drafts(organization)) == 2
        for draft in drafts(organization):
            services.cancel(applicant, draft.number)
        assert client_a.get("/hall/new/").status_code == 200  # nothing open: the form
        other = Client()
        other.force_login(applicant)  # another browser: its own form, its own draft
        assert other.get("/hall/new/").status_code == 200
