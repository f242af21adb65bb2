"""JSON API of the accounts (under /api/accounts/): the same services as the pages.

Sessions: a login opens a Django session (cookie). Every unsafe call is CSRF-protected, the
logins too (login CSRF): send the ``csrftoken`` cookie's value as ``X-CSRFToken``
(``GET /api/accounts/csrf`` sets the cookie and returns the token). :data:`session` is the
session authentication of every router of the API, and :func:`require_csrf` the check of every
public unsafe call: a missing token is ``csrf_failed`` everywhere (ninja's own ``SessionAuth``
answered ``forbidden``, as if the account lacked a permission).
"""

from __future__ import annotations

from typing import Any, Literal

from django.contrib.auth import login, logout, update_session_auth_hash
from django.http import HttpRequest
from django.middleware.csrf import get_token
from ninja import Router, Schema, Status
from ninja.security import SessionAuth
from ninja.utils import check_csrf

from certhall.accounts import codes, passwords, profile, registration
from certhall.accounts import login as login_services
from certhall.accounts.backends import BACKEND
from certhall.accounts.errors import NotLoggedIn
from certhall.accounts.models import Handler, Organization, User
from certhall.errors import Forbidden
from certhall.notify.models import mask_phone
from certhall.ratelimit import client_address
from certhall.web.errors import refusals


class _Session(SessionAuth):
    """The Django session, CSRF-checked on unsafe methods; refusals as ``{"error", "message"}``
    (``fields`` too when the refusal names inputs)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        require_csrf(request)
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = request.user
        if user.is_authenticated and isinstance(user, User):
            return user
        raise NotLoggedIn()


def require_csrf(request: HttpRequest) -> None:
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE"):
        return
    if check_csrf(request) is not None:
        raise Forbidden(code="csrf_failed", variant="api")


router = Router(tags=["accounts"])
session = _Session()


def _actor(request: HttpRequest) -> User:
    user = request.auth  # type: ignore[attr-defined]
    if not isinstance(user, User):  # pragma: no cover - the auth class returns Users only
        raise NotLoggedIn()
    return user


# --- schemas -------------------------------------------------------------------------------


class CsrfOut(Schema):
    csrf_token: str


class CodeIn(Schema):
    phone: str
    purpose: Literal["login", "register"]


class CodeOut(Schema):
    sent: bool
    phone: str
    expires_in: int
    resend_after: int
    message: str


class PasswordLoginIn(Schema):
    username: str
    password: str


class CodeLoginIn(Schema):
    phone: str
    code: str


class RegisterIn(Schema):
    organization_name: str
    uscc: str
    legal_representative: str
    phone: str
    code: str
    password: str
    password_again: str
    email: str = ""


class OrganizationOut(Schema):
    id: int
    name: str
    uscc: str
    legal_representative: str


class MeOut(Schema):
    username: str
    role: str
    role_name: str
    phone: str
    email: str
    organization: OrganizationOut | None


class HandlerIn(Schema):
    name: str
    id_kind: Literal["resident_id", "hk_macau_permit", "taiwan_permit", "passport"]
    id_number: str
    phone: str


class HandlerOut(Schema):
    id: int
    organization_id: int
    name: str
    id_kind: str
    id_kind_name: str
    id_number_masked: str
    phone_masked: str


class EmailIn(Schema):
    email: str


class PasswordChangeIn(Schema):
    current: str = ""
    password: str
    password_again: str


class OkOut(Schema):
    ok: bool


def _org(org: Organization | None) -> OrganizationOut | None:
    if org is None:
        return None
    return OrganizationOut(
        id=org.pk, name=org.name, uscc=org.uscc, legal_representative=org.legal_representative
    )


def _me(user: User) -> MeOut:
    shown = profile.profile(user)
    return MeOut(
        username=user.username,
        role=user.role,
        role_name=str(user.get_role_display()),
        phone=mask_phone(user.phone) if user.phone else "",
        email=user.email,
        organization=_org(shown.organization),
    )


def _handler(handler: Handler) -> HandlerOut:
    return HandlerOut(
        id=handler.pk,
        organization_id=handler.organization_id,
        name=handler.name,
        id_kind=handler.id_kind,
        id_kind_name=str(handler.get_id_kind_display()),
        id_number_masked=profile.mask_id_number(handler.id_number),
        phone_masked=mask_phone(handler.phone),
    )


# --- endpoints -----------------------------------------------------------------------------


@router.get("/csrf", response=CsrfOut, summary="CSRF token (and cookie) for the calls below")
def csrf(request: HttpRequest) -> CsrfOut:
    return CsrfOut(csrf_token=get_token(request))


@router.post(
    "/sms-code",
    response=CodeOut,
    summary="Send an SMS code (6 digits, 5 minutes) for login or registration",
    openapi_extra=refusals(429),
)
def sms_code(request: HttpRequest, body: CodeIn) -> CodeOut:
    require_csrf(request)
    sent = codes.request_code(body.phone, body.purpose, client=client_address(request))
    return CodeOut(
        sent=True,
        phone=sent.phone_masked,
        expires_in=sent.expires_in,
        resend_after=sent.resend_after,
        message=sent.message,
    )


@router.post(
    "/register",
    response=MeOut,
    summary="Register an enterprise account (logs in)",
    openapi_extra=refusals(429),
)
def register(request: HttpRequest, body: RegisterIn) -> MeOut:
    require_csrf(request)
    user = registration.register(
        registration.Registration(**body.dict()), client=client_address(request)
    )
    login(request, user, backend=BACKEND)
    return _me(user)


@router.post(
    "/login/password",
    response=MeOut,
    summary="Log in with a password (session)",
    openapi_extra=refusals(429),
)
def login_password(request: HttpRequest, body: PasswordLoginIn) -> MeOut:
    require_csrf(request)
    user = login_services.login_with_password(
        body.username, body.password, client=client_address(request)
    )
    login(request, user, backend=BACKEND)
    return _me(user)


@router.post(
    "/login/sms",
    response=MeOut,
    summary="Log in with an SMS code (session)",
    openapi_extra=refusals(429),
)
def login_sms(request: HttpRequest, body: CodeLoginIn) -> MeOut:
    require_csrf(request)
    user = login_services.login_with_code(body.phone, body.code, client=client_address(request))
    login(request, user, backend=BACKEND)
    passwords.remember_sms_login(request.session)
    return _me(user)


@router.post(
    "/password",
    response=OkOut,
    auth=session,
    summary="Change this account's password (current password, or just after an SMS login)",
    openapi_extra=refusals(429),
)
def change_password(request: HttpRequest, body: PasswordChangeIn) -> OkOut:
    require_csrf(request)
    user = _actor(request)
    passwords.change_own(
        user,
        body.password,
        body.password_again,
        current=body.current,
        phone_proven=passwords.phone_proven(request.session),
    )
    update_session_auth_hash(request, user)
    passwords.proof_used(request.session)
    return OkOut(ok=True)


@router.post("/logout", response=OkOut, auth=session, summary="End the session")
def logout_endpoint(request: HttpRequest) -> OkOut:
    logout(request)
    return OkOut(ok=True)


@router.post(
    "/email", response=MeOut, auth=session, summary="Set the account's email (empty: none)"
)
def set_email(request: HttpRequest, body: EmailIn) -> MeOut:
    require_csrf(request)
    return _me(profile.set_email(_actor(request), body.email))


@router.get("/me", response=MeOut, auth=session, summary="The account and its organisation")
def me(request: HttpRequest) -> MeOut:
    return _me(_actor(request))


@router.get(
    "/handlers",
    response=list[HandlerOut],
    auth=session,
    summary="Handlers (经办人) of the own organisation (staff: of organization_id)",
    openapi_extra=refusals(404),
)
def handlers(request: HttpRequest, organization_id: int | None = None) -> list[HandlerOut]:
    return [_handler(h) for h in profile.list_handlers(_actor(request), organization_id)]


@router.post(
    "/handlers",
    response={201: HandlerOut},
    auth=session,
    summary="Register a handler (经办人) of the own organisation (clerks: of organization_id)",
)
def add_handler(
    request: HttpRequest, body: HandlerIn, organization_id: int | None = None
) -> Status[HandlerOut]:
    added = profile.add_handler(_actor(request), organization_id, **body.dict())
    return Status(201, _handler(added))
