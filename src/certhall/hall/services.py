"""Application services for both channels: drafts, details, business lines, submission,
cancellation, reading. Review, counter, payment, issuance and online renewal have their own
modules; all of them change state through :func:`certhall.hall.workflow.move`.

Every service takes an explicit actor, checks what the actor may do to this object
(:mod:`certhall.hall.access`), does its change in one transaction with its audit event, and
records refusals (``refusals_recorded``) after the transaction rolled back.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from certhall import clock
from certhall.accounts import validation
from certhall.accounts.models import Handler, Organization, Role, User, describe_actor
from certhall.accounts.permissions import require_role
from certhall.accounts.services import home_provider
from certhall.accounts.visibility import Scope
from certhall.audit import services as audit
from certhall.audit.models import AuditEvent
from certhall.ca.models import Certificate
from certhall.errors import Conflict, InvalidInput, NotFound, about
from certhall.hall import access, documents, items, payment, workflow
from certhall.hall.models import (
    REASON_LENGTH,
    Application,
    ApplicationItem,
    Business,
    Channel,
    Delivery,
    Document,
    Project,
)
from certhall.hall.states import APPLICATIONS, EDITABLE, State, snapshot
from certhall.lifecycle import transition
from certhall.notify.services import normalise_phone
from certhall.pki import identity
from certhall.reads import Prepared, keep_prefetched
from certhall.rules import default_catalog, local

LIST_LIMIT = 200
#: The furthest a list may skip: past a signed 64-bit integer the database refused the
#: parameter (``?offset=9223372036854775808`` was an HTTP 500).
OFFSET_LIMIT = 10**9


def _lines_of(**load: Any) -> Prepared[ApplicationItem]:
    """The lines of some applications (their keys, a list), in order, as a prepared read."""
    return Prepared(
        lambda keys: ApplicationItem.objects.filter(application_id__in=keys).order_by("pk"),
        **load,
    )


#: The certificate's columns but its DER: that is read where a certificate is used, never on
#: a page of rows.
_CERTIFICATE_ROW = tuple(f.name for f in Certificate._meta.concrete_fields if f.name != "der")
#: How much of each line a read of applications loads (``lines=``). Every column, with the
#: certificates and the Ukey:
ITEMS = _lines_of(
    related={
        "target_certificate": _CERTIFICATE_ROW,
        "token": None,
        "result_certificate": _CERTIFICATE_ROW,
    }
)
#: As the API's rows show them: every column, the certificates and Ukey by serial (measured: a
#: list of 10 applications 7.4 -> 5.5 ms against ``ITEMS``, both through the ORM).
ITEM_SERIALS = _lines_of(
    related=dict.fromkeys(("target_certificate", "token", "result_certificate"), ("serial",))
)
#: As a page's rows show them: business, certificate type and term, no joins (the target
#: certificate's key: an approved online renewal's row asks whether it ended, ``next_action``).
ROW_ITEMS = _lines_of(
    fields=(
        "application",
        "business",
        "cert_type",
        "years",
        "target_certificate",
        "result_certificate",
    )
)


def with_lines(
    applications: list[Application], lines: Prepared[ApplicationItem] = ITEMS
) -> list[Application]:
    """``applications`` with their lines loaded, as ``prefetch_related("items")`` would."""
    if applications:
        keep_prefetched(applications, "items", lines.rows([a.pk for a in applications]))
    return applications


def _project(value: str) -> Project:
    try:
        return Project(value)
    except ValueError:
        raise InvalidInput(
            code="project",
            variant="unknown",
            value=value,
            project=Project.SZ_MEDICAL_INSURANCE.label,
        ) from None


# --- reading -------------------------------------------------------------------------------


def list_applications(
    actor: User,
    *,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
    lines: Prepared[ApplicationItem] = ITEMS,
    parties: bool = True,
    staff_work: bool = False,
) -> list[Application]:
    """The applications ``actor`` sees, newest first, read by prepared statements
    (``certhall.reads``: the hall's pages are the ones every customer opens). ``lines``: how
    much of each line to load (``ITEMS``, ``ITEM_SERIALS`` or ``ROW_ITEMS``); ``parties``: the
    organisation and the handler as well (the applicant's own rows show neither);
    ``staff_work``: without the online renewals, which the customer's helper finishes (the
    issuer's lists)."""
    scope = Application.objects.scope(actor)  # first: a role that sees none is Forbidden
    if state and state not in State.values:
        raise InvalidInput(code="state", state=state)
    if not (1 <= limit <= LIST_LIMIT and 0 <= offset <= OFFSET_LIMIT):
        raise InvalidInput(code="list_limit", limit=LIST_LIMIT, offset=OFFSET_LIMIT)
    if scope is None:
        return []
    values: list[int | str] = [scope[1], state] if state else [scope[1]]
    read = _rows_read(scope[0], bool(state), parties, staff_work)
    return with_lines(read.rows(*values, limit=limit, offset=offset), lines)


@functools.cache
def _rows_read(
    scope: Scope, by_state: bool, parties: bool, staff_work: bool
) -> Prepared[Application]:
    def build(key: int, state: str = "") -> QuerySet[Application]:
        rows = Application.objects.within(scope, key)
        if staff_work:  # Application.is_online_renewal
            rows = rows.exclude(channel=Channel.ONLINE, items__business=Business.RENEW)
        return (rows.filter(state=state) if by_state else rows).order_by("-created_at", "-pk")

    return Prepared(build, related=("organization", "handler") if parties else ())


def get_application(
    actor: User, number: str, lines: Prepared[ApplicationItem] = ITEMS
) -> Application:
    return with_lines([access.load(actor, number)], lines)[0]


def history(actor: User, application: Application) -> list[dict[str, Any]]:
    """The application's state changes from the audit chain (staff also see who)."""
    Application.objects.require_visible(actor, application)
    staff = actor.role != Role.APPLICANT
    rows = []
    for event in _STATE_CHANGES.rows(application.number):
        at, action, who, before, after = (
            event.at, event.action, event.actor, event.before, event.after
        )  # fmt: skip
        after = after if isinstance(after, dict) else {}
        before = before if isinstance(before, dict) else {}
        if "state" not in after or before.get("state") == after.get("state"):
            continue
        row: dict[str, Any] = {
            "at": at,
            "action": action,
            "state": after["state"],
            "reason": after.get("reason", ""),
        }
        if staff:
            row["actor"] = who
            row["actor_label"] = describe_actor(who)
        rows.append(row)
    return rows


#: The columns the history shows, not whole events (their hashes are the chain's business).
_STATE_CHANGES = Prepared(
    lambda number: AuditEvent.objects.filter(
        object_type="application", object_id=number, result=audit.OK
    ).order_by("seq"),
    fields=("at", "action", "actor", "before", "after"),
)


# --- drafts --------------------------------------------------------------------------------


def create(
    actor: User,
    *,
    organization: Organization,
    channel: Channel,
    point: str = "",
    handler: Handler | None = None,
    project: str = Project.SZ_MEDICAL_INSURANCE,
) -> Application:
    """A new draft; the caller checked the actor and holds the transaction."""
    now = clock.now()
    delivery = Delivery.MAIL if channel == Channel.ONLINE else Delivery.PICKUP
    application = Application.objects.create(
        number=f"TMP{uuid.uuid4().hex[:21]}",  # replaced below, in the same transaction
        project=_project(project),
        provider=home_provider(),
        organization=organization,
        handler=handler,
        channel=channel,
        point=point,
        entered_by=actor,
        created_at=now,
        updated_at=now,
        delivery=delivery,
        pickup_point=point,
        postage=_postage(delivery),
    )
    application.number = workflow.number_for(application.pk, now)
    application.save(update_fields=["number"])
    audit.record(
        actor,
        "hall.application.create",
        object_type="application",
        object_id=application.number,
        after={
            **snapshot(application),
            "channel": channel,
            "point": point,
            "organization": organization.pk,
            "project": application.project,
        },
    )
    return application


def create_draft(
    actor: User, *, project: str = Project.SZ_MEDICAL_INSURANCE, handler_id: int | None = None
) -> Application:
    """网上营业厅: an applicant starts an application for its organisation."""
    with audit.refusals_recorded(actor, "hall.application.create", object_type="application"):
        require_role(actor, Role.APPLICANT)  # inside: a refusal on role is audited too
        organization = actor.organization
        if organization is None:
            raise InvalidInput(code="no_organization")
        with transaction.atomic():
            handler = _handler(organization, handler_id) if handler_id is not None else None
            return create(
                actor,
                organization=organization,
                channel=Channel.ONLINE,
                handler=handler,
                project=project,
            )


def _handler(organization: Organization, handler_id: int) -> Handler:
    handler = Handler.objects.filter(pk=handler_id, organization=organization).first()
    if handler is None:
        raise NotFound(code="handler_not_found", variant="register")
    return handler


@dataclass(frozen=True)
class Details:
    """What the applicant fills in besides the business lines; None leaves a field as it is."""

    handler_id: int | None = None
    delivery: str | None = None
    recipient_name: str | None = None
    recipient_phone: str | None = None
    address: str | None = None
    pickup_point: str | None = None


def update_details(actor: User, number: str, details: Details) -> Application:
    """Handler and delivery. The delivery method (and so the postage) only while a draft."""
    with access.locked(actor, number, "hall.application.update", editor=True) as application:
        if application.state not in EDITABLE:
            raise Conflict(code="application_state", variant="submitted")
        before = _details(application)
        if details.handler_id is not None:
            application.handler = _handler(application.organization, details.handler_id)
        if details.delivery is not None:
            _set_delivery(application, details.delivery)
        # each refusal names the 领取方式 form's field (web.refused)
        if details.recipient_name is not None:
            recipient = details.recipient_name.strip()
            with about("recipient_name"):
                application.recipient_name = (
                    validation.person_name(recipient, "收件人姓名") if recipient else ""
                )
        if details.recipient_phone is not None:
            phone = details.recipient_phone.strip()
            with about("recipient_phone"):
                application.recipient_phone = normalise_phone(phone) if phone else ""
        if details.address is not None:
            with about("address"):
                application.address = validation.text(
                    details.address, "邮寄地址", 200, required=False
                )
        if details.pickup_point is not None:
            if details.pickup_point:
                with about("pickup_point"):
                    default_catalog().point(details.pickup_point)  # InvalidInput if unknown
            application.pickup_point = details.pickup_point
        application.updated_at = clock.now()
        application.save()
        audit.record(
            actor,
            "hall.application.update",
            object_type="application",
            object_id=application.number,
            before=before,
            after=_details(application),
        )
    return application


def _details(application: Application) -> dict[str, object]:
    return {
        "handler": application.handler_id,
        "delivery": application.delivery,
        "postage": str(application.postage),
        "pickup_point": application.pickup_point,
        "address_given": bool(application.address),
    }


#: what a customer chooses for the certificate's way back (online renewal's is set, not chosen)
CHOSEN_DELIVERIES = (Delivery.MAIL, Delivery.PICKUP)


def _set_delivery(application: Application, value: str) -> None:
    if application.state != State.DRAFT:
        raise Conflict(code="application_state", variant="delivery")
    if application.channel != Channel.ONLINE or application.is_online_renewal:
        raise InvalidInput(code="delivery_fixed")
    if value not in CHOSEN_DELIVERIES:
        raise InvalidInput(code="delivery_method")
    application.delivery = value
    application.postage = _postage(value)


def _postage(delivery: str) -> Decimal:
    """The catalog's postage for a mailed Ukey (邮费自付, collected with the fee), else none."""
    return default_catalog().postage.fee_yuan if delivery == Delivery.MAIL else Decimal("0.00")


# --- business lines ------------------------------------------------------------------------


def add_item(actor: User, number: str, request: items.ItemRequest) -> ApplicationItem:
    """Add one business line to a draft; the rules are asked now, for this channel."""
    with access.locked(actor, number, "hall.item.add", editor=True) as application:
        if application.state != State.DRAFT:
            raise Conflict(code="application_state", variant="items")
        item = items.build(application, request)
        item.save()
        if item.is_online_renewal:
            application.delivery = Delivery.ONLINE_UPDATE
            application.postage = Decimal("0.00")
        _refresh_fees(application)
        audit.record(
            actor,
            "hall.item.add",
            object_type="application",
            object_id=application.number,
            after={
                "item": item.pk,
                "business": item.business,
                "cert_type": item.cert_type,
                "years": item.years,
                "fee": str(item.fee),
                "target": item.target_certificate.serial if item.target_certificate else None,
                "fee_total": str(application.fee_total),
            },
        )
    return item


def remove_item(actor: User, number: str, item_id: int) -> Application:
    with access.locked(actor, number, "hall.item.remove", editor=True) as application:
        if application.state != State.DRAFT:
            raise Conflict(code="application_state", variant="items")
        item = application.items.filter(pk=item_id).first()
        if item is None:
            raise NotFound(code="item_not_found", number=application.number)
        business = item.business
        item.delete()
        _refresh_fees(application)
        audit.record(
            actor,
            "hall.item.remove",
            object_type="application",
            object_id=application.number,
            after={"item": item_id, "business": business},
        )
    return application


def _refresh_fees(application: Application) -> None:
    fees = [item.fee for item in application.items.all()]
    application.fee_total = sum(fees, Decimal("0.00"))
    application.updated_at = clock.now()
    application.save(update_fields=["fee_total", "postage", "delivery", "updated_at"])


# --- submission ----------------------------------------------------------------------------


def _check_ready(application: Application, lines: list[ApplicationItem]) -> None:
    """Everything a submission needs besides the money: lines, handler, delivery, documents."""
    if not lines:
        raise InvalidInput(code="no_items", variant="submit")
    if application.handler_id is None and not application.is_online_renewal:
        raise InvalidInput(code="handler_missing", variant="submit")
    if application.mail_address_missing:
        raise InvalidInput(code="address_missing")
    if application.pickup_point_missing:
        raise InvalidInput(code="pickup_point_missing")
    problems = documents.missing(application, lines)
    if problems:
        raise InvalidInput(code="documents_incomplete", problems="；".join(problems))


def _requote(application: Application, lines: list[ApplicationItem]) -> None:
    """Ask the rules again at submission (the renewal window, the day may have changed; a
    certificate revoked or expired since): the fee is the tariff at submission.

    At the counter a line entered earlier the same day stands: the customer was served during
    opening hours and is finished even if that takes past 12:00 or 18:00 ("当天办结"). A line
    entered on an earlier day is a new visit and is asked again (hours, holidays, weekend).
    """
    now = clock.now()
    today = local(now).date()
    for line in lines:
        if line.target_certificate is not None:  # revoked or expired since it was entered
            items.require_usable(Business(line.business), line.target_certificate, now)
        if application.channel == Channel.ONSITE and local(line.created_at).date() == today:
            continue
        answer = items.quote_item(
            application,
            Business(line.business),
            items.parse_cert_type(line.cert_type),
            line.years,
            line.target_certificate,
            now,
        )
        if answer.fee_yuan != line.fee:
            line.fee = answer.fee_yuan
            line.save(update_fields=["fee"])
    _refresh_fees(application)


def submit(actor: User, number: str) -> Application:
    """Submit a complete draft: with a fee it awaits payment (an order is created), without
    one it goes to review at once. The rules are asked again now."""
    with access.locked(actor, number, "hall.application.submit", editor=True) as application:
        if application.state != State.DRAFT:
            raise Conflict(
                code="application_state",
                variant="already_submitted",
                number=application.number,
                state=application.get_state_display(),
            )
        lines = list(application.items.select_related("target_certificate"))
        _check_ready(application, lines)
        _requote(application, lines)
        now = clock.now()
        if application.total > 0:
            order = payment.create_order_for(actor, application)
            transition(
                actor,
                APPLICATIONS,
                application,
                State.AWAITING_PAYMENT,
                action="hall.application.submit",
                fields={"submitted_at": now, "payment_reference": order.reference},
                extra_after={"total": str(application.total)},
            )
        else:
            transition(
                actor,
                APPLICATIONS,
                application,
                State.SUBMITTED,
                action="hall.application.submit",
                fields={"submitted_at": now, **workflow.queue_entry_fields(application, now)},
            )
            payment.auto_approve_online_renewal(application)
    return application


def resubmit(actor: User, number: str) -> Application:
    """Submit a returned application again with the documents corrected; the working-day
    clock starts again ("前提是资料无误")."""
    with access.locked(actor, number, "hall.application.resubmit", editor=True) as application:
        if application.state != State.RETURNED:
            raise Conflict(code="application_state", variant="resubmit", number=application.number)
        lines = list(application.items.all())
        _check_ready(application, lines)
        now = clock.now()
        transition(
            actor,
            APPLICATIONS,
            application,
            State.RESUBMITTED,
            action="hall.application.resubmit",
            fields=workflow.queue_entry_fields(application, now),
        )
    return application


def cancel(actor: User, number: str, reason: str = "") -> Application:
    """Withdraw an application nothing was paid for (a paid one is refunded instead)."""
    with access.locked(actor, number, "hall.application.cancel") as application:
        if actor.role == Role.CA_ADMIN:
            access.require_staff(actor, application, Role.CA_ADMIN)
        else:
            access.require_editor(actor, application)
        if application.paid_at is not None:
            raise Conflict(code="application_paid", number=application.number)
        with about("reason"):
            reason = identity.visible_text(reason.strip(), REASON_LENGTH, "原因")
        withdraw(actor, application, reason, clock.now())
    return application


def withdraw(actor: User, application: Application, reason: str, at: datetime) -> None:
    """``-> cancelled`` at ``at`` for ``reason``, with its pending order. Inside the caller's
    transaction, the application locked (:func:`cancel`; the jobs' ``renewal.close_ended``)."""
    transition(
        actor,
        APPLICATIONS,
        application,
        State.CANCELLED,
        action="hall.application.cancel",
        reason=reason,
        fields={"closed_at": at},
    )
    if application.payment_reference:
        payment.cancel_order_of(actor, application)


def documents_of(application: Application) -> list[Document]:
    """Every document of the application, oldest first; kept on the application, so that what
    the page shows and what ``documents.missing`` checks come from one query."""
    documents = _DOCUMENTS.rows(application.pk)
    keep_prefetched([application], "documents", documents)
    return documents


_DOCUMENTS = Prepared(lambda key: Document.objects.filter(application_id=key).order_by("pk"))
