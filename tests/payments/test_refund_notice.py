"""The customer is told when a refunded order's money has been sent back: by the gateway's
refund (its refund number) or by finance's transfer (the bank's reference), by SMS and email to
the enterprise's online-hall accounts, with the link to the order; not for another enterprise,
not when the record is refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction

from certhall import clock as certhall_clock
from certhall import config
from certhall.accounts.models import User
from certhall.config import SmtpConfig
from certhall.errors import Conflict
from certhall.notify.models import OutgoingEmail, SmsMessage
from certhall.payments import lifecycle, refunding, services
from certhall.payments.models import Order

pytestmark = pytest.mark.django_db


def told() -> list[SmsMessage]:
    return list(SmsMessage.objects.filter(kind="refund_sent").order_by("pk"))


def test_a_gateway_refund_is_told(
    refunded_online: Callable[..., Order],
    applicant: User,
    other_applicant: User,
    configure: Callable[..., Any],
) -> None:
    configure(smtp=SmtpConfig(host="127.0.0.1", port=9))  # queued only: never sent here
    User.objects.filter(pk=applicant.pk).update(phone="13800138000", email="finance@example.cn")
    User.objects.filter(pk=other_applicant.pk).update(phone="13900139000")
    order = refunded_online()
    assert told() == []  # refunded, not yet sent back
    assert refunding.send_due(certhall_clock.now()) == 1
    order.refresh_from_db()
    (sms,) = told()
    link = f"{config.get().base_url}/payments/orders/{order.reference}"
    assert sms.phone == "13800138000"  # not another enterprise's account
    assert sms.text == (
        f"【深圳CA】您单位订单{order.reference}的退款300.00元已于"
        f"{certhall_clock.now().astimezone(certhall_clock.SHANGHAI):%Y-%m-%d}原路退回付款账户"
        f"（退款单号{order.refund_sent_reference}），到账时间以银行或支付机构为准。详情请查看：{link}"
    )
    mail = OutgoingEmail.objects.get(kind="refund_sent")
    assert mail.to == "finance@example.cn" and link in mail.body.split("\n")


def test_finance_s_transfer_is_told_once(
    clock: Any, clerk: User, applicant: User, make_order: Callable[..., Order]
) -> None:
    User.objects.filter(pk=applicant.pk).update(phone="13800138000")
    order = make_order()
    with transaction.atomic():
        services.apply_payment(
            clerk, order, channel=lifecycle.Channel.BANK, method=lifecycle.Method.BANK_TRANSFER,
            transaction_id="bank-0001", amount=order.amount, received_at=datetime.now(UTC),
        )  # fmt: skip
    services.refund(clerk, order, "客户撤回申请")
    services.record_refund_sent(clerk, order.reference, "HX20261205001")
    (sms,) = told()
    assert "（流水号HX20261205001）" in sms.text
    with pytest.raises(Conflict):
        services.record_refund_sent(clerk, order.reference, "HX20261205002")
    assert len(told()) == 1
