"""Messages of ukeys (certhall.ukeys)."""

MESSAGES: dict[str, str] = {
    "ca_passphrase_empty.seal": "封存 Ukey 的管理员PIN码（SO PIN）需要 CA 密钥口令。",
    "so_pin_unavailable": "Ukey {serial} 封存的管理员PIN码（SO PIN）已损坏。",
    "so_pin_unavailable.ahead": (
        "入库中断的令牌“{serial}”封存的管理员PIN码（SO PIN）打不开：本实例的 CA 密钥口令不同，"
        "或其入库记录（标签、令牌库）在封存后被改动。未打开该记录所写的令牌库，记录保持未完成。"
    ),
    "so_pin_unavailable.passphrase": (
        "用本实例的 CA 密钥口令无法打开 Ukey {serial} 的管理员PIN码（SO PIN）。"
    ),
    "ukey_unknown": "令牌“{label}”（序列号 {serial}）不在Ukey库存中。",
    "ukey_unknown.serial": "没有序列号为 {serial} 的Ukey。",
    "ukey_stock_staff": "只有电子认证服务机构的工作人员才能管理Ukey库存。",
    "ukey_exists": "Ukey {serial} 已在库存中。",
    "ukey_store_module": (
        "入库中断的令牌“{label}”在PKCS#11模块 {module} 中，不是本实例配置的模块："
        "请以该模块（CERTHALL_PKCS11_MODULE）运行 certhall ukeys recover。"
    ),
    "phone_missing": "Ukey {serial} 没有经办人手机号：请提供接收新PIN码的手机号。",
    "cause_missing": "请说明Ukey是遗失还是损坏。",
    "cause_invalid": "Ukey 只在遗失或损坏时补办，而不是 {cause!r}。",
}
