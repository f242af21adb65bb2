"""Invisible characters in what people type on the portal for others to read (docs/security.md,
"Invisible characters in typed text"): FAQ and guide entries, a notice's body written as an
HTML entity (its literal characters: test_notices.py), a visitor's question and name,
staff answers and the FAQ category they publish into, downloads' titles and descriptions.

Each refused at the service with ``text_chars`` naming the field, through the one rule
(``pki.identity.refuse_invisible``); a text of several lines keeps its line breaks and tabs."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.errors import InvalidInput
from certhall.portal import downloads, entries, notices, questions
from certhall.portal.models import Download, Entry, Question
from tests.support.images import pdf

pytestmark = pytest.mark.django_db

RLO = "\u202e"  # right-to-left override: "电话 1380<RLO>0138000" reads as another number


def _entry(**typed: str) -> entries.EntryInput:
    fields = {"kind": "faq", "category": "证书办理", "title": "证书丢失怎么办？"}
    return entries.EntryInput(**{**fields, "body_html": "<p>请到受理点办理。</p>", **typed})


def _stamp(clock) -> str:  # type: ignore[no-untyped-def]
    stamp = questions.form_stamp()
    clock.shift(timedelta(seconds=10))
    return stamp


def _ask(clock, text: str = "证书怎么续期？", name: str = "") -> Question:  # type: ignore[no-untyped-def]
    stamp = _stamp(clock)
    return questions.ask(text, name=name, stamp=stamp, trap="", client="203.0.113.40").question


def _upload(editor: User, **typed: str) -> Download:
    fields = {"title": "网厅续期操作指引", "version": "2026.1", "description": "适用于网厅。"}
    return downloads.upload(
        editor,
        kind="manual",
        name="指引.pdf",
        chunks=[pdf()],
        **{**fields, **typed},
    )


#: (field as the refusal names it, the service called with the character in that field)
SERVICES: dict[str, tuple[str, Callable[..., object]]] = {
    "entry title": ("标题", lambda clock, editor, x: _entry(title=f"证书{x}丢失")),
    "entry category": ("分类", lambda clock, editor, x: _entry(category=f"证书{x}办理")),
    "entry body": ("内容", lambda clock, editor, x: _entry(body_html=f"<p>请到{x}受理点</p>")),
    "entry body, an entity": (
        "内容",
        lambda clock, editor, x: _entry(body_html=f"<p>请到&#x{ord(x):x};受理点</p>"),
    ),
    "notice body, an entity": (
        "正文",
        lambda clock, editor, x: notices.NoticeInput(
            title="维护通知",
            body_html=f"<p>系统&#{ord(x)};维护</p>",
            region="shenzhen",
            category="service",
            published_on=date(2026, 11, 20),
        ),
    ),
    "question": ("问题", lambda clock, editor, x: _ask(clock, f"电话1380{x}0138000")),
    "asker's name": ("称呼", lambda clock, editor, x: _ask(clock, name=f"王{x}先生")),
    "answer": (
        "答复",
        lambda clock, editor, x: questions.answer(editor, _ask(clock), f"请拨打{x}12345"),
    ),
    "FAQ category": (
        "分类",
        lambda clock, editor, x: questions.publish(
            editor, questions.answer(editor, _ask(clock), "请到受理点办理。"), f"续期{x}"
        ),
    ),
    "download title": ("名称", lambda clock, editor, x: _upload(editor, title=f"指引{x}")),
    "download version": ("版本", lambda clock, editor, x: _upload(editor, version=f"1{x}")),
    "download description": (
        "说明",
        lambda clock, editor, x: _upload(editor, description=f"适用于{x}网厅"),
    ),
}


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize(
    "char", [RLO, "\u200b", "\x00", "\ufffd"], ids=["rlo", "zwsp", "nul", "fffd"]
)
def test_every_typed_text_of_the_portal_refuses_an_invisible_character(
    clock,  # type: ignore[no-untyped-def]
    editor: User,
    name: str,
    char: str,
) -> None:
    """Entries, questions, answers and downloads took them all: an RLO in a visitor's question
    makes staff read another phone number; the FAQ and guides published them to everyone."""
    what, call = SERVICES[name]
    with pytest.raises(InvalidInput) as refused:
        call(clock, editor, char)
    assert refused.value.code == "text_chars"
    assert refused.value.message.startswith(f"{what}的第")
    assert not Entry.objects.exists() and not Download.objects.exists()
    assert all(char not in q.text + q.asker_name + q.answer for q in Question.objects.all())


def test_texts_of_several_lines_keep_their_line_breaks_and_tabs(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    body = "<p>第一步</p>\r\n\t<p>第二步</p>"
    assert _entry(body_html=body).body_html.startswith("<p>第一步</p>")
    question = _ask(clock, "证书怎么续期？\n\t需要带什么？")
    answered = questions.answer(editor, question, "第一行\n\t第二行")
    assert answered.answer == "第一行\n\t第二行"
    assert _upload(editor, description="第一行\n第二行").description == "第一行\n第二行"
    # a title is one line: its line breaks (U+2028 too) are one space, as they were
    assert _upload(editor, title="指引\u2028\n续期").title == "指引 续期"


def test_a_visitors_question_refused_on_the_page_keeps_what_was_typed(clock) -> None:  # type: ignore[no-untyped-def]
    """The ask form refuses the direction override in Chinese beside the form, the question
    and the name as typed (the character shown as the escape the browser keeps)."""
    client = Client(REMOTE_ADDR="203.0.113.41")
    page = client.get("/questions/").content.decode()
    stamp = re.search(r'name="stamp" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    clock.shift(timedelta(seconds=8))
    typed = f"请回电话1380{RLO}0138000"
    refused = client.post(
        "/questions/", {"text": typed, "name": "王先生", "stamp": stamp, "website": ""}
    )
    page = refused.content.decode()
    assert refused.status_code == 400 and 'id="ask-error"' in page
    assert "问题的第9个字符（U+202E）是文字方向控制符，不能使用，请删除后重新输入。" in page
    assert f">{typed}</textarea>" in page and 'value="王先生"' in page
    assert not Question.objects.exists()


def test_the_faq_category_an_answer_is_published_into_is_bounded(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    """It went to a 40-character column unchecked (on PostgreSQL an HTTP 500)."""
    answered = questions.answer(editor, _ask(clock), "请到受理点办理。")
    with pytest.raises(InvalidInput) as refused:
        questions.publish(editor, answered, "类" * 41)
    assert refused.value.code == "field_too_long" and not Entry.objects.exists()
    assert questions.publish(editor, answered, "  续期\t办理 ").category == "续期 办理"
