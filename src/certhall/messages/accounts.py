"""Messages of accounts and permissions (certhall.accounts)."""

from certhall.messages.common import CONTACT_US

MESSAGES: dict[str, str] = {
    # A disabled account, told once it proved itself (accounts.errors.AccountDisabled): staff
    # ask their administrator; an enterprise's account the CA (its page links 联系我们).
    "account_disabled": "该账户已停用，无法登录，请联系本机构的系统管理员。",
    "account_disabled.customer": (
        f"该网上营业厅账户已停用，无法登录。如需继续办理业务，请{CONTACT_US}，"
        "或携带营业执照到受理点咨询。"
    ),
    # One message whatever was wrong (unknown account, wrong password, disabled, no password).
    "login_failed": "账号或密码不正确。",
    # Unknown phone, wrong, expired or used code: one message too.
    "login_failed.sms": "手机号或验证码不正确，或验证码已失效，请重新获取。",
    "role_required": "此操作需要{roles}角色。",
    "other_provider": "该信息属于其他电子认证服务机构。",
    "other_organization": "该信息属于其他单位。",
    "separation_of_duties": "职责分离：本人{did}的申请须由他人{what}。",
    "login_incomplete": "请输入账号和密码。",
    "required": "请填写{what}。",
    "password_mismatch": "两次输入的密码不一致。",
    "account_not_found": "没有名为 {username} 的账户。",
    "system_account": "{username} 是系统账户，不能设置密码。",
    "password_missing": "没有读到密码：请在提示时输入，或从标准输入传入一行。",
    # The answer to a code request, the same whether or not a message was sent (codes.CodeSent).
    "code_sent": (
        "验证码已发送至 {phone}，{minutes}分钟内有效。如未收到，请在{seconds}秒后重新获取。"
    ),
    "phone_invalid": "请输入正确的11位中国大陆手机号码。",
    "email_invalid": "电子邮箱格式不正确。",
    "code_purpose": (
        "验证码用途只能是注册（register）、登录（login）、返还进度查询（refund）"
        "或返还线下申请核验手机号（refund_counter）。"
    ),
    "code_missing": "验证码不正确，请核对或重新获取。",
    "code_wrong": "验证码不正确，请核对或重新获取。",
    "code_expired": "验证码已过期（有效期5分钟），请重新获取。",
    "code_used": "验证码已使用过，请重新获取。",
    "sms_failed": "验证码短信未能发送。",
    "login_incomplete.code": "请输入短信验证码。",
    "other_organization.view": "无权查看其他单位的信息。",
    "other_organization.handler": "无权为其他单位登记经办人。",
    "organization_unknown": "没有该单位（请指定 organization_id）。",
    "organization_missing": "请指定单位。",
    "already_registered": (
        "该统一社会信用代码已注册网上营业厅账户，请直接登录（可用密码、"
        "短信验证码或数字证书登录）；如无法登录，请"
        f"{CONTACT_US}或携带营业执照到受理点办理。"
    ),
    "phone_registered": "该手机号已注册网上营业厅账户，请直接登录；忘记密码可使用短信验证码登录。",
    "handler_exists": "该经办人已登记。",
    "licence_checked_already": "该单位的营业执照已核对过，单位信息的变更请办理变更业务。",
    "password_weak": "{reasons}",
    "password_current_wrong": "原密码不正确。",
    "password_current_missing": "请输入原密码。",
    "password_unchanged": "新密码不能与原密码相同。",
    "password_none": "本账户使用数字证书登录，没有密码可以修改。",
    "session_timed_out": "您已较长时间未操作或登录时间过长，为安全起见已退出登录，请重新登录。",
    # Confirmations shown after a step succeeded.
    "done_registered": "注册成功，已为您登录。请登记经办人后办理证书业务。",
    "done_email_saved": "电子邮箱已保存。",
    "done_email_removed": "电子邮箱已删除。",
    "done_password_changed": "密码已修改。",
    "done_handler_added": "已登记经办人：{name}。",
}

# The 获取验证码 button while a sending limit's wait runs (web/code-wait.js counts it down).
MESSAGES.update(
    {
        "page_label.code_wait_seconds": "{seconds}秒后重新获取",
        "page_label.code_wait_minutes": "{minutes}分钟后重新获取",
    }
)

#: The words the count-down's script reads (``messages.SCRIPT_WORDS``).
SCRIPTS: dict[str, tuple[str, ...]] = {
    "web/code-wait.js": ("page_label.code_wait_seconds", "page_label.code_wait_minutes"),
}
