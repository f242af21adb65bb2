"""The account pages under /accounts/: register, login (password / SMS code), logout, profile,
password change, handlers. Thin: read the form, call one service, render or redirect. A
refusal is shown on the same page, with the form as typed (never the passwords) and the
error's HTTP status.

All POSTs are CSRF-protected by Django's middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods, require_POST

from certhall.accounts import codes, passwords, profile, registration
from certhall.accounts import login as login_services
from certhall.accounts.backends import BACKEND
from certhall.accounts.models import Handler, User
from certhall.errors import CerthallError
from certhall.messages import text
from certhall.ratelimit import client_address
from certhall.web.errors import attempt, form_page, text_field, typed

HOME = "/accounts/profile/"
#: The registration form's fields (the keywords of ``registration.Registration`` besides the
#: passwords), named as a refusal names them.
REGISTER_FIELDS = {
    "organization_name": "单位名称",
    "uscc": "统一社会信用代码",
    "legal_representative": "法定代表人",
    "phone": "手机号码",
    "code": "验证码",
    "email": "电子邮箱",
}
#: The handler form's fields, the keywords of ``profile.add_handler``.
HANDLER_FIELDS = {
    "name": "姓名",
    "id_kind": "证件类型",
    "id_number": "证件号码",
    "phone": "手机号码",
}
#: The longest text of an account form but a password (4096).
LIMIT = 200


def _field(request: HttpRequest, name: str, limit: int = LIMIT, what: str = "") -> str:
    return text_field(request.POST, name, limit, strip=False, what=what)  # passwords as typed


def _fields(request: HttpRequest, names: dict[str, str]) -> dict[str, str]:
    """The form's texts, each refused past ``LIMIT`` naming its field (inside ``attempt``: the
    refusal beside the form, the other fields as typed)."""
    return {name: _field(request, name, what=what) for name, what in names.items()}


def _next(request: HttpRequest) -> str:
    target = str(request.POST.get("next") or request.GET.get("next") or "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return HOME


def account_page[R: HttpResponseBase](view: Callable[..., R]) -> Callable[..., R | HttpResponse]:
    """A page of the logged-in account (anonymous: to the login page), never cached; the view
    is called with the account's user after the request (a streamed file too: ``R``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> R | HttpResponse:
        user = request.user
        if not isinstance(user, User):  # pragma: no cover - login_required let no anonymous in
            return HttpResponseRedirect("/accounts/login/")
        return view(request, user, *args, **kwargs)

    return login_required(wrapper)


def _open_session(request: HttpRequest, user: User, *, by_sms: bool = False) -> HttpResponse:
    login(request, user, backend=BACKEND)
    if by_sms:
        passwords.remember_sms_login(request.session)
    return HttpResponseRedirect(_next(request))


@csrf_protect
@require_http_methods(["GET", "POST"])
def register_page(request: HttpRequest) -> HttpResponse:
    form = typed(request.POST, REGISTER_FIELDS, LIMIT) if request.POST else {}
    # where the customer was going (an SMS link's page, through the login page): there after
    # registering too, not 我的账户
    context: dict[str, Any] = {"form": form, "next": _next(request)}
    if request.method != "POST":
        return form_page(request, "accounts/register.html", context)
    client = client_address(request)
    if request.POST.get("action") == "send_code":
        sent, error = attempt(
            lambda: codes.request_code(_field(request, "phone"), "register", client=client)
        )
        context["notice"] = sent.message if sent else ""
        context["code_wait"] = codes.sending_wait(error)
        return form_page(request, "accounts/register.html", context, error)
    user, error = attempt(
        lambda: registration.register(
            registration.Registration(
                **_fields(request, REGISTER_FIELDS),
                password=_field(request, "password", 4096),
                password_again=_field(request, "password_again", 4096),
            ),
            client=client,
        )
    )
    if user is None:
        return form_page(request, "accounts/register.html", context, error)
    login(request, user, backend=BACKEND)
    messages.success(request, text("done_registered"))
    return HttpResponseRedirect(context["next"])


@csrf_protect
@require_http_methods(["GET", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    tab = "sms" if (request.POST or request.GET).get("tab") == "sms" else "password"
    context: dict[str, Any] = {
        "tab": tab,
        "next": _next(request),
        **typed(request.POST, ("username", "phone"), 150),
    }
    if request.method != "POST":
        return form_page(request, "accounts/login.html", context)
    client = client_address(request)
    if request.POST.get("action") == "send_code":
        sent, error = attempt(
            lambda: codes.request_code(_field(request, "phone", 40), "login", client=client)
        )
        context["notice"] = sent.message if sent else ""
        context["code_wait"] = codes.sending_wait(error)
        return form_page(request, "accounts/login.html", context, error)

    def log_in() -> User:
        if tab == "sms":
            code = _field(request, "code", 20)
            phone = _field(request, "phone", 40)
            return login_services.login_with_code(phone, code, client=client)
        password = _field(request, "password", 4096)
        username = _field(request, "username", 150)
        return login_services.login_with_password(username, password, client=client)

    user, error = attempt(log_in)
    if user is None:
        return form_page(request, "accounts/login.html", context, error)
    return _open_session(request, user, by_sms=tab == "sms")


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return HttpResponseRedirect("/accounts/login/")


@account_page
def profile_page(request: HttpRequest, user: User) -> HttpResponse:
    context = {"profile": profile.profile(user), "email_value": user.email}
    return render(request, "accounts/profile.html", context)


@account_page
@require_POST
def email_view(request: HttpRequest, user: User) -> HttpResponse:
    """The profile page's email form: saved and back to the profile, or the profile with the
    refusal beside the form and what was typed."""
    _, error = attempt(lambda: profile.set_email(user, _field(request, "email", 4096)))
    if error is not None:
        shown = typed(request.POST, ("email",), 4096).get("email", "")  # whole, or not at all
        context = {"profile": profile.profile(user), "email_value": shown}
        return form_page(request, "accounts/profile.html", context, error)
    messages.success(request, text("done_email_saved" if user.email else "done_email_removed"))
    return HttpResponseRedirect(HOME)


@account_page
@require_http_methods(["GET", "POST"])
def password_page(request: HttpRequest, user: User) -> HttpResponse:
    context: dict[str, Any] = {
        "phone_proven": passwords.phone_proven(request.session),
        "has_password": user.has_usable_password(),
    }
    if request.method != "POST":
        return form_page(request, "accounts/password.html", context)
    _, error = attempt(
        lambda: passwords.change_own(
            user,
            _field(request, "password", 4096),
            _field(request, "password_again", 4096),
            current=_field(request, "current", 4096),
            phone_proven=context["phone_proven"],
        )
    )
    if error is not None:
        return form_page(request, "accounts/password.html", context, error)
    update_session_auth_hash(request, user)  # this session stays; the account's others end
    passwords.proof_used(request.session)
    messages.success(request, text("done_password_changed"))
    return HttpResponseRedirect(HOME)


@account_page
@require_http_methods(["GET", "POST"])
def handlers_page(request: HttpRequest, user: User) -> HttpResponse:
    form = typed(request.POST, HANDLER_FIELDS, LIMIT) if request.POST else {}
    error: CerthallError | None = None
    if request.method == "POST":
        added, error = attempt(
            lambda: profile.add_handler(user, None, **_fields(request, HANDLER_FIELDS))
        )
        if added is not None:
            messages.success(request, text("done_handler_added", name=added.name))
            return HttpResponseRedirect("/accounts/handlers/")
    context = {
        "profile": profile.profile(user),
        "form": form,
        "id_kinds": Handler.IdKind.choices,
    }
    return form_page(request, "accounts/handlers.html", context, error)
