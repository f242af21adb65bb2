"""Online renewal (网上续期) of a certificate onto a new key on the same Ukey.

The hall's renewal flow (a separate issue: order, payment) calls :func:`renew` **after
payment** with the payment reference, then :func:`confirm_installed` once the certificate helper
wrote the new certificate to the Ukey. :func:`quote_renewal` tells the page what the renewal
costs and whether the rules allow it, before payment.

Authentication is the current certificate: the renewal request is signed by the old key
(``certhall.agent.protocol.renewal_message``: origin, old serial, SHA-256 of the new public key,
years), on the Ukey, after the user typed the PIN into the helper. The new key's CSR proves the
new key. The actor must be an applicant of the certificate's organisation (or CA staff of our
provider, for assisted renewals).

States (:data:`TRANSITIONS`)::

    requested --issue--> issued --helper wrote it--> installed --old revoked--> completed
                           |
                           +--the Ukey's 介质补办 (both revoked with it)--> replaced

* A Ukey lost or damaged before the helper wrote the new certificate cannot finish the
  renewal: its 介质补办 (``ukeys.replace_medium``, which revokes both certificates with it)
  closes the renewal in its own transaction (:func:`close_on_replacement`: ``issued ->
  replaced``, an ``installed`` one ``-> completed``) and tells the hall
  (:data:`renewal_closed`), whose replacement of the renewed certificate carries its end date.

* The old certificate stays valid until the new one is on the Ukey; only then is it revoked
  (reason ``superseded``). An interruption at any step leaves a working certificate: before
  ``installed`` the old one, after it the new one (and, until ``completed``, both).
* Idempotent per old serial + new public key: a retry with the same key (the helper finds the
  key it generated, by its label ``renew-<old serial>``) continues where it stopped and returns
  the same new certificate; issuance and the state change commit together, so a crash never
  leaves an issued certificate without its renewal record.
* One open renewal per certificate: another key while one is open is refused
  (``renewal_in_progress``), so a paid renewal cannot be issued twice.
* Refused: a revoked certificate (``certificate_revoked``), an expired one and one outside the
  window — 90 days before expiry until expiry, checked by ``certhall.rules.enforce`` (the one
  place the window lives) — and a chargeable renewal without a payment reference
  (``payment_required``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction
from django.dispatch import Signal

from certhall import clock, config, crashpoints, money
from certhall.accounts.models import Organization, Role, User
from certhall.accounts.permissions import require_role
from certhall.accounts.services import system_actor
from certhall.agent import protocol
from certhall.audit import services as audit
from certhall.ca import registry
from certhall.ca import services as ca_services
from certhall.ca.models import Certificate
from certhall.certlogin.models import Renewal
from certhall.errors import Conflict, Forbidden, InvalidInput, NotFound, RuleViolation, bounded
from certhall.lifecycle import Lifecycle, LostRace, transition
from certhall.pki.csr import load_csr
from certhall.pki.issuance import Subscriber
from certhall.pki.keys import same_public_key
from certhall.pki.profiles import get_profile
from certhall.rules import Quote, QuoteRefused, default_catalog, enforce, quote
from certhall.ukeys.models import Ukey

State = Renewal.State

#: The allowed transitions; every other one is refused. Tested exhaustively.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.REQUESTED: frozenset({State.ISSUED}),
    State.ISSUED: frozenset({State.INSTALLED, State.REPLACED}),
    State.INSTALLED: frozenset({State.COMPLETED}),
    State.COMPLETED: frozenset(),
    State.REPLACED: frozenset(),
}

#: A renewal in one of these is over: the old certificate may be renewed again (if valid).
CLOSED = frozenset({State.COMPLETED, State.REPLACED})

RENEWALS: Lifecycle[Renewal] = Lifecycle(
    kind="renewal",
    model="certlogin.Renewal",
    states=State,
    table=TRANSITIONS,
    noun="证书更新",
    key=lambda renewal: str(renewal.pk),
    refused="renewal_state",
    changed="renewal_changed",
    actions={
        State.ISSUED: "ca.renewal.issue",
        State.INSTALLED: "ca.renewal.install",
        State.COMPLETED: "ca.renewal.complete",
        State.REPLACED: "ca.renewal.replaced",
    },
    snapshot=lambda renewal: {"state": renewal.state},
)

RENEW_ROLES = (Role.APPLICANT, *ca_services.ISSUE_ROLES)

#: ``renewal_closed.send(sender=Renewal, renewal=renewal, actor=actor)``, sent INSIDE the
#: transaction of a Ukey's 介质补办 for each renewal it closed, after the Ukey's certificates
#: were revoked: the hall closes the renewal's application in the same transaction. A receiver
#: that raises rolls the replacement back; receivers must be idempotent and quick.
renewal_closed = Signal()


def _check_actor(actor: User, cert: Certificate) -> None:
    require_role(actor, *RENEW_ROLES)
    Certificate.objects.require_visible(actor, cert)


def _renewer() -> User:
    """The system actor that issues and revokes for online renewals (the CA side of it)."""
    return system_actor("renewal")


@dataclass(frozen=True)
class RenewalRequest:
    """What the helper produced (CSR of the new key, old key's signature) and the order."""

    old_serial: str
    csr: bytes
    years: int
    signature: bytes
    #: The origin the helper signed for; must be this hall's (CERTHALL_BASE_URL).
    origin: str
    #: The payment of a chargeable renewal (the hall's payment flow sets it).
    payment_ref: str = ""


def quote_renewal(actor: User, old_serial: str, years: int, at: datetime | None = None) -> Quote:
    """The fee and every refusing rule of renewing ``old_serial`` online for ``years``."""
    cert = registry.get_certificate(old_serial)
    _check_actor(actor, cert)
    ca_services.renewal_end(cert, years, at or clock.now())
    return quote(
        "renew",
        cert.profile,
        years=years,
        channel="online",
        at=at or clock.now(),
        cert_expiry=cert.not_after,
    )


def get_renewal(actor: User, renewal_id: int) -> Renewal:
    try:
        renewal = Renewal.objects.select_related("old_certificate__ca", "new_certificate").get(
            pk=renewal_id
        )
    except Renewal.DoesNotExist:
        raise NotFound(code="renewal_unknown", renewal=renewal_id) from None
    _check_actor(actor, renewal.old_certificate)
    return renewal


def _check_signature(old: x509.Certificate, request: RenewalRequest, new_key_sha256: str) -> None:
    expected = protocol.normalise_origin(config.get().base_url)
    try:
        signed = protocol.normalise_origin(request.origin)
    except InvalidInput:
        signed = ""
    if signed != expected:
        raise Forbidden(code="origin_mismatch")
    message = protocol.renewal_message(
        expected, format(old.serial_number, "x"), new_key_sha256, request.years
    )
    if not protocol.verify_signature(old.public_key(), request.signature, message):
        raise Forbidden(code="bad_signature")


def renew(actor: User, request: RenewalRequest, *, at: datetime | None = None) -> Renewal:
    """Request the renewal and issue the new certificate; on a retry, continue.

    Called by the hall's renewal flow after payment. Returns the renewal in state ``issued``
    (or later, on a retry after the install step), with ``new_certificate``.
    """
    now = at or clock.now()
    with audit.refusals_recorded(
        actor, "ca.renewal.request", object_type="certificate", object_id=request.old_serial
    ):
        require_role(actor, *RENEW_ROLES)  # inside: a refusal on role is audited too
        old = registry.get_certificate(request.old_serial)
        _check_actor(actor, old)
        old_cert = x509.load_der_x509_certificate(bytes(old.der))
        csr = load_csr(request.csr)
        new_key = csr.public_key()
        if same_public_key(new_key, old_cert.public_key()):
            raise InvalidInput(code="same_key")
        new_hash = protocol.public_key_sha256(new_key)
        _check_signature(old_cert, request, new_hash)
        renewal = Renewal.objects.filter(old_certificate=old, new_key_sha256=new_hash).first()
        if renewal is None:
            renewal = _create(actor, old, request, csr, new_hash, now)
        if renewal.state == State.REPLACED:  # the helper came back with the Ukey found again
            raise Conflict(code="renewal_replaced")
        if renewal.state == State.REQUESTED:
            renewal = _issue(actor, renewal, old, now)
            crashpoints.reached("renewal.issued")
    return Renewal.objects.select_related("new_certificate", "old_certificate").get(pk=renewal.pk)


def _create(
    actor: User,
    old: Certificate,
    request: RenewalRequest,
    csr: x509.CertificateSigningRequest,
    new_hash: str,
    now: datetime,
) -> Renewal:
    if old.status != Certificate.Status.VALID:
        raise Conflict(code="certificate_revoked")
    if old.not_after <= now:
        raise RuleViolation(
            code="renewal_expired", rule=default_catalog().online_renewal.expired_rule
        )
    get_profile(old.profile).check_years(request.years)
    ca_services.renewal_end(old, request.years, now)  # refused before payment, not after
    try:
        answer = enforce(
            "renew",
            old.profile,
            years=request.years,
            channel="online",
            at=now,
            cert_expiry=old.not_after,
        )
    except QuoteRefused as refused:
        refused.code = refused.quote.refusals[0].rule  # renewal_too_early, renewal_expired ...
        raise
    payment_ref = bounded(request.payment_ref.strip(), 64, "付款凭证号")
    if answer.fee_yuan > 0 and not payment_ref:
        raise RuleViolation(code="payment_required", fee=money.grouped(answer.fee_yuan))
    try:
        with transaction.atomic():
            if Renewal.objects.filter(old_certificate=old).exclude(state__in=CLOSED).exists():
                raise Conflict(code="renewal_in_progress")
            renewal = Renewal.objects.create(
                old_certificate=old,
                new_key_sha256=new_hash,
                csr_der=csr.public_bytes(Encoding.DER),
                years=request.years,
                fee_yuan=answer.fee_yuan,
                payment_ref=payment_ref,
                requested_by=actor,
            )
            audit.record(
                actor,
                "ca.renewal.request",
                object_type="renewal",
                object_id=renewal.pk,
                after={
                    "old_serial": old.serial,
                    "new_key_sha256": new_hash,
                    "years": request.years,
                    "fee_yuan": str(answer.fee_yuan),
                    "payment_ref": payment_ref,
                },
            )
    except IntegrityError:  # the same request at the same moment: the other one won
        existing = Renewal.objects.filter(old_certificate=old, new_key_sha256=new_hash).first()
        if existing is None:
            raise Conflict(code="renewal_in_progress", variant="race") from None
        return existing
    return renewal


def _subscriber(old: Certificate) -> Subscriber:
    """The subscriber data of the old certificate, so the new one has the same subject."""
    subject = x509.load_der_x509_certificate(bytes(old.der)).subject

    def first(oid: x509.ObjectIdentifier, default: str) -> str:
        values = subject.get_attributes_for_oid(oid)
        return str(values[0].value) if values else default

    return Subscriber(
        org_name=old.org_name,
        uscc=old.uscc,
        person_name=old.person_name or None,
        id_number=old.id_number or None,
        province=first(NameOID.STATE_OR_PROVINCE_NAME, "广东省"),
        locality=first(NameOID.LOCALITY_NAME, "深圳市"),
    )


def _still_valid(old: Certificate) -> None:
    """``old`` read again once the issuance's transaction holds the audit chain's head (its
    events are written): a revocation (``ca.services.revoke``, which records its event in its
    own transaction) committed since the first read is seen and refuses this issuance, one not
    yet committed comes after it. Read once before the signing only, a keyCompromise committed
    meanwhile was overtaken by a renewal signed with that key (12-07, h5). Not a row lock: a
    Ukey's 介质补办 writes its event before it revokes, and would deadlock with one."""
    if Certificate.objects.filter(pk=old.pk).values_list("status", flat=True).get() != (
        Certificate.Status.VALID
    ):
        raise Conflict(code="certificate_revoked")


def _issue(actor: User, renewal: Renewal, old: Certificate, now: datetime) -> Renewal:
    """Issue the new certificate and record it, in one transaction."""
    organization = old.organization or Organization.objects.filter(uscc=old.uscc).first()
    with transaction.atomic():
        locked = Renewal.objects.select_for_update().get(pk=renewal.pk)
        if locked.state != State.REQUESTED:
            return locked  # issued by a concurrent retry
        current = Certificate.objects.get(pk=old.pk)
        if current.status != Certificate.Status.VALID:
            raise Conflict(code="certificate_revoked")
        row = ca_services.issue(
            _renewer(),
            ca_services.IssueRequest(
                csr=bytes(locked.csr_der),
                profile=old.profile,
                years=locked.years,
                subscriber=_subscriber(old),
                organization=organization,
                not_after=ca_services.renewal_end(current, locked.years, now),
            ),
        )
        if row.subject != old.subject:
            raise Conflict(code="subject_changed", new=row.subject, old=old.subject)
        # The new key was generated on the Ukey that holds the old certificate: the new
        # certificate belongs to that medium from now on (a lost Ukey's 介质补办 revokes it too).
        media = list(Ukey.objects.filter(certificates=old))
        for medium in media:
            medium.certificates.add(row)
        transition(
            actor,
            RENEWALS,
            locked,
            State.ISSUED,
            fields={"new_certificate": row, "issued_at": now},
            extra_after={
                "old_serial": old.serial,
                "new_serial": row.serial,
                "ukeys": [medium.serial for medium in media],
            },
        )
        _still_valid(old)
        crashpoints.reached("renewal.signed")  # signed, not yet committed
    return locked


def confirm_installed(actor: User, renewal_id: int, *, at: datetime | None = None) -> Renewal:
    """The helper wrote the new certificate to the Ukey: revoke the old one (superseded) and
    complete. Idempotent; a retry after an interruption completes."""
    now = at or clock.now()
    with audit.refusals_recorded(
        actor, "ca.renewal.install", object_type="renewal", object_id=renewal_id
    ):
        require_role(actor, *RENEW_ROLES)  # inside: a refusal on role is audited too
        renewal = get_renewal(actor, renewal_id)
        if renewal.state == State.REQUESTED:
            raise Conflict(code="renewal_not_issued")
        if renewal.state == State.ISSUED:
            # A concurrent retry that got there first is the same outcome (LostRace).
            with contextlib.suppress(LostRace), transaction.atomic():
                transition(actor, RENEWALS, renewal, State.INSTALLED, fields={"installed_at": now})
            crashpoints.reached("renewal.installed")
        if renewal.state == State.INSTALLED:
            _complete(actor, renewal, now)
    return Renewal.objects.select_related("new_certificate", "old_certificate").get(pk=renewal.pk)


def _complete(actor: User, renewal: Renewal, now: datetime) -> None:
    old = Certificate.objects.get(pk=renewal.old_certificate_id)
    if old.status == Certificate.Status.VALID:
        # Revoked in the meantime (a concurrent retry, or a clerk): nothing to undo.
        with contextlib.suppress(Conflict):
            ca_services.revoke(_renewer(), old.serial, "superseded")
    old.refresh_from_db()
    with contextlib.suppress(LostRace), transaction.atomic():
        transition(
            actor,
            RENEWALS,
            renewal,
            State.COMPLETED,
            fields={"completed_at": now},
            extra_after={
                "old_serial": old.serial,
                "old_revocation_reason": old.revocation_reason,
            },
        )


def close_on_replacement(actor: User, ukey: Ukey, cause: str) -> list[Renewal]:
    """介质补办 of ``ukey`` (``cause``: 遗失 or 损坏), inside its transaction, after every valid
    certificate on it was revoked: an open renewal whose new certificate was on it can never be
    finished by the helper, so it is over. ``issued`` (never written) ``-> replaced``;
    ``installed`` (written, the old one revoked by the replacement rather than by
    :func:`confirm_installed`) ``-> completed``. Each is audited and :data:`renewal_closed` is
    sent. Returns the renewals closed."""
    now = clock.now()
    closed = []
    open_ones = (
        Renewal.objects.select_for_update(of=("self",))
        .select_related("old_certificate", "new_certificate")
        .filter(new_certificate__ukeys=ukey, state__in=[State.ISSUED, State.INSTALLED])
        .order_by("pk")
    )
    for renewal in open_ones:
        target = State.REPLACED if renewal.state == State.ISSUED else State.COMPLETED
        old, new = renewal.old_certificate, renewal.new_certificate
        assert new is not None  # noqa: S101 - issued or installed: the table's constraint
        transition(
            actor,
            RENEWALS,
            renewal,
            target,
            fields={"completed_at": now},
            extra_after={
                "ukey": ukey.serial,
                "cause": cause,
                "old_serial": old.serial,
                "old_status": old.status,
                "new_serial": new.serial,
                "new_status": new.status,
            },
        )
        renewal_closed.send(sender=Renewal, renewal=renewal, actor=actor)
        closed.append(renewal)
    return closed


@dataclass(frozen=True)
class Unwritten:
    """A certificate's part in an online renewal issued and not yet written to the Ukey."""

    #: True for the renewal's new certificate, False for the old one it renews.
    renewed: bool
    #: The other certificate's serial.
    other: str


def unwritten_renewals(certificates: list[Certificate]) -> dict[str, Unwritten]:
    """Of ``certificates`` (the organisation's, already read): serial -> its part in an online
    renewal issued and not yet written to the Ukey. One query."""
    ids = [c.pk for c in certificates]
    parts: dict[str, Unwritten] = {}
    open_ones = Renewal.objects.filter(
        old_certificate_id__in=ids, state__in=[State.ISSUED, State.INSTALLED]
    ).values_list("old_certificate__serial", "new_certificate__serial")
    for old, new in open_ones:
        parts[old] = Unwritten(renewed=False, other=new)
        parts[new] = Unwritten(renewed=True, other=old)
    return parts
