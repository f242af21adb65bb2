"""CA services: initialise the hierarchy, issue, revoke, look up. Each takes an explicit actor,
checks permissions, changes state in one transaction and records it in the audit chain."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import IntegrityError, transaction
from django.db.models import F

from certhall import clock, crashpoints
from certhall.accounts.models import Organization, Role, User
from certhall.accounts.permissions import require_provider, require_role
from certhall.accounts.services import home_provider
from certhall.audit import services as audit
from certhall.ca import crls, ocsp_store, signers
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.ca.reasons import parse_reason
from certhall.ca.registry import get_certificate, register
from certhall.errors import Conflict, InvalidInput, NotFound, RuleViolation, quoted
from certhall.pki import authority
from certhall.pki.crl import encode_entry
from certhall.pki.csr import load_csr_key
from certhall.pki.issuance import Subscriber, certificate_tbs, new_serial, signed_der
from certhall.pki.profiles import get_profile, renewed_until
from certhall.pki.serials import SERIAL_TEXT_LENGTH, parse_serial

ROOT_SLUG = "szca-root"
ISSUING_SLUG = "szca-issuing"
KEY_TYPES = ("ec", "rsa2048", "rsa3072")

ISSUE_ROLES = (Role.ISSUER, Role.CLERK, Role.CA_ADMIN)
REVOKE_ROLES = (Role.CLERK, Role.ISSUER, Role.CA_ADMIN)


# --- the hierarchy -------------------------------------------------------------------------


def active_issuing_ca() -> CertificateAuthority:
    """The newest issuing CA (the row is cached per process: ``signers.issuing_ca``)."""
    ca = signers.issuing_ca()
    if ca is None:
        raise NotFound(code="ca_missing")
    return ca


def get_ca(slug: str) -> CertificateAuthority:
    try:
        return CertificateAuthority.objects.get(slug=slug)
    except CertificateAuthority.DoesNotExist:
        raise NotFound(code="ca_unknown", slug=slug) from None


def init_ca(actor: User, key_type: str = "ec") -> tuple[CertificateAuthority, CertificateAuthority]:
    """Create the demo root CA and the issuing CA under it; refuse if they exist."""
    with audit.refusals_recorded(actor, "ca.init", object_type="ca"):
        require_role(actor, Role.CA_ADMIN)  # inside: a refusal on role is audited too
        if key_type not in KEY_TYPES:
            raise InvalidInput(
                code="key_type_invalid", known=", ".join(KEY_TYPES), key_type=key_type
            )
        if CertificateAuthority.objects.exists():
            raise Conflict(code="ca_exists")
        provider = home_provider()
        require_provider(actor, provider.pk)
        store = signers.keystore()
        now = clock.now()
        root_name, issuing_name = authority.demo_names()
        # Keys first (outside the transaction: a token is not transactional). A failure after
        # this point leaves an unused key on the token and no CA rows; init can be run again.
        suffix = f"{now:%Y%m%d}-{secrets.token_hex(4)}"
        root_ref = store.generate(f"{ROOT_SLUG}-{suffix}", key_type)
        issuing_ref = store.generate(f"{ISSUING_SLUG}-{suffix}", key_type)
        root_key, issuing_key = store.load(root_ref), store.load(issuing_ref)
        root_cert = authority.build_root(root_key, root_name, now)
        root_crl, _, root_issuers = signers.urls_for(ROOT_SLUG)
        issuing_cert = authority.build_intermediate(
            root_cert,
            root_key,
            issuing_key.public_key(),
            issuing_name,
            now,
            crl_url=root_crl,
            ca_issuers_url=root_issuers,
        )
        with transaction.atomic():
            root = CertificateAuthority.objects.create(
                provider=provider,
                slug=ROOT_SLUG,
                name=_cn(root_cert),
                kind=CertificateAuthority.Kind.ROOT,
                certificate_der=root_cert.public_bytes(Encoding.DER),
                key_ref=root_ref,
                key_type=key_type,
            )
            issuing = CertificateAuthority.objects.create(
                provider=provider,
                slug=ISSUING_SLUG,
                name=_cn(issuing_cert),
                kind=CertificateAuthority.Kind.ISSUING,
                parent=root,
                certificate_der=issuing_cert.public_bytes(Encoding.DER),
                key_ref=issuing_ref,
                key_type=key_type,
            )
            for ca in (root, issuing):
                audit.record(
                    actor,
                    "ca.init",
                    object_type="ca",
                    object_id=ca.slug,
                    after={"name": ca.name, "key_type": key_type, "key_ref": ca.key_ref},
                )
    signers.forget_cas()
    return root, issuing


def _cn(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else cert.subject.rfc4514_string()


def chain_pem(issuing: CertificateAuthority | None = None) -> bytes:
    """``issuing`` (default: the active issuing CA) then its parents up to the root, PEM: what
    relying parties install."""
    pems = []
    ca: CertificateAuthority | None = issuing or active_issuing_ca()
    while ca is not None:
        cert = x509.load_der_x509_certificate(bytes(ca.certificate_der))
        pems.append(cert.public_bytes(Encoding.PEM))
        ca = ca.parent
    return b"".join(pems)


def own_certificate(actor: User, serial: str) -> Certificate:
    """A certificate ``actor`` may download: one its organisation holds (an applicant) or one
    its provider's CA issued (staff). Another organisation's is answered as a serial that does
    not exist (NotFound), another provider's is Forbidden; OCSP responder certificates are not
    the customer's."""
    try:
        key = parse_serial(serial)
    except InvalidInput:
        raise NotFound(
            code="certificate_unknown", serial=quoted(serial, SERIAL_TEXT_LENGTH)
        ) from None
    cert = Certificate.objects.select_related("ca").filter(serial=key).first()
    missing = NotFound(code="certificate_unknown", serial=key)
    if cert is None or cert.profile == "ocsp":
        raise missing
    Certificate.objects.require_visible(actor, cert, missing=missing)
    return cert


# --- issuance ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueRequest:
    csr: bytes
    profile: str
    #: The paid term; None only when ``not_after`` keeps an old end date (变更, 介质补办).
    years: int | None
    subscriber: Subscriber
    organization: Organization | None = None
    #: The end date the business sets: a renewal's (:func:`renewal_end`), or the old end date
    #: that 变更 and 介质补办 keep. None: ``years`` from now.
    not_after: datetime | None = None


def issue(actor: User, request: IssueRequest) -> Certificate:
    """Issue a certificate from a CSR; subject and extensions come from the approved data."""
    with audit.refusals_recorded(actor, "ca.certificate.issue", object_type="certificate"):
        require_role(actor, *ISSUE_ROLES)  # inside: a refusal on role is audited too
        ca = active_issuing_ca()
        require_provider(actor, ca.provider_id)
        public_key = load_csr_key(request.csr)
        profile = get_profile(request.profile)
        issuer = signers.issuer_for(ca)
        now = clock.now()
        # A 127-bit random serial never collides in practice; the unique index makes sure.
        for _attempt in range(3):
            unsigned = certificate_tbs(
                issuer,
                public_key,
                profile,
                request.years,
                request.subscriber,
                new_serial(),
                now,
                request.not_after,
            )
            der = signed_der(issuer, unsigned.tbs)
            try:
                return register(
                    actor,
                    ca,
                    x509.load_der_x509_certificate(der),
                    profile.name,
                    request.subscriber,
                    request.organization,
                    der=der,
                    subject=unsigned.subject,
                )
            except IntegrityError:
                continue
        raise Conflict(code="serial_collision")


def renewal_end(cert: Certificate, years: int, now: datetime) -> datetime:
    """The end date of renewing ``cert`` for ``years`` (pki ``renewed_until``: what is left is
    kept), refused before anything is paid or signed when it would outlive the issuing CA."""
    end = renewed_until(cert.not_after, years, now)
    ca_cert = x509.load_der_x509_certificate(bytes(active_issuing_ca().certificate_der))
    ca_end = ca_cert.not_valid_after_utc
    if end <= ca_end:
        return end
    fitting = [n for n in range(1, years) if renewed_until(cert.not_after, n, now) <= ca_end]
    raise RuleViolation(
        code="renewal_beyond_ca",
        variant=None if fitting else "none",
        years=years,
        end=f"{end.astimezone(clock.SHANGHAI):%Y-%m-%d}",
        ca_end=f"{ca_end.astimezone(clock.SHANGHAI):%Y-%m-%d}",
        fits=max(fitting, default=0),
    )


def renew(actor: User, serial: str, csr: bytes, years: int) -> Certificate:
    """Renew ``serial`` with a new key (``csr``) for ``years``: the same subject, the end date of
    :func:`renewal_end`, the old certificate revoked as superseded. No renewal window: the
    operators' and the counter's renewal (the online hall has its own, ``ca.renewal``). A refusal
    is audited here, after the rollback, as the renewal (the issuance's is left to it)."""
    with audit.refusals_recorded(
        actor, "ca.certificate.renew", object_type="certificate", object_id=serial
    ):
        return _renew(actor, serial, csr, years)


def _renew(actor: User, serial: str, csr: bytes, years: int) -> Certificate:
    old = get_certificate(serial)
    if old.status != Certificate.Status.VALID:
        raise Conflict(code="renew_revoked", serial=old.serial)
    request = IssueRequest(
        csr=csr,
        profile=old.profile,
        years=years,
        subscriber=Subscriber(
            org_name=old.org_name,
            uscc=old.uscc,
            person_name=old.person_name or None,
            id_number=old.id_number or None,
        ),
        organization=old.organization,
        not_after=renewal_end(old, years, clock.now()),
    )
    with transaction.atomic():
        new = issue(actor, request)
        revoke(actor, old.serial, "superseded")
    return new


# --- revocation ----------------------------------------------------------------------------


def revoke(actor: User, serial: str, reason: str) -> Certificate:
    """Revoke once. The conditional UPDATE is the only place "already revoked" is decided, so
    two clerks revoking at the same moment get one revocation and one clear refusal."""
    with audit.refusals_recorded(
        actor, "ca.certificate.revoke", object_type="certificate", object_id=serial
    ):
        require_role(actor, *REVOKE_ROLES)  # inside: a refusal on role is audited too
        flag = parse_reason(reason)
        cert = get_certificate(serial)
        require_provider(actor, cert.ca.provider_id)
        now = clock.now()
        with transaction.atomic():
            # Taken first: pre-signed OCSP writes are ordered by it (ca/ocsp_store.py).
            generation = ocsp_store.next_generation()
            changed = Certificate.objects.filter(
                pk=cert.pk, status=Certificate.Status.VALID
            ).update(
                status=Certificate.Status.REVOKED,
                revoked_at=now,
                revocation_reason=reason,
                crl_entry=encode_entry(int(cert.serial, 16), now, flag),
            )
            if not changed:
                cert.refresh_from_db()
                raise Conflict(
                    code="already_revoked",
                    serial=cert.serial,
                    reason=cert.revocation_reason,
                    at=f"{cert.revoked_at:%Y-%m-%d %H:%M:%S}",
                )
            CertificateAuthority.objects.filter(pk=cert.ca_id).update(
                revocations=F("revocations") + 1
            )
            audit.record(
                actor,
                "ca.certificate.revoke",
                object_type="certificate",
                object_id=cert.serial,
                before={"status": "valid"},
                after={"status": "revoked", "reason": reason, "at": now.isoformat()},
            )
            cert.refresh_from_db()
            if cert.profile == "ocsp":  # a responder's key: what it signed goes with it
                ocsp_store.withdraw_responder_answers(cert, now, generation)
            ocsp_store.answer_revocation(cert, now, generation)
    crashpoints.reached("ca.revoked")  # committed, not yet in a CRL
    # The CRL follows every revocation (RFC 5280 leaves the cadence to the CA); if this
    # process dies first, the jobs' next round sees the count and publishes it.
    crls.publish_crl(actor, cert.ca)
    return cert


def list_certificates(actor: User) -> list[Certificate]:
    require_role(actor, Role.CA_ADMIN, Role.AUDITOR, Role.ISSUER, Role.CLERK, Role.REVIEWER)
    return list(
        Certificate.objects.visible_to(actor).select_related("ca").order_by("created_at", "pk")
    )
