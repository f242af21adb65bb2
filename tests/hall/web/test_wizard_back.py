"""证书新办's first step gone back to (12-06): a customer who went back from 经办人 (the
browser's back, or the page's own 上一步) and on again had two drafts in 我的申请, the first
step's POST making one each time. Now going back edits the draft the page made."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from certhall.accounts.models import Handler, Organization, User
from certhall.hall import services
from certhall.hall.models import Application
from tests.hall.conftest import FRIDAY, at
from tests.hall.web.conftest import new_form, text
from tests.support.threads import together

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


def test_a_double_tap_makes_one_draft(client_a: Client, organization: Organization) -> None:
    """A double tap sends the form twice at once: the second request read the session before
    the first wrote it, so the session's record of the token could not tell it (two drafts,
    the first one's number forgotten). The draft itself records the token it was made from;
    here the second request sees the session as it was before the first (as it does when both
    run at once)."""
    with at(FRIDAY):
        token = token_of(client_a.get("/hall/new/"))
        before = dict(client_a.session.items())  # what the second tap's request read
        first = client_a.post("/hall/new/", {**new_form(), "form_token": token})
        session = client_a.session
        session.clear()
        session.update(before)
        session.save()
        again = client_a.post("/hall/new/", {**new_form(), "form_token": token})
    (draft,) = drafts(organization)
    assert first["Location"] == again["Location"] == f"/hall/applications/{draft.number}/handler/"


def test_a_form_posted_again_after_its_application_went_on_opens_it(
    client_a: Client, applicant: User, organization: Organization
) -> None:
    """The page the browser kept, posted again once its application is no longer a draft (a
    back far enough after 确认提交): it opens that application, saying it cannot be changed,
    not a second application; after its draft was cancelled, the same form makes a new one."""
    with at(FRIDAY):
        token = token_of(client_a.get("/hall/new/"))
        client_a.post("/hall/new/", {**new_form(), "form_token": token})
        (draft,) = drafts(organization)
        Application.objects.filter(pk=draft.pk).update(state="submitted")
        again = client_a.post(
            "/hall/new/", {**new_form(years="3"), "form_token": token}, follow=True
        )
        assert "不能修改" in text(again) or "已提交" in text(again)
        assert drafts(organization) == [draft] and draft.items.get().years == 2
        Application.objects.filter(pk=draft.pk).update(state="draft")
        services.cancel(applicant, draft.number)
        other = client_a.post("/hall/new/", {**new_form(), "form_token": token})
    cancelled, made = drafts(organization)
    assert (cancelled.state, made.state) == ("cancelled", "draft")
    assert other["Location"] == f"/hall/applications/{made.number}/handler/"


def test_a_token_is_one_applicants_own(
    client_a: Client, applicant: User, organization: Organization
) -> None:
    """A colleague of the same organisation posting the token of another's form (or a forged
    one) makes its own draft and changes nothing of the other's."""
    colleague = User.objects.create_user(
        username="colleague-a", password="x", role=applicant.role, organization=organization
    )
    other = Client()
    other.force_login(colleague)
    with at(FRIDAY):
        token = token_of(client_a.get("/hall/new/"))
        client_a.post("/hall/new/", {**new_form(), "form_token": token})
        other.post("/hall/new/", {**new_form(years="3"), "form_token": token})
    mine, theirs = drafts(organization)
    assert (mine.entered_by_id, mine.items.get().years) == (applicant.pk, 2)
    assert (theirs.entered_by_id, theirs.items.get().years) == (colleague.pk, 3)


@pytest.fixture
def postgres(audit_flushable: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent requests need PostgreSQL (the Makefile's second pass)")


def at_once(browser: Client, url: str, forms: list[dict[str, str]]) -> list[Any]:
    """``forms`` posted to ``url`` at the same moment by tabs of ``browser``'s session."""

    def tap(form: dict[str, str]) -> Any:
        tab = Client()
        tab.cookies = browser.cookies
        with at(FRIDAY):
            return tab.post(url, form)

    return together(*(functools.partial(tap, form) for form in forms))


def test_three_taps_at_once_make_one_draft(
    postgres: None, applicant: User, organization: Organization
) -> None:
    """The double tap for real, on PostgreSQL (SQLite takes one writer at a time): three
    requests of one session post the same form at the same moment; one draft (three before)."""
    browser = Client()
    browser.force_login(applicant)
    answers = at_once(browser, "/hall/new/", [{**new_form(), "form_token": "tap"}] * 3)
    (draft,) = drafts(organization)
    assert {answer["Location"] for answer in answers} == {
        f"/hall/applications/{draft.number}/handler/"
    }


def test_two_tabs_changing_the_draft_at_once(
    postgres: None, applicant: User, organization: Organization
) -> None:
    """Two tabs of the draft's 证书信息 posting different terms at once: both go on to 经办人 and
    the draft keeps one 新办 line (the later one's). Before, both read the line, the first
    replaced it, and the second's removal found it gone: a 404 page."""
    browser = Client()
    browser.force_login(applicant)
    with at(FRIDAY):
        browser.post("/hall/new/", {**new_form(), "form_token": "t1"})
    (draft,) = drafts(organization)
    url = f"/hall/applications/{draft.number}/details/"
    answers = at_once(browser, url, [new_form(years=years) for years in ("3", "4", "5")])
    assert [answer.status_code for answer in answers] == [302, 302, 302]
    (line,) = draft.items.all()
    assert line.years in (3, 4, 5)
