"""The counter (受理点柜台): a clerk opens an application for a customer at the service point
they work at, adds the business lines (the same ``services.add_item``, so the same rules: the
point's hours, holidays and the weekend rule for ODC certificates, checked at the real current
moment), ticks the document checklist (``documents.check_at_counter``), takes the payment
(``payment.take_counter_payment``) and, once a reviewer approved, issues on the spot
(``issuance.issue_application``).

A walk-in customer needs no online account: the organisation is found by its USCC or recorded
here; the handler (经办人) present is chosen or registered (``accounts.services.add_handler``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from certhall.accounts import services as accounts
from certhall.accounts import validation
from certhall.accounts.models import Handler, Organization, User
from certhall.accounts.permissions import require_provider, require_role
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.errors import Conflict, InvalidInput, NotFound, about, prefixed
from certhall.hall import access, services
from certhall.hall.models import Application, Channel, Project
from certhall.hall.states import FINAL
from certhall.pki.identity import validate_id_document, validate_uscc
from certhall.rules import default_catalog


@dataclass(frozen=True)
class Customer:
    """The organisation at the counter, as on its business licence."""

    uscc: str
    name: str = ""
    legal_representative: str = ""


@dataclass(frozen=True)
class HandlerData:
    name: str
    id_kind: str
    id_number: str
    phone: str


def serves(actor: User) -> bool:
    """Whether ``actor`` works at this CA's counter (its clerks and CA admins)."""
    return actor.role in access.COUNTER_ROLES and actor.provider_id == home_provider().pk


def require_counter(actor: User) -> None:
    """The counter is this CA's: its clerks and CA admins, not another provider's staff."""
    require_role(actor, *access.COUNTER_ROLES)
    require_provider(actor, home_provider().pk)


@dataclass(frozen=True)
class Lookup:
    uscc: str
    organization: Organization | None  # None: a new customer
    handlers: list[Handler]


def look_up(actor: User, uscc: str) -> Lookup:
    """The customer at the counter by USCC, with its handlers (full ID numbers: the clerk
    compares them with the ID card). InvalidInput for a malformed USCC."""
    require_counter(actor)
    uscc = validate_uscc(uscc)
    organization = Organization.objects.filter(uscc=uscc).first()
    handlers = Handler.objects.filter(organization=organization).order_by("pk")
    return Lookup(uscc, organization, list(handlers) if organization else [])


def in_progress(actor: User, limit: int = 20) -> tuple[list[Application], int]:
    """The on-site applications still open (not closed, refunded or delivered), newest first,
    and how many there are: the counter's work in hand, however many online ones came since."""
    require_counter(actor)
    rows = Application.objects.visible_to(actor).filter(channel=Channel.ONSITE)
    rows = rows.exclude(state__in=FINAL)
    listed = rows.select_related("organization").order_by("-created_at", "-pk")[:limit]
    return services.with_lines(list(listed)), rows.count()


def check_point(point: str) -> str:
    """A service point slug of the rules catalog (InvalidInput naming the three otherwise; about
    the counter page's field ``point``, its radio buttons)."""
    with about("point"):
        if not point:  # none chosen
            raise InvalidInput(code="point_required")
        return default_catalog().point(point).slug


def _organization(actor: User, customer: Customer) -> Organization:
    # each refusal names the 受理 form's field (web.refused)
    with about("uscc"):
        uscc = validate_uscc(customer.uscc)
    organization = Organization.objects.filter(uscc=uscc).first()
    if organization is not None:
        if organization.licence_unchecked:  # a registration's claim: see the licence first
            raise Conflict(code="licence_unchecked", name=organization.name)
        return organization
    with about("name"):
        name = validation.org_name(customer.name, "新客户的单位名称（与营业执照一致）")
    legal_rep = customer.legal_representative.strip()
    if legal_rep:
        with about("legal_representative"):
            legal_rep = validation.person_name(legal_rep, "法定代表人姓名")
    organization = Organization.objects.create(name=name, uscc=uscc, legal_representative=legal_rep)
    audit.record(
        actor,
        "hall.organization.create",
        object_type="organization",
        object_id=organization.pk,
        after={"name": name, "uscc": uscc},
    )
    return organization


def _handler(
    actor: User, organization: Organization, handler_id: int | None, data: HandlerData | None
) -> Handler:
    if handler_id is not None:
        handler = Handler.objects.filter(pk=handler_id, organization=organization).first()
        if handler is None:
            raise NotFound(code="handler_not_found").naming("handler_id")
        return handler
    if data is None:
        raise InvalidInput(code="handler_missing", variant="counter").naming("handler_id")
    # the handler form's checks, naming its fields as the 受理 form does (handler_phone)
    with prefixed("handler_"):
        accounts.require_handler_fields(data.name, data.id_number, data.phone)
        with about("id_number"):
            number = validate_id_document(data.id_kind, data.id_number)
        existing = Handler.objects.filter(
            organization=organization, id_kind=data.id_kind, id_number=number
        ).first()
        if existing is not None:
            return existing
        return accounts.add_handler(
            actor,
            organization.pk,
            name=data.name,
            id_kind=data.id_kind,
            id_number=number,
            phone=data.phone,
        )


def open_application(
    actor: User,
    *,
    point: str,
    customer: Customer,
    handler_id: int | None = None,
    handler: HandlerData | None = None,
    project: str = Project.SZ_MEDICAL_INSURANCE,
) -> Application:
    """受理: a new on-site draft at ``point`` (the clerk's service point) for ``customer``."""
    with audit.refusals_recorded(actor, "hall.application.create", object_type="application"):
        require_counter(actor)
        if not point:
            raise InvalidInput(code="point_missing")
        slug = check_point(point)
        with transaction.atomic():
            organization = _organization(actor, customer)
            person = _handler(actor, organization, handler_id, handler)
            return services.create(
                actor,
                organization=organization,
                channel=Channel.ONSITE,
                point=slug,
                handler=person,
                project=project,
            )
