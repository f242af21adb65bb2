"""The pages through Django's test client: the enterprise's programme page with its explained
amount and the online application, and the counter (the progress query by SMS code:
test_progress_pages.py; the officers' console, who may open what and the export:
test_console_pages.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import time_machine

from certhall.accounts.models import User
from certhall.notify.models import SmsMessage
from certhall.refunds.models import Programme, RefundApplication
from certhall.refunds.states import State
from certhall.web.templatetags.wrapping import numbers_whole
from tests.refunds.conftest import (
    ACCOUNT,
    NAME,
    PHONE,
    client_for,
)

pytestmark = pytest.mark.django_db

IN = date(2019, 6, 1)


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_online_application_pages(actors: dict[str, User], open_programme: Programme) -> None:
    anonymous = client_for(None)
    page = anonymous.get("/refunds/sz-2021/")
    assert page.status_code == 200
    assert "/login/certificate/?next=%2Frefunds%2Fsz-2021%2F" in page.content.decode()

    client = client_for(actors["applicant"])
    page = client.get("/refunds/sz-2021/").content.decode()
    assert "¥300.00" in page and 'data-reason="outside_window"' in page
    assert "缴费日期不在业务期间内" in page
    # the records' amounts in a number's column (right-aligned, as every other table's money)
    assert '<td data-label="金额（元）" class="num">300.00</td>' in page

    form = {"account_name": "别人", "account_number": ACCOUNT, "bank_name": "工行", "phone": PHONE}
    refused = client.post("/refunds/sz-2021/apply", {**form, "confirm": "yes"})
    assert refused.status_code == 400 and "必须与企业名称" in refused.content.decode()
    assert client.post("/refunds/sz-2021/apply", {**form, "account_name": NAME}).status_code == 400
    done = client.post("/refunds/sz-2021/apply", {**form, "account_name": NAME, "confirm": "yes"})
    assert done.status_code == 303
    number = RefundApplication.objects.get().number
    assert done["Location"] == f"/refunds/applications/{number}/"
    progress = client.get(done["Location"]).content.decode()
    assert "已提交，待审核" in progress and "提交申请" in progress
    again = client.post("/refunds/sz-2021/apply", {**form, "account_name": NAME, "confirm": "yes"})
    assert again.status_code == 409 and number in again.content.decode()

    # the seed: "线上、线下申请都可...查询进度": the query by SMS code opens it too, from
    # another browser (a phone with no Ukey), and the pages offer it to both
    public = client_for(None)
    base = {"number": number, "uscc": RefundApplication.objects.get().uscc}
    assert public.post("/refunds/progress/", {**base, "step": "code"}).status_code == 200
    sms = SmsMessage.objects.filter(phone=PHONE).order_by("-pk").first()
    code = re.search(r"验证码为(\d{6})", sms.text if sms else "")
    assert code is not None
    opened = public.post("/refunds/progress/", {**base, "step": "open", "code": code.group(1)})
    assert number in public.get(opened["Location"]).content.decode()
    for path in ("/refunds/", "/refunds/sz-2021/"):
        page = anonymous.get(path).content.decode()
        assert ">申请进度查询</a>" in page and "线下申请进度查询" not in page
    assert "线上、线下申请都可凭申请编号" in anonymous.get("/refunds/").content.decode()

    # another enterprise never sees it
    other = client_for(actors["other_applicant"])
    assert other.get(f"/refunds/applications/{number}/").status_code == 404  # as none at all
    assert anonymous.get(f"/refunds/applications/{number}/").status_code == 302


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_an_over_long_field_is_refused_beside_the_form(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The application's and the progress query's fields were read before their forms: one
    over its bound was the error page, every other field typed lost."""
    client = client_for(actors["applicant"])
    form = {"account_name": NAME, "account_number": ACCOUNT, "bank_name": "工" * 1001}
    refused = client.post("/refunds/sz-2021/apply", {**form, "phone": PHONE, "confirm": "yes"})
    page = refused.content.decode()
    assert refused.status_code == 400 and "填写的内容过长：此项最多1000个字" in page
    assert f'value="{ACCOUNT}"' in page and f'value="{PHONE}"' in page
    assert not RefundApplication.objects.exists()
    query = {"number": "TK" + "0" * 10, "uscc": "9" * 41, "step": "code"}
    progress = client_for(None).post("/refunds/progress/", query)
    assert (
        progress.status_code == 400
        and numbers_whole("填写的内容过长：此项最多40个字") in progress.content.decode()
    )
    assert f'value="{query["number"]}"' in progress.content.decode()
    assert not SmsMessage.objects.exists()


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_a_password_login_neither_sees_the_amount_nor_applies(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """An account registered with a password names a USCC without proving it: the explained
    amount and the application wait for the enterprise's certificate."""
    client = client_for(actors["password_applicant"])
    page = client.get("/refunds/sz-2021/").content.decode()
    assert 'id="password-login"' in page and 'id="login-link"' in page
    assert "¥300.00" not in page and 'id="eligibility"' not in page
    form = {"account_name": NAME, "account_number": ACCOUNT, "bank_name": "工行", "phone": PHONE}
    refused = client.post("/refunds/sz-2021/apply", {**form, "confirm": "yes"})
    assert refused.status_code == 403 and "数字证书登录" in refused.content.decode()
    assert not RefundApplication.objects.exists()


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_a_password_login_does_not_see_the_application_either(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """Only a certificate login sees the amount (docs/refunds.md): the programme page kept it
    from an account registered with a password, and the application's page, the API and the
    supply form gave it (the amount, the account's tail, the officers' notes) and let it
    resubmit the application in the enterprise's name."""
    from certhall.refunds import review, services
    from certhall.refunds.services import BankAccount

    application = services.apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, "工行"), phone=PHONE
    )
    review.ask_more(actors["officer"], application.number, "请补充营业执照复印件")
    url = f"/refunds/applications/{application.number}/"
    password = client_for(actors["password_applicant"])
    assert password.get(url).status_code == 404
    assert password.get("/api/refunds/applications").json() == []
    assert password.get(f"/api/refunds/applications/{application.number}").status_code == 404
    assert password.post(url + "supply", {"note": "x"}).status_code == 404
    assert RefundApplication.objects.get().state == State.MORE_INFO
    holder = client_for(actors["applicant"])  # the certificate's account still does
    assert "300.00" in holder.get(url).content.decode()
    assert holder.post(url + "supply", {"note": "已补充"}).status_code == 303
    assert RefundApplication.objects.get().state == State.SUBMITTED


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_a_refused_supply_keeps_the_note_beside_the_form(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """Online and at the counter, a refused 补充材料 was the error page: the note typed was lost;
    an empty one was accepted and told the officers nothing."""
    from certhall.refunds import counter, review, services
    from certhall.refunds.services import BankAccount
    from tests.refunds.test_applications import offline_entry

    online = services.apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, "工行"), phone=PHONE
    )
    offline = counter.enter_offline(actors["clerk"], "sz-2021", offline_entry())
    for application in (online, offline):
        review.ask_more(actors["officer"], application.number, "请补充营业执照复印件")
    cases = [
        (actors["applicant"], online, f"/refunds/applications/{online.number}/supply"),
        (actors["clerk"], offline, f"/refunds/counter/applications/{offline.number}/supply"),
    ]
    for user, application, url in cases:
        client = client_for(user)
        long = client.post(url, {"note": "补" * 501})
        assert long.status_code == 400, url
        assert "补充说明不能超过500个字" in long.content.decode()
        empty = client.post(url, {"note": "  "})
        assert empty.status_code == 400 and "请填写补充说明" in empty.content.decode()
        assert RefundApplication.objects.get(pk=application.pk).state == State.MORE_INFO
        assert client.post(url, {"note": "已补充"}).status_code == 303
        again = client.post(url, {"note": "再次补充：开户许可证"})  # no longer awaited
        # once, beside the form (the console's layout showed it a second time above)
        assert again.status_code == 409 and again.content.decode().count('id="form-error"') == 1
    assert set(RefundApplication.objects.values_list("state", flat=True)) == {State.SUBMITTED}


@pytest.mark.usefixtures("paid_and_used")
def test_a_closed_programme_does_not_invite_an_application(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """After the window the page still told a visitor 登录后即可查看可返还金额及其明细，并提交申请,
    and the offline card still sent them to a counter that refuses outside the window."""

    with time_machine.travel(date(2022, 1, 21), tick=False):  # the day after the window
        page = client_for(None).get("/refunds/sz-2021/").content.decode()
    assert "不在申请时间内：本项目申请时间为2021年12月21日至2022年1月20日" in page
    # (the announcement quoted below the cards says 提交返还申请 as it was written)
    assert "并提交申请" not in page and "办理点提交返还申请。须提交" not in page
    assert 'id="login-link"' in page  # applicants still log in to follow their application
    with time_machine.travel(date(2022, 1, 20), tick=False):  # the last day
        page = client_for(None).get("/refunds/sz-2021/").content.decode()
    assert "并提交申请" in page and "不在申请时间内：" not in page


def test_the_programme_page_says_not_yet_before_its_window_and_closed_after(
    programme: Programme,
) -> None:
    """The programme page tagged both sides of its window 不在申请时间内 where the list says 未开始
    or 已截止, and told a visitor on the day before it opened 已申请的企业可使用数字证书登录查看进度
    (nobody can have applied yet; 12-07, a new enterprise's walk)."""

    with time_machine.travel(date(2021, 12, 20), tick=False):  # the day before the window
        page = client_for(None).get("/refunds/sz-2021/").content.decode()
        listed = client_for(None).get("/refunds/").content.decode()
    assert '<span class="tag warn">未开始</span>' in page and "未开始" in listed
    assert "请在申请时间内再来申请。" in page and "已申请的企业" not in page
    with time_machine.travel(date(2022, 1, 21), tick=False):  # the day after
        page = client_for(None).get("/refunds/sz-2021/").content.decode()
    assert '<span class="tag error">已截止</span>' in page
    assert "已申请的企业可使用数字证书登录或凭申请编号查看进度。" in page


def test_a_ca_without_counters_sends_to_the_hotline_not_to_a_missing_attachment(
    programme: Programme,
) -> None:
    """Three of the announced CAs have no counters loaded (their 附件2 is not in the seed): the
    page said 办理点地址以公告附件为准, an attachment published nowhere on the site, neither on
    the programme page nor with the portal's notice (12-07, a new enterprise's walk)."""
    page = client_for(None).get("/refunds/sz-2021/").content.decode()
    assert "附件" not in page.split('id="offline"')[1].split("公告原文")[0]
    hotline = '深圳市12345政务服务便民热线（<a href="tel:12345" class="nowrap">12345</a>）'
    assert page.count(f"该机构的办理点地址请拨打{hotline}咨询。") == 3


@pytest.mark.usefixtures("frozen")
def test_the_page_names_the_businesses_the_programme_covers(
    actors: dict[str, User],
    programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> None:
    """A programme covers the businesses its officers chose (the editor): the page said the
    announced four (申请、续期、变更、补办) for every programme, and so did an excluded fee's
    reason, whatever the programme covered (12-07, a new enterprise's walk)."""
    programme.businesses = ["new", "renew"]
    programme.save(update_fields=["businesses"])
    fee("a1", IN, "300.00")
    fee("a2", IN, "200.00", business="change")
    use("a1", IN)
    use("a2", IN)
    page = client_for(actors["applicant"]).get("/refunds/sz-2021/").content.decode()
    assert '<dd id="businesses">申请、续期（变更、补办、解锁、吊销不在范围内）</dd>' in page
    assert "在业务期间内办理申请、续期业务并缴费" in page
    assert "变更业务不在本项目返还范围内" in page
    assert "补办" not in page.split('id="eligibility"')[1].split('id="offline"')[0]
    statement = client_for(actors["applicant"]).get("/api/refunds/programmes/sz-2021/eligibility")
    assert [line["reason_text"] for line in statement.json()["excluded"]] == [
        "变更业务不在本项目返还范围内"
    ]


def test_the_hotline_is_dialled_with_a_tap(programme: Programme, actors: dict[str, User]) -> None:
    """The seed's one contact, 咨询电话 12345, was text a phone could not dial (12-07); an
    enterprise without records was told 拨打12345 whatever the programme's hotline."""
    page = client_for(None).get("/refunds/sz-2021/").content.decode()
    dial = '深圳市12345政务服务便民热线（<a href="tel:12345" class="nowrap">12345</a>）'
    assert f'<dd id="hotline">{dial}</dd>' in page
    assert page.count(dial) == 4  # and in each CA without counters
    assert dial in client_for(None).get("/refunds/").content.decode()
    programme.hotline = "0755-8888 1234"
    programme.hotline_name = "返还咨询专线"
    programme.save(update_fields=["hotline", "hotline_name"])
    assert programme.hotline_tel == "075588881234"
    nothing = client_for(actors["applicant"]).get("/refunds/sz-2021/").content.decode()
    assert (
        '没有找到贵单位的证书费用记录。如有疑问，请咨询发证机构或拨打返还咨询专线（<a href="tel:'
        '075588881234" class="nowrap">0755-8888 1234</a>）。'
    ) in nothing
    programme.hotline = "各区政务服务中心"
    assert programme.hotline_tel == ""


def test_the_offline_documents_ask_a_proof_of_deregistration_or_change_only_of_those(
    programme: Programme,
) -> None:
    """The list said 营业执照…、企业注销或变更的有关证明材料 to every special case: an enterprise
    whose certificate expired or was lost looked for a proof of a change it never made, which
    the counter does not ask of it (``counter.required_items``; 12-07)."""
    from certhall.refunds.counter import required_items

    assert "change_proof" not in required_items("expired", False)
    assert "change_proof" not in required_items("lost", False)
    assert "change_proof" in required_items("changed", False)
    page = client_for(None).get("/refunds/sz-2021/").content.decode()
    offline = page.split('id="offline"')[1].split("公告原文")[0]
    offline = offline.replace('<span class="nowrap">', "").replace("</span>", "")  # brackets whole
    assert (
        "企业营业执照原件及复印件（签字按指纹）；企业注销或变更的，另附注销或变更的有关证明材料"
        "（数字证书过期、丢失的无需提供）；"
    ) in offline
