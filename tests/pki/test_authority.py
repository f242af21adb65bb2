from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    CertificatePoliciesOID,
    ExtendedKeyUsageOID,
    ExtensionOID,
    NameOID,
)

from certhall.errors import ConfigurationError, InvalidInput, RuleViolation
from certhall.pki import authority
from certhall.pki.issuance import Issuer

from .support import (
    CA_CREATED,
    CA_ISSUERS_URL,
    CRL_URL,
    NOW,
    OCSP_URL,
    PKI,
    ROOT_CA_ISSUERS_URL,
    ROOT_CRL_URL,
)


def _ext(
    cert: x509.Certificate, cls: type[x509.ExtensionType]
) -> x509.Extension[x509.ExtensionType]:
    return cert.extensions.get_extension_for_class(cls)


def _ca_key_usage(cert: x509.Certificate) -> None:
    ku = _ext(cert, x509.KeyUsage)
    assert ku.critical
    assert ku.value == x509.KeyUsage(
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


def test_root(pki: PKI) -> None:
    root = pki.root
    assert root.subject == root.issuer == authority.demo_names().root
    root.verify_directly_issued_by(root)
    assert root.not_valid_before_utc == CA_CREATED
    assert root.not_valid_after_utc == datetime(2045, 1, 6, 1, 59, 59, tzinfo=UTC)
    bc = _ext(root, x509.BasicConstraints)
    assert bc.critical and bc.value == x509.BasicConstraints(ca=True, path_length=None)
    _ca_key_usage(root)
    ski = _ext(root, x509.SubjectKeyIdentifier).value
    assert isinstance(ski, x509.SubjectKeyIdentifier)
    assert ski == x509.SubjectKeyIdentifier.from_public_key(pki.root_key.public_key())
    aki = _ext(root, x509.AuthorityKeyIdentifier).value
    assert isinstance(aki, x509.AuthorityKeyIdentifier)
    assert aki.key_identifier == ski.digest
    assert {e.oid for e in root.extensions} == {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    }


def test_root_years_and_keys() -> None:
    key = rsa.generate_private_key(65537, 2048)
    root = authority.build_root(key, authority.demo_names().root, NOW, years=1)
    assert root.not_valid_after_utc == datetime(2027, 3, 3, 1, 30, 14, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="有效期须为正整数年"):
        authority.build_root(key, authority.demo_names().root, NOW, years=0)
    with pytest.raises(InvalidInput, match="CA 不接受 EC secp256k1 密钥"):
        authority.build_root(
            ec.generate_private_key(ec.SECP256K1()), authority.demo_names().root, NOW
        )
    with pytest.raises(InvalidInput, match="CA 不接受 Ed25519 密钥"):
        authority.build_root(ed25519.Ed25519PrivateKey.generate(), authority.demo_names().root, NOW)


def test_intermediate(pki: PKI) -> None:
    issuing = pki.issuing
    assert issuing.issuer == pki.root.subject
    assert issuing.subject == authority.demo_names().issuing
    issuing.verify_directly_issued_by(pki.root)
    assert issuing.not_valid_after_utc == datetime(2035, 1, 6, 1, 59, 59, tzinfo=UTC)
    bc = _ext(issuing, x509.BasicConstraints)
    assert bc.critical and bc.value == x509.BasicConstraints(ca=True, path_length=0)
    _ca_key_usage(issuing)
    root_ski = _ext(pki.root, x509.SubjectKeyIdentifier).value
    aki = _ext(issuing, x509.AuthorityKeyIdentifier).value
    assert isinstance(aki, x509.AuthorityKeyIdentifier) and isinstance(
        root_ski, x509.SubjectKeyIdentifier
    )
    assert aki.key_identifier == root_ski.digest
    crldp = _ext(issuing, x509.CRLDistributionPoints).value
    assert isinstance(crldp, x509.CRLDistributionPoints)
    assert crldp[0].full_name == [x509.UniformResourceIdentifier(ROOT_CRL_URL)]
    aia = _ext(issuing, x509.AuthorityInformationAccess).value
    assert isinstance(aia, x509.AuthorityInformationAccess)
    assert [(d.access_method, d.access_location.value) for d in aia] == [
        (AuthorityInformationAccessOID.CA_ISSUERS, ROOT_CA_ISSUERS_URL)
    ]
    policies = _ext(issuing, x509.CertificatePolicies).value
    assert isinstance(policies, x509.CertificatePolicies)
    assert [p.policy_identifier for p in policies] == [CertificatePoliciesOID.ANY_POLICY]


def test_intermediate_without_urls(pki: PKI) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = authority.build_intermediate(
        pki.root, pki.root_key, key.public_key(), authority.demo_names().issuing, NOW, years=1
    )
    oids = {e.oid for e in cert.extensions}
    assert ExtensionOID.CRL_DISTRIBUTION_POINTS not in oids
    assert ExtensionOID.AUTHORITY_INFORMATION_ACCESS not in oids


def test_intermediate_errors(pki: PKI) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = authority.demo_names().issuing
    with pytest.raises(RuleViolation, match="将超过签发CA的有效期"):
        authority.build_intermediate(pki.root, pki.root_key, key.public_key(), name, NOW, years=20)
    with pytest.raises(ConfigurationError, match="不匹配"):
        authority.build_intermediate(pki.root, key, key.public_key(), name, NOW)
    with pytest.raises(ConfigurationError, match=r"crl_url 须为 http\(s\) 地址"):
        authority.build_intermediate(
            pki.root, pki.root_key, key.public_key(), name, NOW, crl_url="file:///etc/passwd"
        )
    with pytest.raises(ConfigurationError, match="不是 CA 证书"):
        authority.build_intermediate(pki.responder, pki.responder_key, key.public_key(), name, NOW)
    with pytest.raises(InvalidInput, match="RSA-1024"):
        authority.build_intermediate(
            pki.root,
            pki.root_key,
            rsa.generate_private_key(65537, 1024).public_key(),  # noqa: S505
            name,
            NOW,
        )


def test_responder(pki: PKI) -> None:
    responder = pki.responder
    assert responder.issuer == pki.issuing.subject
    assert responder.subject == authority.demo_responder_name()
    responder.verify_directly_issued_by(pki.issuing)
    assert responder.not_valid_before_utc == datetime(2026, 3, 3, 1, 30, 15, tzinfo=UTC)
    assert responder.not_valid_after_utc == datetime(2026, 4, 2, 1, 30, 14, tzinfo=UTC)
    eku = _ext(responder, x509.ExtendedKeyUsage).value
    assert isinstance(eku, x509.ExtendedKeyUsage)
    assert list(eku) == [ExtendedKeyUsageOID.OCSP_SIGNING]
    nocheck = responder.extensions.get_extension_for_oid(ExtensionOID.OCSP_NO_CHECK)
    assert not nocheck.critical
    ku = _ext(responder, x509.KeyUsage)
    assert ku.critical
    assert isinstance(ku.value, x509.KeyUsage)
    assert ku.value.digital_signature and not ku.value.content_commitment
    assert not (ku.value.key_cert_sign or ku.value.crl_sign)
    assert not _ext(responder, x509.BasicConstraints).value.ca  # type: ignore[attr-defined]
    oids = {e.oid for e in responder.extensions}
    assert ExtensionOID.CRL_DISTRIBUTION_POINTS not in oids
    assert ExtensionOID.AUTHORITY_INFORMATION_ACCESS not in oids
    assert ExtensionOID.SUBJECT_KEY_IDENTIFIER in oids
    assert ExtensionOID.AUTHORITY_KEY_IDENTIFIER in oids


def test_responder_days_and_issuer_bounds(pki: PKI) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    cert = authority.build_ocsp_responder(
        pki.issuer, key, authority.demo_responder_name(), NOW, days=1
    )
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=1, seconds=-1)
    with pytest.raises(InvalidInput, match="有效期须为正整数天"):
        authority.build_ocsp_responder(
            pki.issuer, key, authority.demo_responder_name(), NOW, days=0
        )
    late = pki.issuing.not_valid_after_utc - timedelta(days=3)
    with pytest.raises(RuleViolation, match="将超过签发CA的有效期"):
        authority.build_ocsp_responder(pki.issuer, key, authority.demo_responder_name(), late)


def test_rsa_root_and_issuer() -> None:
    root_key = rsa.generate_private_key(65537, 3072)
    root = authority.build_root(root_key, authority.demo_names().root, CA_CREATED)
    issuing_key = rsa.generate_private_key(65537, 2048)
    issuing = authority.build_intermediate(
        root, root_key, issuing_key.public_key(), authority.demo_names().issuing, CA_CREATED
    )
    issuing.verify_directly_issued_by(root)
    issuer = Issuer(issuing, issuing_key, CRL_URL, OCSP_URL, CA_ISSUERS_URL)
    responder = authority.build_ocsp_responder(
        issuer,
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        authority.demo_responder_name(),
        NOW,
    )
    responder.verify_directly_issued_by(issuing)


def test_demo_names() -> None:
    root, issuing = authority.demo_names()
    for name in (root, issuing, authority.demo_responder_name()):
        assert name.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "CN"
        cn = name.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
        assert isinstance(cn, str) and cn.startswith("深圳医保在线签约 ")
        assert len(cn.encode()) <= 64
    assert "根CA" in str(root.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    assert "签发CA" in str(issuing.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
    assert root != issuing
