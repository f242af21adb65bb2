"""Messages of the business rules (certhall.rules): quotes and the catalog."""

MESSAGES: dict[str, str] = {
    "point_required": "现场办理须选择受理点。",
    "point_not_online": "受理点只适用于现场办理，网上办理无需选择。",
    "unknown_choice": "未知的{what}“{value}”（可选：{choices}）。",
    "naive_datetime": "{at} 没有时区：请给出带时区的时间（Asia/Shanghai 当地时间）。",
    "rules_catalog_invalid": "业务规则目录 {source}：{path}: {problem}。",
    "rules_catalog_invalid.json": "业务规则目录 {source} 不是有效的 JSON：{error}。",
    "rules_catalog_invalid.read": "无法读取业务规则目录 {source}：{error}。",
    "term_not_applicable": "办理年限只适用于新办和续期，不适用于{business}。",
    "term_missing": "请选择{cert_type}{business}的年限（{min_years}-{max_years}年）。",
    "term_invalid": "年限须为不小于1的整数，而不是 {got!r}。",
    "cert_expiry_missing": "网上续期须提供原证书的到期日期（cert_expiry）。",
    "rule_violation.quote": "{reasons}",
    # a refusal about the moment (a weekend, a closed day, outside 服务时间): which one
    "rule_violation.quote_at": "{reasons}（办理时间：{when}）。",
    "statutory_year": "只能计算 {first}-{last} 年的法定节假日，不能计算 {year} 年的。",
    "calendar_date": "{where}：{text!r} 不是日期 YYYY-MM-DD。",
    "calendar_date.type": "{where}：{text!r} 不是日期字符串 YYYY-MM-DD。",
    "calendar_date.year": (
        "{where}：{text} 不在 {year} 年内（只可另含上一年12月中通知安排的元旦放假、调休上班日）。"
    ),
    "calendar_dates": "“{key}” 须为日期列表。",
    "calendar_dates.repeated": "{name}（{key}）中日期重复：{days}。",
    "calendar_format": "节假日安排格式错误：{problems}。",
    "calendar_format.object": "节假日安排须为 JSON 对象 {{year, holidays, workdays, source}}。",
    "calendar_year": "年份 {year} 超出可导入范围 2004-{last}。",
    "calendar_year.type": "“year” 须为整数年份，不是 {year!r}。",
    "calendar_source": "“source” 须注明来源（如国务院办公厅通知的标题）。",
    "calendar_holidays_empty": "放假日期（holidays）不能为空。",
    "calendar_both": "日期不能既是假日又是调休上班日：{days}。",
    "calendar_weekday_workdays": (
        "调休上班日期（workdays）只列调休上班的周六、周日，这些日期本是工作日：{days}。"
    ),
    "calendar_unknown": (
        "{year} 年的节假日安排未知，无法计算工作日（可用年份 {first}-{last}，或导入该年的安排）。"
    ),
    "calendar_notice_line": (
        "通知第{line}行无法识别：“{text}”。可识别的写法如“1月1日至3日放假调休，共3天”"
        "“1月1日放假，与周末连休”“1月4日（周日）、2月28日（周六）上班”。"
    ),
    "calendar_notice_line.date": "通知第{line}行：“{text}”中有不存在的日期。",
    "calendar_notice_line.order": "通知第{line}行：“{text}”的结束日早于开始日。",
    "calendar_notice_line.year": (
        "通知第{line}行：“{text}”中的日期不在{year}年内"
        "（只可另含上一年12月中通知安排的元旦放假、调休上班日）。"
    ),
    "calendar_notice_line.repeated": "通知第{line}行：{days}在前面的条目中已放假。",
    "calendar_notice_line.count": "通知第{line}行：“{text}”写共{said}天，但所列日期是{days}天。",
    "calendar_notice_line.nothing": "通知第{line}行没有放假日期：“{text}”。",
    "calendar_notice_line.unnumbered": (
        "通知第{line}行有放假或上班日期，但不在编号的条目中（如“二、春节：…”）："
        "“{text}”。如是上一条折行，请接回上一行。"
    ),
    "calendar_notice_empty": (
        "通知文本中没有编号的放假安排（如“一、元旦：1月1日放假，共1天。”），请粘贴通知正文。"
    ),
    "calendar_notice_year": "通知标题是{found}年的安排，与所填年份{year}不符。",
    "calendar_notice_year.missing": (
        "请填写年份（通知文本中没有标题“国务院办公厅关于YYYY年部分节假日安排的通知”）。"
    ),
    "working_days_invalid": "工作日数须为不小于1的整数，而不是 {got!r}。",
}
