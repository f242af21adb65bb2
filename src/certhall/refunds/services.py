"""Refund application services shared by the online and the counter channel: eligibility for an
actor, the bank account rule, creating an application with its lines, looking applications up,
and supplying more material.

Every service takes the actor explicitly; the web pages, the JSON API and the CLI call these.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from certhall import clock
from certhall.accounts.models import Organization, Role, User
from certhall.accounts.permissions import require_organization, require_role
from certhall.accounts.validation import mobile
from certhall.accounts.validation import text as free_text
from certhall.accounts.validation import uscc as valid_uscc
from certhall.audit import services as audit
from certhall.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
    quoted,
)
from certhall.lifecycle import transition
from certhall.messages import day_text
from certhall.pki.identity import fold_width
from certhall.refunds.eligibility import Eligibility, explain
from certhall.refunds.models import (
    Channel,
    PayeeKind,
    Programme,
    ProgrammeCA,
    RefundApplication,
    RefundLine,
    certificate_holder,
)
from certhall.refunds.records import application_of, get_programme, is_open
from certhall.refunds.states import APPLICATIONS, State
from certhall.rules import local

#: CA staff who enter offline applications at their counters.
COUNTER_ROLES = (Role.CLERK, Role.CA_ADMIN)


def _fold(name: str) -> str:
    """Names compared as a bank compares them: full-width folded, blanks dropped."""
    return "".join(fold_width(name).split())


def eligibility_for(actor: User, programme_slug: str, uscc: str) -> Eligibility:
    """The explained amount of an enterprise: its own (applicant), any (refund officer, a
    participating CA's counter staff)."""
    code = valid_uscc(uscc)
    return eligibility_in(actor, get_programme(programme_slug), code)


def eligibility_in(
    actor: User, programme: Programme, uscc: str, cas: Sequence[ProgrammeCA] | None = None
) -> Eligibility:
    """:func:`eligibility_for` of a programme the caller has read already (and its ``cas``:
    the programme page reads both for itself)."""
    code = valid_uscc(uscc)
    if actor.role == Role.APPLICANT:
        own = certified_organization(actor)
        require_organization(actor, own.pk if own.uscc == code else None)
    elif actor.role in COUNTER_ROLES:
        require_role(actor, *COUNTER_ROLES)
        require_participating(programme, actor)
        found = explain(programme, code, cas)
        # another enterprise's fee records, read at a counter: who read whose, as an officer's
        # export and a batch file's download are recorded
        audit.record(
            actor,
            "refunds.eligibility.lookup",
            object_type="organization",
            object_id=code,
            after={"programme": programme.slug, "amount": str(found.amount.yuan)},
        )
        return found
    else:
        require_role(actor, Role.REFUND_OFFICER)
    return explain(programme, code, cas)


def certified_organization(actor: User) -> Organization:
    """:func:`certificate_holder`, refused when there is none."""
    require_role(actor, Role.APPLICANT)
    org = certificate_holder(actor)
    if org is None:
        raise Forbidden(code="refund_no_organization")
    return org


def require_participating(programme: Programme, actor: User) -> None:
    """CA staff act only for a CA that takes part in the programme."""
    if (
        actor.provider_id is None
        or not programme.cas.filter(provider_id=actor.provider_id).exists()
    ):
        raise Forbidden(code="refund_ca_not_participating", ca=actor.provider or "本机构")


def require_window(programme: Programme) -> None:
    day = clock.today()
    if not is_open(programme, day):
        raise RuleViolation(
            code="refund_window_closed",
            programme=programme.name,
            start=day_text(programme.apply_from),
            end=day_text(programme.apply_to),
            today=day_text(day),
        )


def require_not_applied(programme: Programme, uscc: str) -> None:
    first = application_of(programme, uscc)
    if first is not None:
        raise Conflict(
            code="refund_already_applied",
            number=first.number,
            date=f"{local(first.created_at):%Y-%m-%d}",
            state=first.get_state_display(),
        )


@dataclass(frozen=True)
class BankAccount:
    """Where the refund goes. ``account_name`` must equal ``expected`` (the enterprise's name,
    or the legal representative's for a personal bank card)."""

    account_name: str
    account_number: str
    bank_name: str

    def checked(self, expected: str, whose: str) -> BankAccount:
        name = " ".join(self.account_name.split())
        if _fold(name) != _fold(expected):
            raise InvalidInput(
                code="refund_account_name", given=name or "（空）", whose=whose, expected=expected
            )
        # ASCII digits stored and paid to (the bank's transfer file): full-width ones folded
        number = "".join(fold_width(self.account_number).split()).replace("-", "")
        if not (6 <= len(number) <= 34 and number.isascii() and number.isdigit()):
            raise InvalidInput(code="refund_account_number")
        return BankAccount(name, number, free_text(self.bank_name, "开户银行", 128))


#: 返还: the prefix of an application's number (``number_for``; read back by
#: ``identity.dated_number``).
NUMBER_PREFIX = "FH"


def number_for(pk: int, created: datetime) -> str:
    """FH<Shanghai date>-<row id, six digits or more> (返还): unique because the row id is."""
    return f"{NUMBER_PREFIX}{local(created):%Y%m%d}-{pk:06d}"


def create_application(
    actor: User,
    programme: Programme,
    eligibility: Eligibility,
    *,
    enterprise_name: str,
    channel: str,
    account: BankAccount,
    payee_kind: str,
    phone: str,
    organization: Organization | None,
    provider_id: int | None = None,
    special_case: str = "",
    checklist: dict[str, object] | None = None,
) -> RefundApplication:
    """Store a checked application with the records it claims (audited); Conflict pointing to
    the first application if the enterprise has one already (two at once: one wins)."""
    if not eligibility.eligible:
        raise RuleViolation(code="refund_nothing_eligible")
    now = clock.now()
    try:
        with transaction.atomic():
            application = RefundApplication.objects.create(
                number=f"tmp-{secrets.token_hex(8)}",
                programme=programme,
                uscc=eligibility.uscc,
                enterprise_name=enterprise_name,
                organization=organization,
                channel=channel,
                provider_id=provider_id,
                special_case=special_case,
                amount=eligibility.amount.yuan,
                payee_kind=payee_kind,
                account_name=account.account_name,
                account_number=account.account_number,
                bank_name=account.bank_name,
                phone=mobile(phone),
                checklist=checklist or {},
                entered_by=actor,
                created_at=now,
                updated_at=now,
            )
            application.number = number_for(application.pk, now)
            application.save(update_fields=["number"])
            RefundLine.objects.bulk_create(
                RefundLine(application=application, fee_id=line.fee_id, amount=line.amount)
                for line in eligibility.counted
            )
            audit.record(
                actor,
                "refunds.application.submit",
                object_type=APPLICATIONS.kind,
                object_id=application.number,
                after={
                    "programme": programme.slug,
                    "uscc": application.uscc,
                    "channel": channel,
                    "special_case": special_case,
                    "amount": str(application.amount),
                    "records": len(eligibility.counted),
                    "payee_kind": payee_kind,
                },
            )
    except IntegrityError:
        require_not_applied(programme, eligibility.uscc)
        raise
    return application


def apply_online(
    actor: User, programme_slug: str, account: BankAccount, *, phone: str
) -> RefundApplication:
    """The enterprise's own application after certificate login: window, one per programme,
    something eligible, and the receiving account in the enterprise's name (a refusal
    audited, as the counter's is)."""
    with submitting(actor, programme_slug):
        return _apply_online(actor, programme_slug, account, phone=phone)


def submitting(actor: User, programme_slug: str) -> AbstractContextManager[None]:
    """A new application's refusals audited as ``refunds.application.submit`` of the programme
    (online or at a counter: no number yet)."""
    return audit.refusals_recorded(
        actor,
        "refunds.application.submit",
        object_type="refund_programme",
        object_id=programme_slug.strip()[:50],
    )


def _apply_online(
    actor: User, programme_slug: str, account: BankAccount, *, phone: str
) -> RefundApplication:
    org = certified_organization(actor)
    programme = get_programme(programme_slug)
    require_window(programme)
    require_not_applied(programme, org.uscc)
    checked = account.checked(org.name, "企业名称")
    return create_application(
        actor,
        programme,
        explain(programme, org.uscc),
        enterprise_name=org.name,
        channel=Channel.ONLINE,
        account=checked,
        payee_kind=PayeeKind.ENTERPRISE,
        phone=phone,
        organization=org,
    )


def visible(actor: User) -> QuerySet[RefundApplication]:
    return RefundApplication.objects.visible_to(actor)


def get_application(actor: User, number: str) -> RefundApplication:
    row = RefundApplication.objects.filter(number=number.strip()).first()
    missing = NotFound(code="refund_application_unknown", number=quoted(number, 24))
    if row is None:
        raise missing
    RefundApplication.objects.require_visible(actor, row, missing=missing)
    return row


def list_applications(
    actor: User, programme_slug: str | None = None, state: str | None = None, *, limit: int = 500
) -> list[RefundApplication]:
    rows = visible(actor).select_related("programme", "provider")
    if programme_slug:
        rows = rows.filter(programme__slug=programme_slug)
    if state:
        rows = rows.filter(state=state)
    return list(rows[:limit])


#: A supplement's note: as long as a reviewer's request for it (``RefundApplication.note``).
NOTE_LENGTH = 500


def supply(actor: User, number: str, note: str) -> RefundApplication:
    """More material was supplied (the enterprise online, the counter for its offline ones):
    back to the officers (a refusal audited: another enterprise's number, a role, a state)."""
    with audit.refusals_recorded(
        actor,
        APPLICATIONS.actions[State.SUBMITTED],
        object_type=APPLICATIONS.kind,
        object_id=number.strip()[:24],
    ):
        return _supply(actor, number, note)


def _supply(actor: User, number: str, note: str) -> RefundApplication:
    application = get_application(actor, number)
    if actor.role not in (Role.APPLICANT, *COUNTER_ROLES):
        require_role(actor, Role.APPLICANT, *COUNTER_ROLES)
    if application.state != State.MORE_INFO:
        raise Conflict(
            code="refund_supply_state",
            number=application.number,
            state=application.get_state_display(),
        )
    # required: the officers asked for something, an empty answer tells them nothing
    text = free_text(note, "补充说明", NOTE_LENGTH)
    with transaction.atomic():
        return transition(actor, APPLICATIONS, application, State.SUBMITTED, reason=text)
