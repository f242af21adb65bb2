"""查看答复: the asker reads their own question with its number and 查询码 (shown once,
stored only as a keyed hash); a wrong code, another question's code or a guessed number are
one refusal; look-ups are rate limited per client and per number; nothing of the code reaches
the public FAQ or search."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.errors import NotFound, TooManyRequests
from certhall.portal import questions
from certhall.portal.models import Question

pytestmark = pytest.mark.django_db


def _ask(clock, text: str = "证书过期了怎么续期？", client: str = "203.0.113.20"):  # type: ignore[no-untyped-def]
    stamp = questions.form_stamp()
    clock.shift(timedelta(seconds=10))
    return questions.ask(text, stamp=stamp, trap="", client=client)


def _refused(number: str, code: str, client: str = "198.51.100.1") -> str:
    with pytest.raises(NotFound) as refused:
        questions.read_answer(number, code, client=client)
    return refused.value.message


def test_asking_shows_the_code_once_and_stores_only_its_hash(clock) -> None:  # type: ignore[no-untyped-def]
    visitor = Client(REMOTE_ADDR="203.0.113.21")
    page = visitor.get("/questions/").content.decode()
    stamp = re.search(r'name="stamp" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    clock.shift(timedelta(seconds=8))
    asked = visitor.post(
        "/questions/", {"text": "我的电话13800000000，证书怎么续期？", "stamp": stamp}
    )
    shown = visitor.get(asked["Location"])
    html = shown.content.decode()
    code = re.search(r'id="code-shown">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    question = Question.objects.get()
    assert re.fullmatch(f"[{questions.CODE_ALPHABET}]{{8}}", code) and "请保存" in html
    # the code in the fragment, which no browser sends: it reaches no server or proxy log
    assert f"/questions/answer/?number={question.number}#code={code}" in html
    assert f"code={code}" not in html.replace(f"#code={code}", "")
    assert shown["Referrer-Policy"] == "strict-origin" and "no-store" in shown["Cache-Control"]
    assert question.code_hash and code not in question.code_hash
    assert question.code_hash == questions.code_hash(question.number, code)
    again = visitor.get(asked["Location"]).content.decode()  # shown once
    assert question.number in again and code not in again and "code-shown" not in again
    opened = visitor.get(f"/questions/answer/?number={question.number}&code={code.lower()}")
    text = opened.content.decode()
    assert opened.status_code == 200 and "证书怎么续期" in text and "待答复" in text
    assert opened["Referrer-Policy"] == "strict-origin"
    assert not AuditEvent.objects.filter(object_type="question").exists()  # looking is not


def test_the_code_opens_its_question_and_no_other(clock) -> None:  # type: ignore[no-untyped-def]
    first, second = _ask(clock, "第一个问题内容"), _ask(clock, "第二个问题内容")
    assert first.code != second.code
    assert questions.read_answer(first.question.number, first.code, client="c1") == first.question
    assert questions.read_answer(second.question.number, f" {second.code.lower()} ", client="c1")
    # typed with a Chinese input method's full-width characters: the same number and code
    wide = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})
    number, code = first.question.number.translate(wide), first.code.translate(wide)
    assert questions.read_answer(number, code, client="c1") == first.question
    wrong_code = _refused(first.question.number, "23456789")
    other_code = _refused(first.question.number, second.code)
    guessed = _refused("ZX000777", first.code)
    malformed = _refused("第一个", first.code)
    assert wrong_code == other_code == guessed == malformed
    assert "编号或查询码不正确" in wrong_code
    client = Client(REMOTE_ADDR="198.51.100.2")
    pages = [
        client.post("/questions/answer/", {"number": n, "code": c})
        for n, c in [
            (first.question.number, "23456789"),
            (first.question.number, second.code),
            ("ZX000777", first.code),
        ]
    ]
    assert {p.status_code for p in pages} == {404}
    token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    bodies = {
        token.sub("", p.content.decode().replace("ZX000777", first.question.number)) for p in pages
    }
    assert len(bodies) == 1 and "第一个问题内容" not in bodies.pop()


def test_seeded_questions_have_no_code(seeded: User) -> None:
    question = Question.objects.filter(seed_key__isnull=False).first()
    assert question is not None and question.code_hash is None
    _refused(question.number, "")
    _refused(question.number, "23456789")


def test_an_answer_is_read_by_its_asker_before_it_is_published(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    asked = _ask(clock, "深圳的证书能在江门用吗？")
    questions.answer(editor, asked.question, "可以，证书全省通用，答复仅供提问人查看。")
    link = f"/questions/answer/?number={asked.question.number}&code={asked.code}"
    page = Client(REMOTE_ADDR="198.51.100.3").get(link).content.decode()
    assert "已答复" in page and "答复仅供提问人查看" in page
    for public in ("/faq/", "/questions/", "/search/?q=江门"):
        html = Client().get(public).content.decode()
        assert "答复仅供提问人查看" not in html
    questions.publish(editor, Question.objects.get(pk=asked.question.pk))
    assert "已公开" in Client(REMOTE_ADDR="198.51.100.3").get(link).content.decode()
    questions.close(editor, questions.unpublish(editor, Question.objects.get(pk=asked.question.pk)))
    closed = Client(REMOTE_ADDR="198.51.100.3").get(link).content.decode()
    assert "已关闭" in closed and "答复仅供提问人查看" in closed


def test_no_code_or_hash_in_the_public_faq_or_search(clock, editor: User) -> None:  # type: ignore[no-untyped-def]
    asked = _ask(clock, "证书助手在苹果电脑上能用吗？")
    questions.answer(editor, asked.question, "证书助手目前只支持Windows电脑。")
    questions.publish(editor, Question.objects.get(pk=asked.question.pk))
    stored = Question.objects.get(pk=asked.question.pk).code_hash
    assert stored
    for public in ("/faq/", "/questions/", "/search/?q=证书助手"):
        html = Client().get(public).content.decode()
        assert "只支持Windows" in html or public == "/questions/"
        assert asked.code not in html and stored not in html and stored[:16] not in html


def test_look_ups_are_rate_limited_per_client_and_per_number(clock) -> None:  # type: ignore[no-untyped-def]
    asked = _ask(clock)
    number = asked.question.number
    for n in range(questions.CODE_LIMIT.max_events):
        _refused(number, "23456789", client=f"192.0.2.{n}")
    with pytest.raises(TooManyRequests):  # many addresses, still five guesses at one number
        questions.read_answer(number, asked.code, client="192.0.2.99")
    other = _ask(clock, "另一个问题内容")  # other numbers are not held up
    assert questions.read_answer(other.question.number, other.code, client="192.0.2.99")
    visitor = Client(REMOTE_ADDR="198.51.100.9")
    for n in range(questions.LOOKUP_LIMIT.max_events):  # one address, many numbers
        guess = visitor.post("/questions/answer/", {"number": f"ZX{900 + n}", "code": "23456789"})
        assert guess.status_code == 404
    limited = visitor.post("/questions/answer/", {"number": number, "code": asked.code})
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    assert "查看答复的尝试过于频繁" in limited.content.decode()
    clock.shift(timedelta(minutes=16))
    opened = visitor.post("/questions/answer/", {"number": number, "code": asked.code})
    assert opened.status_code == 200 and "证书过期了怎么续期" in opened.content.decode()


def test_the_link_without_its_code_opens_the_form_and_counts_no_look_up(clock) -> None:  # type: ignore[no-untyped-def]
    """What the server sees of the private link (``?number=ZX…``; answer.js posts the code
    from the fragment): the form with the number filled in, not a refused look-up."""
    asked = _ask(clock)
    number = asked.question.number
    visitor = Client(REMOTE_ADDR="198.51.100.10")
    for _ in range(questions.LOOKUP_LIMIT.max_events + 1):
        page = visitor.get(f"/questions/answer/?number={number}")
        html = page.content.decode()
        assert page.status_code == 200 and f'value="{number}"' in html
        assert "answer-error" not in html and "portal/answer.js" in html
    opened = visitor.post("/questions/answer/", {"number": number, "code": asked.code})
    assert opened.status_code == 200 and "证书过期了怎么续期" in opened.content.decode()


def test_a_right_code_gives_its_slot_back(clock) -> None:  # type: ignore[no-untyped-def]
    asked = _ask(clock)
    for n in range(questions.CODE_LIMIT.max_events + 3):
        questions.read_answer(asked.question.number, asked.code, client=f"192.0.2.{n}")
    _refused(asked.question.number, "23456789")  # not yet too many: rights did not count


def test_submitted_is_shown_only_for_the_question_this_session_asked(clock) -> None:  # type: ignore[no-untyped-def]
    """?asked= with any well-formed ZX number showed 您的问题已提交 as if just asked."""
    other = _ask(clock, "别人的问题内容").question.number
    stranger = Client(REMOTE_ADDR="203.0.113.22")
    for number in (other, "ZX000777"):
        page = stranger.get(f"/questions/?asked={number}").content.decode()
        assert "已提交" not in page and number not in page
    visitor = Client(REMOTE_ADDR="203.0.113.23")
    stamp = re.search(  # type: ignore[union-attr]
        r'name="stamp" value="([^"]+)"', visitor.get("/questions/").content.decode()
    ).group(1)
    clock.shift(timedelta(seconds=8))
    mine = visitor.post("/questions/", {"text": "证书助手怎么安装？", "stamp": stamp})
    assert "已提交" in visitor.get(mine["Location"]).content.decode()
    reload = visitor.get(mine["Location"]).content.decode()
    assert "已提交" in reload and "code-shown" not in reload
    page = visitor.get(f"/questions/?asked={other}").content.decode()
    assert "已提交" not in page and other not in page
