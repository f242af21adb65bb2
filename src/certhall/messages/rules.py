"""Messages of the business rules (certhall.rules): quotes and the catalog.

The rules core writes no words of its own (``tests/test_messages.py``,
``test_the_rules_core_writes_no_words``): its refusals' details and the labels they are built
from are here too (``rules_label.``: fragments, not sentences).
"""

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
    # The details of the rules' refusals (``Refusal.detail``, by its rule: why the rule applies
    # to this request; the counter's page, ``certhall rules quote`` and the API show them)
    "rule_detail.term": "申请 {years} 年期，{cert} 可办理 {min_years}-{max_years} 年期。",
    "rule_detail.channel": "{business}（{cert}）不能通过{channel}办理。",
    "rule_detail.renewal_expired": "证书已于 {expiry} 到期。",
    "rule_detail.renewal_too_early": "证书 {expiry} 到期，网厅续期自 {opens} 起可办理。",
    "rule_detail.weekend": "{day} 是周末{estimate}。",
    "rule_detail.statutory_holiday": "{day} 为法定节假日（{holiday}）{estimate}。",
    "rule_detail.closed_day": "{day} 不是{point}的服务日{estimate}。",
    "rule_detail.hours": "{time} 不在服务时间 {sessions} 内。",
    # Labels and fragments the rules' words are built from (not sentences)
    # a day as the refusals and the calendar's pages write it: 2027-02-05 星期五
    "rules_label.day": "{day} {weekday}",
    "rules_label.weekday.1": "星期一",
    "rules_label.weekday.2": "星期二",
    "rules_label.weekday.3": "星期三",
    "rules_label.weekday.4": "星期四",
    "rules_label.weekday.5": "星期五",
    "rules_label.weekday.6": "星期六",
    "rules_label.weekday.7": "星期日",
    # what a detail adds while the day's year is counted provisionally (``hours.estimate_note``)
    "rules_label.estimate": "（{year}年节假日安排尚未导入，按法定节假日预计，不含调休）",
    # a service point's rule quoted when it is closed: the seed's 服务时间 line, verbatim
    "rules_label.hours_rule": "{point} 服务时间:{hours}",
    "rules_label.channel.onsite": "现场",
    "rules_label.channel.online": "网上营业厅",
    # what an unknown choice is (``unknown_choice``'s ``what``)
    "rules_label.business": "业务类型",
    "rules_label.cert_type": "证书类型",
    "rules_label.channel": "办理渠道",
    "rules_label.point": "受理点",
    # the holiday calendar's import: the lists' names (a CA administrator pasting the notice
    # sees them, and the file's keys mean nothing to them), an item of a list, the keys
    "rules_label.list.holidays": "放假日期",
    "rules_label.list.workdays": "调休上班日期",
    "rules_label.list_item": "{name}第{n}个（{key}[{index}]）",
    "rules_label.keys_missing": "缺少 {keys}",
    "rules_label.keys_unknown": "未知字段 {keys}",
    # where a year's days come from while its notice is not imported, and a notice's title
    "rules_label.law_source": "《全国年节及纪念日放假办法》法定节假日（不含调休）",
    "rules_label.notice_title": "国务院办公厅关于{year}年部分节假日安排的通知",
    # the law's holidays (``statutory``), by chinese_calendar's ``Holiday`` names
    "rules_label.holiday.new_years_day": "元旦",
    "rules_label.holiday.spring_festival": "春节",
    "rules_label.holiday.tomb_sweeping_day": "清明节",
    "rules_label.holiday.labour_day": "劳动节",
    "rules_label.holiday.dragon_boat_festival": "端午节",
    "rules_label.holiday.mid_autumn_festival": "中秋节",
    "rules_label.holiday.national_day": "国庆节",
}
