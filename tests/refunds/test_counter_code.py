"""The phone of a counter application is proven at the desk (12-07): a code sent to it by
``accounts.codes`` (purpose ``refund_counter``), read out by the person, taken by
``counter.enter_offline`` in the application's transaction. A wrong, expired, missing, used or
another phone's code is refused in Chinese, audited, and nothing is stored or sent."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from certhall.accounts.models import RateLimitEvent, SmsCode, User
from certhall.audit.models import AuditEvent
from certhall.errors import CerthallError, Forbidden, InvalidInput, TooManyRequests
from certhall.notify.models import SmsMessage
from certhall.refunds.counter import enter_offline, request_phone_code
from certhall.refunds.models import Programme, RefundApplication
from tests.refunds.conftest import PHONE, other_code, sent_code
from tests.refunds.test_applications import offline_entry, records  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("records")]

OTHER_PHONE = "13900139000"
KIND = "refund_counter_code"


def ask(clerk: User, programme: Programme, phone: str = PHONE) -> str:
    """The clerk presses 发送验证码; the code as the phone's holder reads it."""
    request_phone_code(clerk, programme.slug, phone, client="10.0.0.9")
    return sent_code(phone, KIND)


def refused(clerk: User, programme: Programme, code: str, phone: str = PHONE) -> CerthallError:
    told = SmsMessage.objects.filter(kind="refund_status")
    before = told.count()
    with pytest.raises(InvalidInput) as caught:
        enter_offline(clerk, programme.slug, offline_entry(phone=phone, code=code))
    assert not RefundApplication.objects.exists()
    assert told.count() == before  # nothing told
    return caught.value


def test_the_right_code_enters_the_application(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    clerk = actors["clerk"]
    code = ask(clerk, open_programme)
    sms = SmsMessage.objects.get(kind=KIND)
    assert sms.phone == PHONE and "费用返还线下申请" in sms.text and "5分钟内有效" in sms.text
    sent = AuditEvent.objects.get(action="accounts.code.send")
    assert sent.actor_id == clerk.pk  # the clerk who asked, not an anonymous step
    assert sent.after["purpose"] == "refund_counter" and sent.after["sent"] is True
    assert code not in str(sent.after)
    application = enter_offline(clerk, open_programme.slug, offline_entry(code=f" {code} "))
    assert application.phone == PHONE
    assert SmsCode.objects.get(purpose="refund_counter").state == "used"
    told = SmsMessage.objects.get(kind="refund_status")  # the number goes to the proven phone
    assert told.phone == PHONE and application.number in told.text


def test_a_wrong_code_is_refused_and_audited(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    clerk = actors["clerk"]
    code = ask(clerk, open_programme)
    error = refused(clerk, open_programme, other_code(code))
    assert error.code == "refund_counter_code"
    assert error.message == "登记手机号的验证码不正确，请核对或重新获取。"
    event = AuditEvent.objects.get(result="refused")
    assert (event.actor_id, event.action, event.object_id) == (
        clerk.pk,
        "refunds.application.submit",
        open_programme.slug,
    )
    assert event.after["error"] == "refund_counter_code"
    # the right one still works: a refusal takes nothing
    assert enter_offline(clerk, open_programme.slug, offline_entry(code=code)).phone == PHONE


def test_an_expired_code_is_refused(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    code = ask(actors["clerk"], open_programme)
    frozen.shift(timedelta(minutes=5))
    error = refused(actors["clerk"], open_programme, code)
    assert error.message == "登记手机号的验证码已过期（有效期5分钟），请重新获取。"


def test_a_missing_code_is_refused_before_anything(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    error = refused(actors["clerk"], open_programme, "  ")
    assert error.code == "refund_counter_code_empty"
    assert "发送验证码" in error.message
    assert not RateLimitEvent.objects.filter(scope="refund_counter_code").exists()  # no guess
    # a code typed but none ever sent to this phone
    assert refused(actors["clerk"], open_programme, "123456").message == (
        "登记手机号的验证码不正确，请核对或重新获取。"
    )


def test_a_code_sent_to_another_phone_does_not_prove_this_one(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    """The clerk mistyped the phone: the representative's phone got no code, and the code the
    typed phone got (a stranger's) is not read out at the desk; the other phone's does not
    fit."""
    clerk = actors["clerk"]
    theirs = ask(clerk, open_programme, OTHER_PHONE)
    refused(clerk, open_programme, theirs, phone=PHONE)
    ask(clerk, open_programme)  # the typed phone's own code is another
    assert SmsCode.objects.get(phone=OTHER_PHONE).state == "active"
    # nor is a progress query's code for the same phone a counter's
    assert not SmsCode.objects.filter(phone=PHONE, purpose="refund").exists()


def test_a_code_is_used_once(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    clerk = actors["clerk"]
    code = ask(clerk, open_programme)
    first = enter_offline(clerk, open_programme.slug, offline_entry(code=code))
    first.delete()  # the same enterprise entered again (no "already applied" in the way)
    error = refused(clerk, open_programme, code)
    assert error.message == "登记手机号的验证码已使用过，请重新获取。"


def test_wrong_codes_are_limited_per_phone(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    clerk = actors["clerk"]
    for guesses in (3, 2):  # a code dies after three wrong (codes.GUESSES_PER_CODE): a new one
        frozen.shift(timedelta(seconds=60))
        code = ask(clerk, open_programme)
        for _ in range(guesses):
            refused(clerk, open_programme, other_code(code))
    with pytest.raises(TooManyRequests) as caught:
        enter_offline(clerk, open_programme.slug, offline_entry(code=code))
    assert "该手机号的验证码错误次数过多" in caught.value.message
    frozen.shift(timedelta(minutes=15))
    code = ask(clerk, open_programme)  # the old one expired meanwhile
    assert enter_offline(clerk, open_programme.slug, offline_entry(code=code)).phone == PHONE


def test_a_refusal_not_about_the_code_keeps_it_and_does_not_count(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    clerk = actors["clerk"]
    code = ask(clerk, open_programme)
    with pytest.raises(InvalidInput):
        enter_offline(clerk, open_programme.slug, offline_entry(code=code, signed=frozenset()))
    assert not RateLimitEvent.objects.filter(scope="refund_counter_code").exists()
    assert enter_offline(clerk, open_programme.slug, offline_entry(code=code)).phone == PHONE


def test_only_a_participating_counter_sends_the_code(
    actors: dict[str, User], open_programme: Programme, frozen: time_machine.Coordinates
) -> None:
    for actor in (actors["officer"], actors["applicant"], actors["reviewer"]):
        with pytest.raises(Forbidden):
            request_phone_code(actor, open_programme.slug, PHONE, client=None)
    assert not SmsMessage.objects.exists()
    assert AuditEvent.objects.filter(action="refunds.counter.code", result="refused").count() == 3
