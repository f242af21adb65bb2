"""Account services: system actors, staff accounts, demo accounts."""

from __future__ import annotations

import getpass

from django.db import transaction

from certhall.accounts.models import Handler, Organization, Provider, Role, User
from certhall.errors import Conflict, InvalidInput, NotFound, about
from certhall.pki.identity import validate_id_document

HOME_PROVIDER_SLUG = "szca"
HOME_PROVIDER_NAME = "深圳市电子商务安全证书管理有限公司"


def home_provider() -> Provider:
    """The provider whose CA this instance operates (created on first use)."""
    provider, _ = Provider.objects.get_or_create(
        slug=HOME_PROVIDER_SLUG, defaults={"name": HOME_PROVIDER_NAME}
    )
    return provider


def system_actor(name: str | None = None) -> User:
    """The actor for command-line and scheduled operations, named after the OS user."""
    username = f"system-{name or getpass.getuser()}"
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"role": Role.CA_ADMIN, "is_system": True, "provider": home_provider()},
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
    return user


def get_user(username: str) -> User:
    try:
        return User.objects.get(username=username)
    except User.DoesNotExist:
        raise NotFound(code="account_not_found", username=username) from None


def require_handler_fields(name: str, id_number: str, phone: str) -> None:
    """An empty handler form names every field it lacks in one refusal, not the first alone
    (a probe saw only the phone's); one field left gets that field's own refusal."""
    empty = [
        what
        for what, value in (("经办人姓名", name), ("证件号码", id_number), ("手机号码", phone))
        if not (value or "").strip()
    ]
    if len(empty) > 1:
        raise InvalidInput(code="required", what="、".join(empty))


def add_handler(
    actor: User, organization_id: int, *, name: str, id_kind: str, id_number: str, phone: str
) -> Handler:
    """Register a handler for an organisation: its own applicants or the CA's counter staff."""
    from certhall.accounts import validation
    from certhall.accounts.permissions import (
        require_organization,
        require_provider,
        require_role,
    )
    from certhall.audit import services as audit
    from certhall.notify.services import normalise_phone

    if actor.role == Role.APPLICANT:
        require_organization(actor, organization_id)
    else:  # the counter's: this instance's CA's clerks (another CA's could claim the
        # organisation: a registration claims one the counter entered by a handler's phone)
        require_role(actor, Role.CLERK, Role.CA_ADMIN)
        require_provider(actor, home_provider().pk)
        # A staff member names the organisation: an unknown one was the insert's IntegrityError
        if not Organization.objects.filter(pk=organization_id).exists():  # (an HTTP 500)
            raise NotFound(code="organization_unknown")
    require_handler_fields(name, id_number, phone)
    with about("name"):  # the handler forms' fields (web.refused)
        name = validation.person_name(name, "经办人姓名")
    with about("id_number"):
        number = validate_id_document(id_kind, id_number)
    with about("phone"):
        mobile = normalise_phone(phone)
    with transaction.atomic():
        handler, created = Handler.objects.get_or_create(
            organization_id=organization_id,
            id_kind=id_kind,
            id_number=number,
            defaults={"name": name, "phone": mobile},
        )
        if not created:
            raise Conflict(code="handler_exists")
        audit.record(
            actor,
            "accounts.handler.add",
            object_type="handler",
            object_id=handler.pk,
            after={"organization": organization_id, "name": name, "id_kind": id_kind},
        )
    return handler
