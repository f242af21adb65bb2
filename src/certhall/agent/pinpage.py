"""The helper's own pages (zh-CN): the PIN window, and a small index page.

Rendered with ``html.escape`` on every value; the script and style are separate files so the
Content-Security-Policy can forbid inline code. The script's words come from the catalogue as
JSON in the page (``messages.words_element``), read by the site's ``web/words.js``.
"""

from __future__ import annotations

from html import escape

from certhall.agent.requests import INPUT_STATES, Request
from certhall.clock import SHANGHAI
from certhall.messages import words_element

_OPS = {"login": "证书登录", "renew": "证书在线续期", "change_pin": "修改PIN码"}

_HINT = "PIN码只交给您电脑上的Ukey，网站看不到它。请核对请求来源与证书信息。"

#: The bar of every page of the helper (the PIN window's title bar shows the page's <title>):
#: the service's name the customer knows, in Chinese like every word the helper shows (it read
#: "证书助手 · certhall" until 12-06; certhall is the software's name, not the service's).
BAR = "深圳医保在线签约 · 证书助手"


def _field(name: str, label: str, *, autofocus: bool = False, disabled: bool = False) -> str:
    return (
        f'<label for="{name}">{label}</label>'
        f'<input id="{name}" name="{name}" type="password" inputmode="text" maxlength="64" '
        f'autocomplete="off" required{" autofocus" if autofocus else ""}'
        f"{' disabled' if disabled else ''}>"
    )


def _form(form_id: str, fields: str, closed: bool) -> str:
    return (
        f'<form id="{form_id}" class="pin-form" autocomplete="off">{fields}'
        '<div class="actions">'
        f'<button id="submit" type="submit"{" disabled" if closed else ""}>确定</button>'
        '<button id="cancel" type="button" class="secondary">取消</button>'
        "</div></form>"
    )


def _inputs(request: Request, closed: bool) -> tuple[str, str, str]:
    """(heading, explanation, form) for what the request needs from the user now."""
    new = _field("new_pin", "新PIN码", disabled=closed) + _field(
        "new_pin_again", "再次输入新PIN码", disabled=closed
    )
    rule = "新PIN码6至32位，不能是同一数字重复或连续数字（如111111、123456）。"
    if request.op == "change_pin":
        old = _field("old_pin", "原PIN码", autofocus=True, disabled=closed)
        return "修改Ukey的PIN码", f"{_HINT}{rule}", _form("change-form", old + new, closed)
    if request.state == "must_change":
        text = (
            "该Ukey的PIN码是初始PIN码或刚被重置（短信告知的PIN码），须先设置新PIN码才能使用。"
            f"设置后将继续{_OPS[request.op]}。{rule}"
        )
        return "请设置新PIN码", text, _form("change-form", new, closed)
    pin = _field("pin", "PIN码", autofocus=True, disabled=closed)
    return "请输入Ukey的PIN码", _HINT, _form("pin-form", pin, closed)


def _layout(title: str, body: str, *, data: str = "") -> str:
    return (
        "<!doctype html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/static/pin.css"></head>'
        f"<body{data}>"
        f'<header class="bar">{BAR}</header>'
        f'<main class="box">{body}</main>'
        '<script src="/static/words.js"></script>'
        f"{words_element('agent/pin.js')}"
        '<script src="/static/pin.js"></script>'
        "</body></html>\n"
    )


def render_pin(request: Request) -> str:
    cert = request.entry.certificate
    info = request.entry.as_json()
    what = _OPS[request.op]
    if request.op == "renew" and request.years:
        what += f"（{request.years}年）"
    rows = [
        ("请求来源", request.origin),
        ("操作", what),
        ("证书", str(info["subject_cn"])),
        ("单位", str(info["organization"]) or "—"),
        ("序列号", str(info["serial"])),
        # the Shanghai date, as the hall's pages show it (the UTC date was a day early from
        # 00:00 to 07:59)
        ("有效期至", f"{cert.not_valid_after_utc.astimezone(SHANGHAI):%Y-%m-%d}"),
        ("Ukey", request.entry.token_label),
    ]
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    closed = request.state not in INPUT_STATES
    message = ""
    if request.error is not None and request.state != "must_change":
        message = escape(request.error.message)
    elif closed:
        message = "该请求已处理，可以关闭此窗口。"
    heading, explanation, form = _inputs(request, closed)
    body = (
        f"<h1>{escape(heading)}</h1>"
        f'<p class="hint">{escape(explanation)}</p>'
        f'<table class="info">{table}</table>{form}'
        f'<p id="message" class="message" role="alert">{message}</p>'
    )
    data = (
        f' data-request="{escape(request.id)}" data-form-token="{escape(request.form_token)}"'
        f' data-state="{escape(request.state)}"'
    )
    return _layout(f"证书助手 · {heading}", body, data=data)


def render_gone(message: str) -> str:
    body = f'<h1>请求已失效</h1><p class="message">{escape(message)}</p>'
    return _layout("证书助手", body)


def render_index(hall_origin: str) -> str:
    body = (
        "<h1>证书助手正在运行</h1>"
        f"<p>本助手只为 <code>{escape(hall_origin)}</code> 的网页读取Ukey证书和签名。</p>"
        "<p>请回到网上营业厅页面继续操作。</p>"
    )
    return _layout("证书助手", body)
