"""The audit log's page (``audit.reading``): its refusals and the chain's problems as the
auditors read them (``Verification.code``; the command line prints ``problem``, in English)."""

MESSAGES: dict[str, str] = {
    "audit_role_required": "仅本机构的审计员和CA管理员可以查看审计日志。",
    "audit_result": "结果只能选择“成功”或“拒绝”。",
    "audit_date": "日期格式应为 年-月-日，例如 2026-12-05。",
    "audit_date_order": "开始日期不能晚于结束日期。",
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
