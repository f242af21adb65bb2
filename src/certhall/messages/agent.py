"""Messages of the certificate helper (certhall.agent): what its PIN window and the hall pages
show about Ukeys, requests and PIN changes. PIN outcomes themselves are in ``tokens``."""

MESSAGES: dict[str, str] = {
    "no_token": "未检测到Ukey，请插入Ukey后重试。",
    "token_removed": "操作过程中Ukey被拔出，请重新插入Ukey后再试。",
    "token_failed": "Ukey操作失败，请重新插入Ukey后再试。如仍失败，请联系客服。",
    "token_failed.read": "读取Ukey失败，请重新插入Ukey后再试。",
    "certificate_not_found": "所选证书不在当前插入的Ukey中，请刷新证书列表后重新选择。",
    "key_not_found": "Ukey中没有该证书对应的私钥，无法签名。",
    "key_not_found.renewal": "Ukey中没有本次续期生成的新密钥，请重新发起续期。",
    "certificate_invalid": "续期证书格式不正确。",
    "certificate_mismatch": "续期证书与Ukey中的新密钥不匹配，已拒绝写入。",
    "certificate_mismatch.subject": "续期证书的主体与原证书不一致，已拒绝写入Ukey。",
    "request_expired": "请求已超时，请在网页上重新操作。",
    "request_unknown": "请求不存在或已过期，请在网页上重新操作。",
    "request_closed": "该请求已处理或已失效，请在网页上重新操作。",
    "too_many_requests": "未完成的请求太多，请先完成或关闭已打开的PIN码窗口。",
    "years_invalid": "续期年限不正确。",
    "cancelled": "已取消。",
    "form_invalid": "页面已失效，请关闭后重新操作。",
    "agent_failed": "证书助手内部错误，请重试。",
    "renewal_session_closed": "续期会话已结束，请重新发起续期（需要再次输入PIN码）。",
    "pin_missing": "请输入PIN码。",
    "pin_missing.change": "请输入原PIN码和新PIN码。",
    "pin_missing.old": "请输入原PIN码。",
}
