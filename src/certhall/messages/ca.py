"""Messages of the CA services (certhall.ca): issuance, renewal and revocation."""

MESSAGES: dict[str, str] = {
    "certificate_unknown": "没有序列号为 {serial} 的证书。",
    "renewal_beyond_ca": (
        "续期{years}年后证书将于 {end} 到期，超过签发CA的有效期（至 {ca_end}）："
        "最多可续期 {fits} 年，或待CA证书更新后再办理。"
    ),
    "renewal_beyond_ca.none": (
        "续期后证书将于 {end} 到期，超过签发CA的有效期（至 {ca_end}），目前无法续期："
        "请待CA证书更新后再办理。"
    ),
    "renew_revoked": "证书 {serial} 已吊销，不能续期：请办理新证书。",
    "origin_mismatch": "续期请求签名所针对的网站地址与本站不符。",
    "bad_signature": "续期请求的签名验证失败：续期须由原证书所在的Ukey签名确认。",
    "certificate_revoked": "证书已吊销，不能续期。如需证书，请按新办流程申请。",
    "renewal_in_progress": (
        "该证书已有一个进行中的续期（使用另一个新密钥）。请用原Ukey继续该续期，或到受理点办理。"
    ),
    "serial_collision": "未能分配唯一的证书序列号，请重试。",
    "batch_item": "第{index}项：{reason}（整批未签发）",
    "batch_size": "一批须有1至{limit}个证书申请，收到{count}个。",
    "batch_manifest": "批量清单 {path} 第{line}行：{reason}",
    "batch_manifest_empty": "批量清单 {path} 中没有证书申请。",
}
