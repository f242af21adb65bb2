"""Review by refund officers: approve, reject with a reason, ask for more material; the second
review of amounts above the programme's threshold; the correction of a failed payout's account.

Separation of duties: nobody approves an application they entered, and the second approval of
an amount above the threshold is never by the officer who gave the first. Every change goes
through the lifecycle engine (conditional UPDATE + audit event in one transaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from certhall import clock
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_different_person, require_role
from certhall.audit import services as audit
from certhall.errors import Forbidden, InvalidInput, about
from certhall.lifecycle import transition
from certhall.pki import identity
from certhall.refunds import notices
from certhall.refunds.models import PayeeKind, RefundApplication
from certhall.refunds.services import BankAccount, get_application
from certhall.refunds.states import APPLICATIONS, IN_REVIEW, State


@contextmanager
def _decision(actor: User, action: str, number: str) -> Iterator[RefundApplication]:
    """An officer's step on an application, its refusal audited as ``action`` (another role,
    the officer who entered it or gave the first approval, a state it cannot leave that way,
    a reason or an account refused): who tried to decide what, as a payout batch's refused
    release is."""
    with audit.refusals_recorded(
        actor, action, object_type=APPLICATIONS.kind, object_id=number.strip()[:24]
    ):
        require_role(actor, Role.REFUND_OFFICER)
        yield get_application(actor, number)


def _reason(text: str, what: str) -> str:
    """A decision's reason, its refusals about the console's field ``reason`` (web.refused)."""
    cleaned = " ".join((text or "").split())
    if not cleaned or len(cleaned) > 500:
        raise InvalidInput(code="refund_reason_required").naming("reason")
    with about("reason"):
        identity.refuse_invisible(cleaned, what)
    return cleaned


def needs_second_officer(application: RefundApplication) -> bool:
    return application.amount > application.programme.second_review_above


def approve(actor: User, number: str) -> RefundApplication:
    """``submitted`` -> ``approved`` (or ``first_approved`` above the threshold);
    ``first_approved`` -> ``approved`` by a second officer. Whoever gave a first approval (or
    typed a corrected account) never gives the next one, also after the application went back
    to review (more material asked for): below the threshold that one would approve it alone."""
    with _decision(actor, "refunds.application.approve", number) as application:
        require_different_person(actor, application.entered_by_id, "审核")
        return _approve(actor, application)


def _approve(actor: User, application: RefundApplication) -> RefundApplication:
    now = clock.now()
    with transaction.atomic():
        second = application.state == State.FIRST_APPROVED
        if application.first_approved_by_id == actor.pk:
            raise Forbidden(
                code="refund_second_officer",
                variant=None if needs_second_officer(application) else "account",
                threshold=application.programme.second_review_above,
            )
        if application.state == State.SUBMITTED and needs_second_officer(application):
            return transition(
                actor,
                APPLICATIONS,
                application,
                State.FIRST_APPROVED,
                fields={"first_approved_by": actor, "note": ""},
            )
        return notices.told(
            actor,
            transition(
                actor,
                APPLICATIONS,
                application,
                State.APPROVED,
                fields={"approved_by": actor, "decided_at": now, "note": ""},
                extra_after={"second_officer": actor.username} if second else None,
                only_from=IN_REVIEW,
            ),
        )


def reject(actor: User, number: str, reason: str) -> RefundApplication:
    with _decision(actor, "refunds.application.reject", number) as application:
        return _with_reason(actor, application, reason, State.REJECTED, decided=True)


def ask_more(actor: User, number: str, note: str) -> RefundApplication:
    with _decision(actor, "refunds.application.ask_more", number) as application:
        return _with_reason(actor, application, note, State.MORE_INFO, decided=False)


def _with_reason(
    actor: User, application: RefundApplication, text: str, target: State, *, decided: bool
) -> RefundApplication:
    """An officer's decision that the applicant is told with a written reason (rejected, more
    material asked for): the reason kept as the application's note, ``decided_at`` set when
    the decision is final."""
    reason = _reason(text, "不予返还的原因" if target == State.REJECTED else "需补充的材料")
    with transaction.atomic():
        fields: dict[str, object] = {"note": reason}
        if decided:
            fields["decided_at"] = clock.now()
        return notices.told(
            actor,
            transition(actor, APPLICATIONS, application, target, reason=reason, fields=fields),
        )


def correct_account(actor: User, number: str, account: BankAccount) -> RefundApplication:
    """A failed payout's account corrected by an officer: ``first_approved`` with this officer
    as the first, whatever the amount; a second officer approves the new account before it is
    batched. The account is where the money goes: the enterprise gave the one approved first,
    this one is the officer's typing, and nobody approves what they entered (one officer
    settling a failure, correcting the account and batching it was a payout to an account
    nobody else saw). The account name rule is the one of the application's payee."""
    with _decision(actor, "refunds.application.correct_account", number) as application:
        return _correct_account(actor, application, account)


def _correct_account(
    actor: User, application: RefundApplication, account: BankAccount
) -> RefundApplication:
    if application.payee_kind == PayeeKind.LEGAL_REPRESENTATIVE:
        checked = account.checked(
            str(application.checklist.get("person_name", "")), "法定代表人/负责人姓名"
        )
    else:
        checked = account.checked(application.enterprise_name, "企业名称")
    fields: dict[str, object] = {
        "account_name": checked.account_name,
        "account_number": checked.account_number,
        "bank_name": checked.bank_name,
    }
    fields["first_approved_by"] = actor
    with transaction.atomic():
        return transition(
            actor,
            APPLICATIONS,
            application,
            State.FIRST_APPROVED,
            action="refunds.application.correct_account",
            only_from={State.FAILED},
            fields=fields,
        )  # the enterprise is told the new account's tail on the second approval


def review_queue(actor: User, programme_slug: str | None = None) -> list[RefundApplication]:
    """What waits for this officer: submitted ones, and first approvals by someone else."""
    require_role(actor, Role.REFUND_OFFICER)
    rows = RefundApplication.objects.visible_to(actor).filter(state__in=sorted(IN_REVIEW))
    if programme_slug:
        rows = rows.filter(programme__slug=programme_slug)
    return list(rows.select_related("programme", "provider").order_by("created_at", "pk")[:500])
