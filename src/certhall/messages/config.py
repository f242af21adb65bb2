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
}
