"""Input checks of the account services, with messages in Chinese for the person typing.

Its refusals name the forms' fields they are about (``CerthallError.fields``: ``phone``,
``uscc``, ``password``, ``password_again``), which a form shown again marks (``web.refused``).
The checks themselves live elsewhere (``certhall.pki.identity`` for the USCC and for names the CA
will certify, the notifier for mobile numbers, Django's password validators); this module only
gives their refusals the words a user of the online hall reads. Every door (registration, the
hall, the counter, the API) checks names here, with the CA's own rule.
"""

from __future__ import annotations

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation

from certhall.accounts.models import User
from certhall.errors import InvalidInput, about
from certhall.notify.services import normalise_phone
from certhall.pki import identity
from certhall.pki.identity import validate_uscc


def mobile(phone: str) -> str:
    """A mobile number; refused naming the field ``phone`` (every form's name for it)."""
    try:
        return normalise_phone(phone)
    except InvalidInput:
        raise InvalidInput(code="phone_invalid").naming("phone") from None


def uscc(code: str) -> str:
    """A USCC checked by the CA's own rule (GB 32100-2015); its refusals say where it is wrong
    and name the field ``uscc`` (every form's name for it)."""
    with about("uscc"):
        return validate_uscc(code)


def org_name(value: str, what: str = "单位名称") -> str:
    """An organisation's name: the CA's own rule (``pki.identity.org_name``), at the door."""
    return identity.org_name(value, what)


def person_name(value: str, what: str = "姓名") -> str:
    """A person's name: the CA's own rule (``pki.identity.person_name``), at the door."""
    return identity.person_name(value, what)


def text(value: str, what: str, max_length: int, *, required: bool = True) -> str:
    """Free text that no certificate holds (an address, a reason): whitespace runs become one
    space; nothing invisible (NUL, control, direction or format characters)."""
    cleaned = " ".join((value or "").split())
    if not cleaned:
        if required:
            raise InvalidInput(code="required", what=what)
        return ""
    return identity.visible_text(cleaned, max_length, what)


def email(value: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        return ""
    try:
        validate_email(cleaned)
    except ValidationError:
        raise InvalidInput(code="email_invalid") from None
    return cleaned


def password(value: str, again: str, user: User) -> str:
    """Django's password validators (at least 8 characters, not common, not all digits), in
    Chinese; and the two entries must match. Its refusals name the forms' fields (``password``,
    ``password_again``: the registration's, 修改密码's)."""
    if value != again:
        raise InvalidInput(code="password_mismatch").naming("password_again")
    with translation.override("zh-hans"):
        try:
            validate_password(value, user)
        except ValidationError as error:
            raise InvalidInput(
                code="password_weak", reasons="".join(str(m) for m in error.messages)
            ).naming("password") from None
    return value
