"""A programme names the portal notice that announces it: the notice's 去办理费用返还 opens that
programme (not the list), the programme's page links back to the notice, the demo links the
seed's notice to the announced programme, and the editor sets it (docs/refunds.md,
"Programmes")."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.accounts.services import system_actor
from certhall.errors import Conflict, InvalidInput
from certhall.portal import notices
from certhall.portal.models import Notice
from certhall.portal.notices import NoticeInput
from certhall.portal.seed import REFUND_KEY
from certhall.refunds import demo, programmes
from certhall.refunds.models import Programme
from certhall.refunds.records import programme_summary
from tests.refunds.test_programmes import client_for, new_programme

pytestmark = pytest.mark.django_db

TITLE = "深圳市数字证书费用返还公告"


def published(title: str = TITLE, *, category: str = "refund", key: str | None = None) -> Notice:
    actor = system_actor()
    data = NoticeInput(
        title=title, summary="", body_html="<p>返还。</p>", region="shenzhen",
        category=category, published_on=date(2022, 1, 13), pinned=False,
    )  # fmt: skip
    return notices.publish(actor, notices.create(actor, data, seed_key=key))


def button(client: Client, notice: Notice) -> str:
    page = client.get(f"/notices/{notice.pk}/").content.decode()
    found = re.search(
        r'<a class="btn primary" id="refund-go" href="([^"]*)">去办理费用返还</a>', page
    )
    assert found, page
    return found.group(1)


def back_link(client: Client, slug: str) -> str | None:
    page = client.get(f"/refunds/{slug}/").content.decode()
    found = re.search(r'<a href="([^"]*)" id="programme-notice">([^<]*)</a>', page)
    return f"{found.group(1)} {found.group(2)}" if found else None


def test_the_demo_links_the_seed_notice_and_each_page_opens_the_other(
    programme: Programme,
) -> None:
    client = Client()
    notice = published(key=REFUND_KEY)
    assert button(client, notice) == "/refunds/"  # no programme names it yet: the list
    assert back_link(client, "sz-2021") is None

    assert demo.link_announcement() == [
        f"refund programme 'sz-2021': announced by notice {notice.pk}"
    ]
    assert demo.link_announcement() == []  # once
    assert button(client, notice) == "/refunds/sz-2021/"
    assert back_link(client, "sz-2021") == f"/notices/{notice.pk}/ {TITLE}"

    # withdrawn: the programme's page no longer links to a page that answers 404
    notices.withdraw(system_actor(), notice)
    assert back_link(client, "sz-2021") is None


def test_the_demo_leaves_a_programme_that_names_a_notice_as_it_is(programme: Programme) -> None:
    chosen = published("另一份返还公告")
    programme.notice = chosen
    programme.save(update_fields=["notice"])
    published(key=REFUND_KEY)
    assert demo.link_announcement() == []
    programme.refresh_from_db()
    assert programme.notice == chosen


def test_a_notice_no_programme_names_outside_refunds_has_no_button(db: None) -> None:
    page = Client().get(f"/notices/{published('系统维护通知', category='system').pk}/")
    assert "去办理费用返还" not in page.content.decode()


def test_the_editor_names_the_notice(actors: dict[str, User], programme: Programme) -> None:
    officer = client_for(actors["officer"])
    notice, other = published(), published("第二轮返还公告")
    form = officer.get("/refunds/console/programmes/sz-2021/").content.decode()
    assert f'<option value="{notice.pk}">2022-01-13 {TITLE}</option>' in form

    values = {**programmes.as_form(programme), "notice": str(notice.pk)}
    officer.post("/refunds/console/programmes/sz-2021/", values)
    programme.refresh_from_db()
    assert programme.notice == notice
    assert programmes.as_form(programme)["notice"] == str(notice.pk)
    assert button(Client(), notice) == "/refunds/sz-2021/"

    # a copy starts without it: one programme a notice
    copy = officer.get("/refunds/console/programmes/new?from=sz-2021").content.decode()
    assert f'<option value="{notice.pk}"' not in copy  # named by sz-2021: not offered
    assert f'<option value="{other.pk}">' in copy  # offered, not chosen
    with pytest.raises(Conflict) as taken:
        programmes.save_programme(
            actors["officer"], new_programme(notice=str(notice.pk)), existing=None
        )
    assert taken.value.code == "refund_programme_notice_taken"
    assert Programme.objects.filter(slug="sz-2027").count() == 0
    created = programmes.save_programme(
        actors["officer"], new_programme(notice=str(other.pk)), existing=None
    )
    assert created.notice == other

    # cleared
    programmes.save_programme(
        actors["officer"], {**programmes.as_form(programme), "notice": ""}, existing="sz-2021"
    )
    programme.refresh_from_db()
    assert programme.notice is None
    assert button(Client(), notice) == "/refunds/"


@pytest.mark.parametrize("value", ["999999", "abc", "１２", "-1"])
def test_a_notice_that_is_not_a_published_one_is_refused(
    actors: dict[str, User], programme: Programme, value: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        programmes.save_programme(actors["officer"], new_programme(notice=value), existing=None)
    assert refused.value.code == "refund_programme_notice"


def test_a_draft_notice_is_refused(actors: dict[str, User], programme: Programme) -> None:
    actor = system_actor()
    data = NoticeInput(
        title="草稿", summary="", body_html="", region="shenzhen", category="refund",
        published_on=date(2022, 1, 13), pinned=False,
    )  # fmt: skip
    draft = notices.create(actor, data)
    with pytest.raises(InvalidInput):
        programmes.save_programme(
            actors["officer"], new_programme(notice=str(draft.pk)), existing=None
        )


def test_the_api_and_cli_summary_name_it(programme: Programme) -> None:
    assert programme_summary(programme)["notice"] is None
    notice = published()
    programme.notice = notice
    programme.save(update_fields=["notice"])
    assert programme_summary(programme)["notice"] == notice.pk
