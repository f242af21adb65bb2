"""The trust list: CA certificates of other providers and their CRLs, kept by a CA administrator.

``certhall certlogin trust-import --cert root.pem --crl-url URL`` and ``crl-refresh`` call these
services. A CRL is stored only after its issuer name and signature check out against the CA
certificate and while it is fresh (before its nextUpdate); a CRL number never goes backwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.serialization import Encoding
from django.db import transaction

from certhall import clock
from certhall.accounts.models import Role, User
from certhall.accounts.permissions import require_role
from certhall.audit import services as audit
from certhall.ca.models import CertificateAuthority
from certhall.certlogin.models import TrustedRoot
from certhall.errors import CerthallError, Conflict, InvalidInput, NotFound
from certhall.pki import identity

#: The default label's name in a refusal: the certificate's own, which the operator replaces.
DEFAULT_NAME = "证书中的名称（可用 --name 另起名称）"
MAX_CERTIFICATE_BYTES = 64 * 1024
MAX_CRL_BYTES = 64 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 20


def load_certificate(data: bytes) -> x509.Certificate:
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise InvalidInput(code="certificate_too_large")
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError:
        raise InvalidInput(code="certificate_malformed") from None


def load_crl(data: bytes) -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN" in data[:200]:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise InvalidInput(code="crl_malformed") from None


def _check_ca(cert: x509.Certificate) -> None:
    try:
        bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        bc = None
    if bc is None or not bc.ca:
        raise InvalidInput(code="not_a_ca", subject=cert.subject.rfc4514_string())


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


@dataclass(frozen=True)
class _CheckedCrl:
    der: bytes
    number: int | None
    this_update: datetime
    next_update: datetime
    entries: int

    def fields(self, now: datetime) -> dict[str, object]:
        return {
            "crl_der": self.der,
            "crl_number": self.number,
            "crl_this_update": self.this_update,
            "crl_next_update": self.next_update,
            "crl_entries": self.entries,
            "crl_fetched_at": now,
        }


def _check_crl(cert: x509.Certificate, name: str, data: bytes, now: datetime) -> _CheckedCrl:
    """A CRL issued and signed by ``cert``, before its nextUpdate (InvalidInput otherwise)."""
    parsed = load_crl(data)
    if parsed.issuer != cert.subject:
        raise InvalidInput(code="crl_issuer", issuer=parsed.issuer.rfc4514_string(), name=name)
    if not parsed.is_signature_valid(cert.public_key()):  # type: ignore[arg-type]
        raise InvalidInput(code="crl_signature", name=name)
    next_update = parsed.next_update_utc
    if next_update is None or next_update <= now:
        raise InvalidInput(code="crl_stale")
    number_ext = None
    with contextlib.suppress(x509.ExtensionNotFound):
        number_ext = parsed.extensions.get_extension_for_class(x509.CRLNumber).value
    return _CheckedCrl(
        der=parsed.public_bytes(Encoding.DER),
        number=number_ext.crl_number if number_ext is not None else None,
        this_update=parsed.last_update_utc,
        next_update=next_update,
        entries=len(parsed),
    )


def _crl_event(checked: _CheckedCrl) -> dict[str, object]:
    return {
        "number": checked.number,
        "entries": checked.entries,
        "next_update": checked.next_update.isoformat(),
    }


def import_trusted_ca(
    actor: User,
    certificate: bytes,
    *,
    name: str = "",
    crl_url: str = "",
    crl: bytes | None = None,
    at: datetime | None = None,
) -> TrustedRoot:
    """Trust a CA certificate of another provider for certificate login.

    With ``crl`` (DER or PEM) or ``crl_url`` (fetched now) the CA's CRL is checked and stored
    too; if the CRL is refused, nothing is imported.
    """
    require_role(actor, Role.CA_ADMIN)
    now = at or clock.now()
    with audit.refusals_recorded(actor, "certlogin.trust.import", object_type="trusted_ca"):
        cert = load_certificate(certificate)
        _check_ca(cert)
        if crl_url and not crl_url.startswith(("http://", "https://")):
            raise InvalidInput(code="crl_url")
        der = cert.public_bytes(Encoding.DER)
        digest = fingerprint(der)
        ours = {fingerprint(bytes(ca.certificate_der)) for ca in CertificateAuthority.objects.all()}
        if digest in ours:
            raise Conflict(code="own_ca")
        if TrustedRoot.objects.filter(fingerprint_sha256=digest).exists():
            raise Conflict(code="exists", fingerprint=digest[:16])
        cn = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
        # the operator's name refused past the column, never cut, and with an invisible
        # character (staff read it in the list and in every CRL refusal); the certificate's
        # own name (its CN or subject) is only a default label, shortened to fit, and held to
        # the same rule: with such a character the operator gives a name of their own
        label = identity.visible_text(name.strip(), 128, "名称")
        if not label:
            label = (str(cn[0].value) if cn else cert.subject.rfc4514_string())[:128]
            identity.refuse_invisible(label, DEFAULT_NAME)
        checked = None
        if crl is None and crl_url:
            crl = fetch(crl_url)
        if crl is not None:
            checked = _check_crl(cert, label, crl, now)
        with transaction.atomic():
            root = TrustedRoot.objects.create(
                name=label,
                subject=cert.subject.rfc4514_string()[:512],
                certificate_der=der,
                fingerprint_sha256=digest,
                self_signed=_self_signed(cert),
                not_after=cert.not_valid_after_utc,
                crl_url=crl_url,
                imported_by=actor,
                **(checked.fields(now) if checked else {}),
            )
            audit.record(
                actor,
                "certlogin.trust.import",
                object_type="trusted_ca",
                object_id=digest,
                after={
                    "name": label,
                    "subject": root.subject,
                    "crl_url": crl_url,
                    "crl": _crl_event(checked) if checked else None,
                },
            )
    return root


def fetch(url: str) -> bytes:
    """GET a CRL (bounded size and time); InvalidInput when it cannot be fetched."""
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
            data: bytes = response.read(MAX_CRL_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise InvalidInput(code="crl_fetch", url=url, error=error) from None
    if len(data) > MAX_CRL_BYTES:
        raise InvalidInput(code="crl_too_large", url=url)
    return data


def refresh_crl(
    actor: User, root: TrustedRoot, crl: bytes | None = None, *, at: datetime | None = None
) -> TrustedRoot:
    """Store a new CRL of ``root`` (given, or fetched from its CRL URL) after checking it."""
    require_role(actor, Role.CA_ADMIN)
    now = at or clock.now()
    with audit.refusals_recorded(
        actor, "certlogin.trust.crl", object_type="trusted_ca", object_id=root.fingerprint_sha256
    ):
        if crl is None:
            if not root.crl_url:
                raise InvalidInput(code="crl_url", variant="missing", name=root.name)
            crl = fetch(root.crl_url)
        cert = x509.load_der_x509_certificate(bytes(root.certificate_der))
        checked = _check_crl(cert, root.name, crl, now)
        with transaction.atomic():
            locked = TrustedRoot.objects.select_for_update().get(pk=root.pk)
            number = checked.number
            if number is not None and locked.crl_number is not None and number < locked.crl_number:
                raise Conflict(code="crl_older", number=number, stored=locked.crl_number)
            for field, value in checked.fields(now).items():
                setattr(locked, field, value)
            locked.save()
            audit.record(
                actor,
                "certlogin.trust.crl",
                object_type="trusted_ca",
                object_id=root.fingerprint_sha256,
                after=_crl_event(checked),
            )
    return locked


@dataclass(frozen=True)
class RefreshOutcome:
    root: TrustedRoot
    error: str | None


def refresh_all(actor: User) -> list[RefreshOutcome]:
    """Refresh every enabled CA's CRL from its URL (the scheduled job; cron runs
    ``certhall certlogin crl-refresh``). One failing CA does not stop the others."""
    outcomes = []
    for root in TrustedRoot.objects.filter(enabled=True).exclude(crl_url="").order_by("pk"):
        try:
            outcomes.append(RefreshOutcome(refresh_crl(actor, root), None))
        except CerthallError as error:
            outcomes.append(RefreshOutcome(root, error.message))
    return outcomes


def get_trusted(fingerprint_prefix: str) -> TrustedRoot:
    prefix = fingerprint_prefix.strip().lower().replace(":", "")
    if len(prefix) < 8:
        raise InvalidInput(code="fingerprint")
    rows = list(TrustedRoot.objects.filter(fingerprint_sha256__startswith=prefix)[:2])
    if not rows:
        raise NotFound(code="trusted_ca_unknown", prefix=prefix)
    if len(rows) > 1:
        raise InvalidInput(code="fingerprint", variant="ambiguous", prefix=prefix)
    return rows[0]


def set_enabled(actor: User, root: TrustedRoot, enabled: bool) -> TrustedRoot:
    require_role(actor, Role.CA_ADMIN)
    with transaction.atomic():
        changed = TrustedRoot.objects.filter(pk=root.pk, enabled=not enabled).update(
            enabled=enabled
        )
        if not changed:
            raise Conflict(
                code="trusted_ca_state", name=root.name, state="启用" if enabled else "停用"
            )
        audit.record(
            actor,
            "certlogin.trust.enable" if enabled else "certlogin.trust.disable",
            object_type="trusted_ca",
            object_id=root.fingerprint_sha256,
            before={"enabled": not enabled},
            after={"enabled": enabled},
        )
    root.refresh_from_db()
    return root


def list_trusted(actor: User) -> list[TrustedRoot]:
    require_role(actor, Role.CA_ADMIN, Role.AUDITOR)
    return list(TrustedRoot.objects.order_by("pk"))
