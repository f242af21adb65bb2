"""``web.refused``: the fields a refusal names, marked on the form shown again beside it
(``aria-invalid``, ``aria-describedby`` to the refusal's words, the focus), once for every
form page (``web.errors.form_page``); a refusal naming no field leaves the page as it was."""

from __future__ import annotations

import html
import re

import pytest
from django.http import QueryDict
from django.test import Client, RequestFactory

from certhall.errors import CerthallError, InvalidInput, NotFound, about, prefixed
from certhall.messages import text
from certhall.pki.identity import uscc_check_character
from certhall.web import refused
from certhall.web.errors import attempt, form_page, int_field, text_field

PAGE = """<main>
<p class="notice error" role="alert" id="form-error">手机号格式不正确。</p>
<form method="post">
  <input type="hidden" name="phone" value="hidden">
  <label for="phone">手机号</label>
  <input id="phone" name="phone" type="tel" value="1390013" aria-describedby="phone-hint" required>
  <p class="hint" id="phone-hint">11位</p>
  <label for="code">验证码</label><input id="code" name="code"/>
  <select id="kind" name="kind"><option>甲</option></select>
  <textarea id="note" name="note">x</textarea>
  <button type="submit" name="phone" value="send">发送</button>
</form></main>"""


def _tag(page: str, element_id: str) -> str:
    found = re.search(rf'<[^>]*\sid="{element_id}"[^>]*>', page)
    assert found is not None, element_id
    return found.group(0)


def _text(page: str, element_id: str) -> str:
    """The text of the element ``element_id`` (a ``p``), tags and entities read."""
    found = re.search(rf'<p[^>]*\sid="{element_id}"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert found is not None, element_id
    return html.unescape(re.sub(r"<[^>]+>", "", found.group(1))).strip()


def test_the_named_field_is_marked_and_focused() -> None:
    page = refused.mark(PAGE, ("phone",))
    phone = _tag(page, "phone")
    assert 'aria-invalid="true"' in phone
    # the hint it was described by stays, the refusal follows it
    assert 'aria-describedby="phone-hint form-error"' in phone
    assert phone.count("aria-describedby") == 1
    assert phone.endswith(" autofocus>")
    # the hidden field and the button of the same name are not fields a person fills
    assert 'value="hidden">' in page
    assert '<button type="submit" name="phone" value="send">' in page
    # nothing else changed
    assert page.replace(phone, "") == PAGE.replace(_tag(PAGE, "phone"), "")


def test_every_field_a_refusal_names_is_marked_the_first_focused() -> None:
    page = refused.mark(PAGE, ("note", "code", "kind"))
    code, kind, note = (_tag(page, name) for name in ("code", "kind", "note"))
    for tag in (code, kind, note):
        assert 'aria-invalid="true" aria-describedby="form-error"' in tag
    marked = 'aria-invalid="true" aria-describedby="form-error" autofocus'
    assert code == f'<input id="code" name="code" {marked}/>'
    assert "autofocus" not in kind and "autofocus" not in note  # the first in the page only


def test_a_page_already_focused_somewhere_keeps_it() -> None:
    page = refused.mark(PAGE.replace("<textarea", "<textarea autofocus"), ("code",))
    assert "autofocus" not in _tag(page, "code")


@pytest.mark.parametrize(
    "page, names",
    [
        (PAGE, ("absent",)),  # a field of another form
        (PAGE, ()),
        (PAGE.replace('id="form-error"', 'id="other"'), ("phone",)),  # no refusal to point at
    ],
)
def test_nothing_to_mark_leaves_the_page_as_it_was(page: str, names: tuple[str, ...]) -> None:
    assert refused.mark(page, names) == page


ROWS = """<p role="alert" id="form-error">请填写原因。</p>
<form id="a"><textarea id="reason-a" name="reason"></textarea><input id="note" name="note"></form>
<form id="b">{box}<textarea id="reason-b" name="reason"></textarea></form>"""


def test_a_name_several_forms_hold_is_marked_in_the_boxs_form_only() -> None:
    """A console's rows each with its 原因: not every row's field is the refused one."""
    page = refused.mark(ROWS.format(box=""), ("reason", "note"))
    assert "aria-invalid" not in _tag(page, "reason-a") + _tag(page, "reason-b")
    assert 'aria-invalid="true"' in _tag(page, "note")  # one form holds it
    rows = ROWS.replace('<p role="alert" id="form-error">请填写原因。</p>', "")
    page = refused.mark(
        rows.format(box='<p role="alert" id="form-error">请填写原因。</p>'), ("reason",)
    )
    assert "aria-invalid" not in _tag(page, "reason-a")
    assert 'aria-invalid="true"' in _tag(page, "reason-b")


CELLS = """<main>{top}<table><tr><td>{box}
<form class="stop"><input id="reason-1" name="reason"><input id="sent-1" name="sent"></form>
<form class="note"><input id="note-1" name="note"></form></td></tr>
<tr><td><form class="stop"><input id="reason-2" name="reason"><input name="sent"></form>
<form class="note"><input id="note-2" name="note"></form></td></tr></table></main>"""
BOX = '<p class="flash" role="alert" id="form-error">请填写停止原因。</p>'


def test_a_box_in_no_form_scopes_the_element_holding_it() -> None:
    """Finance's rows: a row's refusal in its cell, before the row's forms, which every row
    holds: the fields of that cell are marked (a name one of its forms holds), no other row's."""
    page = refused.mark(CELLS.format(top="", box=BOX), ("reason", "note"))
    assert 'aria-invalid="true"' in _tag(page, "reason-1") and "autofocus" in _tag(page, "reason-1")
    assert 'aria-invalid="true"' in _tag(page, "note-1")
    assert "aria-invalid" not in _tag(page, "reason-2") + _tag(page, "note-2")
    assert "aria-invalid" not in _tag(page, "sent-1")
    # the box above every row: each row holds the name, none is the refused one
    top = CELLS.format(top=BOX, box="")
    assert refused.mark(top, ("reason",)) == top
    # a cell whose two forms hold the name: not one field is the refused one
    twice = CELLS.format(top="", box=BOX).replace('name="note"', 'name="reason"', 1)
    assert refused.mark(twice, ("reason",)) == twice


def test_a_field_marked_before_is_marked_once() -> None:
    page = PAGE.replace(
        '<input id="code" name="code"/>', '<input id="code" name="code" aria-invalid="false"/>'
    )
    code = _tag(refused.mark(page, ("code",)), "code")
    assert code.count("aria-invalid") == 1 and 'aria-invalid="true"' in code


def test_refusals_name_their_fields() -> None:
    assert InvalidInput(code="phone_invalid").fields == ()
    assert InvalidInput(code="phone_invalid").naming("phone").fields == ("phone",)
    with pytest.raises(CerthallError) as caught, about("uscc"):
        raise InvalidInput(code="uscc_check")
    assert caught.value.fields == ("uscc",)
    with pytest.raises(CerthallError) as caught, about("uscc"):  # its own name is kept
        raise NotFound(code="refund_progress_not_found").naming("number", "uscc")
    assert caught.value.fields == ("number", "uscc")
    data = QueryDict(mutable=True)
    data["note"] = "长" * 11
    _, error = attempt(lambda: text_field(data, "note", 10))
    assert error is not None and error.fields == ("note",)
    with pytest.raises(CerthallError) as caught, prefixed("handler_"), about("phone"):
        raise InvalidInput(code="phone_invalid")
    assert caught.value.fields == ("handler_phone",)  # the 受理 form's name for it


def test_a_number_field_names_itself() -> None:
    """``int_field`` names its field as ``text_field`` does: refused not a number, or past its
    bound when it has one; a sign only where it is asked for."""
    data = QueryDict(mutable=True)
    data.update({"years": "两年", "order": "-5", "before": "9" * 20, "empty": " "})
    _, error = attempt(lambda: int_field(data, "years", "证书年限"))
    assert error is not None and error.code == "not_a_number" and error.fields == ("years",)
    assert int_field(data, "order", "顺序", signed=True) == -5
    _, error = attempt(lambda: int_field(data, "order", "顺序"))
    assert error is not None and error.fields == ("order",)
    _, error = attempt(lambda: int_field(data, "before", "序号", limit=19))
    assert error is not None and error.code == "field_too_long" and error.fields == ("before",)
    assert int_field(data, "empty", "序号") is None and int_field(data, "absent", "序号") is None


@pytest.mark.django_db
def test_form_page_marks_the_fields_of_its_refusal() -> None:
    request = RequestFactory().get("/status/", {"serial": "不是序列号"})
    error = InvalidInput(code="bad_serial").naming("serial")
    page = form_page(request, "web/status.html", {"query": "不是序列号"}, error).content.decode()
    serial = _tag(page, "serial")
    assert 'aria-invalid="true" aria-describedby="form-error"' in serial
    assert _text(page, "form-error") == error.message
    unnamed = InvalidInput(code="bad_serial")
    page = form_page(request, "web/status.html", {"query": "x"}, unnamed).content.decode()
    assert "aria-invalid" not in page and 'id="form-error"' in page


def _marked(page: str) -> list[str]:
    """The ids of the fields marked invalid, described by the refusal."""
    return re.findall(
        r'<(?:input|select|textarea) id="(\w+)"[^>]*'
        r'aria-invalid="true" aria-describedby="form-error"',
        page,
    )


@pytest.mark.django_db
def test_the_pages_refusals_name_their_fields(client: Client) -> None:
    """Through the views: 证书查询's serial, the registration's USCC, passwords and code, the
    login's two fields (one wording: not saying which was wrong)."""
    page = client.get("/status/", {"serial": "不是序列号"}).content.decode()
    assert _marked(page) == ["serial"]
    form = {
        "action": "register",
        "organization_name": "深圳市新开医疗科技有限公司",
        "uscc": "91440300MA5ABCDEF1",  # its check character is not F1's 1
        "legal_representative": "赵六",
        "phone": "13900139000",
        "code": "000000",
        "password": "Zhao-liu-2026",
        "password_again": "Zhao-liu-2027",
    }
    page = client.post("/accounts/register/", form).content.decode()
    assert _marked(page) == ["uscc"] and "autofocus" in _tag(page, "uscc")
    form["uscc"] = "91440300MA5G8B3L4" + uscc_check_character("91440300MA5G8B3L4")
    page = client.post("/accounts/register/", form).content.decode()
    assert _marked(page) == ["password_again"]
    assert _text(page, "form-error") == text("password_mismatch")
    form["password_again"] = form["password"]
    page = client.post("/accounts/register/", form).content.decode()
    assert _marked(page) == ["code"]  # no code was sent to the phone
    login = {"tab": "password", "username": "nobody", "password": "wrong-1"}
    page = client.post("/accounts/login/", login).content.decode()
    assert _marked(page) == ["username", "password"]
    assert "autofocus" in _tag(page, "username")
    page = client.post("/accounts/login/", {**login, "password": ""}).content.decode()
    assert _marked(page) == ["password"]


def test_the_account_checks_name_every_forms_field() -> None:
    """``accounts.validation``: the phone, the USCC and the passwords, by the names every form
    gives them (the registration, the login, the handlers, the refund forms, 修改密码)."""
    from certhall.accounts import validation
    from certhall.accounts.models import User

    for check, field in (
        (lambda: validation.mobile("1390013"), "phone"),
        (lambda: validation.uscc("91440300MA5ABCDEF1"), "uscc"),
        (lambda: validation.password("Zhao-liu-2026", "Zhao-liu-2027", User()), "password_again"),
        (lambda: validation.password("12345678", "12345678", User()), "password"),
    ):
        _, error = attempt(check)
        assert error is not None and error.fields == (field,), (field, error)
