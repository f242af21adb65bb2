"""SMS verification codes: hashed storage, 5-minute expiry, single use, the state table, and
the sending limits per phone and per client address."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import transaction

from certhall.accounts import codes
from certhall.accounts.models import SmsCode, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, InvalidInput, TooManyRequests
from certhall.lifecycle import transition
from certhall.notify.models import SmsMessage
from tests.accounts.conftest import CLIENT, OTHER_PHONE, PHONE, Clock, last_code

pytestmark = pytest.mark.django_db


def take(code: str, phone: str = PHONE, purpose: str = "register") -> SmsCode:
    with transaction.atomic():
        return codes.take(phone, purpose, code, codes.clock.now())


def test_a_code_is_six_digits_sent_by_sms_and_stored_hashed(clock: Clock) -> None:
    answer = codes.request_code("138 0013 8000", "register", client=CLIENT)
    assert answer.phone_masked == "138****8000"
    assert answer.expires_in == 300
    assert "5分钟内有效" in answer.message
    message = SmsMessage.objects.get()
    assert message.phone == PHONE and message.kind == "register_code"
    code = last_code()
    assert len(code) == 6 and code.isdigit()
    assert f"验证码为{code}，5分钟内有效" in message.text
    row = SmsCode.objects.get()
    assert row.state == "active" and row.purpose == "register"
    assert code not in row.code_hash  # only a keyed hash is stored
    salt, _, digest = row.code_hash.partition("$")
    assert len(salt) == 16 and len(digest) == 64
    assert (row.expires_at - row.created_at).total_seconds() == 300
    for event in AuditEvent.objects.all():  # the code is in no audit event either
        assert code not in str(event.after)


def test_the_same_code_hashes_differently_per_row() -> None:
    assert codes.code_hash(PHONE, "login", "123456") != codes.code_hash(PHONE, "login", "123456")
    salted = codes.code_hash(PHONE, "login", "123456", "00ff")
    assert salted == codes.code_hash(PHONE, "login", "123456", "00ff")
    assert salted != codes.code_hash(PHONE, "register", "123456", "00ff")
    assert salted != codes.code_hash(OTHER_PHONE, "login", "123456", "00ff")


def test_valid_until_exactly_five_minutes(clock: Clock, send_code: Callable[..., str]) -> None:
    code = send_code()
    clock.advance(299.999)
    assert take(code).state == "used"

    clock.advance(61)
    code = send_code()
    clock.advance(300)  # exactly 5 minutes: expired
    with pytest.raises(codes.CodeRefused) as refused:
        take(code)
    assert refused.value.reason == "expired"
    assert "已过期" in refused.value.message
    assert SmsCode.objects.get(state="active").used_at is None


def test_a_code_is_used_once(clock: Clock, send_code: Callable[..., str]) -> None:
    code = send_code()
    take(code)
    with pytest.raises(codes.CodeRefused) as refused:
        take(code)
    assert refused.value.reason == "used"


@pytest.mark.parametrize("given", ["000000", "12345", "1234567", "abcdef", "", "１２３４５"])
def test_wrong_codes(clock: Clock, send_code: Callable[..., str], given: str) -> None:
    code = send_code()
    if given == code:  # pragma: no cover - one chance in a million
        pytest.skip("the random code happens to be the wrong one")
    with pytest.raises(codes.CodeRefused) as refused:
        take(given)
    assert refused.value.reason == "wrong"
    assert take(code).state == "used"  # a wrong try does not use the code up


def test_a_code_is_bound_to_phone_and_purpose(clock: Clock, send_code: Callable[..., str]) -> None:
    code = send_code()
    with pytest.raises(codes.CodeRefused):
        take(code, phone=OTHER_PHONE)
    with pytest.raises(codes.CodeRefused):
        take(code, purpose="login")
    take(code)


def test_a_new_code_voids_the_previous_one(clock: Clock, send_code: Callable[..., str]) -> None:
    first = send_code()
    clock.advance(60)
    second = send_code()
    assert list(SmsCode.objects.order_by("pk").values_list("state", flat=True)) == [
        "void",
        "active",
    ]
    if first != second:
        with pytest.raises(codes.CodeRefused):
            take(first)
    take(second)


def test_a_code_stays_usable_when_the_action_rolls_back(
    clock: Clock, send_code: Callable[..., str]
) -> None:
    code = send_code()
    with pytest.raises(RuntimeError), transaction.atomic():
        codes.take(PHONE, "register", code, clock.now())
        raise RuntimeError("the registration failed after the code was checked")
    assert take(code).state == "used"


# --- the state table (every pair: tests/test_lifecycle.py) ---------------------------------


def test_a_stale_copy_cannot_use_a_code_twice(clock: Clock) -> None:
    row = SmsCode.objects.create(
        phone=PHONE,
        purpose="login",
        code_hash="x$y",
        created_at=clock.now(),
        expires_at=clock.now(),
    )
    stale = SmsCode.objects.get(pk=row.pk)
    with transaction.atomic():
        transition(None, codes.CODES, row, "used")
    with pytest.raises(Conflict), transaction.atomic():
        transition(None, codes.CODES, stale, "used")  # it still believes the code is active


# --- sending limits ---------------------------------------------------------------------------


def test_one_code_per_phone_per_minute(clock: Clock) -> None:
    codes.request_code(PHONE, "register", client=CLIENT)
    clock.advance(59)
    with pytest.raises(TooManyRequests) as refused:
        codes.request_code(PHONE, "register", client=CLIENT)
    assert refused.value.http_status == 429
    assert refused.value.message == (
        "获取验证码过于频繁：同一手机号每60秒只能获取一次（登录、注册、费用返还等各项业务合计），"
        "请1秒后再获取。"
    )
    assert refused.value.retry_after == 1
    assert SmsMessage.objects.count() == 1  # nothing sent
    clock.advance(1)
    codes.request_code(PHONE, "register", client=CLIENT)
    assert SmsMessage.objects.count() == 2


def test_the_phones_limit_counts_every_purpose(clock: Clock) -> None:
    """A counter's code, then a progress code to the same phone within the minute: refused, the
    wait said (the limit protects the phone, whichever page asks: docs/accounts.md), and what
    the pages count down (``sending_wait``); the phone holds only the counter's code."""
    codes.request_code(PHONE, "refund_counter", client=CLIENT)
    clock.advance(15)
    with pytest.raises(TooManyRequests) as refused:
        codes.request_code(PHONE, "refund", client=CLIENT)
    assert refused.value.retry_after == 45 and codes.sending_wait(refused.value) == 45
    assert "各项业务合计" in refused.value.message and "请45秒后再获取。" in refused.value.message
    assert codes.active_code(PHONE, "refund_counter")
    assert not codes.active_code(PHONE, "refund")
    assert SmsMessage.objects.count() == 1
    clock.advance(45)
    codes.request_code(PHONE, "refund", client=CLIENT)
    assert codes.active_code(PHONE, "refund")
    clock.advance(300)  # expired: no longer held
    assert not codes.active_code(PHONE, "refund")


def test_only_a_sending_limit_has_a_wait_to_count_down() -> None:
    sending = TooManyRequests(retry_after=30, scope="code_client_hour")
    login = TooManyRequests(retry_after=900, scope="login_account")
    assert codes.sending_wait(sending) == 30
    assert codes.sending_wait(login) is None
    assert codes.sending_wait(InvalidInput(code="phone_invalid")) is None
    assert codes.sending_wait(None) is None


def test_five_codes_per_phone_per_hour(clock: Clock) -> None:
    for _ in range(5):
        codes.request_code(PHONE, "register", client=CLIENT)
        clock.advance(60)
    with pytest.raises(TooManyRequests) as refused:
        codes.request_code(PHONE, "register", client=CLIENT)
    # five minutes after the first code: the first one leaves the window in 55 minutes
    assert refused.value.message == (
        "获取验证码过于频繁：同一手机号每小时最多获取5次（登录、注册、费用返还等各项业务合计），"
        "请55分钟后再获取。"
    )
    assert refused.value.retry_after == 3600 - 300
    assert SmsMessage.objects.count() == 5
    clock.advance(3600 - 300 - 1)
    with pytest.raises(TooManyRequests):
        codes.request_code(PHONE, "register", client=CLIENT)
    # refusals do not count: an hour after the first code, one more may go
    clock.advance(1)
    codes.request_code(PHONE, "register", client=CLIENT)
    assert SmsMessage.objects.count() == 6
    # another phone was never limited by this one
    codes.request_code(OTHER_PHONE, "register", client="198.51.100.1")


def test_twenty_codes_per_client_address_per_hour(clock: Clock) -> None:
    phones = [f"1370000{n:04d}" for n in range(21)]
    for phone in phones[:20]:
        codes.request_code(phone, "register", client=CLIENT)
    with pytest.raises(TooManyRequests) as refused:
        codes.request_code(phones[20], "register", client=CLIENT)
    assert "每小时最多20次" in refused.value.message
    assert not SmsMessage.objects.filter(phone=phones[20]).exists()
    assert SmsMessage.objects.count() == 20
    # the same phone from another address goes through
    codes.request_code(phones[20], "register", client="198.51.100.1")
    assert SmsMessage.objects.filter(phone=phones[20]).count() == 1


def test_other_scripts_digits_do_not_sidestep_the_phone_limit(clock: Clock) -> None:
    """Written in full-width or Arabic-Indic digits after the "13", the same phone was another
    key to the per-phone limit: a code a minute to it in every spelling (12-06). Full-width
    digits are the same phone now (folded), counted by its limit; other scripts' are refused."""
    codes.request_code(PHONE, "register", client=CLIENT)
    for spelling in ("13８００１３８０００", "1380013800０"):
        with pytest.raises(TooManyRequests):
            codes.request_code(spelling, "register", client="198.51.100.2")
    with pytest.raises(InvalidInput):
        codes.request_code("138٠٠١٣٨٠٠٠", "register", client="198.51.100.2")
    assert SmsMessage.objects.count() == 1


def test_a_code_typed_in_full_width_digits_is_the_code(
    clock: Clock, send_code: Callable[..., str]
) -> None:
    """A Chinese input method types the six digits full-width: the same code (it was 验证码不正确
    until 12-06); Arabic-Indic digits are wrong."""
    code = send_code()
    arabic = "".join("٠١٢٣٤٥٦٧٨٩"[int(c)] for c in code)
    with pytest.raises(codes.CodeRefused):
        take(arabic)
    assert take("".join(chr(ord(c) + 0xFEE0) for c in code)).state == "used"


def test_the_first_refusal_of_a_window_is_audited_once(clock: Clock) -> None:
    codes.request_code(PHONE, "register", client=CLIENT)
    for _ in range(3):
        with pytest.raises(TooManyRequests):
            codes.request_code(PHONE, "register", client=CLIENT)
    refused = AuditEvent.objects.filter(action="accounts.code.send", result="refused")
    assert refused.count() == 1
    assert refused.get().after["limit"] == "code_phone_min"
    assert refused.get().object_id == "138****8000"


def test_bad_phone_or_purpose_sends_nothing(clock: Clock) -> None:
    with pytest.raises(InvalidInput, match="11位"):
        codes.request_code("12345", "register", client=CLIENT)
    with pytest.raises(InvalidInput, match="用途"):
        codes.request_code(PHONE, "reset", client=CLIENT)
    assert not SmsMessage.objects.exists()


def test_a_login_code_goes_only_to_a_registered_phone(clock: Clock, registered: User) -> None:
    before = SmsMessage.objects.count()
    known = codes.request_code(PHONE, "login", client=CLIENT)
    unknown = codes.request_code(OTHER_PHONE, "login", client=CLIENT)
    # the same answer either way: the page does not tell who has an account
    assert known.message.replace("138****8000", "") == unknown.message.replace("139****9000", "")
    assert SmsMessage.objects.count() == before + 1
    assert SmsMessage.objects.order_by("-pk").first().kind == "login_code"  # type: ignore[union-attr]
    assert not SmsCode.objects.filter(phone=OTHER_PHONE).exists()
    sent = AuditEvent.objects.filter(action="accounts.code.send").order_by("seq")
    assert [e.after["sent"] for e in sent][-2:] == [True, False]
    # an unknown phone is limited all the same
    with pytest.raises(TooManyRequests):
        codes.request_code(OTHER_PHONE, "login", client=CLIENT)
