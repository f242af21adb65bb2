"""The portal's words (certhall.portal): notices, questions, FAQ, downloads, search."""

from certhall.messages.lifecycle import CHANGED, REFUSED

MESSAGES: dict[str, str] = {
    "notice_state": REFUSED,
    "notice_changed": CHANGED,
    "question_state": REFUSED,
    "question_changed": CHANGED,
    "guide_unknown": "没有这项业务的办事指南。",
    "notice_not_found": "公告不存在或尚未发布。",
    "notice_not_editable": "公告 {key} 已发布：请先撤回再修改。",
    "notice_field_missing": "请填写{what}。",
    "notice_region": "未知的地区“{value}”。",
    "notice_category": "未知的公告类别“{value}”。",
    "notice_date": "发布日期格式应为 年-月-日，例如 2025-09-04。",
    "notice_date_future": "发布日期{date}晚于今天，不能发布：请改正发布日期后再发布。",
    "question_not_found": "咨询不存在。",
    "question_too_short": "问题太短了，请至少写{limit}个字。",
    "question_rejected": "提交未通过校验，请刷新页面后重新填写。",
    "question_too_fast": "提交太快了，请确认问题内容后再提交。",
    "question_expired": "页面已打开太久，请刷新页面后重新提交。",
    "question_answer_missing": "请填写答复内容。",
    "rate_limited_portal_ask": "您的网络地址提交咨询过于频繁，请{wait}后再试。",
    "question_lookup_refused": "编号或查询码不正确，请核对提问后页面上显示的编号和查询码。",
    "rate_limited_portal_answer": "查看答复的尝试过于频繁，请{wait}后再试。",
    "entry_not_found": "条目不存在。",
    "entry_kind": "未知的条目类型“{value}”。",
    "entry_order_range": "顺序应为 -{limit} 到 {limit} 之间的整数。",
    "download_not_found": "文件不存在。",
    "download_type": (
        "只接受PDF、Word（DOCX）、Excel（XLSX）或ZIP文件（按文件内容识别，不看扩展名）。"
    ),
    "download_too_big": "文件超过 {limit} MB 的大小限制。",
    # A broken file, before it is published (portal.files.store): the store's codes.
    "file_incomplete.download": (
        "文件不完整（上传中断或文件已损坏），客户下载后打不开，请重新导出文件后上传。"
    ),
    "pdf_unreadable.download": "PDF文件已损坏，打不开，请重新导出PDF后再上传。",
    "pdf_encrypted.download": (
        "PDF文件设置了打开密码，客户下载后无法打开，请去掉打开密码后重新上传。"
    ),
    "pdf_no_pages.download": "PDF文件中没有页面，请重新导出PDF后再上传。",
    "pdf_too_many_pages.download": "PDF文件超过 {limit} 页的限制，请拆分成几个文件后分别上传。",
    "pdf_too_complex.download": "PDF文件结构过于复杂，无法读取，请重新导出PDF后再上传。",
    "pdf_page_too_large.download": (
        "PDF文件第 {page} 页为 {width} × {height} 毫米，超过限制（每边不超过 {side} 毫米，"
        "A0纸为 841 × 1189 毫米），请调整页面大小后重新导出PDF。"
    ),
    "download_kind": "未知的下载类型“{value}”。",
    "search_query_too_long": "搜索词不能超过{limit}个字。",
    # Lines above the results (portal.search: Results.some, Results.also, Results.begun).
    "search_some_words": (
        "没有同时包含“{query}”中全部词语的内容，以下结果包含其中部分词语，包含得多的排在前面。"
    ),
    "search_also": "本站页面的说法是{words}，已一并搜索。",
    "search_begun": "没有与“{query}”完全一致的内容，以下结果包含以{words}开头的词语。",
    "search_near": "没有找到“{query}”中的词语，以下结果包含与之相近的{words}。",
    "portal_role_required": "门户内容只能由受理员或CA管理员维护。",
    "portal_file_missing": "请选择文件。",
    # Confirmations shown after a step succeeded.
    "done_notice_published": "公告 {number} 已发布。",
    "done_notice_withdrawn": "公告 {number} 已撤回。",
    "done_notice_redrafted": "公告 {number} 已转为草稿。",
    "done_notice_draft": "公告 {number} 已保存为草稿。",
    "done_notice_saved": "公告 {number} 已保存。",
    "done_attachment_uploaded": "附件已上传。",
    "done_downloads_built": "表格与证书助手已重新生成。",
    "done_question_answered": "已答复。",
    "done_question_published": "已公开到常见问题。",
    "done_question_unpublished": "已从常见问题撤下。",
    "done_question_closed": "已关闭。",
    "done_question_reopened": "已重新打开。",
    "done_entry_saved": "条目已保存。",
    "done_download_uploaded": "已上传：{title}。",
}
