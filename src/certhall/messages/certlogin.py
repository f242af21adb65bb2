"""Messages of certlogin (certhall.certlogin)."""

MESSAGES: dict[str, str] = {
    "login_conflict": "登录冲突，请重试。",
}
