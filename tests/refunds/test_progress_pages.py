"""进度查询 through Django's test client: the offline path from the counter to the progress
page opened by an SMS code, the code's limits per application and per phone, a number as a phone
types it, and what the page says comes next (the enterprise's own pages: test_pages.py)."""

from __future__ import annotations

import importlib
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps

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
    PHONE,
    client_for,
    counter_code,
    other_code,
    sent_code,
)

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("paid_and_used")
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


@pytest.mark.usefixtures("paid_and_used")
def test_wrong_progress_codes_are_limited_per_application(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    """Five wrong codes in 15 minutes stop the look-up of that application, from any address:
    a guesser with many addresses gets five tries, not five per address."""
    entry = COUNTER_FORM
    clerk = client_for(actors["clerk"])
    assert clerk.post("/refunds/counter/", {**entry, "code": counter_code()}).status_code == 303
    base = {"number": RefundApplication.objects.get().number, "uscc": GONE_USCC}
    public = client_for(None)

    def attempt(guess: str, address: str) -> Any:
        data = {**base, "step": "open", "code": guess}
        return client_for(None).post("/refunds/progress/", data, REMOTE_ADDR=address)

    for guesses in (3, 2):  # a code dies after three wrong (codes.GUESSES_PER_CODE): a new one
        frozen.shift(timedelta(seconds=60))
        assert public.post("/refunds/progress/", {**base, "step": "code"}).status_code == 200
        text = SmsMessage.objects.filter(phone=PHONE).order_by("-pk").first()
        code = re.search(r"验证码为(\d{6})", text.text if text else "")
        assert code is not None
        wrong = "111111" if code.group(1) != "111111" else "222222"
        for n in range(guesses):
            assert attempt(wrong, f"198.51.100.{guesses}{n}").status_code == 400
    stopped = attempt(code.group(1), "198.51.100.99")  # even the right code, from a new address
    assert stopped.status_code == 429 and "验证码错误次数过多" in stopped.content.decode()
    assert stopped["Retry-After"]


@pytest.mark.usefixtures("paid_and_used", "frozen")
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


@pytest.mark.usefixtures("paid_and_used", "frozen")
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


@pytest.mark.usefixtures("paid_and_used")
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


@pytest.mark.usefixtures("paid_and_used")
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


@pytest.mark.usefixtures("paid_and_used")
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
