"""Messages of the CA services (certhall.ca): issuance, renewal and revocation."""

from certhall.messages.common import SERIAL_RULE

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
    "ca_missing": "尚未建立CA：请先运行 `certhall ca init`。",
    "ca_unknown": "没有名为“{slug}”的CA。",
    "ca_exists": "CA 已经初始化。",
    "crl_busy": "CA {ca} 的 CRL 一直在被其他进程发布，请稍后再试。",
    "ca_passphrase_empty": "CA 密钥口令不能为空。",
    "ca_passphrase_empty.pin": "CA 密钥口令（令牌 PIN）不能为空。",
    "ca_key_backend": "CA 密钥后端只能是 pkcs11 或 file，而不是 {backend!r}。",
    "ca_key_file_type": "CA 密钥文件 {name} 中是 {key}，不是 CA 可用的密钥。",
    "key_ref_invalid": "PKCS#11 密钥引用格式不正确：{ref!r}。",
    "key_ref_invalid.file": "{ref!r} 不是密钥文件引用。",
    "key_ref_invalid.pkcs11": "{ref!r} 不是 PKCS#11 密钥引用。",
    "key_ref_invalid.other_token": (
        "密钥 {ref!r} 在令牌“{token}”上，而本密钥库使用令牌“{store_token}”。"
    ),
    "key_exists.file": "CA 密钥文件 {name} 已存在。",
    "key_not_found.file": "找不到 CA 密钥文件 {path}。",
    "wrong_passphrase": (
        "无法解密 CA 密钥文件 {name}：口令（CERTHALL_CA_KEY_PASSPHRASE）错误或文件已损坏。"
    ),
    "revocation_reason_unknown": "未知的吊销原因“{name}”，可用：{known}。",
    # a typed serial (pki.serials.parse_serial): not hex, or zero or past 20 octets
    "serial_invalid": "“{text}”不是有效的证书序列号，" + SERIAL_RULE + "。",
    "serial_invalid.hex": "“{text}”不是证书序列号，" + SERIAL_RULE + "。",
    "already_revoked": "证书 {serial} 已于 {at} UTC 吊销（原因：{reason}）。",
    "renewal_unknown": "没有编号为 {renewal} 的续期。",
    "renewal_expired": "{rule}",
    "renewal_in_progress.race": "该证书已有一个进行中的续期。",
    "same_key": "续期须使用新的密钥对。",
    "renewal_replaced": (
        "这次续期已随原Ukey的介质补办结束：续期的新证书已吊销，不能再写入Ukey。"
        "请使用补办的新Ukey，其上的证书有效期已包含续期的年限。"
    ),
    "subject_changed": "续期证书的主体 {new} 与原证书 {old} 不一致。",
}
