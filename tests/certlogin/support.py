"""Certificates of our CA and of other CAs, challenges signed with software keys or Ukeys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from certhall.accounts.models import User
from certhall.agent import protocol
from certhall.ca.models import Certificate, CertificateAuthority
from certhall.ca.services import IssueRequest, issue
from certhall.certlogin import conf
from certhall.certlogin.services import LoginAttempt, issue_challenge
from certhall.pki.issuance import Subscriber
from certhall.pki.keys import sign
from tests.agent.support import ORG, SoftwareCA

CLIENT = "192.0.2.10"


def csr_for(key: ec.EllipticCurvePrivateKey) -> bytes:
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "x")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )


def issue_ours(
    admin: User,
    subscriber: Subscriber = ORG,
    profile: str = "org",
    years: int = 1,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, Certificate]:
    """A certificate of our CA for a software key: (key, certificate, registry row)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    row = issue(
        admin,
        IssueRequest(csr=csr_for(key), profile=profile, years=years, subscriber=subscriber),
    )
    return key, x509.load_der_x509_certificate(bytes(row.der)), row


def our_chain() -> tuple[bytes, ...]:
    issuing = CertificateAuthority.objects.get(kind="issuing")
    return (bytes(issuing.certificate_der),)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def signed_attempt(
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    *,
    challenge: str | None = None,
    origin: str | None = None,
    signed_for: str | None = None,
    chain: tuple[bytes, ...] = (),
    at: datetime | None = None,
) -> LoginAttempt:
    """A fresh challenge signed like the helper does. ``signed_for`` signs another origin."""
    nonce = challenge or issue_challenge(client=CLIENT, at=at).nonce
    claimed = origin or conf.get().origin
    message = protocol.login_message(signed_for or claimed, nonce)
    return LoginAttempt(
        challenge=nonce,
        certificate=der(cert),
        signature=sign(key, message),
        signed_origin=claimed,
        chain=chain,
        client=CLIENT,
    )


def crl_of(
    ca: SoftwareCA,
    revoked: list[int] = (),  # type: ignore[assignment]
    *,
    number: int = 1,
    now: datetime | None = None,
    hours: int = 24,
) -> bytes:
    now = now or datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.issuer.certificate.subject)
        .last_update(now)
        .next_update(now + timedelta(hours=hours))
        .add_extension(x509.CRLNumber(number), critical=False)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build()
        )
    return builder.sign(ca.issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)  # type: ignore[arg-type]
