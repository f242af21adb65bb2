"""The words of a setting that stops the start (``certhall.config``)."""

MESSAGES: dict[str, str] = {
    "audit_key_weak": (
        "生产环境须设置 CERTHALL_AUDIT_KEY（至少{length}个随机字符）：它为审计日志加密签名，"
        "不能存放在数据库中。"
    ),
    "home_missing": ("实例目录 {home} 不存在：请先运行 certhall setup（或检查 CERTHALL_HOME）。"),
    "home_not_migrated": (
        "实例 {home} 的数据库尚未初始化或不是最新（{pending}个迁移未执行）："
        "请先运行 certhall setup。"
    ),
    "database_unavailable": "无法使用实例的数据库（{detail}）：请检查 CERTHALL_DATABASE_URL。",
    "ocsp_port_taken": (
        "OCSP 端口 {port} 无法使用（{detail}）：请用 certhall serve --ocsp-port"
        "（或 CERTHALL_OCSP_LISTEN）另选端口。"
    ),
    "serve_port_taken": (
        "端口 {port} 无法使用（{detail}）：已有服务在监听它"
        "（另一个 certhall serve 会与之分担连接）。"
        "请先停止它，或用 certhall serve --port 另选端口。"
    ),
    "serve_port_range": "{option} 须为 1-65535，而不是 {port}。",
    "serve_workers": "--workers 须至少为 1，而不是 {workers}。",
    "serve_port_mismatch": (
        "警告：certhall serve 监听端口 {port}，"
        "但 CERTHALL_BASE_URL 是 {base_url}（端口 {base_port}）。"
        "签发的证书中的CRL、OCSP和AIA地址都指向 {base_url}：若该地址不通往本服务，"
        "依赖方将无法检查证书状态。请让两者一致，或在反向代理后运行时设置 CERTHALL_TLS_PROXY=1。"
    ),
    "setting_http_in_production": (
        "生产环境的 CERTHALL_BASE_URL 须为 https:// 地址（{value} 不是）：没有 TLS 就没有安全"
        "Cookie 和 HSTS。certhall serve 本身不做 TLS：请在前面放置终止 TLS 的反向代理，"
        "并设置 CERTHALL_TLS_PROXY=1。"
    ),
    "setting_rate": (
        "{name} 须写成“次数/秒数”（1-100000 次，1-86400 秒），例如 20/60，而不是 {value!r}。"
    ),
    "setting_int": "{name} 须为整数，而不是 {raw!r}。",
    "setting_int.range": "{name} 须在 {low} 到 {high} 之间，而不是 {value}。",
    "setting_listen": "{name} 须写成“主机:端口”，例如 127.0.0.1:8001，而不是 {raw!r}。",
    "setting_flag": "{name} 须为 1 或 0（true/false、yes/no、on/off），而不是 {raw!r}。",
    "setting_env": "CERTHALL_ENV 只能是 development 或 production，而不是 {mode!r}。",
    "setting_base_url": "CERTHALL_BASE_URL 须为 http(s) 地址，而不是 {raw!r}。",
    "setting_base_url.origin": "CERTHALL_BASE_URL：{detail}",
    "setting_agent_url": "CERTHALL_AGENT_URL 须为 http://127.0.0.1:端口，而不是 {raw!r}。",
    "secret_key_weak": (
        "生产环境须设置 CERTHALL_SECRET_KEY：至少{length}个字符的随机值，不能用默认值。"
    ),
    "ca_passphrase_weak": (
        "生产环境须设置至少{length}个随机字符的 CERTHALL_CA_KEY_PASSPHRASE：CA 密钥从不以明文保存。"
    ),
    "setting_key_backend": (
        "CERTHALL_CA_KEY_BACKEND 只能是 pkcs11、file 或 auto，而不是 {backend!r}。"
    ),
    "module_not_found.install": "找不到 PKCS#11 模块 {module}（请安装 softhsm2）。",
    "setting_smtp_host": "CERTHALL_SMTP_HOST 须为主机名或地址，而不是 {host!r}。",
    "setting_smtp_security": (
        "CERTHALL_SMTP_SECURITY 只能是 none、starttls 或 ssl，而不是 {security!r}。"
    ),
    "setting_smtp_login": "CERTHALL_SMTP_USER 和 CERTHALL_SMTP_PASSWORD 须同时设置或同时不设置。",
    "setting_smtp_from": (
        "CERTHALL_SMTP_FROM 须为邮件地址，例如 'Name <user@example.com>'，而不是 {value!r}。"
    ),
    "setting_sms_backend": (
        "CERTHALL_SMS_BACKEND 须为以点分隔的类路径，例如 certhall.notify.backends.OutboxSmsBa"
        "ckend，而不是 {path!r}。"
    ),
}
