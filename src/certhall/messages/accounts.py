"""Messages of accounts and permissions (certhall.accounts)."""

MESSAGES: dict[str, str] = {
    "account_disabled": "该账户已停用。",
    "role_required": "此操作需要{roles}角色。",
    "other_provider": "该信息属于其他电子认证服务机构。",
    "other_organization": "该信息属于其他单位。",
    "separation_of_duties": "职责分离：本人录入的申请须由他人{what}。",
    "login_incomplete": "请输入账号和密码。",
    "required": "请填写{what}。",
    "too_long": "{what}不能超过{max_length}个字。",
    "password_mismatch": "两次输入的密码不一致。",
    "account_not_found": "没有名为 {username} 的账户。",
    "system_account": "{username} 是系统账户，不能设置密码。",
    "password_missing": "没有读到密码：请在提示时输入，或从标准输入传入一行。",
    "phone_invalid": "请输入正确的11位中国大陆手机号码。",
    "email_invalid": "电子邮箱格式不正确。",
}
