"""The words of a setting that stops the start (``certhall.config``)."""

MESSAGES: dict[str, str] = {
    "audit_key_weak": (
        "生产环境须设置 CERTHALL_AUDIT_KEY（至少{length}个随机字符）：它为审计日志加密签名，"
        "不能存放在数据库中。"
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
