"""Messages of the CA core (certhall.pki): profiles, validity, CSRs, identities."""

MESSAGES: dict[str, str] = {
    # identities (pki/identity.py): USCC, resident ID, other ID documents
    "uscc_empty": "请填写统一社会信用代码。",
    "uscc_length": "统一社会信用代码应为18位，现为{got}位。",
    "uscc_characters": (
        "统一社会信用代码第{where}位的字符不会出现在信用代码中（只用数字和除I、O、S、V、Z外的大写字母）。"
    ),
    "uscc_check": "统一社会信用代码校验位不正确，请核对是否输入有误。",
    "resident_id_empty": "请填写身份证号码。",
    "resident_id_length": "身份证号码应为18位，现为{got}位（不接受15位的第一代身份证号码）。",
    "resident_id_characters": "身份证号码应为17位数字加1位数字或X。",
    "resident_id_birth_date": "身份证号码中的出生日期（第7至14位）不是有效日期。",
    "resident_id_birth_date.future": "身份证号码中的出生日期（第7至14位）晚于今天。",
    "resident_id_birth_date.early": "身份证号码中的出生日期（第7至14位）早于1900年。",
    "resident_id_check": "身份证号码校验位不正确，请核对是否输入有误。",
    "id_document_kind": "证件类型只能是：{kinds}。",
    "id_document_number": "{kind}号码格式不正确。",
    # names and places that go into certificates (pki/identity.py subject_text)
    "subject_missing": "请填写{what}。",
    "subject_too_long": "{what}最多{limit}个字（证书中只能容纳这么多），现为{got}个字。",
    "text_chars": "{what}的第{where}个字符（{char}）是{kind}，不能使用，请删除后重新输入。",
    "validity_missing": "证书须有有效年限或到期时间。",
    "validity_end_past": "证书到期时间（{end} UTC）早于生效时间：原证书已过期，请办理续期。",
}
