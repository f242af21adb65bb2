"""Registration of an enterprise account on the online hall (网上营业厅注册).

The registering person gives the organisation (name, USCC, legal representative), their own
mobile phone — verified first by an SMS code — and a password. The result is an applicant
account whose login name is the phone, an :class:`EnterpriseAccount` and, if the USCC is new,
the :class:`Organization`.

An organisation registers once (docs/accounts.md):

* a USCC that already has an account (registered here, or created by a certificate login) is
  refused, pointing to the login page and to the service points;
* a new USCC's organisation is a claim (``licence_unchecked``) until its business licence is
  seen (``accounts.licence``);
* a USCC known without any account (the counter entered it) may be claimed only by a phone that
  is one of that organisation's handlers (经办人): the SMS code proves the person holds it;
  otherwise refused the same way. The organisation's recorded data is kept as it is.
* one phone, one account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction

from certhall import clock, ratelimit
from certhall.accounts import codes, validation
from certhall.accounts.models import EnterpriseAccount, Handler, Organization, Role, User
from certhall.audit import services as audit
from certhall.errors import CerthallError, Conflict, InvalidInput, about
from certhall.notify.models import mask_phone

#: Wrong codes typed while registering, per phone and per client address.
VERIFY_LIMITS_PHONE = ratelimit.Limit("register_fail_phone", 5, 900, "rate_limited_register_phone")
VERIFY_LIMITS_CLIENT = ratelimit.Limit(
    "register_fail_client", 20, 900, "rate_limited_register_client"
)


@dataclass(frozen=True)
class Registration:
    organization_name: str
    uscc: str
    legal_representative: str
    phone: str
    code: str
    password: str
    password_again: str
    email: str = ""


@dataclass(frozen=True)
class _Checked:
    organization_name: str
    uscc: str
    legal_representative: str
    phone: str
    password: str
    email: str


def check(data: Registration) -> _Checked:
    """Every field, in the order of the form; the first problem is the message."""
    with about("organization_name"):
        name = validation.org_name(data.organization_name)
    uscc = validation.uscc(data.uscc)
    with about("legal_representative"):
        legal_rep = validation.person_name(data.legal_representative, "法定代表人姓名")
    phone = validation.mobile(data.phone)
    with about("email"):
        email = validation.email(data.email)
    password = validation.password(
        data.password, data.password_again, User(username=phone, email=email)
    )
    return _Checked(name, uscc, legal_rep, phone, password, email)


def register(data: Registration, *, client: str | None, now: datetime | None = None) -> User:
    """Create the account (and the organisation); the SMS code is used up only on success."""
    now = now or clock.now()
    checked = check(data)
    with audit.refusals_recorded(
        codes.recorder,
        "accounts.register",
        object_type="organization",
        object_id=checked.uscc,
        refused=audit.Refused(after={"client": client}),
    ):
        reservation = codes.reserve_guess(
            checked.phone,
            codes.Purpose.REGISTER,
            [
                (VERIFY_LIMITS_PHONE, checked.phone),
                (VERIFY_LIMITS_CLIENT, ratelimit.client_key(client)),
            ],
            now=now,
        )
        try:
            with transaction.atomic():
                user = _create(checked, data.code, client, now)
        except codes.CodeRefused as refused:  # a guess at the code: it counts
            raise InvalidInput(code=f"code_{refused.reason}").naming("code") from None
        except IntegrityError:
            ratelimit.release(reservation)
            raise Conflict(code="already_registered").naming("uscc") from None
        except CerthallError:
            ratelimit.release(reservation)  # not a guess at the code: it does not count
            raise
        ratelimit.release(reservation)
    return user


def _create(checked: _Checked, code: str, client: str | None, now: datetime) -> User:
    codes.take(checked.phone, codes.Purpose.REGISTER, code, now)
    if (
        EnterpriseAccount.objects.filter(phone=checked.phone).exists()
        or User.objects.filter(username=checked.phone).exists()
    ):
        raise Conflict(code="phone_registered").naming("phone")
    org = Organization.objects.select_for_update().filter(uscc=checked.uscc).first()
    claimed = org is not None
    if org is None:
        org = Organization.objects.create(
            name=checked.organization_name,
            uscc=checked.uscc,
            legal_representative=checked.legal_representative,
            licence_unchecked=True,  # a claim until the licence is seen (accounts.licence)
        )
    else:
        # Accounts the licence check disowned (deactivated) do not hold the organisation.
        if User.objects.filter(organization=org, is_active=True).exists():
            raise Conflict(code="already_registered").naming("uscc")
        if not Handler.objects.filter(organization=org, phone=checked.phone).exists():
            raise Conflict(code="already_registered").naming("uscc")
    user = User(
        username=checked.phone,
        role=Role.APPLICANT,
        organization=org,
        phone=checked.phone,
        email=checked.email,
    )
    user.set_password(checked.password)
    user.save()
    EnterpriseAccount.objects.create(
        user=user,
        organization=org,
        phone=checked.phone,
        registered_at=now,
        registered_from=client or "",
    )
    if not claimed:
        audit.record(
            user,
            "accounts.organization.create",
            object_type="organization",
            object_id=org.uscc,
            after={
                "name": org.name,
                "legal_representative": org.legal_representative,
                "via": "registration",
            },
        )
    audit.record(
        user,
        "accounts.register",
        object_type="user",
        object_id=user.username,
        after={
            "role": user.role,
            "organization": org.uscc,
            "phone": mask_phone(checked.phone),
            "email": bool(checked.email),
            "claimed_existing_organization": claimed,
            "client": client,
        },
    )
    return user
