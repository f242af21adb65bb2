"""The programme editor: refund officers create a programme (from scratch or as a copy) and
edit one; what decides amounts is locked once there are applications; every change and
refusal is audited; other roles cannot reach it."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput
from certhall.refunds import programmes, services
from certhall.refunds import urls as refunds_urls
from certhall.refunds.eligibility import explain
from certhall.refunds.models import Programme
from certhall.refunds.services import BankAccount
from tests.refunds.conftest import ACCOUNT, NAME, PHONE, USCC, client_for

pytestmark = pytest.mark.django_db

IN = date(2019, 6, 1)


def new_programme(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "slug": "sz-2027",
        "name": "深圳市数字证书费用返还（2027年）",
        "announcement": "第二轮返还。",
        "announced_on": "2027-01-05",
        "apply_from": "2027-01-05",
        "apply_to": "2027-03-31",
        "business_from": "2021-01-01",
        "business_to": "2025-12-31",
        "businesses": ["new", "renew"],
        "cas": ["szca", "gdca"],
        "counters:szca": "科技园文化广场|深圳市南山区科兴路10号|周一至周日 9:00-18:00",
        "hotline": "12345",
        "hotline_name": "深圳市12345政务服务便民热线",
        "second_review_above": "2,000.00",
    }
    return {**values, **changes}


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_create_and_edit_through_the_console(actors: dict[str, User], programme: Programme) -> None:
    officer = client_for(actors["officer"])
    listing = text(officer.get("/refunds/console/programmes/"))
    assert 'data-programme="sz-2021"' in listing
    copy = text(officer.get("/refunds/console/programmes/new?from=sz-2021"))
    assert "2017-12-31" in copy and 'name="slug" value=""' in copy  # a copy, not the same slug

    created = officer.post("/refunds/console/programmes/new", new_programme(), follow=True)
    assert text(created).count("已保存返还项目") == 1  # the layout's, not a second card too
    saved = Programme.objects.get(slug="sz-2027")
    assert (saved.business_from, saved.businesses, saved.second_review_above) == (
        date(2021, 1, 1),
        ["new", "renew"],
        Decimal("2000.00"),
    )
    assert [(c.provider.slug, c.counters) for c in saved.cas.order_by("position")] == [
        (
            "szca",
            [
                {
                    "name": "科技园文化广场",
                    "address": "深圳市南山区科兴路10号",
                    "hours": "周一至周日 9:00-18:00",
                }
            ],
        ),
        ("gdca", []),
    ]
    # the public page shows it at once
    assert "深圳市数字证书费用返还（2027年）" in text(Client().get("/refunds/sz-2027/"))

    edit = text(officer.get("/refunds/console/programmes/sz-2027/"))
    assert "科技园文化广场|深圳市南山区科兴路10号|周一至周日 9:00-18:00" in edit
    changed = officer.post(
        "/refunds/console/programmes/sz-2027/",
        new_programme(apply_to="2027-04-30", cas=["szca"], businesses=["new", "renew", "change"]),
        follow=True,
    )
    assert "已保存返还项目" in text(changed)
    saved.refresh_from_db()
    assert saved.apply_to == date(2027, 4, 30) and saved.businesses == ["new", "renew", "change"]
    assert list(saved.cas.values_list("provider__slug", flat=True)) == ["szca"]
    events = AuditEvent.objects.filter(action__startswith="refunds.programme.").order_by("seq")
    assert [(e.action, e.result) for e in events] == [
        ("refunds.programme.create", "ok"),
        ("refunds.programme.update", "ok"),
    ]
    update = events[1]
    assert update.before["apply_to"] == "2027-03-31" and update.after["apply_to"] == "2027-04-30"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"slug": "SZ 2027"}, "refund_programme_slug"),
        ({"slug": "sz-2021"}, "refund_programme_slug_taken"),
        ({"name": ""}, "refund_programme_missing"),
        ({"apply_to": "2027-13-01"}, "refund_programme_date"),
        ({"apply_from": "2027-04-01"}, "refund_programme_window"),
        ({"business_to": "2020-12-31"}, "refund_programme_window"),
        ({"businesses": []}, "refund_programme_businesses"),
        ({"businesses": ["new", "gift"]}, "refund_programme_businesses"),
        ({"cas": []}, "refund_programme_no_ca"),
        ({"cas": ["szca", "nobody"]}, "refund_ca_unknown"),
        ({"counters:szca": "只有名称"}, "refund_programme_counter"),
        ({"second_review_above": "-1"}, "amount_negative"),
        ({"second_review_above": "12.345"}, "amount_precision"),
        ({"second_review_above": "1e308"}, "amount_invalid"),
        ({"second_review_above": "10000000000"}, "amount_too_large"),
        ({"announcement": "长" * 20_001}, "field_too_long"),
        ({"cas": ["szca", "s" * 51]}, "field_too_long"),  # was cut to 50 and looked up
    ],
)
def test_bad_input_is_refused_whole(
    actors: dict[str, User], programme: Programme, changes: dict[str, Any], code: str
) -> None:
    with pytest.raises((InvalidInput, Conflict)) as refused:
        programmes.save_programme(actors["officer"], new_programme(**changes), existing=None)
    assert refused.value.code == code
    assert not Programme.objects.filter(slug="sz-2027").exists()
    assert Programme.objects.count() == 1


def test_a_slug_that_is_a_page_of_refunds_is_refused(
    actors: dict[str, User], programme: Programme
) -> None:
    """/refunds/<slug>/ is the programme's page, after /refunds/'s own pages: a programme
    called progress, console or counter was created and its page was 进度查询, the officers'
    dashboard or the counter, the programme nobody's to open (its refusal audited)."""
    routes = {
        str(pattern.pattern).split("/")[0]
        for pattern in refunds_urls.urlpatterns
        if "/" in str(pattern.pattern) and not str(pattern.pattern).startswith("<")
    }
    assert routes == programmes.RESERVED_SLUGS
    client = client_for(actors["officer"])
    for slug in sorted(routes):
        page = client.post("/refunds/console/programmes/new", new_programme(slug=slug))
        assert page.status_code == 400, slug
        assert f"项目代号“{slug}”与费用返还的页面地址相同" in page.content.decode()
        assert not Programme.objects.filter(slug=slug).exists()
    refused = AuditEvent.objects.filter(action="refunds.programme.create", result="refused")
    assert refused.count() == len(routes)


def test_the_page_keeps_what_was_typed_beside_the_refusal(
    actors: dict[str, User], programme: Programme
) -> None:
    page = client_for(actors["officer"]).post(
        "/refunds/console/programmes/new", new_programme(apply_from="2027-04-01")
    )
    shown = text(page)
    assert page.status_code == 400
    assert "申请时间的开始日期不能晚于结束日期" in shown
    assert 'value="深圳市数字证书费用返还（2027年）"' in shown
    refused = AuditEvent.objects.get(action="refunds.programme.create")
    assert refused.result == "refused"


def test_a_refusal_is_shown_once_and_names_the_ca_in_chinese(
    actors: dict[str, User], programme: Programme
) -> None:
    """The editor's page showed its refusal twice (the console's layout shows it already, both
    with id="form-error"), and a bad counter line named the CA by its slug (“szca的办理点”)."""
    page = client_for(actors["officer"]).post(
        "/refunds/console/programmes/new", new_programme(**{"counters:szca": "只有名称"})
    )
    shown = text(page)
    assert page.status_code == 400
    assert shown.count('id="form-error"') == 1
    assert "深圳市电子商务安全证书管理有限公司的办理点“只有名称”格式不正确" in shown
    assert "szca的办理点" not in shown


def test_an_amount_the_column_cannot_hold_is_refused_on_the_page(
    actors: dict[str, User], programme: Programme
) -> None:
    """1e308 was read by Decimal(), saved on SQLite, and every page reading the programme
    then failed (decimal.InvalidOperation); PostgreSQL would have refused it at the save."""
    officer = client_for(actors["officer"])
    for typed, shown in (
        ("1e308", "二次审核金额“1e308”不是有效的金额"),
        ("10000000000", "二次审核金额不能超过 9,999,999,999.99 元"),
    ):
        page = officer.post(
            "/refunds/console/programmes/new",
            new_programme(second_review_above=typed),
        )
        assert page.status_code == 400
        assert shown in text(page)
    assert not Programme.objects.filter(slug="sz-2027").exists()
    for path in (
        "/refunds/",
        "/api/refunds/programmes",
        "/refunds/console/programmes/",
        "/refunds/sz-2021/",
    ):
        assert officer.get(path).status_code == 200, path
    largest = officer.post(
        "/refunds/console/programmes/new", new_programme(second_review_above="9,999,999,999.99")
    )
    assert largest.status_code == 303
    assert Programme.objects.get(slug="sz-2027").second_review_above == Decimal("9999999999.99")
    assert officer.get("/refunds/sz-2027/").status_code == 200


@pytest.mark.usefixtures("frozen")
def test_what_decides_amounts_is_locked_once_applied(
    actors: dict[str, User],
    programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> None:
    fee("a1", IN, "300.00")
    use("a1", IN)
    services.apply_online(
        actors["applicant"],
        programme.slug,
        BankAccount(NAME, ACCOUNT, "中国工商银行深圳分行"),
        phone=PHONE,
    )
    current = programmes.as_form(programme)
    for changes in (
        {"business_to": "2021-12-31"},
        {"businesses": ["new"]},
        {"cas": ["szca"]},
        {"second_review_above": "5000.00"},
    ):
        with pytest.raises(Conflict) as locked:
            programmes.save_programme(actors["officer"], {**current, **changes}, existing="sz-2021")
        assert locked.value.code == "refund_programme_locked"
    assert explain(programme, USCC).amount.yuan == Decimal("300.00")
    # the window, the texts and the counters stay editable
    extended = programmes.save_programme(
        actors["officer"],
        {**current, "apply_to": "2022-02-28", "counters:netca": "网证通|广州|9-18"},
        existing="sz-2021",
    )
    assert extended.apply_to == date(2022, 2, 28)
    assert extended.cas.get(provider__slug="netca").counters[0]["name"] == "网证通"
    page = text(client_for(actors["officer"]).get("/refunds/console/programmes/sz-2021/"))
    assert 'id="locked-note"' in page and 'name="business_to"' in page
    assert 'type="date" id="business_to"' not in page  # shown, not editable
    with pytest.raises(InvalidInput) as renamed:
        programmes.save_programme(
            actors["officer"], {**current, "slug": "sz-2021b"}, existing="sz-2021"
        )
    assert renamed.value.code == "refund_programme_slug_fixed"


def test_only_refund_officers(actors: dict[str, User], programme: Programme) -> None:
    for role in ("applicant", "clerk", "reviewer"):
        with pytest.raises(Forbidden):
            programmes.save_programme(actors[role], new_programme(), existing=None)
        client = client_for(actors[role])
        assert client.get("/refunds/console/programmes/").status_code == 403
        assert client.post("/refunds/console/programmes/new", new_programme()).status_code == 403
    assert Client().get("/refunds/console/programmes/").status_code == 302
    assert not Programme.objects.filter(slug="sz-2027").exists()


def test_a_programme_is_a_search_document(actors: dict[str, User]) -> None:
    """费用返还 at /refunds/ was not in the portal's search (12-07 probe): each programme is a
    search document (费用返还), put when saved, changed when edited, and in a rebuild."""
    from certhall.portal import indexing, search
    from certhall.refunds import demo

    assert search.search("2027年").total == 0
    programmes.save_programme(actors["officer"], new_programme(), existing=None)
    hit = search.search("2027年").hits[0]
    assert hit.title == "深圳市数字证书费用返还（2027年）"
    assert (hit.kind_label, hit.url, hit.date) == (
        "费用返还",
        "/refunds/sz-2027/",
        date(2027, 1, 5),
    )
    assert "科技园文化广场" in str(search.search("科兴路").hits[0].snippet_html)
    changed = programmes.as_form(Programme.objects.get(slug="sz-2027"))
    changed["name"] = "深圳市数字证书费用返还（第二轮）"
    programmes.save_programme(actors["officer"], changed, existing="sz-2027")
    assert [h.title for h in search.search("2027年").hits] == [changed["name"]]
    assert [h.url for h in search.search("第二轮").hits] == ["/refunds/sz-2027/"]
    assert [h.url for h in search.search("退费 第二轮").hits] == ["/refunds/sz-2027/"]
    demo.seed(date(2026, 11, 20))
    shown = Programme.objects.get(slug="demo").announcement
    assert shown.startswith("本项目为演示项目") and "2026年11月13日至2026年12月20日" in shown
    assert "/refunds/demo/" in {h.url for h in search.search("演示项目").hits}
    indexing.reindex_all()
    refunds = {h.url for h in search.search("费用返还", per_page=50).hits if h.kind == "refund"}
    assert refunds == {"/refunds/sz-2021/", "/refunds/sz-2027/", "/refunds/demo/"}
