"""常见问题 and 证书使用指引 entries through the staff console's form."""

from __future__ import annotations

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.portal.models import Entry
from tests.support.refused import marked

pytestmark = pytest.mark.django_db


def _form(order: str) -> dict[str, str]:
    return {
        "kind": "faq",
        "category": "证书办理",
        "title": "证书丢失怎么办？",
        "body_html": "<p>请到受理点办理介质补办。</p>",
        "order": order,
        "published": "on",
    }


def test_an_order_beyond_the_column_is_refused_beside_the_form(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """The order field took up to 18 digits into a 32-bit column: on PostgreSQL an HTTP 500
    (integer out of range), on SQLite a number stored that PostgreSQL could not hold."""
    client = Client()
    client.force_login(editor)
    for typed in ("99999999999", "-2147483649", "999999999999999999"):
        refused = client.post("/console/portal/entries/new/", _form(typed))
        assert refused.status_code == 400, typed
        assert "顺序" in refused.content.decode()
        assert marked(refused.content.decode()) == ["order"], typed
    assert not Entry.objects.exists()
    saved = client.post("/console/portal/entries/new/", _form("-5"))
    assert saved.status_code == 303
    assert Entry.objects.get().order == -5


def test_an_order_that_is_not_a_number_is_refused_not_read_as_zero(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """ "abc", "1.5" or 19 digits were read as 0 and the entry saved at the top of its list."""
    client = Client()
    client.force_login(editor)
    for typed in ("abc", "1.5", "1" * 19, "--3"):
        refused = client.post("/console/portal/entries/new/", _form(typed))
        assert refused.status_code == 400, typed
        page = refused.content.decode()
        assert "顺序应为整数" in page and 'value="证书丢失怎么办？"' in page, typed
        assert marked(page) == ["order"], typed  # the field, for a screen reader
    assert not Entry.objects.exists()
    assert client.post("/console/portal/entries/new/", _form("")).status_code == 303
    assert Entry.objects.get().order == 0  # left empty: 0, as the form's default says


def test_the_seeded_entries_link_the_pages_they_name(seeded: User) -> None:
    """The seeded FAQ and usage guides said 登录深圳CA网上营业厅, 在“下载”页面 and 本站“证书查询”
    as plain text; each first mention is a link to that page of this platform, kept by the
    sanitiser when the page is shown (and not a link to the seed's wt.szca.net)."""
    usage = Client().get("/usage/").content.decode()
    assert '<a href="/hall/" rel="noopener noreferrer">深圳CA网上营业厅</a>' in usage
    assert '<a href="/downloads/" rel="noopener noreferrer">“下载”页面</a>' in usage
    assert '<a href="/status/" rel="noopener noreferrer">“证书查询”</a>' in usage
    for path in ("/hall/", "/downloads/", "/status/"):
        assert Client().get(path).status_code in (200, 302)


def test_each_refusal_marks_the_field_it_is_about(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """The entry editor's refusals name their field (``web.refused``): a title or category left
    blank, a body with no text, an unknown kind; one refusal, one field."""
    client = Client()
    client.force_login(editor)
    for change, field in (
        ({"title": "  "}, "title"),
        ({"category": ""}, "category"),
        ({"title": "证书\u202e丢失"}, "title"),
        ({"body_html": "<p> </p>"}, "body_html"),
        ({"kind": "blog"}, "kind"),
        ({"order": "1000000"}, "order"),
    ):
        page = client.post("/console/portal/entries/new/", {**_form("1"), **change})
        assert page.status_code == 400, change
        assert marked(page.content.decode()) == [field], change
    assert not Entry.objects.exists()
