"""Messages of 经办人实名核验 (certhall.hall.identity, certhall.hall.liveness)."""

MESSAGES: dict[str, str] = {
    "identity_not_editable": "申请 {number} 已提交，不能再进行实名核验。",
    "identity_not_needed": "申请 {number} 不需要经办人实名核验（只有网上新办需要）。",
    "identity_handler_missing": "请先选择经办人，再进行实名核验。",
    "identity_not_found": "实名核验链接无效或已作废，请回到办理申请的页面重新生成二维码。",
    "identity_provider": "实名核验服务暂不可用，请稍后再试或到服务网点现场办理。",
    "identity_notification": "实名核验结果通知格式不正确。",
    "identity_signature": "实名核验结果通知的签名不正确。",
    "identity_missing": "未完成经办人实名核验（请在“实名核验”一步用手机扫码完成）",
    "identity_never_started": "申请 {number} 尚未开始经办人实名核验。",
    "identity_photo_missing": "请选择要上传的照片（JPEG 或 PNG）。",
}
