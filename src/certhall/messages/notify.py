"""Messages of notify (certhall.notify)."""

MESSAGES: dict[str, str] = {
    "sms_backend_import": "无法导入 CERTHALL_SMS_BACKEND {path!r}。",
    "message_kind_unknown": "未知的消息类型 {kind!r}（可用：{known}）。",
    "message_fields": "消息 {kind}：缺少字段 {missing}，多余字段 {extra}。",
    "message_no_recipient": "消息 {kind}：没有手机号，也没有电子邮箱，无法发送。",
    "sms_empty": "短信内容不能为空。",
    "sms_too_long": "短信最多{limit}个字。",
    "sms_kind_invalid": "{kind!r} 不是消息类型。",
    "limit_invalid": "条数须在 {low} 到 {high} 之间。",
}
