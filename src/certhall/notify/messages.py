"""The message kinds and their zh-CN texts: one SMS text, and for kinds that may go by email a
subject and a body. A wording change is a change here, nothing else.

Each template names its fields; :func:`render` refuses a missing or an unexpected field, so a
caller cannot send a text with a hole in it. Kinds that carry a secret (a PIN, a verification
code) have no email text: they go by SMS only.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from certhall.errors import InvalidInput

SIGNATURE = "【深圳CA】"
#: The longest SMS the platform sends (``notify.services.send_sms`` refuses a longer one).
SMS_LIMIT = 500
ELLIPSIS = "……"
EMAIL_FOOTER = (
    "\n\n——\n深圳市电子商务安全证书管理有限公司（深圳CA）\n"
    "本邮件由系统自动发送，请勿直接回复。如有疑问，请登录网上营业厅或到受理点咨询。\n"
)


class Kind(StrEnum):
    PIN = "ukey.pin"
    UNLOCK_PIN = "ukey.unlock_pin"
    LOGIN_CODE = "login_code"
    REGISTER_CODE = "register_code"
    REFUND_CODE = "refund_code"
    REFUND_COUNTER_CODE = "refund_counter_code"
    APPLICATION_STATUS = "application_status"
    REVIEW_RESULT = "review_result"
    RENEWAL_REMINDER = "renewal_reminder"
    INVOICE_ISSUED = "invoice_issued"
    REFUND_SENT = "refund_sent"
    SURPLUS_RETURNED = "surplus_returned"
    REFUND_STATUS = "refund_status"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - a message kind, not a password
    ACCOUNT_DISOWNED = "account_disowned"


@dataclass(frozen=True)
class Template:
    kind: Kind
    label: str
    sms: str
    subject: str | None = None
    email: str | None = None
    #: Fields that are sentences of their own, followed by the template's fixed tail: an empty
    #: one stays empty, any other ends with a full stop when it has no closing punctuation. In
    #: the SMS they are shortened ("……") to fit :data:`SMS_LIMIT`; the email keeps every word.
    sentences: frozenset[str] = frozenset()

    @property
    def fields(self) -> frozenset[str]:
        names: set[str] = set()
        for text in (self.sms, self.subject or "", self.email or ""):
            names.update(f for _, f, _, _ in string.Formatter().parse(text) if f)
        return frozenset(names)

    @property
    def by_email(self) -> bool:
        return self.email is not None


TEMPLATES: dict[Kind, Template] = {
    t.kind: t
    for t in (
        Template(
            Kind.PIN,
            "证书密码（PIN码）",
            SIGNATURE + "您单位的数字证书Ukey（序列号{ukey}）证书已制作，证书密码（PIN码）为{pin}。"
            "首次使用请先修改密码，连续输错{tries}次将锁定，切勿告诉他人。",
        ),
        Template(
            Kind.UNLOCK_PIN,
            "解锁后的证书密码（PIN码）",
            SIGNATURE + "您单位的数字证书Ukey（序列号{ukey}）已解锁，新的证书密码（PIN码）为{pin}。"
            "首次使用请先修改密码，连续输错{tries}次将锁定，切勿告诉他人。",
        ),
        Template(
            Kind.LOGIN_CODE,
            "登录验证码",
            SIGNATURE + "您的登录验证码为{code}，{minutes}分钟内有效。如非本人操作，请忽略本短信。",
        ),
        Template(
            Kind.REGISTER_CODE,
            "注册验证码",
            SIGNATURE + "您正在注册深圳CA网上营业厅账户，验证码为{code}，{minutes}分钟内有效。"
            "请勿将验证码告诉他人。",
        ),
        Template(
            Kind.REFUND_CODE,
            "返还进度查询验证码",
            SIGNATURE + "您正在查询数字证书费用返还申请进度，验证码为{code}，{minutes}分钟内有效。"
            "请勿将验证码告诉他人。",
        ),
        Template(
            Kind.REFUND_COUNTER_CODE,
            "返还线下申请核验手机号验证码",
            SIGNATURE + "您正在受理点办理数字证书费用返还线下申请，本手机号将接收申请编号和进度查询"
            "验证码，验证码为{code}，{minutes}分钟内有效。如非本人在受理点办理，请勿将验证码告诉他人。",
        ),
        Template(
            Kind.APPLICATION_STATUS,
            "申请状态变更",
            SIGNATURE + "您单位的{business}申请（编号{application}）状态已变更为：{status}。"
            "{detail}详情请登录网上营业厅查看：{link}",
            subject="{business}申请（编号{application}）状态变更：{status}",
            email="{organization}：\n\n您单位的{business}申请（编号{application}）状态已变更为：{status}。\n"
            "{detail}\n\n详情请登录深圳CA网上营业厅查看：\n{link}",
            sentences=frozenset({"detail"}),
        ),
        Template(
            Kind.REVIEW_RESULT,
            "审核结果",
            SIGNATURE + "您单位的{business}申请（编号{application}）审核{result}。{reason}"
            "请登录网上营业厅查看：{link}",
            subject="{business}申请（编号{application}）审核{result}",
            email="{organization}：\n\n您单位的{business}申请（编号{application}）审核{result}。\n"
            "{reason}\n\n请登录深圳CA网上营业厅查看详情并办理后续事项：\n{link}",
            sentences=frozenset({"reason"}),
        ),
        Template(
            Kind.RENEWAL_REMINDER,
            "证书到期续期提醒",
            SIGNATURE + "您单位（{organization}）的{cert_type}（序列号{serial}）将于{expires}到期，"
            "剩余{days}天。请及时办理续期：证书过期后须到受理点现场办理，"
            "到期前90天内可在网上营业厅在线续期：{link}",
            subject="数字证书将于{expires}到期（剩余{days}天），请及时续期",
            email="{organization}：\n\n您单位的{cert_type}（序列号{serial}）将于{expires}到期，"
            "剩余{days}天。\n\n"
            "请及时办理续期：\n"
            "1. 到期前90天内可在深圳CA网上营业厅在线续期，缴费后即可在线更新证书：\n{link}\n"
            "2. 证书过期后须携带办理资料和Ukey到受理点现场办理续期。\n"
            "机构证书（ODC证书）续期免费；机构个人证书（法人证书）续期150元/个/年。",
        ),
        Template(
            Kind.INVOICE_ISSUED,
            "发票已开具",
            SIGNATURE + "您单位订单{order}的{kind}（发票号码{number}，金额{amount}元）已开具，"
            "请登录网上营业厅在订单页面下载电子发票（PDF）：{link}",
            subject="{kind}已开具：发票号码{number}（订单{order}）",
            email="{organization}：\n\n您单位订单{order}的{kind}已开具。\n"
            "发票抬头：{organization}\n发票号码：{number}\n金额：{amount}元\n\n"
            "电子发票（PDF）请登录深圳CA网上营业厅，在订单{order}的页面下载：\n{link}",
        ),
        Template(
            Kind.REFUND_SENT,
            "退款已退回",
            SIGNATURE + "您单位订单{order}的退款{amount}元已于{date}原路退回付款账户"
            "（{reference}），到账时间以银行或支付机构为准。详情请查看：{link}",
            subject="订单{order}的退款{amount}元已退回",
            email="{organization}：\n\n您单位订单{order}的退款{amount}元已于{date}原路退回付款账户"
            "（{reference}），到账时间以银行或支付机构为准。\n\n订单详情：\n{link}",
        ),
        Template(
            Kind.SURPLUS_RETURNED,
            "多余付款已退回",
            SIGNATURE
            + "您单位订单{order}多付的一笔{gateway}付款{amount}元已于{date}原路退回付款账户"
            "（{reference}），到账时间以银行或支付机构为准。详情请查看：{link}",
            subject="订单{order}多付的{amount}元已退回",
            email="{organization}：\n\n您单位订单{order}已支付后，又收到一笔{gateway}付款{amount}元。"
            "该笔款项未入账，已于{date}原路退回付款账户（{reference}），"
            "到账时间以银行或支付机构为准。\n\n订单详情：\n{link}",
        ),
        Template(
            Kind.REFUND_STATUS,
            "费用返还申请进度",
            SIGNATURE
            + "{organization}的数字证书费用返还申请（编号{application}）的状态为：{status}。"
            "{detail}详情请查看：{link}",
            subject="数字证书费用返还申请（编号{application}）：{status}",
            email="{organization}：\n\n您单位的数字证书费用返还申请（编号{application}）的状态为：{status}。\n"
            "{detail}\n\n详情请查看：\n{link}",
            sentences=frozenset({"detail"}),
        ),
        Template(
            Kind.PASSWORD_CHANGED,
            "账户密码已修改",
            SIGNATURE + "您的网上营业厅账户（{account}）的密码已于{time}修改。"
            "如非本人操作，请立即使用短信验证码登录并修改密码，或到受理点办理。",
        ),
        Template(
            Kind.ACCOUNT_DISOWNED,
            "网上营业厅账户停用",
            SIGNATURE + "您以本手机号注册的网上营业厅账户（统一社会信用代码{uscc}）已停用：{reason}"
            "该单位可使用数字证书登录网上营业厅；如有疑问，请携带营业执照到受理点办理。",
            sentences=frozenset({"reason"}),
        ),
    )
}


@dataclass(frozen=True)
class Rendered:
    kind: Kind
    sms: str
    subject: str | None
    email: str | None


def template(kind: Kind | str) -> Template:
    try:
        return TEMPLATES[Kind(kind)]
    except ValueError:
        known = ", ".join(k.value for k in Kind)
        raise InvalidInput(code="message_kind_unknown", kind=kind, known=known) from None


def render(kind: Kind | str, context: Mapping[str, object]) -> Rendered:
    """The texts of one message; every field of the template must be given, and no other."""
    tpl = template(kind)
    given = set(context)
    missing, extra = tpl.fields - given, given - tpl.fields
    if missing or extra:
        raise InvalidInput(
            code="message_fields", kind=tpl.kind.value, missing=sorted(missing), extra=sorted(extra)
        )
    values = {name: _one_line(value) for name, value in context.items()}
    for name in tpl.sentences:
        values[name] = _sentence(values[name])
    return Rendered(
        kind=tpl.kind,
        sms=_fitted_sms(tpl, values),
        subject=tpl.subject.format_map(values) if tpl.subject else None,
        email=(tpl.email.format_map(values) + EMAIL_FOOTER) if tpl.email else None,
    )


def _fitted_sms(tpl: Template, values: dict[str, str]) -> str:
    """The SMS, its sentence fields shortened, longest first, until it fits :data:`SMS_LIMIT`
    (a reviewer's 500-character note, a long platform address in the link)."""
    text = tpl.sms.format_map(values)
    for name in sorted(tpl.sentences, key=lambda n: -len(values[n])):
        over = len(text) - SMS_LIMIT
        if over <= 0:
            break
        value = values[name]
        # The cut, the ellipsis and the full stop _sentence adds take the place of ``over + 3``.
        kept = value[: max(0, len(value) - over - len(ELLIPSIS) - 1)].rstrip()
        shorter = {**values, name: _sentence(kept + ELLIPSIS) if kept else ""}
        text = tpl.sms.format_map(shorter)
        values = shorter
    return text


#: What may end a sentence before a template's fixed tail.
CLOSING = tuple("。！？；.!?;")


def _sentence(text: str) -> str:
    text = text.strip().rstrip("，,、：:")
    return text + "。" if text and not text.endswith(CLOSING) else text


def _one_line(value: object) -> str:
    """Field values are single lines (no header or line injection into a subject or a text)."""
    return " ".join(str(value if value is not None else "").split())
