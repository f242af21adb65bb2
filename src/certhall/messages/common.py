"""Messages shared by every context: the generic text of each error class, and the refusals of
the web entry points themselves (CSRF, unknown pages, methods)."""

#: Where a message sends a customer to 客服: the 联系我们 page (/contact/, linked from every page's
#: footer: the service points, the online 咨询 and the service line if the operator has one).
#: Plain-text messages say it this way; an HTML page links 联系客服 to the page instead.
CONTACT_US = "联系客服（见“联系我们”）"

#: What a certificate serial is, as a refusal of a typed one states it (the status page, the
#: counter, the renewal page, a download, ``certhall ca revoke``: ``pki.serials.parse_serial``):
#: at most 20 octets as a positive DER INTEGER (RFC 5280 4.1.2.2), so 40 hex digits at most and
#: the first of 40 at most 7; the platform's own have 32.
SERIAL_RULE = (
    "应为十六进制数字（0-9、A-F），至多40位（40位时首位为0-7）且不为0，"
    "可带 0x 前缀，可用冒号或空格分隔"
)

MESSAGES: dict[str, str] = {
    # The generic text of each error class (errors.py), used when a raise names no own code.
    "error": "操作未能完成，请稍后再试。",
    "invalid_input": "提交的内容格式不正确，请检查后再试。",
    "nul_character": "提交的内容含有空字符（NUL），请删除后再试。",
    "not_a_number": "{what}应为整数。",
    "field_too_long": "填写的内容过长：此项最多{max_length}个字，请核对后重新填写。",
    "field_too_long.named": "{what}不能超过{max_length}个字，请核对后重新填写。",
    "rule_violation": "业务规则不允许此操作。",
    "not_found": "未找到请求的内容。",
    "conflict": "当前状态不允许此操作，请刷新后再试。",
    "forbidden": "您没有权限执行此操作。",
    "token_error": "Ukey 操作失败，请确认 Ukey 已插好后再试。",
    "rate_limited": "操作过于频繁，请 {retry_after} 秒后再试。",
    "configuration_error": "系统配置有误，请联系管理员。",
    # The web entry points.
    "csrf_failed": "页面已过期或请求来源不正确，请刷新页面后再提交。",
    "csrf_failed.api": (
        "CSRF校验失败：请先 GET /api/accounts/csrf，并在请求头 X-CSRFToken 中带上返回的令牌。"
    ),
    "page_not_found": "页面不存在。",
    "method_not_allowed": "不支持该请求方式。",
    "not_authenticated": "请先登录。",
    "server_error": "系统繁忙，请稍后再试。",
    # The HTTP gateway (web/gateway.py), before Django sees the request.
    "request_too_large": "请求内容过大。",
    "request_timeout": "请求超时，请检查网络后重试。",
    "overloaded": "服务繁忙，请 {retry_after} 秒后重试。",
    "bad_request": "请求格式不正确。",
    # JSON request bodies (web.errors.json_object: the API's and the certificate login's).
    "json_invalid": "请求不是有效的JSON。",
    "json_invalid.object": "请求必须是JSON对象。",
    # A route that reads its body whole (web.errors.raw_body: the refund settlement's CSV)
    "unsupported_media_type": "请求内容的类型（Content-Type）应为 {expected}，不是“{given}”。",
    "unsupported_media_type.none": "请求没有说明内容的类型（Content-Type），应为 {expected}。",
    # The public certificate status query (web/status.py).
    "bad_serial": f"证书序列号格式不正确，{SERIAL_RULE}。",
    "bad_serial.empty": "请输入证书序列号。",
    # the page's hint under the field: the rule the refusal states, before anything is typed
    "status_hint": f"证书序列号{SERIAL_RULE}，不区分大小写；可在证书助手或“我的证书”页面查看。",
    "certificate_not_found.status": "未找到该证书，请核对证书序列号。",
}
