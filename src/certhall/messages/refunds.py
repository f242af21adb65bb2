"""Messages of the fee refund programme (certhall.refunds): imports, eligibility, applications,
review, payout and progress."""

from certhall.messages.lifecycle import REFUSED

MESSAGES: dict[str, str] = {
    # what the enterprise is told when its application moves (refunds.notices)
    "refund_notice.approved": "返还金额{amount}元，将转入您提供的银行账户（尾号{tail}）",
    "refund_notice.more_info": "审核意见：{note}。请登录后在申请页面补充材料",
    "refund_notice.more_info.offline": "审核意见：{note}。请携带材料到原受理点补充",
    "refund_notice.submitted.offline": (
        "返还金额{amount}元。请保存本短信中的申请编号：审核结果将以短信通知本手机，"
        "也可凭申请编号、统一社会信用代码和短信验证码查询进度"
    ),
    "refund_notice.rejected": "原因：{note}",
    "refund_notice.paid": "{amount}元已转入您提供的银行账户（尾号{tail}）",
    "refund_notice.failed": (
        "转账未成功（{note}）。请致电{hotline_name}（{hotline}）提供正确的收款账户"
    ),
    # lifecycle
    "refund_state": REFUSED,
    "refund_changed": "{noun} {key} 刚被他人处理，现为“{current}”：请刷新后再试。",
    # programmes and records
    "refund_programme_unknown": "没有代号为“{slug}”的返还项目（现有：{known}）。",
    "refund_ca_unknown": "没有代号为“{ca}”的数字证书机构。",
    "refund_programme_slug": (
        "项目代号“{value}”不正确：2-49位小写字母、数字或连字符，以字母或数字开头。"
    ),
    "refund_programme_slug_taken": "项目代号“{slug}”已被使用。",
    "refund_programme_slug_fixed": "项目代号“{slug}”创建后不能修改。",
    "refund_programme_slug_reserved": (
        "项目代号“{slug}”与费用返还的页面地址相同，项目页面将无法打开，请换一个代号。"
    ),
    "refund_programme_businesses": (
        "请至少选择一项返还的业务（申请、续期、变更、补办、解锁、吊销）。"
    ),
    "refund_programme_no_ca": "请至少选择一家参与的数字证书机构。",
    "refund_programme_window": "{what}的开始日期不能晚于结束日期。",
    "refund_programme_date": "{field}“{value}”不是有效的日期（格式为 YYYY-MM-DD）。",
    "refund_programme_missing": "请填写{field}。",
    "refund_programme_counter": (
        "{ca}的办理点“{line}”格式不正确：每行一个，写作“名称|地址|办理时间”。"
    ),
    "refund_programme_locked": (
        "本项目已有返还申请，{fields}已不能修改（会改变已申请的金额）；可修改名称、公告、"
        "申请时间、热线和办理点。"
    ),
    "refund_programme_notice": "没有编号为“{value}”的已发布公告，请从列表中选择项目公告。",
    "refund_programme_notice_taken": (
        "公告“{title}”已是返还项目“{name}”的项目公告：一个公告只对应一个返还项目。"
    ),
    # why a fee record is not counted (refunds.eligibility.REASONS; a table cell, no 。)
    "refund_reason.ca_not_participating": "发证机构不在本次返还范围内",
    "refund_reason.business_not_covered": "{business}业务不在本项目返还范围内",
    "refund_reason.outside_window": "缴费日期不在业务期间内",
    "refund_reason.unpaid": "未缴费或金额为零",
    "refund_reason.never_used": "该证书没有在电子政务平台使用的记录",
    "refund_reason.used_outside_window": "该证书仅在业务期间以外使用过",
    "refund_reason.already_refunded": "该笔费用已由其他返还申请申领",
    "refund_ca_not_participating": "{ca}不是本次返还的参与机构。",
    # imports
    "refund_import_kind": "导入类型只能是 fees（费用记录）或 usage（使用记录），不是“{kind}”。",
    "refund_import_too_large": "导入文件过大。",
    "refund_import_encoding": "导入文件不是UTF-8编码的CSV文件。",
    "refund_import_header": "导入文件首行缺少列：{missing}（须有：{columns}）。",
    "refund_csv_malformed": (
        "第{line}行不是有效的CSV（每个字段最多 {limit} 个字符），整个文件未导入。"
    ),
    "refund_row_columns": "第{line}行：列数与首行不一致。",
    "refund_row_ca_unknown": "第{line}行：没有代号为“{ca}”的数字证书机构。",
    "refund_row_ca_mismatch": "第{line}行：机构“{ca}”与指定的 --ca {expected} 不一致。",
    "refund_row_serial_invalid": (
        "第{line}行：证书序列号“{value}”不正确，应为大于0、至多20字节（40位）的十六进制数"
        "（可带0x前缀，可用冒号分组）。"
    ),
    "refund_row_uscc_invalid": "第{line}行：统一社会信用代码“{value}”不正确。",
    "refund_row_name_missing": "第{line}行：企业名称为空或超过128个字。",
    "refund_row_business_invalid": (
        "第{line}行：业务类型“{value}”不正确（new、renew、change、replace、unlock、revoke）。"
    ),
    "refund_row_date_invalid": "第{line}行：{what}“{value}”不是有效的日期（格式为 YYYY-MM-DD）。",
    "refund_row_amount_invalid": "第{line}行：金额“{value}”不正确（元，最多两位小数，不能为负）。",
    "refund_row_platform_missing": "第{line}行：平台名称为空或超过128个字。",
    "refund_row_text_chars": "第{line}行：{what}的第{where}个字符（{char}）是{kind}，本行未导入。",
    "refund_row_conflict": "第{line}行：与已导入的同一记录内容不一致，未覆盖。",
    # applications
    "refund_window_closed": (
        "{programme}的申请时间为{start}至{end}，今天（{today}）不在申请时间内。"
    ),
    "refund_already_applied": (
        "贵单位已于{date}提交本项目的返还申请（编号{number}，{state}），每家企业只能申请一次。"
    ),
    "refund_nothing_eligible": "没有符合返还条件的费用记录，无法申请。详见各记录的不符合原因。",
    "refund_account_name": "收款账户名“{given}”必须与{whose}“{expected}”一致。",
    "refund_account_number": "银行账号应为6至34位数字。",
    "refund_confirm_required": "请阅读并勾选确认声明后再提交。",
    "refund_no_organization": "请先使用本单位的数字证书登录。",
    "refund_special_case": "线下申请仅限企业注销、变更或数字证书过期、丢失等特殊情况，请选择情形。",
    "refund_checklist_missing": "尚未收齐以下资料：{items}。",
    "refund_checklist_unsigned": "以下复印件尚未签字按指纹：{items}。",
    "refund_counter_code_empty": (
        "请点击“发送验证码”，并输入登记手机号收到的6位验证码（由法定代表人/负责人本人读出）。"
    ),
    "refund_counter_code": "登记手机号的{reason}",
    "refund_application_unknown": "没有编号为“{number}”的返还申请。",
    # review
    "refund_reason_required": "请填写原因（不超过500字）。",
    "refund_second_officer": (
        "金额超过{threshold}元的申请须由另一名返还审核员复核，初审人不能复核。"
    ),
    "refund_second_officer.account": "您更正了这份申请的收款账户，须由另一名返还审核员审核。",
    "refund_supply_state": "返还申请 {number} 当前为“{state}”，不需要补充材料。",
    # payout
    "refund_batch_empty": "没有待拨付的申请。",
    "refund_batch_unknown": "没有编号为“{number}”的拨付批次。",
    "refund_batch_state": REFUSED,
    "refund_batch_changed": "{noun} {key} 刚被他人处理，现为“{current}”：请刷新后再试。",
    "refund_batch_same_officer": (
        "拨付批次 {number} 由您生成，须由另一名返还审核员复核放行，生成人不能放行。"
    ),
    "refund_batch_not_released": (
        "拨付批次 {number} 当前为“{state}”，复核放行后才能下载银行转账文件。"
    ),
    "refund_bank_row_not_released": (
        "第{line}行：批次{batch}当前为“{state}”，未复核放行的批次不能导入回盘。"
    ),
    "refund_bank_return_header": "银行回盘文件首行缺少列：{missing}（须有：{columns}）。",
    "refund_bank_return_missing": "请选择银行回盘文件（CSV）。",
    "refund_bank_row_unknown": "第{line}行：批次{batch}中没有第{item}笔（申请{number}）。",
    "refund_bank_row_amount": "第{line}行：金额{given}与批次中的{expected}不一致。",
    "refund_bank_row_result": "第{line}行：结果只能是 paid 或 failed，不是“{value}”。",
    "refund_bank_row_settled": "第{line}行：该笔已回盘为“{result}”，不能改为“{given}”。",
    "refund_bank_row_columns": "第{line}行：列数与首行不一致。",
    "refund_bank_row_too_long": "第{line}行：{what}超过{limit}个字，请核对回盘文件。",
    "refund_bank_row_text_chars": (
        "第{line}行：{what}的第{where}个字符（{char}）是{kind}，请核对回盘文件。"
    ),
    # progress
    "refund_progress_not_found": "申请编号与统一社会信用代码不匹配，请核对后重试。",
    "refund_progress_code": "{reason}",
    "refund_progress_expired": "查询已超时，请重新获取验证码。",
    # Confirmations shown after a step succeeded.
    "done_refund_batch_created": (
        "已生成拨付批次 {number}（{count} 笔），须由另一名返还审核员复核放行后才能下载转账文件。"
    ),
    "done_refund_batch_more": (
        "已生成拨付批次 {number}（{count} 笔），须由另一名返还审核员复核放行；"
        "还有 {left} 笔待拨付，请再生成下一批。"
    ),
    "done_refund_batch_released": "拨付批次 {number} 已复核放行，可以下载银行转账文件。",
    "done_refund_batch_cancelled": (
        "拨付批次 {number} 已撤销，其中 {count} 笔申请已退回“审核通过，待拨付”。"
    ),
    "done_refund_programme_saved": "已保存返还项目“{name}”。",
    "done_refund_entered": "已录入返还申请 {number}，待返还审核员审核。",
    "done_refund_approved": "已审核。",
    "done_refund_rejected": "已不予返还。",
    "done_refund_more_info": "已要求补充材料。",
    "done_refund_account_corrected": "收款账户已更正，须由另一名审核人员复核后重新拨付。",
    "done_bank_return_refused": "银行回盘文件有被拒绝的行，未导入。",
    "done_bank_return": "已导入银行回盘文件。",
}
