"""Messages of the token layer (certhall.tokens): finding a Ukey, sessions, PIN outcomes.

A key ``<code>.<variant>`` is a second wording of the same code (certhall.tokens.errors): the
error still carries ``code``. PINs never appear in these texts.
"""

MESSAGES: dict[str, str] = {
    # Formatting a token.
    "token_exists": "标签为“{label}”的令牌已存在。",
    "token_init_failed": "令牌“{label}”初始化失败（CKR {ckr}）。",
    "token_init_failed.lost": "令牌“{label}”已初始化，但随后找不到它。",
    "no_free_slot": "PKCS#11 模块 {module} 没有可以新建令牌的空槽位。",
    # Finding a token, opening a session.
    "token_label_invalid": (
        "令牌标签“{label}”无效：须为 1 至 {max_bytes} 个字节，开头和结尾不能是空格。"
    ),
    "token_not_found": "未找到标签为“{label}”的令牌，请确认Ukey已插好。",
    "token_not_found.not_refreshed": (
        "未找到标签为“{label}”的令牌。其他程序新建的令牌，要等本程序在同一令牌库上"
        "没有打开的会话时才能看到。"
    ),
    "token_ambiguous": "有 {count} 个令牌的标签都是“{label}”，无法确定使用哪一个。",
    "session_failed": "无法打开令牌“{label}”，请重新插入Ukey后再试。",
    "session_closed": "令牌“{label}”上的会话已关闭。",
    "token_busy": "令牌“{label}”已被本程序之外的代码登录。",
    "token_busy.user_session": "令牌“{label}”正在使用中（有已登录的用户会话），请关闭后再试。",
    # PIN outcomes.
    "wrong_pin": "PIN码错误，还可以尝试 {tries_left} 次；次数用完后Ukey将被锁定。",
    "wrong_pin.uncounted": "令牌“{label}”的PIN码错误。",
    "pin_locked": "Ukey的PIN码已被锁定，无法使用。请携带Ukey到受理点办理解锁。",
    "pin_locked.now": "PIN码错误，次数已用完，Ukey的PIN码已被锁定。请携带Ukey到受理点办理解锁。",
    "pin_must_change": "该Ukey的PIN码是初始PIN码或已被重置，请先修改PIN码后再使用。",
    "pin_expired": "令牌“{label}”的PIN码已过期，请先修改PIN码。",
    "pin_not_initialised": "令牌“{label}”尚未设置用户PIN码。",
    "pin_policy": "新PIN码须为 {min_length} 至 {max_length} 个字符。",
    "pin_policy.blank": "新PIN码的开头和结尾不能是空格。",
    "pin_policy.same": "新PIN码不能与原PIN码相同。",
    "pin_policy.guessable": "新PIN码过于简单（同一数字重复或连续数字，如111111、123456、654321），"
    "请换一个。",
    "pin_policy.max_tries": "PIN码的重试次数上限须为 1 至 100 次。",
    "pin_length": "用户PIN码须为 {min_length} 至 {max_length} 个字节。",
    "pin_length.so": "管理员PIN码（SO PIN）须为 {min_length} 至 {max_length} 个字节。",
    "pin_rejected": "令牌“{label}”不接受该新PIN码。",
    "wrong_so_pin": "令牌“{label}”的管理员PIN码（SO PIN）错误。",
    "so_pin_locked": "令牌“{label}”的管理员PIN码（SO PIN）已被锁定。",
}
