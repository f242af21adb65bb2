"""The words of the rate limits that say which limit refused (``certhall.ratelimit.Limit``'s
``message``); the others read the generic ``rate_limited``. ``{wait}`` is the wait in words
("45秒", "3分钟"), ``{retry_after}`` the same in seconds. The code clients see stays
``rate_limited`` whichever text is shown."""

MESSAGES: dict[str, str] = {
    # The per-phone limits count every purpose's codes together (login, registration, a
    # refund's progress, a counter's proof: docs/accounts.md), so the words say so: the code the
    # phone got last may have been another page's.
    "rate_limited_code_phone_min": (
        "获取验证码过于频繁：同一手机号每60秒只能获取一次（登录、注册、费用返还等各项业务合计），"
        "请{wait}后再获取。"
    ),
    "rate_limited_code_phone_hour": (
        "获取验证码过于频繁：同一手机号每小时最多获取5次（登录、注册、费用返还等各项业务合计），"
        "请{wait}后再获取。"
    ),
    "rate_limited_code_client_hour": (
        "您的网络地址获取验证码次数过多（每小时最多20次），请{wait}后再试。"
    ),
    "rate_limited_login_account": "该账号登录失败次数过多，已暂停登录，请{wait}后再试。",
    "rate_limited_password_change": "原密码输错次数过多，请{wait}后再试。",
    "rate_limited_login_client": "您的网络地址登录失败次数过多，请{wait}后再试。",
    "rate_limited_code_guesses": "该验证码错误次数过多，已失效，请重新获取验证码。",
    "rate_limited_code_all": "验证码校验失败过多，系统已暂时限制验证码校验，请{wait}后再试。",
    "rate_limited_register_phone": "验证码错误次数过多，请{wait}后再试。",
    "rate_limited_register_client": "您的网络地址尝试次数过多，请{wait}后再试。",
    "rate_limited_refund_retry": "该订单的自动退款重试过于频繁，请{wait}后再试。",
    "rate_limited_refund_code": "该申请的验证码错误次数过多，已暂停查询，请{wait}后再试。",
    "rate_limited_refund_counter_code": "该手机号的验证码错误次数过多，请{wait}后再试。",
}
