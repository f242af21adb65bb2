"""Certificates of the CA hierarchy: root, issuing (intermediate) CA, delegated OCSP responder."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificateIssuerPrivateKeyTypes,
    PublicKeyTypes,
)
from cryptography.x509.oid import CertificatePoliciesOID, ExtendedKeyUsageOID, NameOID

from certhall.errors import InvalidInput
from certhall.pki.issuance import (
    Issuer,
    authority_information_access,
    check_ca_certificate,
    check_url,
    check_within_issuer,
    crl_distribution_points,
    new_serial,
)
from certhall.pki.keys import authority_key_identifier, describe_key, signature_hash
from certhall.pki.profiles import span, truncate_to_second

CA_CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
CA_RSA_MIN_BITS = 2048

_CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=False,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
_RESPONDER_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


class DemoNames(NamedTuple):
    root: x509.Name
    issuing: x509.Name


def _demo_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "certhall 演示CA"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def demo_names() -> DemoNames:
    """Subjects of the demo root and issuing CA (``root, issuing = demo_names()``)."""
    return DemoNames(
        root=_demo_name("深圳医保在线签约 演示根CA"),
        issuing=_demo_name("深圳医保在线签约 演示签发CA"),
    )


def demo_responder_name() -> x509.Name:
    """Subject of the demo issuing CA's delegated OCSP responder."""
    return _demo_name("深圳医保在线签约 演示OCSP签名")


def check_ca_public_key(key: PublicKeyTypes) -> ec.EllipticCurvePublicKey | rsa.RSAPublicKey:
    """CA and responder keys: EC P-256/P-384/P-521 or RSA of at least 2048 bits."""
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, CA_CURVES):
        return key
    if isinstance(key, rsa.RSAPublicKey) and key.key_size >= CA_RSA_MIN_BITS:
        return key
    raise InvalidInput(code="key_policy", variant="ca", key=describe_key(key))


_UNITS = {"years": "年", "days": "天"}


def _check_period(amount: int, unit: str) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise InvalidInput(code="validity_period", unit=_UNITS.get(unit, unit), got=amount)


def build_root(
    key: CertificateIssuerPrivateKeyTypes, subject: x509.Name, now: datetime, years: int = 20
) -> x509.Certificate:
    """A self-signed root CA certificate valid for ``years`` calendar years from ``now``.

    basicConstraints CA (critical, no path length), keyUsage keyCertSign + cRLSign (critical), SKI,
    and an AKI with the same key identifier (RFC 5280 4.2.1.1 lets self-signed certificates omit
    it; including it keeps every certificate of the hierarchy uniform).
    """
    _check_period(years, "years")
    public_key = check_ca_public_key(key.public_key())
    not_before, not_after = span(now, years)
    ski = x509.SubjectKeyIdentifier.from_public_key(public_key)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public_key)
        .serial_number(new_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, signature_hash(key))
    )


def build_intermediate(
    root_cert: x509.Certificate,
    root_key: CertificateIssuerPrivateKeyTypes,
    public_key: PublicKeyTypes,
    subject: x509.Name,
    now: datetime,
    years: int = 10,
    crl_url: str | None = None,
    ca_issuers_url: str | None = None,
) -> x509.Certificate:
    """An issuing CA certificate signed by the root: pathLen 0, may issue end-entity certs only.

    ``crl_url`` (the root's CRL) becomes the CRL distribution point and ``ca_issuers_url`` (where
    the root certificate is published) the AIA caIssuers entry, each only when given.
    Raises RuleViolation if the period does not fit inside the root's validity.
    """
    _check_period(years, "years")
    check_ca_certificate(root_cert, root_key)
    key = check_ca_public_key(public_key)
    not_before, not_after = span(now, years)
    check_within_issuer(root_cert, not_before, not_after)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(root_cert.subject)
        .public_key(key)
        .serial_number(new_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_CA_KEY_USAGE, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(authority_key_identifier(root_cert), critical=False)
        .add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(CertificatePoliciesOID.ANY_POLICY, None)]
            ),
            critical=False,
        )
    )
    if crl_url is not None:
        check_url(crl_url, "crl_url")
        builder = builder.add_extension(crl_distribution_points(crl_url), critical=False)
    if ca_issuers_url is not None:
        check_url(ca_issuers_url, "ca_issuers_url")
        builder = builder.add_extension(
            authority_information_access(ocsp_url=None, ca_issuers_url=ca_issuers_url),
            critical=False,
        )
    return builder.sign(root_key, signature_hash(root_key))


def build_ocsp_responder(
    issuer: Issuer,
    public_key: PublicKeyTypes,
    subject: x509.Name,
    now: datetime,
    days: int = 30,
) -> x509.Certificate:
    """A delegated OCSP responder certificate (RFC 6960 section 4.2.2.2) for ``issuer``.

    EKU id-kp-OCSPSigning, id-pkix-ocsp-nocheck, keyUsage digitalSignature (critical), SKI/AKI.
    Short-lived (``days``, default 30) because with ocsp-nocheck it cannot be revoked usefully.
    """
    _check_period(days, "days")
    key = check_ca_public_key(public_key)
    not_before = truncate_to_second(now)
    not_after = not_before + timedelta(days=days) - timedelta(seconds=1)
    check_within_issuer(issuer.certificate, not_before, not_after)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(key)
        .serial_number(new_serial())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_RESPONDER_KEY_USAGE, critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=False)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(authority_key_identifier(issuer.certificate), critical=False)
        .sign(issuer.key, signature_hash(issuer.key))
    )
