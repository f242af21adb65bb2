"""咨询: anyone asks without an account; staff answer; an answer can go into the FAQ.

Against abuse, with no third-party service:

* **rate limit** per client address (``certhall.ratelimit``): 5 questions an hour, 20 a day;
* **honeypot**: the form has a field people never see (``website``); a filled one is refused;
* **signed form time**: the form carries the moment it was served, signed with the instance's
  secret (``django.core.signing``, salted for this form). A question sent less than
  :data:`MIN_SECONDS` after the form was served, or with a missing or forged stamp, is refused;
  one older than :data:`MAX_AGE` asks for a reload. Bots that post straight to the URL have no
  valid stamp; bots that fetch the form first must wait, which the rate limit then caps.

Questions are private until staff publish an answer: visitors may write their phone number in
the text, and unanswered questions help nobody.

**Reading one's own answer** (查看答复): asking hands out, once, a random 查询码 of
:data:`CODE_LENGTH` characters from an alphabet without look-alikes (``secrets``; about 40 bits).
Only its keyed hash is stored (``salted_hmac`` with the instance's secret, bound to the
question's number), compared in constant time. The number is sequential and so no secret:
number + code open the question, its state and its answer once answered (published or not).
A number that does not exist, a question without a code (the seed's) and a wrong code are one
refusal. Look-ups are limited like the refund progress query: per client address (10 a
minute, every look-up counts) and per number (5 wrong codes in 15 minutes, whether or not the
number exists, a right one gives its slot back). Reading is not audited, as asking is not.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.db import transaction
from django.db.models import QuerySet
from django.utils.crypto import constant_time_compare, salted_hmac

from certhall import clock, ratelimit
from certhall.accounts.models import User
from certhall.errors import InvalidInput, NotFound, about
from certhall.lifecycle import transition
from certhall.pki import identity
from certhall.portal import entries, sanitize
from certhall.portal.access import require_editor, save_edit
from certhall.portal.models import Entry, EntryKind, Question
from certhall.portal.states import QUESTIONS, QuestionState

MIN_LENGTH = 5
MAX_LENGTH = 500
NAME_MAX = 40
ANSWER_MAX = 5000
MIN_SECONDS = 3
MAX_AGE = timedelta(hours=6)
SALT = "certhall.portal.ask"
#: The FAQ category of answers published from questions (staff may move them later).
FAQ_CATEGORY = "访客咨询"

ASK_LIMITS = (
    ratelimit.Limit("portal.ask.hour", 5, 3600, "rate_limited_portal_ask"),
    ratelimit.Limit("portal.ask.day", 20, 86400, "rate_limited_portal_ask"),
)


#: The 查询码: no 0/O, 1/I/L (read aloud or copied from a screen without doubt).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
LOOKUP_LIMIT = ratelimit.Limit("portal.answer", 10, 60, "rate_limited_portal_answer")
CODE_LIMIT = ratelimit.Limit("portal.answer.code", 5, 900, "rate_limited_portal_answer")


@dataclass(frozen=True)
class Asked:
    """A question just asked, and its 查询码 (shown to the asker once, stored only hashed)."""

    question: Question
    code: str


def form_stamp() -> str:
    """The signed moment the ask form was served."""
    return signing.dumps({"t": int(clock.now().timestamp())}, salt=SALT, compress=False)


def _check_stamp(stamp: str) -> None:
    try:
        served = int(signing.loads(stamp, salt=SALT)["t"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise InvalidInput(code="question_rejected") from None
    age = clock.now().timestamp() - served
    if age < MIN_SECONDS:
        raise InvalidInput(code="question_too_fast")
    if age > MAX_AGE.total_seconds():
        raise InvalidInput(code="question_expired")


def ask(text: str, *, name: str = "", stamp: str, trap: str, client: str) -> Asked:
    """Record a visitor's question. ``client`` is ``ratelimit.client_key`` of the address."""
    text = text.strip()
    name = " ".join(name.split())
    if trap:
        raise InvalidInput(code="question_rejected")
    _check_stamp(stamp)
    if len(text) < MIN_LENGTH:
        raise InvalidInput(code="question_too_short", limit=MIN_LENGTH)
    identity.visible_text(text, MAX_LENGTH, "问题", lines=True)
    identity.visible_text(name, NAME_MAX, "称呼")
    ratelimit.reserve([(limit, client) for limit in ASK_LIMITS])
    now = clock.now()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    with transaction.atomic():
        question = Question.objects.create(
            text=text, asker_name=name, created_at=now, updated_at=now
        )
        question.code_hash = code_hash(question.number, code)
        question.save(update_fields=["code_hash"])
    return Asked(question, code)


def code_hash(number: str, code: str) -> str:
    """The stored form of a 查询码: keyed with the instance's secret, bound to its question."""
    return salted_hmac(
        "certhall.portal.question-code", f"{number}\0{code}", algorithm="sha256"
    ).hexdigest()


def _canonical_number(number: str) -> str | None:
    """``ZX000123`` from ``zx000123``, ``ZX123`` or ``123``; None for anything else."""
    digits = identity.fold_width(number).strip().upper().removeprefix("ZX")
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return None
    return f"ZX{int(digits):06d}"


def read_answer(number: str, code: str, *, client: str) -> Question:
    """The asker's own question, given its number and 查询码 (``client``: the client key)."""
    ratelimit.check(LOOKUP_LIMIT, client)
    canonical = _canonical_number(number)
    guess = ratelimit.reserve([(CODE_LIMIT, canonical or "malformed")])
    given = code_hash(canonical or "", "".join(identity.fold_width(code).split()).upper())
    question = None
    if canonical is not None:
        question = Question.objects.filter(pk=int(canonical[2:])).first()
    if question is None or not question.code_hash:
        constant_time_compare(given, given)  # the same work as a wrong code
        raise NotFound(code="question_lookup_refused")
    if not constant_time_compare(given, question.code_hash):
        raise NotFound(code="question_lookup_refused")
    ratelimit.release(guess)
    return question


def create_seeded(text: str, seed_key: str) -> Question:
    now = clock.now()
    question, _ = Question.objects.get_or_create(
        seed_key=seed_key, defaults={"text": text, "created_at": now, "updated_at": now}
    )
    return question


# --- staff --------------------------------------------------------------------------------


def queue(actor: User, state: str = "") -> QuerySet[Question]:
    require_editor(actor)
    found = Question.objects.order_by("-created_at", "-pk")
    if state in QuestionState.values:
        found = found.filter(state=state)
    return found


def get_for_staff(actor: User, pk: int) -> Question:
    require_editor(actor)
    try:
        return Question.objects.get(pk=pk)
    except Question.DoesNotExist:
        raise NotFound(code="question_not_found") from None


def answer(actor: User, question: Question, text: str) -> Question:
    """Answer an open question, or correct the answer of an answered or published one."""
    require_editor(actor)
    text = text.strip()
    if not text:
        raise InvalidInput(code="question_answer_missing")
    identity.visible_text(text, ANSWER_MAX, "答复", lines=True)
    fields = {"answer": text, "answered_by": actor, "answered_at": clock.now()}
    with transaction.atomic():
        question = Question.objects.select_for_update().get(pk=question.pk)
        if question.state == QuestionState.OPEN:
            return transition(actor, QUESTIONS, question, QuestionState.ANSWERED, fields=fields)
        if question.state not in (QuestionState.ANSWERED, QuestionState.PUBLISHED):
            raise QUESTIONS.refusal(question, QuestionState.ANSWERED)
        save_edit(
            actor,
            question,
            fields,
            action="portal.question.edit_answer",
            object_type="question",
            object_id=question.number,
        )
        entry = Entry.objects.filter(question=question).first()
        if entry is not None:
            _fill_entry(entry, question)
            entry.save()
            entries.sync_index(entry)
        return question


def _fill_entry(entry: Entry, question: Question) -> None:
    entry.title = question.text[: entries.TITLE_MAX]
    entry.body_html = sanitize.from_plain(question.answer)
    entry.updated_at = clock.now()


def publish(actor: User, question: Question, category: str = FAQ_CATEGORY) -> Entry:
    """Put the question and its answer into the FAQ."""
    require_editor(actor)
    category = " ".join(category.split()) or FAQ_CATEGORY
    with about("category"):
        identity.visible_text(category, entries.CATEGORY_MAX, "分类")
    with transaction.atomic():
        question = transition(actor, QUESTIONS, question, QuestionState.PUBLISHED)
        entry = Entry.objects.filter(question=question).first()
        if entry is None:
            entry = Entry(kind=EntryKind.FAQ, category=category, question=question)
            entry.order = 1000 + question.pk
        _fill_entry(entry, question)
        entry.published = True
        entry.save()
        entries.sync_index(entry)
        return entry


def unpublish(actor: User, question: Question) -> Question:
    require_editor(actor)
    with transaction.atomic():
        question = transition(
            actor, QUESTIONS, question, QuestionState.ANSWERED, action="portal.question.unpublish"
        )
        entry = Entry.objects.filter(question=question).first()
        if entry is not None:
            entry.published = False
            entry.save(update_fields=["published"])
            entries.sync_index(entry)
        return question


def close(actor: User, question: Question) -> Question:
    require_editor(actor)
    with transaction.atomic():
        return transition(actor, QUESTIONS, question, QuestionState.CLOSED)


def reopen(actor: User, question: Question) -> Question:
    require_editor(actor)
    with transaction.atomic():
        return transition(actor, QUESTIONS, question, QuestionState.OPEN)
