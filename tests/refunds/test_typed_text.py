"""Invisible characters in what the refund programme's people type for others to read
(docs/security.md, "Invisible characters in typed text"): an officer's 不予返还的原因 and
需补充的材料, the enterprise's or the counter's 补充说明, the programme editor's texts (name,
announcement, counters, hotline), and a bank return's 附言 (what the applicant reads of a failed
transfer). The account name must equal the enterprise's name and the bank's name was already
checked (``accounts.validation.text``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.errors import InvalidInput
from certhall.refunds import payout, programmes, review, services
from certhall.refunds.models import Programme, RefundApplication
from certhall.refunds.states import State
from tests.refunds.conftest import ACCOUNT, NAME, PHONE
from tests.refunds.test_api import api, unsettled
from tests.refunds.test_applications import bank_return
from tests.refunds.test_programmes import new_programme
from tests.support.refused import marked

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

RLO = "\u202e"


@pytest.fixture
def submitted(
    actors: dict[str, User],
    open_programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> RefundApplication:
    fee("a1", date(2019, 6, 1), "300.00")
    use("a1", date(2019, 6, 1))
    account = services.BankAccount(NAME, ACCOUNT, "中国工商银行深圳分行")
    return services.apply_online(actors["applicant"], open_programme.slug, account, phone=PHONE)


def _supply(actors: dict[str, User], application: RefundApplication, x: str) -> object:
    review.ask_more(actors["officer"], application.number, "请补充开户许可证")
    return services.supply(actors["applicant"], application.number, f"已补{x}交")


#: (field as the refusal names it, the service called with the character in that field)
SERVICES: dict[str, tuple[str, Callable[..., object]]] = {
    "reject": (
        "不予返还的原因",
        lambda actors, app, x: review.reject(actors["officer"], app.number, f"重复{x}申领"),
    ),
    "ask for more": (
        "需补充的材料",
        lambda actors, app, x: review.ask_more(actors["officer"], app.number, f"请补充{x}"),
    ),
    "supply": ("补充说明", _supply),
}


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("char", [RLO, "\u200b", "\x00"], ids=["rlo", "zwsp", "nul"])
def test_an_officers_reason_and_a_supplement_refuse_an_invisible_character(
    actors: dict[str, User], submitted: RefundApplication, name: str, char: str
) -> None:
    """The enterprise reads an officer's reason on its progress page and by SMS, the officer
    reads the supplement: both took direction, zero-width and control characters."""
    what, call = SERVICES[name]
    with pytest.raises(InvalidInput) as refused:
        call(actors, submitted, char)
    assert refused.value.code == "text_chars"
    assert refused.value.message.startswith(f"{what}的第")
    submitted.refresh_from_db()
    assert char not in submitted.note
    assert submitted.state in (State.SUBMITTED, State.MORE_INFO)


@pytest.mark.parametrize(
    ("field", "typed", "what"),
    [
        ("name", f"深圳市数字证书{RLO}费用返还", "项目名称"),
        ("announcement", "第二轮\u200b返还。", "公告内容"),
        ("counters:szca", "科技园\x00广场|深圳市南山区科兴路10号|9:00-18:00", "受理点"),
        ("hotline_name", f"深圳市{RLO}12345", "咨询热线名称"),
        ("businesses", ["new", "re\u200bnew"], "返还的业务"),
    ],
)
def test_the_programme_editor_refuses_an_invisible_character(
    actors: dict[str, User], programme: Programme, field: str, typed: Any, what: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        programmes.save_programme(actors["officer"], new_programme(**{field: typed}), existing=None)
    assert refused.value.code == "text_chars"
    assert refused.value.message.startswith(f"{what}的第")
    assert not Programme.objects.filter(slug="sz-2027").exists()


def test_the_announcement_and_the_counters_keep_their_lines(
    actors: dict[str, User], programme: Programme
) -> None:
    counters = "科技园|深圳市南山区科兴路10号|9:00-18:00\r\n福田|深圳市福田区|\t9:00-18:00"
    saved = programmes.save_programme(
        actors["officer"],
        new_programme(announcement="一、范围\n二、\t时间", **{"counters:szca": counters}),
        existing=None,
    )
    assert saved.announcement == "一、范围\n二、\t时间"


def test_a_bank_return_message_with_an_invisible_character_refuses_the_file(
    actors: dict[str, User], two_in_a_batch: Any
) -> None:
    """The 附言 of a failed transfer becomes the application's note, which the enterprise
    reads: refused like one longer than its field, naming the line (a GBK file read as UTF-8
    leaves U+FFFD)."""
    good = bank_return(two_in_a_batch, [(1, "failed")])
    broken = good.replace("账户不存在".encode(), "账户\ufffd存在".encode())
    report = api(actors["officer"]).post(
        "/api/refunds/programmes/sz-2021/settlements", broken, content_type="text/csv"
    )
    [refusal] = report.json()["refusals"]
    assert refusal["reason"] == "bank_row_text_chars"
    assert refusal["message"] == (
        "第2行：银行附言的第3个字符（U+FFFD）是乱码替换符（文字在编码转换时已损坏），"
        "请核对回盘文件。"
    )
    unsettled(two_in_a_batch)
    assert payout.settle(actors["officer"], "sz-2021", good).refused == []


def test_an_account_number_typed_in_full_width_digits_is_paid_to_in_ascii(
    actors: dict[str, User],
    open_programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> None:
    """A Chinese input method types ６２２２… and a full-width blank: that is the account number,
    stored and written to the bank's transfer file in ASCII digits. Before (12-06) it was
    refused as 银行账号应为6至34位数字 although it was all digits. Other scripts' digits are
    still refused (``pki.identity.fold_width``)."""
    fee("a1", date(2019, 6, 1), "300.00")
    use("a1", date(2019, 6, 1))
    typed = "".join(chr(ord(c) + 0xFEE0) for c in ACCOUNT[:4]) + "\u3000" + ACCOUNT[4:]
    refused = services.BankAccount(NAME, "٦٢٢٢" + ACCOUNT[4:], "中国工商银行深圳分行")
    with pytest.raises(InvalidInput) as caught:
        services.apply_online(actors["applicant"], open_programme.slug, refused, phone=PHONE)
    assert caught.value.code == "refund_account_number"
    account = services.BankAccount(NAME, typed, "中国工商银行深圳分行")
    application = services.apply_online(
        actors["applicant"], open_programme.slug, account, phone=PHONE
    )
    assert RefundApplication.objects.get(pk=application.pk).account_number == ACCOUNT
    review.approve(actors["officer"], application.number)
    batch = payout.create_batch(actors["officer"], open_programme.slug)
    line = batch.content.splitlines()[1]
    assert line.split(",")[4] == ACCOUNT  # the account_number column, ASCII


@pytest.mark.parametrize(
    ("action", "other"), [("reject", "more-reason"), ("ask-more", "reject-reason")]
)
def test_a_refused_reason_is_marked_in_its_own_form(
    actors: dict[str, User], submitted: RefundApplication, action: str, other: str
) -> None:
    """Both decisions' forms hold a ``reason``: the refusal is shown in the form posted and only
    its reason is marked (``web.refused``), the other form's left as it was."""
    client = Client()
    client.force_login(actors["officer"])
    path = f"/refunds/console/applications/{submitted.number}/{action}"
    for reason in ("", "重复\u202e申领"):
        page = client.post(path, {"reason": reason}).content.decode()
        assert page.count('id="form-error"') == 1, reason
        assert marked(page) == ["reason"], reason
        refused = "reject-reason" if action == "reject" else "more-reason"
        assert re.search(rf'id="{refused}"[^>]*aria-invalid="true"', page), reason
        assert not re.search(rf'id="{other}"[^>]*aria-invalid', page), reason
    assert RefundApplication.objects.get(pk=submitted.pk).state == submitted.state
