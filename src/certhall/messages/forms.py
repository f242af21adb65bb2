"""Messages of forms (certhall.forms)."""

MESSAGES: dict[str, str] = {
    "form_no_requests": "《{form}》只用于{name}，本申请没有该类证书业务。",
    "form_field_type": "{what}必须是文字。",
    "form_field_missing": "{what}不能为空。",
    "form_field_characters": "{what}含有不可打印的字符。",
    "form_id_kind": "{who}的证件类型只能是：{kinds}。",
    "form_phone": "{who}手机号码应为11位中国大陆手机号。",
    "form_email": "经办人电子邮箱格式不正确。",
    "form_holder": "机构证书没有持证人（持证人只用于机构个人证书）。",
    "form_number": "表单编号只能由字母、数字和 - _ / 组成（最多40位）。",
    "form_too_many": "一张申请表最多50项证书业务。",
    "form_fee": "费用须全部填写或全部留空。",
    "form_uscc": "统一社会信用代码不正确，请核对。",
    "form_cert_type": "证书类型只能是机构证书或机构个人证书。",
    "form_business": "业务类型只能是新办、续期、变更、解锁、介质补办或吊销。",
    "form_years": "{name}的证书年限只能是{span}。",
    "form_field_missing.holder": "机构个人证书必须填写持证人。",
    "form_field_missing.date": "申请日期必须是日期。",
    "form_field_missing.requests": "至少需要一项证书业务。",
    "form_id_number": "{who}的{kind}号码不正确，请核对。",
    "form_phone.org": "单位电话格式不正确。",
    "form_id_kind.legal": "法定代表人的证件类型不正确。",
    "form_years.none": "{name}业务没有证书年限。",
    "form_serial.new": "新办业务没有原证书序列号。",
}

# The file control's script (web/file-pick.js): a phone's photo made smaller before it is sent
MESSAGES.update(
    {
        "file_pick_shrinking": "正在压缩照片……",
        "file_pick_shrunk": "照片已压缩：{before} → {after}。",
        # a photo over the limit that does not decode (cut short): not sent (docs/hall.md)
        "file_pick_unreadable": (
            "这张照片（{size}）读不出来，可能不完整或已损坏（例如没有传完或没有存完），"
            "无法压缩后上传，请重新拍照或另选一张照片。"
        ),
    }
)

#: The words the file control's script reads (``messages.SCRIPT_WORDS``).
SCRIPTS: dict[str, tuple[str, ...]] = {
    "web/file-pick.js": ("file_pick_shrinking", "file_pick_shrunk", "file_pick_unreadable"),
}
