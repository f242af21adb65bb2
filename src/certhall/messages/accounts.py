"""Messages of accounts and permissions (certhall.accounts)."""

MESSAGES: dict[str, str] = {
    "account_disabled": "该账户已停用。",
    "role_required": "此操作需要{roles}角色。",
    "other_provider": "该信息属于其他电子认证服务机构。",
    "other_organization": "该信息属于其他单位。",
    "separation_of_duties": "职责分离：本人录入的申请须由他人{what}。",
}
