"""Invisible characters in what the hall's people type for others to read (docs/security.md,
"Invisible characters in typed text"): a reviewer's 审核意见, 退回说明 and each document's
退回原因 (the customer reads them, by SMS too), the reason of a cancellation or a refund (the
history). Names and the delivery address were already checked (``accounts.validation``), the
carrier is in test_issuance.py's end-to-end test (it needs an issued Ukey)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from certhall.accounts.models import Handler, User
from certhall.errors import InvalidInput
from certhall.hall import payment, review, services
from certhall.hall.models import Application
from certhall.hall.states import State
from tests.hall.conftest import FRIDAY, at, online_draft
from tests.hall.test_review import paid_online

pytestmark = pytest.mark.django_db

RLO = "\u202e"


def _return(reviewer: User, application: Application, note: str = "", reason: str = "") -> object:
    document = application.documents.first()
    assert document is not None
    reasons = {document.pk: f"不清晰{reason}"} if reason or not note else {}
    return review.return_application(reviewer, application.number, reasons=reasons, note=note)


#: (field as the refusal names it, the service called with the character in that field)
SERVICES: dict[str, tuple[str, Callable[..., object]]] = {
    "approval note": (
        "审核意见",
        lambda app, staff, x: review.approve(staff["reviewer"], app.number, note=f"已核{x}对"),
    ),
    "return note": ("退回说明", lambda app, staff, x: _return(staff["reviewer"], app, note=x)),
    "a document's return reason": (
        "退回原因",
        lambda app, staff, x: _return(staff["reviewer"], app, reason=x),
    ),
    "refund reason": (
        "退款原因",
        lambda app, staff, x: payment.refund_application(staff["clerk"], app.number, f"不办{x}了"),
    ),
}


@pytest.mark.parametrize("name", SERVICES)
@pytest.mark.parametrize("char", [RLO, "\u200b", "\x00"], ids=["rlo", "zwsp", "nul"])
def test_a_reviewers_and_a_clerks_texts_refuse_an_invisible_character(
    applicant: User, handler: Handler, reviewer: User, clerk: User, name: str, char: str
) -> None:
    """They were bounded only: an RLO in a 退回原因 reached the customer's page and SMS."""
    application = paid_online(applicant, handler, FRIDAY)
    what, call = SERVICES[name]
    with at(FRIDAY), pytest.raises(InvalidInput) as refused:
        call(application, {"reviewer": reviewer, "clerk": clerk}, char)
    assert refused.value.code == "text_chars"
    assert refused.value.message.startswith(f"{what}的第")
    assert Application.objects.get(pk=application.pk).state == State.PAID


def test_a_reviewers_note_keeps_its_lines(
    applicant: User, handler: Handler, reviewer: User
) -> None:
    application = paid_online(applicant, handler, FRIDAY)
    with at(FRIDAY):
        _return(reviewer, application, note="一、营业执照不清晰\n二、\t请重新上传", reason="")
    returned = Application.objects.get(pk=application.pk)
    assert returned.return_note == "一、营业执照不清晰\n二、\t请重新上传"


def test_a_cancellation_reason_refuses_an_invisible_character(
    applicant: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        with pytest.raises(InvalidInput) as refused:
            services.cancel(applicant, draft.number, f"不{RLO}办了")
        assert refused.value.message.startswith("原因的第2个字符（U+202E）")
        assert services.cancel(applicant, draft.number, "不办了").state == State.CANCELLED


def test_the_hall_api_answers_an_invisible_character_with_text_chars(
    applicant: User, handler: Handler
) -> None:
    """The JSON API's refusal is the one boundary's: {"error": "text_chars", "message": ...},
    naming the field refused (``fields``)."""
    web = Client()
    web.force_login(applicant)
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        answer = web.post(
            f"/api/hall/applications/{draft.number}/cancel",
            {"reason": f"不{RLO}办了"},
            content_type="application/json",
        )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "text_chars",
        "message": "原因的第2个字符（U+202E）是文字方向控制符，不能使用，请删除后重新输入。",
        "fields": ["reason"],
    }
    assert Application.objects.get(pk=draft.pk).state == State.DRAFT
