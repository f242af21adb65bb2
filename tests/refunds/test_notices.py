"""What the enterprise is told when its refund application moves: by SMS to the phone given
with the application (and by email to an online applicant's account), ending with the link to
where it follows the application; an offline application's number when the counter enters it;
nothing for a first approval, nothing for a bank file that
is refused as a whole."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from certhall import config
from certhall.accounts.models import User
from certhall.config import SmtpConfig
from certhall.notify.models import OutgoingEmail, SmsMessage
from certhall.refunds import payout, review, services
from certhall.refunds.counter import enter_offline
from certhall.refunds.models import Programme
from certhall.refunds.services import BankAccount
from tests.refunds.conftest import ACCOUNT, GONE_NAME, NAME, PHONE, released_batch
from tests.refunds.test_applications import apply, bank_return, offline_entry, records

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("records", "frozen")]
__all__ = ["records"]  # the fixture, used by name


def told() -> list[str]:
    return list(
        SmsMessage.objects.filter(kind="refund_status")
        .order_by("pk")
        .values_list("text", flat=True)
    )


def test_an_online_enterprise_hears_of_each_decision(
    actors: dict[str, User], open_programme: Programme, configure: Callable[..., Any]
) -> None:
    configure(smtp=SmtpConfig(host="127.0.0.1", port=9))  # queued only: never sent here
    actors["applicant"].email = "finance@example.cn"
    actors["applicant"].save()
    application = apply(actors, open_programme)  # 700.00: two officers
    link = f"{config.get().base_url}/refunds/applications/{application.number}/"

    review.ask_more(actors["officer"], application.number, "请补充营业执照副本")
    assert told() == [
        f"【深圳CA】{NAME}的数字证书费用返还申请（编号{application.number}）的状态为：待补充材料。"
        f"审核意见：请补充营业执照副本。请登录后在申请页面补充材料。详情请查看：{link}"
    ]
    assert SmsMessage.objects.get(kind="refund_status").phone == PHONE
    mail = OutgoingEmail.objects.get(kind="refund_status")
    assert mail.to == "finance@example.cn" and link in mail.body.split("\n")

    services.supply(actors["applicant"], application.number, "已上传")
    review.approve(actors["officer"], application.number)
    assert len(told()) == 1  # the first of two approvals: the enterprise still waits
    review.approve(actors["officer2"], application.number)
    assert told()[-1].endswith(
        f"审核通过，待拨付。返还金额{application.amount:.2f}元，将转入您提供的银行账户"
        f"（尾号{ACCOUNT[-4:]}）。详情请查看：{link}"
    )


def test_an_offline_enterprise_is_sent_to_the_progress_query(
    actors: dict[str, User], open_programme: Programme
) -> None:
    officer = actors["officer"]
    application = enter_offline(actors["clerk"], open_programme.slug, offline_entry())
    progress = f"{config.get().base_url}/refunds/progress/?number={application.number}"
    # entered at the counter: the number 进度查询 asks for, in writing (it was said aloud only)
    assert told() == [
        f"【深圳CA】{GONE_NAME}的数字证书费用返还申请（编号{application.number}）的状态为："
        f"已提交，待审核。返还金额{application.amount:.2f}元。请保存本短信中的申请编号："
        "审核结果将以短信通知本手机，也可凭申请编号、统一社会信用代码和短信验证码查询进度。"
        f"详情请查看：{progress}"
    ]
    assert SmsMessage.objects.get(kind="refund_status").phone == PHONE
    review.ask_more(officer, application.number, "身份证复印件不清晰")
    assert "请携带材料到原受理点补充" in told()[-1] and told()[-1].endswith(progress)
    assert not OutgoingEmail.objects.exists()  # entered by the clerk: nobody's mailbox

    services.supply(actors["clerk"], application.number, "已补交")
    review.approve(officer, application.number)
    batch = released_batch(officer, actors["officer2"], open_programme.slug)
    refused = payout.settle(officer, open_programme.slug, bank_return(batch, [(1, "paid")], "1"))
    assert refused.refused and len(told()) == 3  # a refused file applies nothing, tells nobody

    payout.settle(officer, open_programme.slug, bank_return(batch, [(1, "failed")]))
    assert told()[-1].startswith(f"【深圳CA】{GONE_NAME}的数字证书费用返还申请")
    assert (
        "拨付失败，待更正账户。转账未成功（账户不存在）。请致电深圳市12345政务服务便民热线（12345）"
        in (told()[-1])
    )
    review.correct_account(
        officer, application.number, BankAccount("李四", "6222000011112222", "建行")
    )
    review.approve(actors["officer2"], application.number)  # the corrected account's second
    assert "（尾号2222）" in told()[-1]  # approved again, to the corrected account
    second = released_batch(officer, actors["officer2"], open_programme.slug)
    payout.settle(officer, open_programme.slug, bank_return(second, [(1, "paid")]))
    assert told()[-1].endswith(
        f"已拨付。{application.amount:.2f}元已转入您提供的银行账户（尾号2222）。详情请查看：{progress}"
    )


def test_a_rejection_says_why(actors: dict[str, User], open_programme: Programme) -> None:
    application = apply(actors, open_programme)
    review.reject(actors["officer"], application.number, "所报费用已在其他项目返还")
    assert "的状态为：不予返还。原因：所报费用已在其他项目返还。" in told()[-1]
