"""The portal's two state machines (``certhall.lifecycle`` tables).

Notices::

    draft --> published --> withdrawn --> published
                               +--------> draft

Questions::

    open --> answered --> published (in the FAQ) --> answered (taken out of the FAQ)
      |         |
      +---------+--> closed (spam, duplicate) --> open
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING

from django.db import models

from certhall.lifecycle import Lifecycle

if TYPE_CHECKING:
    from certhall.portal.models import Notice, Question


class NoticeState(models.TextChoices):
    DRAFT = "draft", "草稿"
    PUBLISHED = "published", "已发布"
    WITHDRAWN = "withdrawn", "已撤回"


class QuestionState(models.TextChoices):
    OPEN = "open", "待答复"
    ANSWERED = "answered", "已答复"
    PUBLISHED = "published", "已公开"
    CLOSED = "closed", "已关闭"


NOTICE_TRANSITIONS: dict[str, frozenset[str]] = {
    NoticeState.DRAFT: frozenset({NoticeState.PUBLISHED}),
    NoticeState.PUBLISHED: frozenset({NoticeState.WITHDRAWN}),
    NoticeState.WITHDRAWN: frozenset({NoticeState.PUBLISHED, NoticeState.DRAFT}),
}

QUESTION_TRANSITIONS: dict[str, frozenset[str]] = {
    QuestionState.OPEN: frozenset({QuestionState.ANSWERED, QuestionState.CLOSED}),
    QuestionState.ANSWERED: frozenset({QuestionState.PUBLISHED, QuestionState.CLOSED}),
    QuestionState.PUBLISHED: frozenset({QuestionState.ANSWERED}),
    QuestionState.CLOSED: frozenset({QuestionState.OPEN}),
}

NOTICES: Lifecycle[Notice] = Lifecycle(
    kind="notice",
    model="portal.Notice",
    states=NoticeState,
    table=NOTICE_TRANSITIONS,
    noun="公告",
    key=attrgetter("number"),
    refused="notice_state",
    changed="notice_changed",
    actions={
        NoticeState.PUBLISHED: "portal.notice.publish",
        NoticeState.WITHDRAWN: "portal.notice.withdraw",
        NoticeState.DRAFT: "portal.notice.redraft",
    },
    snapshot=lambda notice: notice.snapshot(),
    touch="updated_at",
)

QUESTIONS: Lifecycle[Question] = Lifecycle(
    kind="question",
    model="portal.Question",
    states=QuestionState,
    table=QUESTION_TRANSITIONS,
    noun="咨询",
    key=attrgetter("number"),
    refused="question_state",
    changed="question_changed",
    actions={
        QuestionState.ANSWERED: "portal.question.answer",
        QuestionState.PUBLISHED: "portal.question.publish",
        QuestionState.CLOSED: "portal.question.close",
        QuestionState.OPEN: "portal.question.reopen",
    },
    snapshot=lambda question: question.snapshot(),
    touch="updated_at",
)
