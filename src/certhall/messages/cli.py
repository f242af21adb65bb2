"""Messages of the command line (certhall.cli): operators read Chinese too (docs/architecture.md,
"Operators' diagnostics are catalogued in Chinese too"); options, paths and the system's own
error text stay as they are."""

MESSAGES: dict[str, str] = {
    "cli_listen": "无法监听 127.0.0.1:{port}：{error}。",
    "cli_person_pair": "--person-name 与 --id-number 须同时给出。",
    "cli_file_too_large": "{path} 超过 {mib} MB。",
    "cli_file_too_large.csr": "{path} 太大，不是CSR文件。",
    "cli_file_too_large.certificate": "{path} 太大，不是证书文件。",
    "cli_not_json": "{path} 不是JSON文件：{error}。",
    "cli_not_text": "{path} 不是UTF-8文本文件：{error}。",
    "cli_year_without_notice": "--year 只用于 --notice（JSON文件中已有年份）。",
    "cli_is_directory": "{path} 是一个目录。",
    "cli_cannot_write": "无法写入 {path}：{error}。",
    "cli_cannot_read": "无法读取 {path}：{error}。",
    "cli_date": "{option} “{text}” 不是 YYYY-MM-DD 格式的日期。",
    "cli_moment": "--at “{text}” 不是形如 2026-11-21T10:00 的日期时间。",
    "cli_pkcs11_module": "找不到PKCS#11模块 {module}。",
    "cli_token_conf": "令牌存储配置 {conf} 不存在。",
    "cli_token_conf.ca": (
        "令牌存储配置 {conf} 指向 CA 自身密钥的令牌库，Ukey 不能在那里格式化："
        "请去掉 --conf 或环境变量 SOFTHSM2_CONF，使用本实例的 Ukey 令牌库。"
    ),
    "cli_not_certificate": "{path} 不是证书（PEM或DER格式）。",
    "cli_one_certificate": "{path} 只能含一张证书（CA证书请用 --chain 给出）。",
    "cli_key_ambiguous": "令牌 {label} 有 {count} 个密钥（{which}）：请用 --key-label 选择一个。",
}
