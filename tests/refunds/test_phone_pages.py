"""What a customer on a phone found wrong on the refund pages (docs/refunds.md "Checked on a
phone"), through Django's test client; the same journey in Chromium is
tests/browser/test_phone_journey.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from certhall.accounts.models import User
from certhall.refunds.models import Programme
from tests.refunds.conftest import ACCOUNT, NAME, PHONE, USCC, client_for

pytestmark = pytest.mark.django_db

IN = date(2019, 6, 1)


@pytest.fixture
def records(fee: Callable[..., Any], use: Callable[..., Any]) -> None:
    fee("a1", IN, "300.00")
    use("a1", IN)


@pytest.mark.usefixtures("records", "frozen")
def test_an_application_page_says_what_comes_next(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """Just applied, the page said 已提交，待审核 and nothing more: not who decides, how the
    enterprise hears of it, nor where to look again. While the enterprise waits it says so;
    once it has something to do (补充材料) the form says it instead."""
    from certhall.refunds import review, services
    from certhall.refunds.services import BankAccount

    application = services.apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, "工行"), phone=PHONE
    )
    client = client_for(actors["applicant"])
    url = f"/refunds/applications/{application.number}/"
    page = client.get(url).content.decode()
    assert 'id="next-step"' in page and "等待返还审核员审核" in page
    assert "以短信通知申请时登记的手机" in page
    assert f"/refunds/progress/?number={application.number}" in page
    review.ask_more(actors["officer"], application.number, "请补充营业执照复印件")
    page = client.get(url).content.decode()
    assert 'id="next-step"' not in page and "提交补充材料" in page
    # a refused supply was shown twice, above the page's heading and beside its form
    refused = client.post(url + "supply", {"note": "  "}).content.decode()
    assert refused.count('id="form-error"') == 1 and "请填写补充说明" in refused


@pytest.mark.usefixtures("records", "frozen")
def test_too_many_look_ups_offer_no_code_field(open_programme: Programme) -> None:
    """Too many look-ups of a wrong number showed 短信验证码 and 查询 as if a code had been
    sent: none was, the field led nowhere. Only a code asked again too soon keeps it
    (test_progress_pages.test_asking_again_too_soon_keeps_the_code_field)."""
    public = client_for(None)
    form = {"number": "FH20220110-000009", "uscc": USCC, "step": "code"}
    answers = [public.post("/refunds/progress/", form) for _ in range(11)]
    last = answers[-1].content.decode()
    assert answers[-1].status_code == 429 and "操作过于频繁" in last
    assert 'id="code"' not in last and 'id="open"' not in last
    assert 'value="FH20220110-000009"' in last  # what was typed is kept


@pytest.mark.usefixtures("records", "frozen")
def test_the_programme_page_tells_a_phone_it_needs_the_computer(
    open_programme: Programme,
) -> None:
    """Opened from an SMS on a phone, the page invited 使用数字证书登录 and only the login page
    said that it needs the computer with the Ukey: the programme page says so, and what a
    phone can do instead."""
    page = client_for(None).get("/refunds/sz-2021/").content.decode()
    assert 'id="computer-needed"' in page and "手机上无法登录" in page
    assert "线下申请须知" in page and "/refunds/progress/" in page
