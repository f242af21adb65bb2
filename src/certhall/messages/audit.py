"""The audit log's page (``audit.reading``): its refusals and the chain's problems as the
auditors read them (``Verification.code``; the command line prints ``problem``, in English)."""

MESSAGES: dict[str, str] = {
    "audit_role_required": "仅本机构的审计员和CA管理员可以查看审计日志。",
    "audit_result": "结果只能选择“成功”或“拒绝”。",
    "audit_date": "日期格式应为 年-月-日，例如 2026-12-05。",
    "audit_date_range": "日期应在 {first} 至 {last} 之间。",
    "audit_date_order": "开始日期不能晚于结束日期。",
    "audit_paging": "不能同时向前和向后翻页，请重新打开审计日志。",
    "rate_limited_audit_verify": (
        "每人每10分钟只能校验一次审计链，请{wait}后再试；最近一次校验的结果见审计日志页。"
    ),
    "rate_limited_audit_verify_provider": (
        "本机构每小时最多校验6次审计链，请{wait}后再试；最近一次校验的结果见审计日志页。"
    ),
    "audit_export_too_many": ("符合条件的记录超过{limit}条，请缩小日期范围或增加条件后再导出。"),
    # The export's column headers (audit.export).
    "audit_csv.seq": "序号",
    "audit_csv.at": "时间",
    "audit_csv.actor": "操作人",
    "audit_csv.action": "操作",
    "audit_csv.object_type": "对象类型",
    "audit_csv.object_id": "对象",
    "audit_csv.result": "结果",
    "audit_csv.before": "变更前",
    "audit_csv.after": "变更后",
    "audit_csv.hash": "哈希",
    "audit_result.ok": "成功",
    "audit_result.refused": "拒绝",
    "audit_event_missing": "审计日志中没有第{seq}条记录。",
    "done_audit_verified": "审计链完整（{checked}条）。",
    "audit_chain_broken": "审计链在第{seq}条断开：{problem}",
    "audit_chain_failed": "审计链校验未通过：{problem}",
    # What verification found (audit.services.Verification.code).
    "audit_chain.checkpoint_altered": "校验点文件中的第{number}个校验点被改动。",
    "audit_chain.keyed_boundary": "密钥保护的起点与校验点记录的不一致。",
    "audit_chain.truncated_checkpoint": (
        "日志只到第{checked}条，但校验点记录了{recorded}条（末尾的记录被删除）。"
    ),
    "audit_chain.truncated_head": (
        "日志只到第{checked}条，但已写入{written}条（末尾的记录被删除）。"
    ),
    "audit_chain.missing": "第{seq}条记录缺失（被删除），下一条是第{next}条。",
    "audit_chain.not_following": "第{seq}条记录不接在第{previous}条之后（被删除或调换了顺序）。",
    "audit_chain.modified": "第{seq}条记录被改动。",
    "audit_chain.rewritten": "第{seq}条记录与其校验点不一致（审计链被重写）。",
    "audit_chain.time_backwards": "第{seq}条记录的时间早于第{previous}条（时间倒流）。",
}
