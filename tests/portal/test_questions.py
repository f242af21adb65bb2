"""咨询: asked without an account (rate limit, honeypot, signed form time), answered and
published into the FAQ by staff, searchable afterwards."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, InvalidInput, TooManyRequests
from certhall.portal import questions, search
from certhall.portal.models import Entry, Question
from certhall.portal.questions import ANSWER_MAX
from certhall.portal.states import QuestionState
from tests.support.refused import marked

pytestmark = pytest.mark.django_db


def _stamp(clock) -> str:  # type: ignore[no-untyped-def]
    stamp = questions.form_stamp()
    clock.shift(timedelta(seconds=10))
    return stamp


NONE_ANSWERED = "暂无公开答复的问题"


def test_a_visitor_asks_through_the_page(clock) -> None:  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR="203.0.113.7")
    page = client.get("/questions/").content.decode()
    stamp = re.search(r'name="stamp" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    clock.shift(timedelta(seconds=8))
    response = client.post(
        "/questions/", {"text": "深圳CA能和广州通用吗？", "stamp": stamp, "website": ""}
    )
    assert response.status_code == 303
    question = Question.objects.get()
    assert question.state == QuestionState.OPEN and question.asker_name == ""
    assert question.number in client.get(response["Location"]).content.decode()


def test_an_over_long_question_or_name_is_refused_beside_the_form(clock) -> None:  # type: ignore[no-untyped-def]
    """The question's bounds are the one bound (field_too_long, naming the field), the text and
    the name kept in the form."""
    client = Client(REMOTE_ADDR="203.0.113.11")
    long = client.post(
        "/questions/", {"text": "问" * 501, "name": "王先生", "stamp": _stamp(clock)}
    )
    assert long.status_code == 400 and "问题不能超过500个字" in long.content.decode()
    assert 'value="王先生"' in long.content.decode()
    name = client.post(
        "/questions/", {"text": "证书怎么续期？", "name": "王" * 41, "stamp": _stamp(clock)}
    )
    assert name.status_code == 400 and "称呼不能超过40个字" in name.content.decode()
    assert "证书怎么续期？" in name.content.decode()
    with pytest.raises(InvalidInput) as refused:
        questions.ask("问" * 501, stamp=_stamp(clock), trap="", client="203.0.113.12")
    assert refused.value.code == "field_too_long"
    assert not Question.objects.exists()


def test_honeypot_forged_or_hasty_forms_are_refused(clock) -> None:  # type: ignore[no-untyped-def]
    ok = {"client": "203.0.113.8", "name": ""}
    with pytest.raises(InvalidInput) as trap:
        questions.ask("这是一个问题", stamp=_stamp(clock), trap="http://spam", **ok)
    assert trap.value.code == "question_rejected"
    with pytest.raises(InvalidInput) as forged:
        questions.ask("这是一个问题", stamp="eyJ0IjoxfQ:forged", trap="", **ok)
    assert forged.value.code == "question_rejected"
    with pytest.raises(InvalidInput) as hasty:
        questions.ask("这是一个问题", stamp=questions.form_stamp(), trap="", **ok)
    assert hasty.value.code == "question_too_fast"
    old = questions.form_stamp()
    clock.shift(timedelta(hours=7))
    with pytest.raises(InvalidInput) as expired:
        questions.ask("这是一个问题", stamp=old, trap="", **ok)
    assert expired.value.code == "question_expired"
    assert not Question.objects.exists()


def test_rate_limited_per_address(clock) -> None:  # type: ignore[no-untyped-def]
    for n in range(5):
        questions.ask(f"第{n}个问题内容", stamp=_stamp(clock), trap="", client="203.0.113.9")
    with pytest.raises(TooManyRequests):
        questions.ask("第六个问题内容", stamp=_stamp(clock), trap="", client="203.0.113.9")
    questions.ask("别的地址的问题", stamp=_stamp(clock), trap="", client="203.0.113.10")
    response = Client(REMOTE_ADDR="203.0.113.9").post(
        "/questions/", {"text": "又一个问题内容", "stamp": _stamp(clock)}
    )
    assert response.status_code == 429 and response["Retry-After"]
    assert "提交咨询过于频繁" in response.content.decode()


def test_seeded_questions_are_open_and_private(seeded: User) -> None:
    assert Question.objects.filter(state=QuestionState.OPEN).count() == 20
    assert not search.search("32位").hits
    page = Client().get("/questions/").content.decode()
    assert "32位規格型號" not in page


def test_answer_publish_unpublish(seeded: User, editor: User) -> None:
    question = Question.objects.get(text="深圳試劑的32位規格型號代碼在哪查看")
    with pytest.raises(Conflict):
        questions.publish(editor, question)  # nothing to publish yet
    questions.answer(editor, question, "32位规格型号代码在医保局的耗材分类与代码数据库中查看。")
    entry = questions.publish(editor, Question.objects.get(pk=question.pk))
    assert Entry.objects.get(pk=entry.pk).published
    hits = search.search("32位").hits
    assert [h.url for h in hits] == [f"/faq/#entry-{entry.pk}"]
    assert "医保局" in Client().get("/faq/").content.decode()
    asking = Client().get("/questions/").content.decode().split('id="answered"')[1]
    assert "深圳試劑的32位規格型號代碼在哪查看" in asking and NONE_ANSWERED not in asking
    questions.unpublish(editor, Question.objects.get(pk=question.pk))
    assert not search.search("32位").hits
    # no published answer: 已答复的问题 says so (it was a heading over nothing, 12-07)
    asking = Client().get("/questions/").content.decode().split('id="answered"')[1]
    assert NONE_ANSWERED in asking and "32位" not in asking
    events = AuditEvent.objects.filter(object_type="question").order_by("seq")
    assert list(events.values_list("action", flat=True)) == [
        "portal.question.answer",
        "portal.question.publish",
        "portal.question.unpublish",
    ]


def test_staff_answer_and_publish_in_the_console(seeded: User, editor: User) -> None:
    question = Question.objects.get(text="深圳CA能和廣東廣州通用嗎")
    client = Client()
    client.force_login(editor)
    url = f"/console/portal/questions/{question.pk}/"
    assert "深圳CA能和廣東廣州通用嗎" in client.get("/console/portal/").content.decode()
    client.post(url, {"action": "answer", "answer": "<b>不通用</b>，请在深圳办理。"})
    client.post(url, {"action": "publish", "category": "受理点"})
    question.refresh_from_db()
    assert question.state == QuestionState.PUBLISHED
    faq = Client().get("/faq/").content.decode()
    assert "&lt;b&gt;不通用&lt;/b&gt;" in faq and "<b>不通用" not in faq
    assert search.search("广州通用").hits[0].title == "深圳CA能和廣東廣州通用嗎"


def test_a_refused_answer_is_kept_beside_the_form(seeded: User, editor: User) -> None:
    """A refused answer went back to the question with a notice: the answer typed was lost."""
    question = Question.objects.get(text="深圳CA能和廣東廣州通用嗎")
    client = Client()
    client.force_login(editor)
    url = f"/console/portal/questions/{question.pk}/"
    typed = "不通用，" + "请在深圳办理。" * ANSWER_MAX
    refused = client.post(url, {"action": "answer", "answer": typed})
    page = refused.content.decode()
    assert refused.status_code == 400 and 'id="form-error"' in page
    assert f"答复不能超过{ANSWER_MAX}个字" in page and f">{typed}</textarea>" in page
    question.refresh_from_db()
    assert question.state == QuestionState.OPEN and not question.answer


def test_a_refused_faq_category_is_kept_in_its_form_and_marked(seeded: User, editor: User) -> None:
    """公开到常见问题 went through ``act_and_return``: refused, a notice after a redirect, the
    category typed lost and nothing marked. It is the question again, the refusal inside the
    publish form (not the answer's), the category as typed, marked."""
    question = Question.objects.get(text="深圳CA能和廣東廣州通用嗎")
    client = Client()
    client.force_login(editor)
    url = f"/console/portal/questions/{question.pk}/"
    client.post(url, {"action": "answer", "answer": "不通用，请在深圳办理。"})
    refused = client.post(url, {"action": "publish", "category": "受理\u200b点"})
    page = refused.content.decode()
    assert refused.status_code == 400
    publish = page[
        page.index('value="publish"') : page.index("</form>", page.index('value="publish"'))
    ]
    assert 'id="form-error"' in publish and "分类" in publish
    assert 'value="受理\u200b点"' in publish
    assert page.count('id="form-error"') == 1 and ">不通用，请在深圳办理。</textarea>" in page
    assert marked(page) == ["category"]
    question.refresh_from_db()
    assert question.state == QuestionState.ANSWERED


def test_staff_unpublish_close_and_reopen_in_the_console(seeded: User, editor: User) -> None:
    question = Question.objects.get(text="深圳CA能和廣東廣州通用嗎")
    client = Client()
    client.force_login(editor)
    url = f"/console/portal/questions/{question.pk}/"
    client.post(url, {"action": "answer", "answer": "不通用，请在深圳办理。"})
    client.post(url, {"action": "publish", "category": "受理点"})
    for action, state, done in [
        ("unpublish", QuestionState.ANSWERED, "已从常见问题撤下。"),
        ("close", QuestionState.CLOSED, "已关闭。"),
        ("reopen", QuestionState.OPEN, "已重新打开。"),
    ]:
        page = client.post(url, {"action": action}, follow=True).content.decode()
        assert done in page
        question.refresh_from_db()
        assert question.state == state
    assert question.text not in [hit.title for hit in search.search("广州通用").hits]
    page = client.post(url, {"action": "nothing"}).content.decode()  # the page, unchanged
    question.refresh_from_db()
    assert question.state == QuestionState.OPEN and question.text in page
