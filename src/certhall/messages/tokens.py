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
    "token_failed.module": "PKCS#11 模块 {module} 出错：{detail}。",
    "token_failed.operation": "令牌“{token}”上{what}失败：{detail}。",
    "token_failed.sign": "用令牌上的密钥“{key}”进行{algorithm}签名失败：{detail}。",
    "key_not_extractable": "密钥“{key}”存放在PKCS#11令牌上，不能导出（{what}）。",
    "login_failed.token": "登录令牌“{token}”失败（CKR 0x{rv}）。",
    "login_failed.so": "以管理员身份（SO）登录令牌“{token}”失败（CKR 0x{rv}）。",
    "token_failed.generate": "在令牌“{token}”上生成密钥“{key}”失败：{detail}。",
    "token_failed.read_key": "从令牌“{token}”读取密钥“{key}”失败：{detail}。",
    "module_init_failed": "无法初始化 PKCS#11 模块 {module}：{detail}。",
    "module_init_failed.conf": "无法用配置文件 {conf} 初始化 PKCS#11 模块 {module}：{detail}。",
    "module_init_failed.load": "无法加载 PKCS#11 模块 {module}：{detail}。",
    "module_function_list": "PKCS#11 模块 {module} 的 C_GetFunctionList 调用失败（{rv}）。",
    "module_not_found": "找不到 PKCS#11 模块 {module}。",
    "module_conf_missing": "PKCS#11 模块的配置文件 {conf} 不存在。",
    "softhsm_conf_missing": "SoftHSM2 配置文件 {conf} 不存在。",
    "token_dir_line_break": "令牌目录名不能包含换行符：{path!r}。",
    "session_closed.key": "密钥“{key}”所在的会话已关闭。",
    "key_label_invalid": (
        "密钥标签须为 1 至 100 个字母、数字、“.”、“_”或“-”（以字母或数字开头），而不是 {label!r}。"
    ),
    "key_type_invalid": "密钥类型只能是 {known} 之一，而不是 {key_type!r}。",
    "key_type_unsupported": "密钥“{key}”的类型 {key_type!r} 不受支持。",
    "key_curve_unsupported": "令牌中 EC 密钥的曲线不受支持（参数 {params}）。",
    "key_public_missing": "令牌上没有 EC 密钥“{key}”的公钥对象。",
    "key_exists": "令牌“{token}”上已有标签为“{key}”的密钥。",
    "key_exists.no_free_label": "找不到可用的密钥标签。",
    "key_not_found.label": "令牌“{token}”上没有标签为“{key}”的私钥。",
    "key_not_found.certificate": "令牌“{token}”上没有与该证书对应的私钥。",
    "key_ambiguous": "令牌“{token}”上有 {count} 个标签为“{key}”的密钥。",
    "certificate_key_mismatch": "证书 {serial} 不属于令牌“{token}”上的密钥“{key}”。",
    "certificate_exists": "令牌“{token}”上的密钥“{key}”已有证书。",
    "certificate_not_found.label": "令牌“{token}”上没有标签为“{label}”的证书。",
    "algorithm_unsupported.ec": "令牌上的 EC 密钥只做 ECDSA 签名，不支持 {algorithm}。",
    "algorithm_unsupported.deterministic": "令牌不支持确定性 ECDSA（RFC 6979）。",
    "algorithm_unsupported.rsa_hash": "令牌上的 RSA 密钥不支持用 {algorithm} 签名。",
    "algorithm_unsupported.pss": "PSS 填充须使用 SHA-2 哈希的 MGF1。",
    "algorithm_unsupported.rsa_padding": "令牌上的 RSA 密钥不支持 {padding} 填充。",
    "not_supported": "密钥“{key}”是签名密钥，不能用于解密。",
    "not_supported.exchange": "密钥“{key}”是签名密钥，不能用于密钥交换。",
}
