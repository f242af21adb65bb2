"""经办人实名核验, as the seed's online 新办 has it: "使用微信扫码后请在手机端上传经办人身份证
正面照、反面照,并进行经办人活体验证".

After 上传资料 the customer starts a check; the page shows a QR code of the check's phone URL
(a 256-bit token, valid :data:`VALID_MINUTES`). On the phone the handler uploads both sides of
the ID card (stored as the application's ``handler_id_front`` / ``handler_id_back`` documents)
and starts the liveness check with the provider (``hall.liveness``), whose signed result
notification passes or fails the check. A check not finished in time is ``timed_out`` when next
read. A new check voids the open ones. :func:`verified` is what submission and review ask: a
passed check whose photos are the application's current ones.

States (one lifecycle, ``IDENTITY_CHECKS``)::

    waiting --photos--> photos --begin--> verifying --> passed | failed | timed_out
       \\________________\\_______________\\__________--> timed_out | cancelled
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta
from operator import attrgetter
from typing import Any

from django.db import transaction

from certhall import clock
from certhall.accounts.models import Role, User
from certhall.accounts.services import system_actor
from certhall.audit import services as audit
from certhall.errors import Conflict, NotFound
from certhall.hall import access, documents, liveness, realname
from certhall.hall.models import Application, IdentityCheck
from certhall.hall.realname import SIDES
from certhall.hall.states import EDITABLE
from certhall.lifecycle import Lifecycle, transition
from certhall.web import paths

VALID_MINUTES = 15
State = IdentityCheck.State
OPEN = frozenset({State.WAITING, State.PHOTOS, State.VERIFYING})


def _snapshot(check: IdentityCheck) -> dict[str, object]:
    return {
        "check": check.pk,
        "state": check.state,
        "provider": check.provider,
        "reference": check.reference,
        "front_sha256": check.front_sha256,
        "back_sha256": check.back_sha256,
        "reason": check.reason,
    }


IDENTITY_CHECKS: Lifecycle[IdentityCheck] = Lifecycle(
    kind="identity_check",
    model="hall.IdentityCheck",
    states=State,
    table={
        State.WAITING: frozenset({State.PHOTOS, State.TIMED_OUT, State.CANCELLED}),
        State.PHOTOS: frozenset({State.VERIFYING, State.TIMED_OUT, State.CANCELLED}),
        State.VERIFYING: frozenset({State.PASSED, State.FAILED, State.TIMED_OUT, State.CANCELLED}),
        State.PASSED: frozenset(),
        State.FAILED: frozenset(),
        State.TIMED_OUT: frozenset(),
        State.CANCELLED: frozenset(),
    },
    noun="实名核验",
    key=attrgetter("application.number"),
    refused="identity_state",
    changed="identity_changed",
    actions={
        State.PHOTOS: "hall.identity.photos",
        State.VERIFYING: "hall.identity.begin",
        State.PASSED: "hall.identity.passed",
        State.FAILED: "hall.identity.failed",
        State.TIMED_OUT: "hall.identity.timed_out",
        State.CANCELLED: "hall.identity.cancelled",
    },
    snapshot=_snapshot,
    touch="updated_at",
)


def phone_url(check: IdentityCheck) -> str:
    """The QR code's URL: absolute, on the platform's public address (the phone is elsewhere)."""
    return paths.absolute("hall-identity:phone", check.token)


def describe(check: IdentityCheck, actor: User) -> dict[str, Any]:
    """A check as the API shows it to ``actor``. The phone's link, the key to the check's photo
    uploads and liveness start, only to the enterprise's own account: staff who read the
    application see the state (a clerk holding the link could upload someone's photos)."""
    application = check.application
    own = actor.role == Role.APPLICANT
    return {
        "state": check.state,
        "state_label": check.get_state_display(),
        "phone_url": phone_url(check) if own and check.state in OPEN else "",
        "expires_at": check.expires_at,
        "reason": check.reason,
        "verified": realname.verified(application, documents.current(application)),
    }


def latest(application: Application) -> IdentityCheck | None:
    check = application.identity_checks.select_related("application").first()
    return _expired(check) if check is not None else None


def start(actor: User, number: str) -> IdentityCheck:
    """A new check for the application's handler; the open ones are void."""
    with access.locked(actor, number, "hall.identity.start", editor=True) as application:
        if application.state not in EDITABLE:
            raise Conflict(code="identity_not_editable", number=application.number)
        if not realname.applies(application, application.items.all()):
            raise Conflict(code="identity_not_needed", number=application.number)
        if application.handler is None:
            raise Conflict(code="identity_handler_missing")
        provider = liveness.provider()
        for old in application.identity_checks.filter(state__in=OPEN):
            transition(actor, IDENTITY_CHECKS, old, State.CANCELLED)
        now = clock.now()
        check = IdentityCheck.objects.create(
            application=application,
            handler=application.handler,
            token=secrets.token_urlsafe(32),
            provider=provider.name,
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(minutes=VALID_MINUTES),
        )
        audit.record(
            actor,
            "hall.identity.start",
            object_type="identity_check",
            object_id=application.number,
            after=_snapshot(check),
        )
        return check


def by_token(token: str) -> IdentityCheck:
    """The check behind a phone URL (timed out first if its time is up)."""
    check = (
        IdentityCheck.objects.select_related("application", "handler")
        .filter(token=str(token)[:64])
        .first()
    )
    if check is None:
        raise NotFound(code="identity_not_found")
    return _expired(check)


def _expired(check: IdentityCheck) -> IdentityCheck:
    if check.state in OPEN and clock.now() >= check.expires_at:
        with transaction.atomic():
            locked = IdentityCheck.objects.select_for_update().get(pk=check.pk)
            if locked.state in OPEN:
                transition(
                    system_actor("identity"),
                    IDENTITY_CHECKS,
                    locked,
                    State.TIMED_OUT,
                    fields={"finished_at": clock.now(), "reason": "超过有效时间"},
                )
            check.refresh_from_db()
    return check


def upload_photo(token: str, side: str, *, filename: str, chunks: Iterable[bytes]) -> IdentityCheck:
    """The phone uploads one side of the handler's ID card; with both, the check moves on."""
    check = by_token(token)
    if side not in SIDES:
        raise NotFound(code="identity_not_found")
    if check.state not in (State.WAITING, State.PHOTOS):
        raise IDENTITY_CHECKS.refusal(check, State.PHOTOS)
    applicant = check.application.entered_by
    document = documents.upload(
        applicant, check.application.number, SIDES[side], filename=filename, chunks=chunks
    )
    with transaction.atomic():
        check = (
            IdentityCheck.objects.select_related("application").select_for_update().get(pk=check.pk)
        )
        setattr(check, f"{side}_sha256", document.sha256)
        check.save(update_fields=[f"{side}_sha256"])
        if check.state == State.WAITING and check.front_sha256 and check.back_sha256:
            transition(applicant, IDENTITY_CHECKS, check, State.PHOTOS)
    return check


def begin(token: str) -> tuple[IdentityCheck, str]:
    """Open the provider's liveness session; where the phone goes for it."""
    check = by_token(token)
    if check.state != State.PHOTOS:
        raise IDENTITY_CHECKS.refusal(check, State.VERIFYING)
    provider = liveness.provider(check.provider)
    reference, url = provider.begin(check)
    with transaction.atomic():
        check = (
            IdentityCheck.objects.select_related("application").select_for_update().get(pk=check.pk)
        )
        transition(
            check.application.entered_by,
            IDENTITY_CHECKS,
            check,
            State.VERIFYING,
            fields={"reference": reference},
        )
    return check, url


def receive_result(provider_name: str, body: bytes, signature: str, source: str | None) -> None:
    """A provider's result notification: authenticated, then applied once (a repeated
    notification of a finished check changes nothing). One that does not verify could come
    from anyone: its refusal is recorded once per source and window."""
    actor = system_actor(f"identity-{provider_name}"[:40])
    with audit.refusals_recorded(
        actor,
        "hall.identity.notify",
        object_type="identity_check",
        refused=audit.Refused(
            after={"provider": provider_name}, unauthenticated=True, source=source
        ),
    ):
        outcome = liveness.provider(provider_name).verify(body, signature)
    target = {"passed": State.PASSED, "failed": State.FAILED, "timeout": State.TIMED_OUT}
    with transaction.atomic():
        check = (
            IdentityCheck.objects.select_related("application")
            .select_for_update()
            .filter(provider=provider_name, reference=outcome.reference)
            .first()
        )
        if check is None:
            raise NotFound(code="identity_not_found")
        if check.state != State.VERIFYING:
            return
        reason = outcome.reason[:200] if outcome.outcome != "passed" else ""
        transition(
            actor,
            IDENTITY_CHECKS,
            check,
            target[outcome.outcome],
            fields={"finished_at": clock.now(), "reason": reason},
        )
