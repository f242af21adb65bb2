"""Password and SMS-code login: who may log in, one message for every failure, and the limits
per account and per client address."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from certhall.accounts.errors import PASSWORD_LOGIN_FAILED, SMS_LOGIN_FAILED
from certhall.accounts.login import login_with_code, login_with_password
from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import CerthallError, InvalidInput, TooManyRequests
from certhall.messages.common import CONTACT_US
from tests.accounts.conftest import CLIENT, OTHER_PHONE, PASSWORD, PHONE, Clock

pytestmark = pytest.mark.django_db


def refusal(call: Callable[[], object]) -> CerthallError:
    with pytest.raises(CerthallError) as refused:
        call()
    return refused.value


def test_password_login_by_phone_or_login_name(registered: User) -> None:
    assert login_with_password(PHONE, PASSWORD, client=CLIENT) == registered
    assert login_with_password("138 0013 8000", PASSWORD, client=CLIENT) == registered
    event = AuditEvent.objects.filter(action="accounts.login", result="ok").last()
    assert event is not None and event.actor_id == registered.pk
    assert event.after == {"method": "password", "client": CLIENT}


def test_staff_log_in_by_login_name(make_user) -> None:  # type: ignore[no-untyped-def]
    clerk = make_user(Role.CLERK)
    clerk.set_password(PASSWORD)
    clerk.save()
    assert login_with_password(clerk.username, PASSWORD, client=CLIENT) == clerk


def test_every_password_failure_reads_the_same(registered: User, make_user, admin) -> None:  # type: ignore[no-untyped-def]
    disabled = make_user(Role.APPLICANT, is_active=False)
    disabled.set_password(PASSWORD)
    disabled.save()
    certificate_only = make_user(Role.APPLICANT)  # unusable password, like a certificate login's
    certificate_only.set_unusable_password()
    certificate_only.save()
    failures = [
        refusal(lambda: login_with_password(OTHER_PHONE, PASSWORD, client=CLIENT)),  # unknown
        refusal(lambda: login_with_password("nobody", PASSWORD, client=CLIENT)),  # unknown
        refusal(lambda: login_with_password(PHONE, PASSWORD + "x", client=CLIENT)),  # wrong
        refusal(lambda: login_with_password(disabled.username, PASSWORD + "x", client=CLIENT)),
        refusal(lambda: login_with_password(certificate_only.username, "x" * 9, client=CLIENT)),
        refusal(lambda: login_with_password(admin.username, "anything1", client=CLIENT)),  # system
    ]
    assert {(f.code, f.http_status, f.message) for f in failures} == {
        ("login_failed", 403, PASSWORD_LOGIN_FAILED)
    }
    refused = AuditEvent.objects.filter(action="accounts.login", result="refused").order_by("seq")
    assert [e.after["reason"] for e in refused] == [
        "unknown_account",
        "unknown_account",
        "wrong_password",
        "wrong_password",  # a disabled account's wrong password says nothing of it
        "wrong_password",
        "wrong_password",
    ]
    # the reason is the audit log's alone: the words are the one message, as the person read it
    assert {(e.after["error"], e.after["message"], e.after["method"]) for e in refused} == {
        ("login_failed", PASSWORD_LOGIN_FAILED, "password")
    }
    assert refused[2].object_id == "138****8000" and refused[2].after["client"] == CLIENT
    for event in AuditEvent.objects.filter(action="accounts.login"):
        assert PASSWORD not in str(event.after)


def test_empty_fields(registered: User) -> None:
    with pytest.raises(InvalidInput, match="请输入账号和密码"):
        login_with_password("", PASSWORD, client=CLIENT)
    with pytest.raises(InvalidInput, match="请输入账号和密码"):
        login_with_password(PHONE, "", client=CLIENT)


def test_five_failures_lock_the_account_for_fifteen_minutes(clock: Clock, registered: User) -> None:
    for _ in range(5):
        with pytest.raises(CerthallError, match="账号或密码不正确"):
            login_with_password(PHONE, "wrong-password", client=CLIENT)
        clock.advance(10)
    # the right password is refused too while the account is limited
    refused = refusal(lambda: login_with_password(PHONE, PASSWORD, client="198.51.100.1"))
    assert isinstance(refused, TooManyRequests)
    assert refused.http_status == 429
    assert refused.message == "该账号登录失败次数过多，已暂停登录，请15分钟后再试。"
    # an unknown account is limited exactly the same way (the limit tells nothing)
    for _ in range(5):
        refusal(lambda: login_with_password(OTHER_PHONE, "wrong-password", client=CLIENT))
    unknown = refusal(lambda: login_with_password(OTHER_PHONE, PASSWORD, client="198.51.100.1"))
    assert unknown.message == refused.message
    assert isinstance(unknown, TooManyRequests)
    # the first failure leaves the window 15 minutes after it happened
    clock.advance(900 - 50)
    assert login_with_password(PHONE, PASSWORD, client=CLIENT) == registered
    limited = AuditEvent.objects.filter(action="accounts.login", after__error="rate_limited")
    assert limited.count() == 2  # once per account and window, not per refused request
    assert {(e.object_id, e.after["limit"]) for e in limited} == {
        ("138****8000", "login_fail_account"),
        ("139****9000", "login_fail_account"),
    }


def test_successes_do_not_count(clock: Clock, registered: User) -> None:
    for _ in range(10):
        login_with_password(PHONE, PASSWORD, client=CLIENT)
    for _ in range(4):
        refusal(lambda: login_with_password(PHONE, "wrong-password", client=CLIENT))
    assert login_with_password(PHONE, PASSWORD, client=CLIENT) == registered


def test_twenty_failures_per_client_address(clock: Clock, registered: User) -> None:
    for n in range(20):
        refusal(lambda n=n: login_with_password(f"user{n}", "wrong-password", client=CLIENT))  # type: ignore[misc]
    refused = refusal(lambda: login_with_password(PHONE, PASSWORD, client=CLIENT))
    assert isinstance(refused, TooManyRequests)
    assert "您的网络地址登录失败次数过多" in refused.message
    assert login_with_password(PHONE, PASSWORD, client="198.51.100.1") == registered


# --- SMS code login -------------------------------------------------------------------------


def test_sms_login(clock: Clock, registered: User, send_code: Callable[..., str]) -> None:
    code = send_code(purpose="login")
    assert login_with_code("138-0013-8000", code, client=CLIENT) == registered
    event = AuditEvent.objects.filter(action="accounts.login", result="ok").last()
    assert event is not None and event.after["method"] == "sms"


def test_sms_login_failures_read_the_same(
    clock: Clock, registered: User, send_code: Callable[..., str], make_user
) -> None:  # type: ignore[no-untyped-def]
    code = send_code(purpose="login")
    wrong = "000000" if code != "000000" else "111111"
    failures = [
        refusal(lambda: login_with_code(PHONE, wrong, client=CLIENT)),  # wrong
        refusal(lambda: login_with_code(OTHER_PHONE, code, client=CLIENT)),  # unknown phone
    ]
    register_code = send_code(OTHER_PHONE, purpose="register")
    failures.append(  # a registration code does not log in
        refusal(lambda: login_with_code(OTHER_PHONE, register_code, client=CLIENT))
    )
    login_with_code(PHONE, code, client=CLIENT)
    failures.append(refusal(lambda: login_with_code(PHONE, code, client=CLIENT)))  # reused
    clock.advance(60)
    code = send_code(purpose="login")
    clock.advance(300)
    failures.append(refusal(lambda: login_with_code(PHONE, code, client=CLIENT)))  # expired
    assert {(f.code, f.message) for f in failures} == {("login_failed", SMS_LOGIN_FAILED)}
    reasons = [
        e.after["reason"]
        for e in AuditEvent.objects.filter(action="accounts.login", result="refused").order_by(
            "seq"
        )
    ]
    assert reasons == [
        "code_wrong",
        "unknown_account",
        "unknown_account",
        "code_used",
        "code_expired",
    ]


def test_a_disabled_account_that_proved_itself_is_told_whom_to_ask(
    registered: User, make_user
) -> None:  # type: ignore[no-untyped-def]
    """Its right password refused with 账号或密码不正确 (12-06), the customer tried again and
    again with nowhere to go: now told the account is disabled and to contact the CA (联系我们);
    a clerk, their administrator. The wrong password still says only login_failed."""
    User.objects.filter(pk=registered.pk).update(is_active=False)
    told = refusal(lambda: login_with_password(PHONE, PASSWORD, client=CLIENT))
    assert (told.code, told.http_status) == ("account_disabled", 403)
    assert "已停用" in told.message and CONTACT_US in told.message
    assert refusal(lambda: login_with_password(PHONE, "wrong-one1", client=CLIENT)).message == (
        PASSWORD_LOGIN_FAILED
    )
    clerk = make_user(Role.CLERK, is_active=False)
    clerk.set_password(PASSWORD)
    clerk.save()
    staff = refusal(lambda: login_with_password(clerk.username, PASSWORD, client=CLIENT))
    assert staff.code == "account_disabled" and "系统管理员" in staff.message
    assert CONTACT_US not in staff.message
    refused = AuditEvent.objects.filter(action="accounts.login", result="refused").order_by("seq")
    assert [e.after["reason"] for e in refused] == [
        "account_disabled",
        "wrong_password",
        "account_disabled",
    ]


def test_sms_login_of_a_disabled_account(
    clock: Clock, registered: User, send_code: Callable[..., str]
) -> None:
    """No login code came to a disabled account's phone (12-06): whatever the customer typed
    was 验证码不正确. The code comes now, and the login it opens says the account is disabled."""
    registered.is_active = False
    registered.save()
    code = send_code(purpose="login")
    wrong = "000000" if code != "000000" else "111111"
    assert refusal(lambda: login_with_code(PHONE, wrong, client=CLIENT)).message == (
        SMS_LOGIN_FAILED
    )
    told = refusal(lambda: login_with_code(PHONE, code, client=CLIENT))
    assert told.code == "account_disabled" and CONTACT_US in told.message


def test_sms_login_guesses_are_limited(
    clock: Clock, registered: User, send_code: Callable[..., str]
) -> None:
    for guesses in (3, 2):  # a code dies after three wrong: the next two on a new code
        clock.advance(60)
        code = send_code(purpose="login")
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(guesses):
            with pytest.raises(CerthallError) as failed:
                login_with_code(PHONE, wrong, client=CLIENT)
            assert failed.value.code == "login_failed"
    refused = refusal(lambda: login_with_code(PHONE, code, client=CLIENT))
    assert isinstance(refused, TooManyRequests) and refused.scope == "login_fail_account"
    # password and code failures count for the same account
    assert isinstance(
        refusal(lambda: login_with_password(PHONE, PASSWORD, client=CLIENT)), TooManyRequests
    )


def test_a_code_dies_after_three_wrong_guesses(
    clock: Clock, registered: User, send_code: Callable[..., str]
) -> None:
    """Until 12-07 a code was refused only by the phone's five failures in 15 minutes, shared
    with the password; now the code itself takes three wrong guesses, and then not even the
    right one: a new code (an SMS its owner sees) opens again."""
    code = send_code(purpose="login")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        assert refusal(lambda: login_with_code(PHONE, wrong, client=CLIENT)).code == (
            "login_failed"
        )
    dead = refusal(lambda: login_with_code(PHONE, code, client=CLIENT))
    assert isinstance(dead, TooManyRequests) and dead.scope == "code_fail_code"
    assert dead.http_status == 429 and "已失效，请重新获取验证码" in dead.message
    clock.advance(60)
    assert login_with_code(PHONE, send_code(purpose="login"), client=CLIENT) == registered


def test_wrong_codes_of_many_phones_meet_one_ceiling(
    clock: Clock,
    registered: User,
    send_code: Callable[..., str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A guesser with many phones and many addresses met only each phone's and each address's
    limit (docs/security.md, 12-07): 100 wrong codes in 15 minutes, whoever typed them, now
    stop every code check until the oldest leaves the window; the first refusal is audited
    once and logged for the operators."""
    code = send_code(purpose="login")
    for n in range(100):  # phones without an account, each from its own address
        with pytest.raises(CerthallError):
            login_with_code(f"1370000{n:04d}", "123456", client=f"198.51.100.{n}")
    clock.advance(60)
    with caplog.at_level("WARNING", logger="certhall.accounts.codes"):
        stopped = refusal(lambda: login_with_code(PHONE, code, client=CLIENT))
        again = refusal(lambda: login_with_code(PHONE, code, client=CLIENT))
    for refused in (stopped, again):
        assert isinstance(refused, TooManyRequests) and refused.scope == "code_fail_all"
        assert refused.retry_after == 840 and "14分钟" in refused.message
    assert [r.getMessage() for r in caplog.records] == [
        "SMS code checks: 100 wrong codes in 900 s, every check refused for 840 s"
    ]
    ceiling = AuditEvent.objects.filter(
        action="accounts.login", result="refused", after__limit="code_fail_all"
    )
    assert ceiling.count() == 1
    clock.advance(840)
    code = send_code(purpose="login")
    assert login_with_code(PHONE, code, client=CLIENT) == registered
