"""Messages of the certificate helper (certhall.agent): what its PIN window and the hall pages
show about Ukeys, requests and PIN changes. PIN outcomes themselves are in ``tokens``."""

from certhall.messages.common import CONTACT_US

MESSAGES: dict[str, str] = {
    # the helper's own refusals of a request (agent.server), by the code the page reads
    "agent_bad_json": "请求不是有效的JSON。",
    "agent_bad_json.object": "请求必须是JSON对象。",
    "agent_bad_request.chain": "证书链格式不正确。",
    "agent_bad_request.length": "请求长度不正确。",
    "agent_bad_request.no_certificate": "请先选择证书。",
    "agent_bad_request.operation": "不支持的操作。",
    "agent_bad_request.page": "页面已失效，请关闭后重新操作。",
    "agent_bad_request.pin": "PIN码格式不正确。",
    "agent_content_type": "请求格式不正确：须为JSON。",
    "agent_form_invalid": "页面已失效，请关闭后重新操作。",
    "agent_host_refused": "请用本机地址（127.0.0.1）访问证书助手。",
    "agent_method": "不支持的请求方法。",
    "agent_not_found": "没有这个接口。",
    "agent_not_found.page": "没有这个页面。",
    "agent_origin_missing": "请求未注明来源网站，已拒绝。",
    "agent_origin_refused": "来源网站不被证书助手接受。",
    "agent_origin_refused.pin_page": "只能在证书助手自己的页面输入PIN码。",
    "agent_pin_mismatch": "两次输入的新PIN码不一致，请重新输入。",
    "agent_pin_missing": "请输入新PIN码。",
    "agent_too_large": "请求太大。",
    "no_token": "未检测到Ukey，请插入Ukey后重试。",
    "token_removed": "操作过程中Ukey被拔出，请重新插入Ukey后再试。",
    "token_failed": f"Ukey操作失败，请重新插入Ukey后再试。如仍失败，请{CONTACT_US}。",
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
    "origin_invalid": "{value!r} 不是网站来源（origin）。",
    "origin_invalid.form": (
        "{value!r} 不是网站来源（origin）：应为 scheme://host[:port]，http 或 https，不带路径。"
    ),
    "challenge_invalid": "登录挑战值须为32字节、不带填充的 base64url 编码。",
    "challenge_invalid.base64": "登录挑战值不是 base64url 编码。",
    "serial_invalid.lower_hex": "证书序列号须为小写十六进制数字。",
    "key_hash_invalid": "新密钥的哈希值须为 SHA-256 十六进制数字。",
    "base64_invalid": "{what}不是有效的 base64 编码。",
    "base64_invalid.type": "{what}须为 base64 文本。",
    "agent_hall_origin": "--hall-origin：{detail}",
    "agent_port": "--port 须为 0-65535，而不是 {port}。",
    # printed when the helper starts, in the customer's own terminal
    "agent_listening": "证书助手已启动：{url}，只为 {origin} 的网页读取Ukey。请保持此窗口打开。",
    "certificate_mismatch.other_renewal": f"Ukey中已有另一张续期证书，请{CONTACT_US}。",
    "renewal_not_installed": "新证书尚未写入Ukey，不能删除原证书。",
}

# What the scripts of the pages that call the helper show (certlogin/agent-client.js, and the
# words both the certificate login and the online renewal say about the helper).
MESSAGES.update(
    {
        "page_label.helper": "证书助手",
        "helper_connecting": "正在连接证书助手……",
        "helper_reading": "正在读取Ukey中的证书……",
        "helper_refused": "证书助手拒绝了请求。",
        "helper_failed": "证书助手请求失败，请重试。",
        "helper_asking_pin": "请在证书助手弹出的窗口中核对信息并输入PIN码……",
        "helper_cancelled": "操作已取消。",
        "helper_lost": "与证书助手的连接中断，请确认证书助手正在运行后重试。",
        "helper_missing": "未检测到证书助手，请确认证书助手正在运行后重试。",
        "helper_site_down": "无法连接本站，请检查网络后重试。",
        # the helper's own PIN window (agent/static/pin.js)
        "page_label.close": "关闭",
        "pin_page_empty": "请填写全部PIN码。",
        "pin_page_changing": "正在修改PIN码，请稍候……",
        "pin_page_signing": "正在验证PIN码并签名，请稍候……",
        "pin_page_changed": "PIN码已修改，请牢记新PIN码。此窗口将自动关闭。",
        "pin_page_done": "完成，请回到网页继续。此窗口将自动关闭。",
        "pin_page_failed": "操作失败，请重试。",
        "pin_page_no_helper": "无法连接证书助手，请确认证书助手正在运行。",
    }
)

# The helper's own pages (agent.pinpage): the PIN window and the index page, written in Python
MESSAGES.update(
    {
        # the bar of every page (the PIN window's title bar shows the page's <title>): the
        # service's name the customer knows, not the software's
        "page_label.helper_bar": "深圳医保在线签约 · 证书助手",
        "page_label.helper_title": "证书助手 · {heading}",
        "page_label.pin_op_login": "证书登录",
        "page_label.pin_op_renew": "证书在线续期",
        "page_label.pin_op_renew_years": "证书在线续期（{years}年）",
        "page_label.pin_op_change_pin": "修改PIN码",
        "page_label.pin_origin": "请求来源",
        "page_label.pin_operation": "操作",
        "page_label.pin_certificate": "证书",
        "page_label.pin_organization": "单位",
        "page_label.pin_serial": "序列号",
        "page_label.pin_not_after": "有效期至",
        "page_label.pin_ukey": "Ukey",
        "page_label.pin_enter": "请输入Ukey的PIN码",
        "page_label.pin_set_new": "请设置新PIN码",
        "page_label.pin_change": "修改Ukey的PIN码",
        "page_label.pin": "PIN码",
        "page_label.pin_old": "原PIN码",
        "page_label.pin_new": "新PIN码",
        "page_label.pin_new_again": "再次输入新PIN码",
        "page_label.confirm": "确定",
        "page_label.cancel": "取消",
        "page_label.pin_gone": "请求已失效",
        "page_label.helper_running": "证书助手正在运行",
        "pin_page_hint": "PIN码只交给您电脑上的Ukey，网站看不到它。请核对请求来源与证书信息。",
        "pin_page_rule": "新PIN码6至32位，不能是同一数字重复或连续数字（如111111、123456）。",
        "pin_page_must_change": (
            "该Ukey的PIN码是初始PIN码或刚被重置（短信告知的PIN码），须先设置新PIN码才能使用。"
            "设置后将继续{operation}。"
        ),
        "pin_page_closed": "该请求已处理，可以关闭此窗口。",
        "helper_index_origin": "本助手只为 {origin} 的网页读取Ukey证书和签名。",
        "helper_index_back": "请回到网上营业厅页面继续操作。",
    }
)

# certhall agent --help, read by the customers who run the helper (cli.agent_cmd)
MESSAGES.update(
    {
        "agent_help": (
            "证书助手：在这台电脑的本机地址 127.0.0.1 上运行，只为一个网上营业厅网站的网页"
            "读取Ukey中的证书并签名。使用期间请保持此窗口打开。"
        ),
        "agent_help.help": "显示本帮助并退出。",
        "agent_help.hall_origin": "只有这个网站（origin）的网页可以使用证书助手，默认 {default}。",
        "agent_help.port": "证书助手在本机监听的端口，默认 {default}。",
        "agent_help.module": "Ukey的PKCS#11模块（驱动库文件）。",
        "agent_help.conf": "Ukey所用SoftHSM2令牌库的配置文件（SOFTHSM2_CONF）。",
        "agent_help.verbose": "记录每一个请求。",
        "cli_label.usage": "用法：",
        "cli_label.options": "选项",
        "cli_label.metavar_origin": "网址",
        "cli_label.metavar_port": "端口",
        "cli_label.metavar_file": "文件",
        # a mistyped command line (argparse's words, cli.agent_cmd._ARGPARSE_WORDS): fragments
        # of agent_help.refused
        "cli_label.argument": "选项 {option}：{message}",
        "cli_label.unrecognized": "无法识别的参数 {arguments}",
        "cli_label.required": "缺少必需的参数 {arguments}",
        "cli_label.expected_one": "后面须跟一个值",
        "cli_label.ambiguous": "{option} 可以指 {matches}，请写出完整的选项名",
        "cli_label.explicit": "不带值（多了“{value}”）",
        "cli_label.invalid_value": "“{value}”不是有效的值",
        "cli_label.port_value": "“{value}”不是端口号（0-65535的数字）",
        "agent_help.refused": "{prog} 的命令行有误：{message}。运行 {prog} --help 可查看用法。",
        # a refusal after the command line (a bad origin, a missing module, a busy port)
        "cli_label.agent_error": "{prog}：",
    }
)

#: The words each script of the helper's pages reads (``messages.SCRIPT_WORDS``).
SCRIPTS: dict[str, tuple[str, ...]] = {
    "certlogin/agent-client.js": ("page_label.helper", "helper_connecting"),
    # served by the helper itself (agent.pinpage), not by the site's static files
    "agent/pin.js": (
        "page_label.close",
        "pin_page_empty",
        "agent_pin_mismatch",
        "pin_page_changing",
        "pin_page_signing",
        "pin_page_changed",
        "pin_page_done",
        "pin_page_failed",
        "pin_page_no_helper",
    ),
}

#: What both pages that call the helper say about it (the login's and the renewal's scripts).
HELPER_PAGE: tuple[str, ...] = (
    "helper_reading",
    "helper_refused",
    "helper_failed",
    "helper_asking_pin",
    "helper_cancelled",
    "helper_lost",
    "helper_missing",
    "helper_site_down",
)
