"""The message kinds and their texts; the notifier's checks and its audit event."""

from __future__ import annotations

import pytest

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.config import SmtpConfig
from certhall.errors import InvalidInput
from certhall.notify.messages import TEMPLATES, Kind, render
from certhall.notify.models import SmsMessage
from certhall.notify.notifier import mask_email, notify

CONTEXTS: dict[Kind, dict[str, object]] = {
    Kind.PIN: {"ukey": "UK2026001", "pin": "246810", "tries": 6},
    Kind.UNLOCK_PIN: {"ukey": "UK2026001", "pin": "246810", "tries": 6},
    Kind.LOGIN_CODE: {"code": "135790", "minutes": 5},
    Kind.REGISTER_CODE: {"code": "135790", "minutes": 5},
    Kind.REFUND_CODE: {"code": "135790", "minutes": 5},
    Kind.REFUND_COUNTER_CODE: {"code": "135790", "minutes": 5},
    Kind.APPLICATION_STATUS: {
        "organization": "深圳市测试医疗器械有限公司",
        "business": "新办",
        "application": "XB20261120001",
        "status": "已邮寄",
        "detail": "快递单号SF1234567890。",
        "link": "https://hall.example.cn/hall/applications/XB20261120001/",
    },
    Kind.REVIEW_RESULT: {
        "organization": "深圳市测试医疗器械有限公司",
        "business": "续期",
        "application": "XQ20261120002",
        "result": "已通过",
        "reason": "",
        "link": "https://hall.example.cn/hall/applications/XQ20261120002/",
    },
    Kind.RENEWAL_REMINDER: {
        "organization": "深圳市测试医疗器械有限公司",
        "cert_type": "机构证书（ODC证书）",
        "serial": "5a3c9e",
        "expires": "2026年12月20日",
        "days": 30,
        "link": "https://hall.example.cn/hall/renew/?serial=5a3c9e",
    },
    Kind.INVOICE_ISSUED: {
        "organization": "深圳市测试医疗器械有限公司",
        "order": "ZF20261120-000001",
        "kind": "增值税普通发票",
        "number": "26442000000012345678",
        "amount": "312.00",
        "link": "https://hall.example.cn/payments/orders/ZF20261120-000001",
    },
    Kind.REFUND_SENT: {
        "organization": "深圳市测试医疗器械有限公司",
        "order": "ZF20261120-000001",
        "amount": "312.00",
        "date": "2026-12-05",
        "reference": "退款单号2026120522001",
        "link": "https://hall.example.cn/payments/orders/ZF20261120-000001",
    },
    Kind.SURPLUS_RETURNED: {
        "organization": "深圳市测试医疗器械有限公司",
        "order": "ZF20261120-000001",
        "gateway": "微信支付",
        "amount": "312.00",
        "date": "2026-12-05",
        "reference": "退款单号5000020261205001",
        "link": "https://hall.example.cn/payments/orders/ZF20261120-000001",
    },
    Kind.REFUND_STATUS: {
        "organization": "深圳市测试医疗器械有限公司",
        "application": "FH20261201-000001",
        "status": "待补充材料",
        "detail": "审核意见：请补充营业执照副本",
        "link": "https://hall.example.cn/refunds/applications/FH20261201-000001/",
    },
    Kind.PASSWORD_CHANGED: {"account": "13800138000", "time": "2026-12-05 21:30"},
    Kind.ACCOUNT_DISOWNED: {"uscc": "91440300MA5G8B3L4X", "reason": "该单位已通过数字证书登录核验"},
}

EXPECTED_SMS = {
    Kind.PIN: "【深圳CA】您单位的数字证书Ukey（序列号UK2026001）证书已制作，"
    "证书密码（PIN码）为246810。首次使用请先修改密码，连续输错6次将锁定，切勿告诉他人。",
    Kind.UNLOCK_PIN: "【深圳CA】您单位的数字证书Ukey（序列号UK2026001）已解锁，"
    "新的证书密码（PIN码）为246810。首次使用请先修改密码，连续输错6次将锁定，切勿告诉他人。",
    Kind.LOGIN_CODE: "【深圳CA】您的登录验证码为135790，5分钟内有效。如非本人操作，请忽略本短信。",
    Kind.REGISTER_CODE: "【深圳CA】您正在注册深圳CA网上营业厅账户，验证码为135790，5分钟内有效。"
    "请勿将验证码告诉他人。",
    Kind.REFUND_CODE: "【深圳CA】您正在查询数字证书费用返还申请进度，验证码为135790，5分钟内有效。"
    "请勿将验证码告诉他人。",
    Kind.REFUND_COUNTER_CODE: "【深圳CA】您正在受理点办理数字证书费用返还线下申请，"
    "本手机号将接收申请编号和进度查询验证码，验证码为135790，5分钟内有效。"
    "如非本人在受理点办理，请勿将验证码告诉他人。",
    Kind.APPLICATION_STATUS: "【深圳CA】您单位的新办申请（编号XB20261120001）状态已变更为：已邮寄。"
    "快递单号SF1234567890。详情请登录网上营业厅查看：https://hall.example.cn/hall/applications/XB20261120001/",
    Kind.REVIEW_RESULT: "【深圳CA】您单位的续期申请（编号XQ20261120002）审核已通过。"
    "请登录网上营业厅查看：https://hall.example.cn/hall/applications/XQ20261120002/",
    Kind.RENEWAL_REMINDER: "【深圳CA】您单位（深圳市测试医疗器械有限公司）的机构证书（ODC证书）"
    "（序列号5a3c9e）将于2026年12月20日到期，剩余30天。请及时办理续期：证书过期后须到受理点现场办理，"
    "到期前90天内可在网上营业厅在线续期：https://hall.example.cn/hall/renew/?serial=5a3c9e",
    Kind.INVOICE_ISSUED: "【深圳CA】您单位订单ZF20261120-000001的增值税普通发票"
    "（发票号码26442000000012345678，金额312.00元）已开具，请登录网上营业厅在订单页面下载电子发票（PDF）："
    "https://hall.example.cn/payments/orders/ZF20261120-000001",
    Kind.REFUND_SENT: "【深圳CA】您单位订单ZF20261120-000001的退款312.00元已于2026-12-05原路退回"
    "付款账户（退款单号2026120522001），到账时间以银行或支付机构为准。"
    "详情请查看：https://hall.example.cn/payments/orders/ZF20261120-000001",
    Kind.SURPLUS_RETURNED: "【深圳CA】您单位订单ZF20261120-000001多付的一笔微信支付付款312.00元"
    "已于2026-12-05原路退回付款账户（退款单号5000020261205001），到账时间以银行或支付机构为准。"
    "详情请查看：https://hall.example.cn/payments/orders/ZF20261120-000001",
    Kind.REFUND_STATUS: "【深圳CA】深圳市测试医疗器械有限公司的数字证书费用返还申请"
    "（编号FH20261201-000001）的状态为：待补充材料。审核意见：请补充营业执照副本。"
    "详情请查看：https://hall.example.cn/refunds/applications/FH20261201-000001/",
    Kind.PASSWORD_CHANGED: "【深圳CA】您的网上营业厅账户（13800138000）的密码"
    "已于2026-12-05 21:30修改。如非本人操作，请立即使用短信验证码登录并修改密码，或到受理点办理。",
    Kind.ACCOUNT_DISOWNED: "【深圳CA】您以本手机号注册的网上营业厅账户"
    "（统一社会信用代码91440300MA5G8B3L4X）已停用：该单位已通过数字证书登录核验。该单位可使用数字证书登录网上营业厅；如有疑问，"
    "请携带营业执照到受理点办理。",
}


def test_every_kind_has_a_context_here() -> None:
    assert set(TEMPLATES) == set(Kind) == set(CONTEXTS) == set(EXPECTED_SMS)


@pytest.mark.parametrize("kind", list(Kind))
def test_sms_texts(kind: Kind) -> None:
    rendered = render(kind, CONTEXTS[kind])
    assert rendered.sms == EXPECTED_SMS[kind]
    assert len(rendered.sms) <= 500


@pytest.mark.parametrize("kind", list(Kind))
def test_only_notices_go_by_email(kind: Kind) -> None:
    rendered = render(kind, CONTEXTS[kind])
    # secrets, and what is told to a phone about its own account, go by SMS only
    sms_only = kind in (
        Kind.PIN, Kind.UNLOCK_PIN, Kind.LOGIN_CODE, Kind.REGISTER_CODE, Kind.REFUND_CODE,
        Kind.REFUND_COUNTER_CODE,
        Kind.ACCOUNT_DISOWNED, Kind.PASSWORD_CHANGED,
    )  # fmt: skip
    assert (rendered.email is None) is sms_only
    assert (rendered.subject is None) is sms_only
    if not sms_only:
        assert rendered.email is not None and rendered.subject is not None
        assert str(CONTEXTS[kind]["organization"]) in rendered.email
        assert "\n" not in rendered.subject


def test_renewal_email() -> None:
    rendered = render(Kind.RENEWAL_REMINDER, CONTEXTS[Kind.RENEWAL_REMINDER])
    assert rendered.subject == "数字证书将于2026年12月20日到期（剩余30天），请及时续期"
    assert rendered.email is not None
    assert "到期前90天内可在深圳CA网上营业厅在线续期" in rendered.email
    assert "\nhttps://hall.example.cn/hall/renew/?serial=5a3c9e\n" in rendered.email
    assert "续期150元/个/年" in rendered.email


def test_missing_and_unexpected_fields_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"缺少字段 \['minutes'\]"):
        render(Kind.LOGIN_CODE, {"code": "123456"})
    with pytest.raises(InvalidInput, match=r"多余字段 \['pin'\]"):
        render(Kind.LOGIN_CODE, {"code": "123456", "minutes": 5, "pin": "1"})
    with pytest.raises(InvalidInput, match="未知的消息类型"):
        render("fax", {})


def test_values_cannot_break_lines() -> None:
    context = {**CONTEXTS[Kind.REVIEW_RESULT], "result": "已通过\r\nBcc: x@example.com"}
    rendered = render(Kind.REVIEW_RESULT, context)
    assert rendered.subject is not None and "\n" not in rendered.subject
    assert "已通过 Bcc: x@example.com" in rendered.subject


def test_mask_email() -> None:
    assert mask_email("li.si@example.com") == "l***@example.com"
    assert mask_email("nonsense") == "***"


@pytest.mark.django_db
def test_notify_sends_by_sms_and_audits_without_the_text(  # type: ignore[no-untyped-def]
    admin: User, configure
) -> None:
    configure(smtp=SmtpConfig())  # no SMTP host: no email
    delivery = notify(Kind.PIN, context=CONTEXTS[Kind.PIN], phone="13800138000", actor=admin)
    assert delivery.sms is not None
    message = SmsMessage.objects.get()
    assert (message.kind, message.text) == ("ukey.pin", EXPECTED_SMS[Kind.PIN])
    assert message.status == "outbox"
    event = AuditEvent.objects.get(action="notify.send")
    assert event.after == {
        "kind": "ukey.pin",
        "sms": message.pk,
        "phone": "138****8000",
        "email": None,
        "to": None,
    }
    assert "246810" not in str(event.after)


@pytest.mark.django_db
def test_notify_needs_somebody() -> None:
    with pytest.raises(InvalidInput, match="没有手机号，也没有电子邮箱"):
        notify(Kind.REVIEW_RESULT, context=CONTEXTS[Kind.REVIEW_RESULT])
    with pytest.raises(InvalidInput):
        notify(Kind.REVIEW_RESULT, context={}, phone="13800138000")
    assert not SmsMessage.objects.exists()


@pytest.mark.parametrize("length", [395, 396, 600])  # 395: exactly 500 characters
def test_a_long_sentence_is_shortened_to_fit_the_sms_and_kept_whole_by_email(length: int) -> None:
    context = {**CONTEXTS[Kind.REVIEW_RESULT], "reason": "营" * length}
    whole = "营" * length + "。"
    rendered = render(Kind.REVIEW_RESULT, context)
    tail = "。请登录网上营业厅查看：https://hall.example.cn/hall/applications/XQ20261120002/"
    fits = len(EXPECTED_SMS[Kind.REVIEW_RESULT]) + len(whole) <= 500
    assert len(rendered.sms) == min(500, len(EXPECTED_SMS[Kind.REVIEW_RESULT]) + len(whole))
    assert rendered.sms.endswith(("营" if fits else "……") + tail)
    assert rendered.email is not None and whole in rendered.email


def test_a_template_without_sentences_is_not_cut() -> None:
    context = {**CONTEXTS[Kind.INVOICE_ISSUED], "link": "https://x.cn/" + "a" * 600}
    assert len(render(Kind.INVOICE_ISSUED, context).sms) > 500  # send_sms refuses it
