"""Is this certificate one the hall trusts, today? Path, validity, key usage, revocation.

* The path is built by ``cryptography``'s verifier (signatures, validity of every certificate,
  basicConstraints, path length, name chaining) from the end-entity certificate, the CA
  certificates the helper found on the Ukey (at most five) and our issuing CAs, to a trust
  anchor: our root CAs and the enabled imported CA certificates (``TrustedRoot``). The
  end-entity's extensions are judged here (keyUsage digitalSignature), not by the Web PKI rules,
  because Chinese organisation certificates carry no subjectAltName.
* Revocation: a certificate of one of our CAs is looked up in our registry, which is
  authoritative (status, and the DER must be the one we issued). A certificate of an imported CA
  is looked up in the stored CRL of its issuing CA, which must be fresh (before nextUpdate);
  without one the login is refused (``crl_unavailable``), never let through.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import verification

from certhall.ca.models import Certificate, CertificateAuthority
from certhall.certlogin.errors import LoginRefused
from certhall.certlogin.models import TrustedRoot
from certhall.certlogin.trust import fingerprint, load_crl

MAX_PRESENTED = 5
MAX_DEPTH = 5


@dataclass(frozen=True)
class Verified:
    chain: tuple[x509.Certificate, ...]
    trusted_by: str
    our_ca: CertificateAuthority | None
    imported: TrustedRoot | None
    registry: Certificate | None


def _basic_constraints_ca(
    policy: verification.Policy, cert: x509.Certificate, ext: x509.BasicConstraints | None
) -> None:
    if ext is None or not ext.ca:
        raise ValueError("basicConstraints cA is required in a CA certificate")


def _verifier(anchors: list[x509.Certificate], at: datetime) -> verification.ClientVerifier:
    ca_policy = verification.ExtensionPolicy.permit_all().require_present(
        x509.BasicConstraints, verification.Criticality.AGNOSTIC, _basic_constraints_ca
    )
    return (
        verification.PolicyBuilder()
        .store(verification.Store(anchors))
        .time(at)
        .max_chain_depth(MAX_DEPTH)
        .extension_policies(
            ca_policy=ca_policy, ee_policy=verification.ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )


def _parse_presented(chain: tuple[bytes, ...]) -> list[x509.Certificate]:
    parsed = []
    for der in chain[:MAX_PRESENTED]:
        try:
            parsed.append(x509.load_der_x509_certificate(der))
        except ValueError:
            continue  # not ours to judge: a bad extra certificate just does not help the path
    return parsed


def check_validity(cert: x509.Certificate, at: datetime) -> None:
    if at < cert.not_valid_before_utc:
        raise LoginRefused(code="certificate_not_yet_valid")
    if at > cert.not_valid_after_utc:
        raise LoginRefused(code="certificate_expired")


def check_key_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise LoginRefused(code="key_usage", detail="no keyUsage extension") from None
    if not usage.digital_signature:
        raise LoginRefused(code="key_usage", detail="keyUsage without digitalSignature")


def verify_certificate(
    cert: x509.Certificate, presented: tuple[bytes, ...], at: datetime
) -> Verified:
    """The trusted path of ``cert`` at ``at`` and its revocation status; LoginRefused if not."""
    check_validity(cert, at)
    ours = list(CertificateAuthority.objects.order_by("pk"))
    our_certs = {bytes(ca.certificate_der): ca for ca in ours}
    imported = list(TrustedRoot.objects.filter(enabled=True).order_by("pk"))
    anchors = [
        x509.load_der_x509_certificate(der)
        for der, ca in our_certs.items()
        if ca.kind == CertificateAuthority.Kind.ROOT
    ] + [x509.load_der_x509_certificate(bytes(root.certificate_der)) for root in imported]
    intermediates = [
        x509.load_der_x509_certificate(der)
        for der, ca in our_certs.items()
        if ca.kind != CertificateAuthority.Kind.ROOT
    ] + _parse_presented(presented)
    if not anchors:
        raise LoginRefused(code="unknown_ca", detail="the trust list is empty")
    try:
        verified = _verifier(anchors, at).verify(cert, intermediates)
    except verification.VerificationError as error:
        raise LoginRefused(code="unknown_ca", detail=str(error)[:300]) from None
    chain = tuple(verified.chain)
    check_key_usage(cert)
    issuer_der = chain[1].public_bytes(Encoding.DER)
    our_ca = our_certs.get(issuer_der)
    if our_ca is not None:
        row = _registry_status(cert, our_ca)
        return Verified(chain, our_ca.name, our_ca, None, row)
    root = next((r for r in imported if bytes(r.certificate_der) == issuer_der), None)
    _crl_status(cert, root, at)
    anchor = chain[-1].public_bytes(Encoding.DER)
    named = next((r for r in imported if bytes(r.certificate_der) == anchor), root)
    return Verified(chain, named.name if named else "", None, root, None)


def _registry_status(cert: x509.Certificate, ca: CertificateAuthority) -> Certificate:
    """Our CA: the registry is authoritative (and must hold exactly this certificate)."""
    der = cert.public_bytes(Encoding.DER)
    row = (
        Certificate.objects.filter(serial=format(cert.serial_number, "x"), ca=ca)
        .select_related("organization")
        .first()
    )
    if row is None or row.fingerprint_sha256 != fingerprint(der):
        raise LoginRefused(code="unknown_certificate")
    if row.status != Certificate.Status.VALID:
        raise LoginRefused(
            code="certificate_revoked",
            variant="login",
            detail=f"{row.revocation_reason} {row.revoked_at}",
        )
    return row


_crl_lock = threading.Lock()
_crl_cache: dict[int, tuple[object, x509.CertificateRevocationList]] = {}


def _crl_of(root: TrustedRoot) -> x509.CertificateRevocationList:
    """The parsed CRL of ``root``, parsed once per stored version (CRLs can be large)."""
    version = (root.crl_number, root.crl_fetched_at)
    with _crl_lock:
        cached = _crl_cache.get(root.pk)
        if cached is not None and cached[0] == version:
            return cached[1]
    parsed = load_crl(bytes(root.crl_der or b""))
    with _crl_lock:
        _crl_cache[root.pk] = (version, parsed)
    return parsed


def _crl_status(cert: x509.Certificate, root: TrustedRoot | None, at: datetime) -> None:
    """An imported CA: the stored CRL of the issuing CA, which must be fresh."""
    if root is None:
        raise LoginRefused(
            code="crl_unavailable", detail="the issuing CA is not imported with a CRL"
        )
    if not root.crl_der or root.crl_next_update is None:
        raise LoginRefused(code="crl_unavailable", detail=f"no CRL stored for {root.name}")
    if root.crl_next_update <= at:
        raise LoginRefused(
            code="crl_unavailable", detail=f"the CRL of {root.name} expired {root.crl_next_update}"
        )
    revoked = _crl_of(root).get_revoked_certificate_by_serial_number(cert.serial_number)
    if revoked is not None:
        raise LoginRefused(
            code="certificate_revoked", variant="login", detail=f"on the CRL of {root.name}"
        )
