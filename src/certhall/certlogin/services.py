"""Certificate login: challenges, the login itself, the certificate account, "my certificates".

The protocol (docs/certificate-login.md):

1. :func:`issue_challenge`: 32 random bytes, stored, single use, valid two minutes;
2. the certificate helper signs ``certhall-login\\n{origin}\\n{challenge}`` with the Ukey key
   after the user typed the PIN into the helper's own window;
3. :func:`certificate_login` checks, in order: the challenge (known, unused, in time; it is
   used up by this attempt whatever the outcome), the origin the helper signed for, the
   signature, the certificate (validity, path to the trust list, keyUsage, revocation), the
   enterprise's USCC; then finds or creates the organisation and the holder's applicant
   account. Every refusal has its own code and is audited with the presented certificate's
   serial and issuer; nothing else changes on a refusal.

Anonymous steps have no actor: refusals are recorded by the system actor ``system-certlogin``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from django.db import IntegrityError, transaction

from certhall import clock, ratelimit
from certhall.accounts import licence
from certhall.accounts.models import Organization, Role, User
from certhall.accounts.permissions import require_role
from certhall.accounts.services import home_provider, system_actor
from certhall.agent import protocol
from certhall.audit import services as audit
from certhall.ca.models import Certificate
from certhall.certlogin import conf
from certhall.certlogin.errors import LoginRefused
from certhall.certlogin.identity import Holder, holder_of
from certhall.certlogin.models import CertificateAccount, LoginChallenge
from certhall.certlogin.verify import Verified, verify_certificate
from certhall.errors import CerthallError, Conflict, Forbidden

MAX_CERTIFICATE_BYTES = 16 * 1024
MAX_SIGNATURE_BYTES = 1024
_USERNAME_SAFE = re.compile(r"[^A-Za-z0-9]")
#: Per client address (the certificate helper asks for one challenge per login).
CHALLENGE_LIMIT = ratelimit.Limit("certlogin_challenge", 20, 60)
LOGIN_LIMIT = ratelimit.Limit("certlogin_login", 10, 60)


def _recorder() -> User:
    return system_actor("certlogin")


# --- challenges ------------------------------------------------------------------------------


def issue_challenge(*, client: str | None, at: datetime | None = None) -> LoginChallenge:
    """A fresh login challenge (rate limited per client address)."""
    now = at or clock.now()
    _limited(CHALLENGE_LIMIT, "certlogin.challenge", client, now)
    with transaction.atomic():
        challenge = LoginChallenge.objects.create(
            nonce=protocol.new_challenge_text(secrets.token_bytes(protocol.CHALLENGE_BYTES)),
            ip=client,
            created_at=now,
            expires_at=now + timedelta(seconds=conf.CHALLENGE_SECONDS),
        )
    LoginChallenge.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()
    return challenge


def _limited(limit: ratelimit.Limit, action: str, client: str | None, now: datetime) -> None:
    """Count one request of ``client``; a refusal is recorded against the address (once per
    window: ``audit.refusals_recorded`` records a rate limit's first refusal only)."""
    with audit.refusals_recorded(
        _recorder,
        action,
        object_type="client",
        object_id=client or "unknown",
    ):
        ratelimit.check(limit, ratelimit.client_key(client), now=now)


def _consume(nonce: str, now: datetime) -> None:
    """Use up the challenge (committed at once: one attempt per challenge)."""
    try:
        protocol.check_challenge(nonce)
    except CerthallError:
        raise LoginRefused(code="challenge_unknown") from None
    with transaction.atomic():
        row = LoginChallenge.objects.select_for_update().filter(nonce=nonce).first()
        if row is None:
            raise LoginRefused(code="challenge_unknown")
        if row.used_at is not None:
            raise LoginRefused(code="challenge_used")
        LoginChallenge.objects.filter(pk=row.pk).update(used_at=now)
    if row.expires_at <= now:
        raise LoginRefused(code="challenge_expired")


# --- the login -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginAttempt:
    """What the login page sends: the helper's answer and the challenge it signed."""

    challenge: str
    certificate: bytes
    signature: bytes
    signed_origin: str
    chain: tuple[bytes, ...] = ()
    client: str | None = None


@dataclass(frozen=True)
class LoginResult:
    user: User
    account: CertificateAccount
    organization: Organization
    serial: str
    issuer: str
    subject: str
    not_after: datetime
    trusted_by: str
    created: bool

    def session_data(self) -> dict[str, str]:
        """What the session remembers about the certificate used to log in."""
        return {
            "serial": self.serial,
            "issuer": self.issuer,
            "subject": self.subject,
            "not_after": self.not_after.isoformat(),
            "trusted_by": self.trusted_by,
        }


@dataclass
class _Presented:
    """The certificate of an attempt once parsed: what a refusal's event says of it
    (``audit.refusals_recorded``), the serial as the event's object."""

    attempt: LoginAttempt
    cert: x509.Certificate | None = None

    def refused(self) -> audit.Refused:
        facts: dict[str, object] = {"client": self.attempt.client}
        if self.cert is None:
            return audit.Refused(after=facts)
        serial = format(self.cert.serial_number, "x")
        facts.update(
            serial=serial,
            issuer=self.cert.issuer.rfc4514_string(),
            subject=self.cert.subject.rfc4514_string(),
        )
        return audit.Refused(object_id=serial, after=facts)


def certificate_login(attempt: LoginAttempt, *, at: datetime | None = None) -> LoginResult:
    """Check a signed challenge and the certificate; return the account to log in to.

    LoginRefused (code per reason) or TooManyRequests, each refusal recorded
    (``audit.refusals_recorded``) with what the attempt presented.
    """
    now = at or clock.now()
    _limited(LOGIN_LIMIT, "certlogin.login", attempt.client, now)
    presented = _Presented(attempt)
    with audit.refusals_recorded(
        _recorder, "certlogin.login", object_type="certificate", refused=presented.refused
    ):
        if len(attempt.certificate) > MAX_CERTIFICATE_BYTES:
            raise LoginRefused(code="bad_certificate", detail="too large")
        try:
            cert = presented.cert = x509.load_der_x509_certificate(attempt.certificate)
        except ValueError:
            raise LoginRefused(code="bad_certificate") from None
        _consume(attempt.challenge, now)
        expected = conf.get().origin
        try:
            signed_origin = protocol.normalise_origin(attempt.signed_origin)
        except CerthallError:
            signed_origin = ""
        if signed_origin != expected:
            raise LoginRefused(
                code="origin_mismatch",
                variant="login",
                detail=f"signed for {attempt.signed_origin[:100]!r}",
            )
        message = protocol.login_message(expected, attempt.challenge)
        if len(attempt.signature) > MAX_SIGNATURE_BYTES or not protocol.verify_signature(
            cert.public_key(), attempt.signature, message
        ):
            raise LoginRefused(code="bad_signature", variant="login")
        verified = verify_certificate(cert, attempt.chain, now)
        holder = holder_of(cert)
        if holder is None:
            raise LoginRefused(code="no_uscc")
        return _log_in(cert, holder, verified, attempt, now)


def _username(holder: Holder) -> str:
    suffix = f"-{holder.id_number_hash[:12]}" if holder.id_number_hash else ""
    return f"cert-{_USERNAME_SAFE.sub('', holder.uscc)}{suffix}"


def _log_in(
    cert: x509.Certificate,
    holder: Holder,
    verified: Verified,
    attempt: LoginAttempt,
    now: datetime,
) -> LoginResult:
    serial = format(cert.serial_number, "x")
    issuer = cert.issuer.rfc4514_string()
    for _attempt in range(3):  # two first logins of one holder at once: the loser retries
        try:
            with transaction.atomic():
                return _log_in_once(cert, holder, verified, attempt, now, serial, issuer)
        except IntegrityError:
            continue
    raise Conflict(code="login_conflict")


def _organization_of(holder: Holder, recorder: User, serial: str) -> Organization:
    """The certificate's organisation by its USCC, registered on its first login; a
    registration's claim to it is checked against the certificate's name."""
    org = Organization.objects.filter(uscc=holder.uscc).first()
    if org is None:
        org = Organization.objects.create(name=holder.organization_name, uscc=holder.uscc)
        audit.record(
            recorder,
            "accounts.organization.create",
            object_type="organization",
            object_id=org.uscc,
            after={"name": org.name, "via": "certificate login", "certificate": serial},
        )
    licence.checked_by_certificate(recorder, org, holder.organization_name)
    return org


def _log_in_once(
    cert: x509.Certificate,
    holder: Holder,
    verified: Verified,
    attempt: LoginAttempt,
    now: datetime,
    serial: str,
    issuer: str,
) -> LoginResult:
    recorder = _recorder()
    org = _organization_of(holder, recorder, serial)
    account = (
        CertificateAccount.objects.select_for_update()
        .select_related("user")
        .filter(holder_key=holder.key)
        .first()
    )
    created = account is None
    if account is None:
        user = User(
            username=_username(holder),
            role=Role.APPLICANT,
            organization=org,
            first_name=(holder.person_name or holder.organization_name)[:150],
        )
        user.set_unusable_password()
        user.save()
        account = CertificateAccount.objects.create(
            user=user,
            organization=org,
            holder_key=holder.key,
            holder_name=holder.person_name or holder.organization_name[:64],
        )
        audit.record(
            recorder,
            "accounts.user.create",
            object_type="user",
            object_id=user.username,
            after={
                "role": user.role,
                "organization": org.uscc,
                "via": "certificate login",
                "certificate": serial,
            },
        )
    user = account.user
    if not user.is_active:
        raise LoginRefused(code="account_disabled", variant="login")
    account.last_login_at = now
    account.last_login_serial = serial
    account.last_login_issuer = issuer[:512]
    account.save(update_fields=["last_login_at", "last_login_serial", "last_login_issuer"])
    audit.record(
        user,
        "certlogin.login",
        object_type="certificate",
        object_id=serial,
        after={
            "issuer": issuer,
            "subject": cert.subject.rfc4514_string(),
            "organization": org.uscc,
            "trusted_by": verified.trusted_by,
            "client": attempt.client,
            "new_account": created,
        },
    )
    return LoginResult(
        user=user,
        account=account,
        organization=org,
        serial=serial,
        issuer=issuer,
        subject=cert.subject.rfc4514_string(),
        not_after=cert.not_valid_after_utc,
        trusted_by=verified.trusted_by,
        created=created,
    )


# --- after login -----------------------------------------------------------------------------


def organization_certificates(actor: User) -> list[Certificate]:
    """The certificates our CA issued to the actor's organisation (and to no one else)."""
    require_role(actor, Role.APPLICANT)
    if actor.organization_id is None:
        raise Forbidden(code="no_organization")
    return list(
        Certificate.objects.visible_to(actor)
        .filter(ca__provider=home_provider())
        .exclude(profile="ocsp")
        .select_related("ca")
        .order_by("-not_after", "pk")
    )
