"""The pages through Django's test client: the enterprise's programme page with its explained
amount and the online application, the offline progress query with an SMS code, and the counter
(the officers' console, who may open what and the export: test_console_pages.py)."""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.notify.models import SmsMessage
from certhall.refunds.models import Programme, RefundApplication
from certhall.refunds.states import State
from certhall.web.templatetags.wrapping import numbers_whole
from tests.refunds.conftest import (
    ACCOUNT,
    COUNTER_FORM,
    GONE_NAME,
    GONE_USCC,
    LEGAL_REP_ID,
    NAME,
    PHONE,
    counter_code,
    other_code,
    sent_code,
)

pytestmark = pytest.mark.django_db

IN = date(2019, 6, 1)


@pytest.fixture
def records(fee: Callable[..., Any], use: Callable[..., Any]) -> None:
    fee("a1", IN, "300.00")
    fee("a2", date(2021, 1, 1), "400.00")
    fee("g1", IN, "300.00", uscc=GONE_USCC, name=GONE_NAME)
    use("a1", IN)
    use("a2", IN)
    use("g1", IN)


def client_for(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.usefixtures("records", "frozen")
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


@pytest.mark.usefixtures("records", "frozen")
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


@pytest.mark.usefixtures("records", "frozen")
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


@pytest.mark.usefixtures("records", "frozen")
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


@pytest.mark.usefixtures("records", "frozen")
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


@pytest.mark.usefixtures("records")
def test_offline_path_with_progress_by_sms_code(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    clerk = client_for(actors["clerk"])
    lookup = clerk.post(
        "/refunds/counter/", {"step": "lookup", "programme": "sz-2021", "uscc": GONE_USCC}
    )
    assert lookup.status_code == 200 and "¥300.00" in lookup.content.decode()
    read = AuditEvent.objects.get(action="refunds.eligibility.lookup")  # whose records, by whom
    assert (read.actor_id, read.object_id, read.after["amount"]) == (
        actors["clerk"].pk,
        GONE_USCC,
        "300.00",
    )
    items = ["licence", "change_proof", "person_id", "bank_card"]
    entry = {
        "step": "enter", "programme": "sz-2021", "uscc": GONE_USCC, "enterprise_name": GONE_NAME,
        "special_case": "deregistered", "person_name": "李四", "id_kind": "resident_id",
        "id_number": LEGAL_REP_ID, "account_name": "李四", "account_number": ACCOUNT,
        "bank_name": "建行", "phone": PHONE, "received": items,
        "signed": ["licence", "person_id"],
    }  # fmt: skip
    # the phone is proven first: no code, nothing stored
    unproven = clerk.post("/refunds/counter/", {**entry, "signed": items})
    assert unproven.status_code == 400 and "发送验证码" in unproven.content.decode()
    # 发送验证码, the form's second button: the code goes to the typed phone, the form comes
    # back as typed (every tick too)
    sent = clerk.post("/refunds/counter/", {**entry, "action": "send_code"})
    page = sent.content.decode()
    assert sent.status_code == 200 and "验证码已发送至 138****8000" in page
    assert 'id="person_name" name="person_name" value="李四"' in page
    for key in items:
        assert re.search(f'id="received-{key}"[^>]* checked', page), key
    for key in ("licence", "person_id"):
        assert re.search(f'id="signed-{key}"[^>]* checked', page), key
    assert not re.search('id="signed-bank_card"[^>]* checked', page)
    code = sent_code(PHONE, "refund_counter_code")
    assert not RefundApplication.objects.exists()
    unsigned = clerk.post("/refunds/counter/", {**entry, "code": code})
    assert unsigned.status_code == 400 and "签字按指纹" in unsigned.content.decode()
    wrong = clerk.post("/refunds/counter/", {**entry, "signed": items, "code": other_code(code)})
    assert wrong.status_code == 400
    assert "登记手机号的验证码不正确" in wrong.content.decode()
    assert not RefundApplication.objects.exists()
    done = clerk.post("/refunds/counter/", {**entry, "signed": items, "code": code})
    assert done.status_code == 303
    frozen.shift(61)  # the phone's next code (1 a minute): the progress query's
    application = RefundApplication.objects.get(uscc=GONE_USCC)
    assert application.channel == "offline"
    page = clerk.get(done["Location"])  # the clerk is told it was entered, and as what
    assert page.status_code == 200
    assert f"已录入返还申请 {application.number}" in page.content.decode()
    # another participating CA's staff: not theirs
    netca = client_for(actors["clerk_netca"])
    assert netca.get(done["Location"]).status_code == 403
    assert application.number not in netca.get("/refunds/counter/").content.decode()

    public = client_for(None)
    base = {"number": application.number, "uscc": GONE_USCC}
    wrong = public.post(
        "/refunds/progress/", {**base, "uscc": "91350100M000100Y43", "step": "code"}
    )
    assert wrong.status_code == 404
    sent = public.post("/refunds/progress/", {**base, "step": "code"})
    assert sent.status_code == 200 and "验证码已发送至" in sent.content.decode()
    text = SmsMessage.objects.filter(phone=PHONE).order_by("-pk").first()
    assert text is not None and "返还申请进度" in text.text
    code = re.search(r"验证码为(\d{6})", text.text)
    assert code is not None
    bad = public.post("/refunds/progress/", {**base, "step": "open", "code": "000000"})
    assert bad.status_code == 400
    opened = public.post("/refunds/progress/", {**base, "step": "open", "code": code.group(1)})
    assert opened.status_code == 303
    page = public.get(opened["Location"]).content.decode()
    assert application.number in page and "已提交，待审核" in page
    # the code opened this one application only; another browser (the link of an SMS followed
    # on a phone) is sent to the query, the number filled in
    elsewhere = client_for(None)
    redirected = elsewhere.get(opened["Location"])
    assert redirected.status_code == 302
    assert redirected["Location"] == f"/refunds/progress/?number={application.number}"
    query = elsewhere.get(redirected["Location"]).content.decode()
    assert f'name="number" value="{application.number}"' in query
    long_query = elsewhere.get("/refunds/progress/?number=" + "x" * 5000).content.decode()
    assert f'name="number" value="{"x" * 24}"' in long_query  # a number's length, no more


@pytest.mark.usefixtures("records", "frozen")
def test_wrong_progress_codes_are_limited_per_application(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """Five wrong codes in 15 minutes stop the look-up of that application, from any address:
    a guesser with many addresses gets five tries, not five per address."""
    entry = COUNTER_FORM
    clerk = client_for(actors["clerk"])
    assert clerk.post("/refunds/counter/", {**entry, "code": counter_code()}).status_code == 303
    base = {"number": RefundApplication.objects.get().number, "uscc": GONE_USCC}
    public = client_for(None)
    assert public.post("/refunds/progress/", {**base, "step": "code"}).status_code == 200
    text = SmsMessage.objects.filter(phone=PHONE).order_by("-pk").first()
    code = re.search(r"验证码为(\d{6})", text.text if text else "")
    assert code is not None
    wrong = "111111" if code.group(1) != "111111" else "222222"

    def attempt(guess: str, address: str) -> Any:
        data = {**base, "step": "open", "code": guess}
        return client_for(None).post("/refunds/progress/", data, REMOTE_ADDR=address)

    for n in range(5):
        assert attempt(wrong, f"198.51.100.{n}").status_code == 400
    stopped = attempt(code.group(1), "198.51.100.99")  # even the right code, from a new address
    assert stopped.status_code == 429 and "验证码错误次数过多" in stopped.content.decode()
    assert stopped["Retry-After"]


@pytest.mark.usefixtures("records", "frozen")
def test_a_squatters_claim_is_not_given_a_deregistered_enterprises_application(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """A deregistered enterprise's USCC is public and nobody will log in with its certificate
    again: a stranger registers it online (a claim, docs/accounts.md). The counter's offline
    application for it was attached to whatever organisation had the USCC, the claim
    included, and the stranger then read it in the online hall (the legal representative's
    amount, the account's tail, the officers' notes) and supplied "material" in its name."""
    from certhall.accounts.models import Organization, Role
    from certhall.refunds import counter, review
    from tests.refunds.test_applications import offline_entry

    claim = Organization.objects.create(name=GONE_NAME, uscc=GONE_USCC, licence_unchecked=True)
    squatter = User.objects.create(username="squatter", role=Role.APPLICANT, organization=claim)
    application = counter.enter_offline(actors["clerk"], "sz-2021", offline_entry())
    assert application.organization_id is None
    review.ask_more(actors["officer"], application.number, "请补充注销证明")
    client = client_for(squatter)
    assert client.get(f"/refunds/applications/{application.number}/").status_code == 404
    assert client.get("/api/refunds/applications").json() == []
    assert client.get(f"/api/refunds/applications/{application.number}").status_code == 404
    supplied = client.post(f"/refunds/applications/{application.number}/supply", {"note": "x"})
    assert supplied.status_code == 404
    assert RefundApplication.objects.get().state == State.MORE_INFO
    # one attached before the fix: the data migration detaches it
    RefundApplication.objects.filter(pk=application.pk).update(organization=claim)
    detach = importlib.import_module(
        "certhall.refunds.migrations.0005_offline_applications_off_claims"
    ).detach
    detach(django_apps, None)
    assert RefundApplication.objects.get().organization_id is None
    # an organisation whose licence was seen is the enterprise's: its application is attached
    Organization.objects.filter(pk=claim.pk).update(licence_unchecked=False)
    RefundApplication.objects.all().delete()
    checked = counter.enter_offline(actors["clerk"], "sz-2021", offline_entry())
    assert checked.organization_id == claim.pk
    detach(django_apps, None)
    assert RefundApplication.objects.get().organization_id == claim.pk


@pytest.mark.usefixtures("records", "frozen")
def test_asking_again_too_soon_keeps_the_code_field(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """获取验证码 pressed again within the minute was refused, and the refusal's page had no code
    field and no 查询 button: the code already on the phone could not be entered."""
    from certhall.refunds import counter
    from tests.refunds.test_applications import offline_entry

    application = counter.enter_offline(actors["clerk"], "sz-2021", offline_entry())
    public = client_for(None)
    base = {"number": application.number, "uscc": GONE_USCC}
    assert public.post("/refunds/progress/", {**base, "step": "code"}).status_code == 200
    again = public.post("/refunds/progress/", {**base, "step": "code"})
    page = again.content.decode()
    assert again.status_code == 429 and "60秒" in page
    assert 'id="code"' in page and 'id="open"' in page
    text = SmsMessage.objects.filter(phone=PHONE).order_by("-pk").first()
    code = re.search(r"验证码为(\d{6})", text.text if text else "")
    assert code is not None
    opened = public.post("/refunds/progress/", {**base, "step": "open", "code": code.group(1)})
    assert opened.status_code == 303


@pytest.mark.usefixtures("records")
def test_a_progress_code_after_the_counters_code_waits_out_the_phones_minute(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    """The phone's sending limit counts every purpose (docs/accounts.md): the representative at
    the counter got the counter's code, and 进度查询 asked 20 s later is refused with the wait
    in its words, ``Retry-After`` and on the 获取验证码 button (web/code-wait.js counts it down);
    the page had kept the code's field as if a progress code were on the phone (the counter's
    was: it opens nothing here). The counter's button waits the same way when asked again."""
    entry = COUNTER_FORM
    clerk = client_for(actors["clerk"])
    assert clerk.post("/refunds/counter/", {**entry, "action": "send_code"}).status_code == 200
    frozen.shift(5)
    again = clerk.post("/refunds/counter/", {**entry, "action": "send_code"})
    assert again.status_code == 429 and again["Retry-After"] == "55"
    button = re.search(r'<button[^>]*id="send-code"[^>]*>', again.content.decode())
    assert button is not None and 'data-code-wait="55"' in button.group(0)
    assert "请55秒后再获取。" in again.content.decode()
    frozen.shift(15)
    code = sent_code(PHONE, "refund_counter_code")
    assert clerk.post("/refunds/counter/", {**entry, "code": code}).status_code == 303
    base = {"number": RefundApplication.objects.get().number, "uscc": GONE_USCC}
    public = client_for(None)
    asked = public.post("/refunds/progress/", {**base, "step": "code"})
    page = asked.content.decode()
    assert asked.status_code == 429 and asked["Retry-After"] == "40"
    assert "各项业务合计" in page and numbers_whole("请40秒后再获取。") in page
    button = re.search(r'<button[^>]*id="send-code"[^>]*>', page)
    assert button is not None and 'data-code-wait="40"' in button.group(0)
    assert 'id="code"' not in page and 'id="open"' not in page  # no progress code to type
    assert "web/code-wait.js" in page
    frozen.shift(40)
    sent = public.post("/refunds/progress/", {**base, "step": "code"})
    assert sent.status_code == 200 and 'id="code"' in sent.content.decode()
    assert "data-code-wait=" not in sent.content.decode()
    assert sent_code(PHONE, "refund_code")


@pytest.mark.usefixtures("records")
def test_a_closed_programme_does_not_invite_an_application(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """After the window the page still told a visitor 登录后即可查看可返还金额及其明细，并提交申请,
    and the offline card still sent them to a counter that refuses outside the window."""
    import time_machine

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
    import time_machine

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


@pytest.mark.usefixtures("records")
def test_progress_takes_the_number_as_a_phone_types_it(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    """进度查询 compared the number stripped and upper-cased only: typed with a Chinese input
    method (ＦＨ２０２２…), in lower case, with blanks or without its hyphen (a phone keyboard's
    symbols page) it was 不匹配, the enterprise sent away from its own application (12-07)."""
    from certhall.refunds.counter import enter_offline
    from tests.refunds.test_applications import offline_entry

    number = enter_offline(actors["clerk"], open_programme.slug, offline_entry()).number
    day, serial = number[2:].split("-")
    wide = "ＦＨ" + "".join(chr(ord(c) + 0xFEE0) for c in day) + "－" + serial
    for typed in (number.lower(), f" FH {day} {serial} ", f"fh{day}{serial}", wide):
        frozen.shift(61)  # one code a minute to a phone
        public = client_for(None)
        sent = public.post(
            "/refunds/progress/", {"number": typed, "uscc": GONE_USCC, "step": "code"}
        )
        assert sent.status_code == 200 and "验证码已发送至" in sent.content.decode(), typed
    sms = SmsMessage.objects.order_by("-pk").first()
    assert sms is not None
    code = re.findall(r"验证码为(\d{6})", sms.text)[0]
    opened = public.post(
        "/refunds/progress/", {"number": wide, "uscc": GONE_USCC, "step": "open", "code": code}
    )
    assert opened.status_code == 303 and opened["Location"] == f"/refunds/applications/{number}/"
    assert public.get(opened["Location"]).status_code == 200


def _opened_by_code(number: str, uscc: str) -> str:
    """The application's page as 进度查询 opens it on a phone (no login: the SMS code)."""
    public = client_for(None)
    public.post("/refunds/progress/", {"number": number, "uscc": uscc, "step": "code"})
    sms = SmsMessage.objects.filter(kind="refund_code").order_by("-pk").first()
    assert sms is not None
    code = re.findall(r"验证码为(\d{6})", sms.text)[0]
    form = {"number": number, "uscc": uscc, "step": "open", "code": code}
    opened = public.post("/refunds/progress/", form)
    assert opened.status_code == 303
    return public.get(opened["Location"]).content.decode()


@pytest.mark.usefixtures("records")
def test_asked_for_more_the_page_says_where_to_supply_it(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    """待补充材料 opened by the SMS code on a phone showed the officer's note and nothing else: no
    form (that needs the certificate login) and no word of where to supply it (12-07). Online:
    the computer with the Ukey; offline: the counter that took it (the page has no form for
    them). After a failed transfer: the
    hotline (the SMS said so, the page did not)."""
    from certhall.refunds import payout, review, services
    from certhall.refunds.counter import enter_offline
    from tests.refunds.conftest import released_batch
    from tests.refunds.test_applications import apply, bank_return, offline_entry

    online = apply(actors, open_programme)
    review.ask_more(actors["officer"], online.number, "请补充营业执照副本")
    page = _opened_by_code(online.number, online.uscc)
    assert "请补充营业执照副本" in page and 'id="next-step"' in page
    assert "请在插有Ukey的电脑上使用本单位的数字证书登录，在本页面提交" in page
    # logged in, the form says it (test_phone_pages.test_an_application_page_says_what_comes_next)
    mine = client_for(actors["applicant"]).get(f"/refunds/applications/{online.number}/")
    assert "提交补充材料" in mine.content.decode()

    frozen.shift(61)  # the next code to the same phone
    offline = enter_offline(actors["clerk"], open_programme.slug, offline_entry())
    review.ask_more(actors["officer"], offline.number, "身份证复印件不清晰")
    page = _opened_by_code(offline.number, offline.uscc)
    assert "请携带材料到原受理点（深圳市电子商务安全证书管理有限公司）补充。" in page

    services.supply(actors["clerk"], offline.number, "已补交")
    review.approve(actors["officer"], offline.number)
    batch = released_batch(actors["officer"], actors["officer2"], open_programme.slug)
    payout.settle(actors["officer"], open_programme.slug, bank_return(batch, [(1, "failed")]))
    frozen.shift(61)
    page = _opened_by_code(offline.number, offline.uscc)
    hotline = '深圳市12345政务服务便民热线（<a href="tel:12345" class="nowrap">12345</a>）'
    assert f"下一步：请致电{hotline}提供正确的收款账户" in page


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
