"""The helper's own pages (zh-CN): the PIN window, and a small index page.

Rendered with ``html.escape`` on every value; the script and style are separate files so the
Content-Security-Policy can forbid inline code. The script's words come from the catalogue as
JSON in the page (``messages.words_element``), read by the site's ``web/words.js``.
"""

from __future__ import annotations

from html import escape

from certhall.agent.requests import INPUT_STATES, Request
from certhall.clock import SHANGHAI
from certhall.messages import text, words_element

#: The bar of every page of the helper (the PIN window's title bar shows the page's <title>).
BAR = text("page_label.helper_bar")


def _field(name: str, label: str, *, autofocus: bool = False, disabled: bool = False) -> str:
    return (
        f'<label for="{name}">{escape(text(label))}</label>'
        f'<input id="{name}" name="{name}" type="password" inputmode="text" maxlength="64" '
        f'autocomplete="off" required{" autofocus" if autofocus else ""}'
        f"{' disabled' if disabled else ''}>"
    )


def _form(form_id: str, fields: str, closed: bool) -> str:
    return (
        f'<form id="{form_id}" class="pin-form" autocomplete="off">{fields}'
        '<div class="actions">'
        f'<button id="submit" type="submit"{" disabled" if closed else ""}>'
        f"{escape(text('page_label.confirm'))}</button>"
        '<button id="cancel" type="button" class="secondary">'
        f"{escape(text('page_label.cancel'))}</button>"
        "</div></form>"
    )


def _inputs(request: Request, closed: bool) -> tuple[str, str, str]:
    """(heading, explanation, form) for what the request needs from the user now."""
    new = _field("new_pin", "page_label.pin_new", disabled=closed) + _field(
        "new_pin_again", "page_label.pin_new_again", disabled=closed
    )
    hint, rule = text("pin_page_hint"), text("pin_page_rule")
    if request.op == "change_pin":
        old = _field("old_pin", "page_label.pin_old", autofocus=True, disabled=closed)
        heading = text("page_label.pin_change")
        return heading, f"{hint}{rule}", _form("change-form", old + new, closed)
    if request.state == "must_change":
        operation = text(f"page_label.pin_op_{request.op}")
        explanation = text("pin_page_must_change", operation=operation) + rule
        return text("page_label.pin_set_new"), explanation, _form("change-form", new, closed)
    pin = _field("pin", "page_label.pin", autofocus=True, disabled=closed)
    return text("page_label.pin_enter"), hint, _form("pin-form", pin, closed)


def _layout(title: str, body: str, *, data: str = "") -> str:
    return (
        "<!doctype html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">'
        '<link rel="stylesheet" href="/static/pin.css"></head>'
        f"<body{data}>"
        f'<header class="bar">{escape(BAR)}</header>'
        f'<main class="box">{body}</main>'
        '<script src="/static/words.js"></script>'
        f"{words_element('agent/pin.js')}"
        '<script src="/static/pin.js"></script>'
        "</body></html>\n"
    )


def render_pin(request: Request) -> str:
    cert = request.entry.certificate
    info = request.entry.as_json()
    if request.op == "renew" and request.years:
        what = text("page_label.pin_op_renew_years", years=request.years)
    else:
        what = text(f"page_label.pin_op_{request.op}")
    rows = [
        ("page_label.pin_origin", request.origin),
        ("page_label.pin_operation", what),
        ("page_label.pin_certificate", str(info["subject_cn"])),
        ("page_label.pin_organization", str(info["organization"]) or "—"),
        ("page_label.pin_serial", str(info["serial"])),
        # the Shanghai date, as the hall's pages show it (the UTC date was a day early from
        # 00:00 to 07:59)
        ("page_label.pin_not_after", f"{cert.not_valid_after_utc.astimezone(SHANGHAI):%Y-%m-%d}"),
        ("page_label.pin_ukey", request.entry.token_label),
    ]
    table = "".join(f"<tr><th>{escape(text(k))}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    closed = request.state not in INPUT_STATES
    message = ""
    if request.error is not None and request.state != "must_change":
        message = escape(request.error.message)
    elif closed:
        message = escape(text("pin_page_closed"))
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
    return _layout(text("page_label.helper_title", heading=heading), body, data=data)


def render_gone(message: str) -> str:
    body = f'<h1>{escape(text("page_label.pin_gone"))}</h1><p class="message">{escape(message)}</p>'
    return _layout(text("page_label.helper"), body)


def render_index(hall_origin: str) -> str:
    # the origin stands in <code> inside the sentence: escape the sentence around a mark
    mark = "\0"
    origin = escape(text("helper_index_origin", origin=mark))
    origin = origin.replace(mark, f"<code>{escape(hall_origin)}</code>")
    body = (
        f"<h1>{escape(text('page_label.helper_running'))}</h1>"
        f"<p>{origin}</p>"
        f"<p>{escape(text('helper_index_back'))}</p>"
    )
    return _layout(text("page_label.helper"), body)
