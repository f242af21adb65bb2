"""SMS verification codes (短信验证码): 6 digits, valid 5 minutes, single use, rate limited.

A code is stored as a keyed hash (HMAC-SHA256 under the instance's secret key, with a random
salt per code); the plain code exists only in the text message in the SMS outbox. States::

    active --> used      (a registration or login took it)
       |
       +-----> void      (a newer code for the same phone and purpose replaced it)

An expired code stays ``active`` in the table but is refused: expiry is a matter of time, not a
transition. At most one code is active per phone and purpose (a partial unique index).

Sending is limited per phone (1 per 60 s, 5 per hour) and per client address (20 per hour);
a refused request sends nothing. The phone's limits count every purpose together: they protect
the phone from being flooded, whichever page asks (docs/accounts.md); a refusal says the wait,
which the pages count down on their button (:func:`sending_wait`). Checking is limited too
(:func:`reserve_guess`): a code dies after three wrong guesses, and 100 wrong codes of everyone
in 15 minutes stop every check (docs/security.md). A login code is only sent
to a phone that has an account, but the answer is the same either way (the page does not tell
who is registered).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils.crypto import salted_hmac

from certhall import clock, ratelimit
from certhall.accounts.models import EnterpriseAccount, SmsCode, User
from certhall.accounts.validation import mobile
from certhall.audit import services as audit
from certhall.errors import CerthallError, InvalidInput, TooManyRequests
from certhall.lifecycle import Lifecycle, transition
from certhall.messages import text
from certhall.notify.models import mask_phone
from certhall.pki.identity import fold_width

log = logging.getLogger(__name__)

State = SmsCode.State
Purpose = SmsCode.Purpose

CODE_DIGITS = 6
VALID_FOR = timedelta(minutes=5)

TRANSITIONS: dict[str, frozenset[str]] = {
    State.ACTIVE: frozenset({State.USED, State.VOID}),
    State.USED: frozenset(),
    State.VOID: frozenset(),
}

#: No audit of its own: the request and the use of a code are audited by their callers.
CODES: Lifecycle[SmsCode] = Lifecycle(
    kind="sms_code",
    model="accounts.SmsCode",
    states=State,
    table=TRANSITIONS,
    noun="验证码",
    key=lambda row: str(row.pk),
    refused="sms_code_transition",
    changed="sms_code_changed",
)

SEND_LIMITS_PHONE = (
    ratelimit.Limit("code_phone_min", 1, 60, "rate_limited_code_phone_min"),
    ratelimit.Limit("code_phone_hour", 5, 3600, "rate_limited_code_phone_hour"),
)
SEND_LIMIT_CLIENT = ratelimit.Limit("code_client_hour", 20, 3600, "rate_limited_code_client_hour")
SEND_SCOPES = frozenset(limit.scope for limit in (*SEND_LIMITS_PHONE, SEND_LIMIT_CLIENT))

#: Wrong guesses one code takes (per phone, purpose and code, over its life): after the third it
#: is refused even when right, until a new code is asked (a new SMS its owner sees).
GUESSES_PER_CODE = ratelimit.Limit(
    "code_fail_code", 3, int(VALID_FOR.total_seconds()), "rate_limited_code_guesses"
)
#: Wrong codes of every phone, purpose and address together: the ceiling a guesser with many
#: phones and many addresses meets (docs/security.md, "SMS codes guessed across phones").
GUESSES_ALL = ratelimit.Limit("code_fail_all", 100, 900, "rate_limited_code_all")
GUESS_SCOPES = frozenset({GUESSES_PER_CODE.scope, GUESSES_ALL.scope})

SMS_KIND = {
    Purpose.REGISTER: "register_code",
    Purpose.LOGIN: "login_code",
    Purpose.REFUND: "refund_code",
    Purpose.REFUND_COUNTER: "refund_counter_code",
}


def code_hash(phone: str, purpose: str, code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = salted_hmac(
        "certhall.accounts.sms_code", f"{purpose}\0{phone}\0{salt}\0{code}", algorithm="sha256"
    ).hexdigest()
    return f"{salt}${digest}"


def _matches(row: SmsCode, code: str) -> bool:
    salt, _, _digest = row.code_hash.partition("$")
    expected = code_hash(row.phone, row.purpose, code, salt)
    return hmac.compare_digest(expected, row.code_hash)


def recorder() -> User:
    """The actor that records anonymous steps (code requests, logins, registrations)."""
    from certhall.accounts.services import system_actor

    return system_actor("accounts")


def purpose_of(value: str) -> str:
    if value not in Purpose.values:
        raise InvalidInput(code="code_purpose")
    return value


@dataclass(frozen=True)
class CodeSent:
    """The answer to a code request: the same whether or not a message was really sent."""

    phone_masked: str
    expires_in: int
    resend_after: int

    @property
    def message(self) -> str:
        return text(
            "code_sent",
            phone=self.phone_masked,
            minutes=self.expires_in // 60,
            seconds=self.resend_after,
        )


def request_code(
    phone: str,
    purpose: str,
    *,
    client: str | None,
    now: datetime | None = None,
    actor: User | None = None,
) -> CodeSent:
    """Send a new code (voiding the previous one) within the rate limits; ``actor`` is who
    asked when someone signed in did (a counter's clerk), else the anonymous steps' recorder."""
    now = now or clock.now()
    number = mobile(phone)
    purpose = purpose_of(purpose)
    actor = actor or recorder()
    with audit.refusals_recorded(
        actor,
        "accounts.code.send",
        object_type="phone",
        object_id=mask_phone(number),
        refused=audit.Refused(after={"purpose": purpose, "client": client}),
    ):
        ratelimit.reserve(
            [(limit, number) for limit in SEND_LIMITS_PHONE]
            + [(SEND_LIMIT_CLIENT, ratelimit.client_key(client))],
            now=now,
        )
    with transaction.atomic():
        for old in SmsCode.objects.select_for_update().filter(
            phone=number, purpose=purpose, state=State.ACTIVE
        ):
            transition(None, CODES, old, State.VOID)
        # A login code only to a registered phone; a refund progress code only ever to the
        # phone an application registered (its caller looked the application up); a counter's
        # code to the phone its clerk typed (the representative reads it back at the desk).
        send = purpose != Purpose.LOGIN or _has_account(number)
        sms_id = None
        if send:
            code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
            SmsCode.objects.create(
                phone=number,
                purpose=purpose,
                code_hash=code_hash(number, purpose, code),
                client=client or "",
                created_at=now,
                expires_at=now + VALID_FOR,
            )
            sms_id = _send(number, purpose, code)
        audit.record(
            actor,
            "accounts.code.send",
            object_type="phone",
            object_id=mask_phone(number),
            after={"purpose": purpose, "client": client, "sent": send, "sms": sms_id},
        )
    return CodeSent(mask_phone(number), int(VALID_FOR.total_seconds()), 60)


def sending_wait(refused: CerthallError | None) -> int | None:
    """The seconds until a code may be asked again when ``refused`` is a sending limit's
    refusal (its ``Retry-After``: the pages count it down on their 获取验证码 button), else None
    (another refusal, or another limit's: a login's failures do not stop the sending)."""
    if isinstance(refused, TooManyRequests) and refused.scope in SEND_SCOPES:
        return refused.retry_after
    return None


def active_code(phone: str, purpose: str, now: datetime | None = None) -> bool:
    """Whether ``phone`` holds a code of ``purpose`` still good at ``now``."""
    now = now or clock.now()
    codes = SmsCode.objects.filter(phone=phone, purpose=purpose, state=State.ACTIVE)
    return codes.filter(expires_at__gt=now).exists()


def _has_account(phone: str) -> bool:
    """A registered phone, its account disabled too: the login its code opens tells it that it
    is disabled and whom to ask (``login.login_with_code``), where no code came before."""
    return EnterpriseAccount.objects.filter(phone=phone).exists()


def _send(phone: str, purpose: str, code: str) -> int:
    from certhall.notify.notifier import notify

    minutes = int(VALID_FOR.total_seconds() // 60)
    delivery = notify(
        SMS_KIND[Purpose(purpose)], phone=phone, context={"code": code, "minutes": minutes}
    )
    if delivery.sms is None:  # pragma: no cover - the code kinds always have an SMS text
        raise InvalidInput(code="sms_failed")
    return delivery.sms.pk


class CodeRefused(Exception):
    """The code given does not open anything; ``reason`` for the audit log and the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def message(self) -> str:
        """The words of catalogue code ``code_<reason>``."""
        return text(f"code_{self.reason}")


def guess_limits(phone: str, purpose: str) -> list[tuple[ratelimit.Limit, str]]:
    """The limits every check of a code reserves a slot of before :func:`take` (and releases
    when the code was right): its code's own wrong guesses and everyone's together.

    Counted by the one rate limiter, not on the code's row: a wrong code rolls back the
    transaction of the action it was to authorise, the count must not go with it."""
    active = (
        SmsCode.objects.filter(phone=phone, purpose=purpose, state=State.ACTIVE)
        .values_list("pk", flat=True)
        .first()
    )
    return [(GUESSES_PER_CODE, f"{purpose}\0{phone}\0{active or '-'}"), (GUESSES_ALL, "all")]


def reserve_guess(
    phone: str,
    purpose: str,
    others: Sequence[tuple[ratelimit.Limit, str]],
    *,
    now: datetime,
) -> ratelimit.Reservation:
    """Reserve a check of ``phone``'s code of ``purpose``: the caller's own limits (``others``,
    checked first: their words), then :func:`guess_limits`. The caller releases the reservation
    when the code was right. The ceiling's first refusal of its window is logged (the ops
    signal; its audit event is the caller's ``refusals_recorded``)."""
    try:
        return ratelimit.reserve([*others, *guess_limits(phone, purpose)], now=now)
    except TooManyRequests as refused:
        if refused.scope == GUESSES_ALL.scope and refused.first_refusal:
            log.warning(
                "SMS code checks: %d wrong codes in %d s, every check refused for %d s",
                GUESSES_ALL.max_events,
                GUESSES_ALL.window,
                refused.retry_after,
            )
        raise


def take(phone: str, purpose: str, code: str, now: datetime) -> SmsCode:
    """Use up the active code of ``phone`` for ``purpose`` if ``code`` is it and in time.

    Call inside the transaction of the action the code authorises: if the action rolls back,
    the code stays usable. Raises :class:`CodeRefused` (the caller turns it into its error).
    """
    given = "".join(fold_width(code).split())
    if len(given) != CODE_DIGITS or not given.isascii() or not given.isdigit():
        raise CodeRefused("wrong")
    row = (
        SmsCode.objects.select_for_update()
        .filter(phone=phone, purpose=purpose, state=State.ACTIVE)
        .first()
    )
    if row is None:
        used = SmsCode.objects.filter(phone=phone, purpose=purpose, state=State.USED)
        if any(_matches(r, given) for r in used.order_by("-created_at")[:3]):
            raise CodeRefused("used")
        raise CodeRefused("missing")
    if not _matches(row, given):
        raise CodeRefused("wrong")
    if now >= row.expires_at:
        raise CodeRefused("expired")
    transition(None, CODES, row, State.USED, fields={"used_at": now})
    return row
