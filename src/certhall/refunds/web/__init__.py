"""The refund programme's pages: ``public`` (enterprises), ``counter`` (CA staff), ``officer``
(refund officers)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.http import urlencode

from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.errors import Forbidden

View = Callable[..., HttpResponse]
LOGIN = "/accounts/login/"


def staff_step(view: View) -> View:
    """A login (else the login page, coming back here); the view gets the actor after the
    request. Never cached. Alone, for a staff page's POST button whose service asks the role
    and audits its refusal (``audit.refusals_recorded``): another role's press is the same 403
    page as :func:`staff_page` gives, recorded as the step it tried."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            target = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{LOGIN}?{target}")
        user = request.user
        if not isinstance(user, User):
            raise Forbidden(code="refund_no_organization")
        return view(request, user, *args, **kwargs)

    return wrapped


def staff_page(*roles: Role) -> Callable[[View], View]:
    """A staff page: :func:`staff_step`, then one of ``roles`` (else the 403 page)."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(request: HttpRequest, user: User, *args: Any, **kwargs: Any) -> HttpResponse:
            require_role(user, *roles)
            return view(request, user, *args, **kwargs)

        return staff_step(checked)

    return decorate
