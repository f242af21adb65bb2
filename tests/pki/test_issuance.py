from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    ExtensionOID,
    NameOID,
    SignatureAlgorithmOID,
)
from hypothesis import given
from hypothesis import strategies as st

from certhall.errors import ConfigurationError, InvalidInput, RuleViolation
from certhall.pki import authority
from certhall.pki.issuance import (
    OID_GMT_BUSINESS_REGISTRATION,
    OID_GMT_IDENTIFY_CODE,
    OID_GMT_USCC,
    Issuer,
    Subscriber,
    build_certificate,
    check_subscriber,
    new_serial,
    subject_der,
    subject_name,
    subject_rfc4514,
)
from certhall.pki.profiles import DOCUMENT_SIGNING, ORG, PERSONAL, get_profile
from certhall.pki.serials import MAX_SERIAL

from .conftest import Issue
from .support import (
    CA_ISSUERS_URL,
    CRL_URL,
    NOW,
    OCSP_URL,
    PERSON,
    PKI,
)
from .support import (
    ORG as ORG_SUBSCRIBER,
)

EXPECTED_EXTENSIONS = [
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.CRL_DISTRIBUTION_POINTS,
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
    ExtensionOID.CERTIFICATE_POLICIES,
    OID_GMT_BUSINESS_REGISTRATION,
    OID_GMT_USCC,
]


def _attrs(name: x509.Name) -> list[tuple[str, str]]:
    return [(a.oid.dotted_string, str(a.value)) for a in name]


def test_org_certificate(pki: PKI, issue: Issue) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    cert = issue("org", 1, ORG_SUBSCRIBER, key)

    assert cert.version is x509.Version.v3
    assert cert.public_key() == key
    assert cert.issuer == pki.issuing.subject
    cert.verify_directly_issued_by(pki.issuing)
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.ECDSA_WITH_SHA256
    assert _attrs(cert.subject) == [
        (NameOID.COUNTRY_NAME.dotted_string, "CN"),
        (NameOID.STATE_OR_PROVINCE_NAME.dotted_string, "广东省"),
        (NameOID.LOCALITY_NAME.dotted_string, "深圳市"),
        (NameOID.ORGANIZATION_NAME.dotted_string, "深圳市演示医疗科技有限公司"),
        (NameOID.ORGANIZATION_IDENTIFIER.dotted_string, "NTRCN-91350100M000100Y43"),
        (NameOID.COMMON_NAME.dotted_string, "深圳市演示医疗科技有限公司"),
    ]
    assert cert.not_valid_before_utc == datetime(2026, 3, 3, 1, 30, 15, tzinfo=UTC)
    assert cert.not_valid_after_utc == datetime(2027, 3, 3, 1, 30, 14, tzinfo=UTC)

    ext = cert.extensions
    assert [e.oid for e in ext] == EXPECTED_EXTENSIONS
    critical = {e.oid for e in ext if e.critical}
    assert critical == {ExtensionOID.BASIC_CONSTRAINTS, ExtensionOID.KEY_USAGE}
    assert ext.get_extension_for_class(x509.BasicConstraints).value == x509.BasicConstraints(
        ca=False, path_length=None
    )
    assert ext.get_extension_for_class(x509.KeyUsage).value == ORG.key_usage_extension()
    assert list(ext.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH,
        DOCUMENT_SIGNING,
    ]
    ski = ext.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert ski == x509.SubjectKeyIdentifier.from_public_key(key)
    issuer_ski = pki.issuing.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = ext.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == issuer_ski.digest
    assert aki.authority_cert_issuer is None and aki.authority_cert_serial_number is None
    (dp,) = ext.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp.full_name == [x509.UniformResourceIdentifier(CRL_URL)]
    assert dp.reasons is None and dp.crl_issuer is None
    aia = ext.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [(d.access_method, d.access_location.value) for d in aia] == [
        (AuthorityInformationAccessOID.OCSP, OCSP_URL),
        (AuthorityInformationAccessOID.CA_ISSUERS, CA_ISSUERS_URL),
    ]
    (policy,) = ext.get_extension_for_class(x509.CertificatePolicies).value
    assert policy.policy_identifier == ORG.policy_oid and policy.policy_qualifiers is None
    uscc_der = b"\x13\x12" + b"91350100M000100Y43"
    assert _raw(cert, OID_GMT_BUSINESS_REGISTRATION) == uscc_der
    assert _raw(cert, OID_GMT_USCC) == uscc_der


def _raw(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> bytes:
    value = cert.extensions.get_extension_for_oid(oid).value
    assert isinstance(value, x509.UnrecognizedExtension)
    return value.value


def test_personal_certificate(pki: PKI, issue: Issue) -> None:
    key = rsa.generate_private_key(65537, 2048).public_key()
    cert = issue("personal", 5, PERSON, key)

    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张三"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == (
        "深圳市演示医疗科技有限公司"
    )
    assert cert.not_valid_after_utc == datetime(2031, 3, 3, 1, 30, 14, tzinfo=UTC)
    assert [e.oid for e in cert.extensions] == [*EXPECTED_EXTENSIONS, OID_GMT_IDENTIFY_CODE]
    # IdentifyCode CHOICE residenterCardNumber [0] IMPLICIT PrintableString
    assert _raw(cert, OID_GMT_IDENTIFY_CODE) == b"\x80\x12" + b"11010519491231002X"
    assert not cert.extensions.get_extension_for_oid(OID_GMT_IDENTIFY_CODE).critical
    (policy,) = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert policy.policy_identifier == PERSONAL.policy_oid
    cert.verify_directly_issued_by(pki.issuing)


def test_subscriber_input_is_normalised(issue: Issue) -> None:
    typed = Subscriber(
        org_name="  深圳市演示医疗科技有限公司 ",
        uscc="9135 0100 m000 100y 43",
        person_name=" 张三",
        id_number="11010519491231002x",
    )
    cert = issue("personal", 1, typed)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "张三"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == (
        "NTRCN-91350100M000100Y43"
    )
    assert _raw(cert, OID_GMT_IDENTIFY_CODE) == b"\x80\x12" + b"11010519491231002X"


def test_org_ignores_person_fields(issue: Issue) -> None:
    cert = issue("org", 1, PERSON)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == PERSON.org_name
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_oid(OID_GMT_IDENTIFY_CODE)
    assert check_subscriber(ORG, PERSON).person_name is None


def test_other_locality(issue: Issue) -> None:
    cert = issue("org", 1, replace(ORG_SUBSCRIBER, province="北京市", locality="北京市"))
    assert cert.subject.get_attributes_for_oid(NameOID.STATE_OR_PROVINCE_NAME)[0].value == "北京市"


@pytest.mark.parametrize(
    ("profile", "subscriber", "message"),
    [
        (
            "org",
            replace(ORG_SUBSCRIBER, org_name=" "),
            "请填写单位名称",
        ),
        (
            "org",
            replace(ORG_SUBSCRIBER, org_name="公" * 65),
            "单位名称最多64个字（证书中只能容纳这么多），现为65个字",
        ),
        (
            "org",
            replace(ORG_SUBSCRIBER, org_name="深圳\x00公司"),
            r"第3个字符（U\+0000）是空字符（NUL）",
        ),
        (
            "org",
            replace(ORG_SUBSCRIBER, org_name="深圳\u200b公司"),
            "不可见的格式字符",
        ),
        (
            "org",
            replace(ORG_SUBSCRIBER, org_name="深圳\u202e司公"),
            r"第3个字符（U\+202E）是文字方向控制符",
        ),
        ("org", replace(ORG_SUBSCRIBER, uscc="91350100M000100Y44"), "校验位不正确"),
        ("org", replace(ORG_SUBSCRIBER, province=""), "请填写省份"),
        ("org", replace(ORG_SUBSCRIBER, locality="市" * 129), "城市最多128个字"),
        (
            "personal",
            ORG_SUBSCRIBER,
            "请填写机构个人证书持证人姓名",
        ),
        ("personal", replace(PERSON, person_name="张" * 65), "最多64个字"),
        (
            "personal",
            replace(PERSON, id_number=None),
            "须填写持证人身份证号码",
        ),
        (
            "personal",
            replace(PERSON, id_number=""),
            "须填写持证人身份证号码",
        ),
        ("personal", replace(PERSON, id_number="110105194912310021"), "校验位不正确"),
        ("personal", replace(PERSON, id_number="110105199913310024"), "不是有效日期"),
    ],
)
def test_invalid_subscriber(
    issue: Issue, profile: str, subscriber: Subscriber, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        issue(profile, 1, subscriber)


def test_64_characters_fit(issue: Issue) -> None:
    """X.520 bounds count characters: 64 Chinese characters (192 UTF-8 octets) are allowed."""
    cert = issue("org", 1, replace(ORG_SUBSCRIBER, org_name="公" * 64))
    # cryptography counts octets and warns when it parses such a commonName (not when we build it)
    with pytest.warns(UserWarning, match="Attribute's length"):
        subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "公" * 64
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "公" * 64


def test_building_a_long_common_name_does_not_warn(issue: Issue) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        issue("personal", 1, replace(PERSON, person_name="阿" * 64))


@pytest.mark.parametrize(("profile", "years"), [("org", 0), ("org", 2), ("personal", 6)])
def test_years_outside_the_profile(issue: Issue, profile: str, years: int) -> None:
    with pytest.raises(InvalidInput, match="年期，不能办理") as info:
        issue(profile, years, PERSON)
    assert info.value.code == "validity_years"


def test_key_refused(issue: Issue) -> None:
    with pytest.raises(InvalidInput, match="不接受 EC secp384r1 密钥"):
        issue("org", 1, ORG_SUBSCRIBER, ec.generate_private_key(ec.SECP384R1()).public_key())


@pytest.mark.parametrize("serial", [0, -5, MAX_SERIAL + 1, True])
def test_bad_serial(pki: PKI, serial: int) -> None:
    with pytest.raises(InvalidInput, match="序列号"):
        build_certificate(
            pki.issuer,
            ec.generate_private_key(ec.SECP256R1()).public_key(),
            ORG,
            1,
            ORG_SUBSCRIBER,
            serial,
            NOW,
        )


def test_largest_serial_is_fine(pki: PKI) -> None:
    cert = build_certificate(
        pki.issuer,
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        ORG,
        1,
        ORG_SUBSCRIBER,
        MAX_SERIAL,
        NOW,
    )
    assert cert.serial_number == MAX_SERIAL


def test_new_serial() -> None:
    serials = {new_serial() for _ in range(2000)}
    assert len(serials) == 2000
    for serial in serials:
        assert serial.bit_length() == 127  # 126 random bits under a fixed top bit
        assert 0 < serial <= MAX_SERIAL


def test_certificate_cannot_outlive_its_issuer(pki: PKI) -> None:
    issuing_key = ec.generate_private_key(ec.SECP256R1())
    short = authority.build_intermediate(
        pki.root, pki.root_key, issuing_key.public_key(), pki.issuing.subject, NOW, years=2
    )
    issuer = Issuer(short, issuing_key, CRL_URL, OCSP_URL, CA_ISSUERS_URL)
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    assert build_certificate(issuer, key, PERSONAL, 2, PERSON, new_serial(), NOW)
    with pytest.raises(RuleViolation, match="将超过签发CA的有效期") as info:
        build_certificate(issuer, key, PERSONAL, 3, PERSON, new_serial(), NOW)
    assert info.value.code == "issuer_expires"
    with pytest.raises(RuleViolation, match="尚未生效"):
        build_certificate(
            issuer, key, ORG, 1, ORG_SUBSCRIBER, new_serial(), NOW - timedelta(days=1)
        )


def test_rsa_issuer_signs_pkcs1v15_sha256(pki: PKI) -> None:
    issuing_key = rsa.generate_private_key(65537, 2048)
    issuing = authority.build_intermediate(
        pki.root, pki.root_key, issuing_key.public_key(), pki.issuing.subject, NOW
    )
    issuer = Issuer(issuing, issuing_key, CRL_URL, OCSP_URL, CA_ISSUERS_URL)
    cert = build_certificate(
        issuer,
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        ORG,
        1,
        ORG_SUBSCRIBER,
        new_serial(),
        NOW,
    )
    assert cert.signature_algorithm_oid == SignatureAlgorithmOID.RSA_WITH_SHA256
    cert.verify_directly_issued_by(issuing)


class OnlySigns(ec.EllipticCurvePrivateKey):
    """A PKCS#11-like key: sign(), public_key(), curve and key_size work, nothing else does."""

    def __init__(self, inner: ec.EllipticCurvePrivateKey) -> None:
        self._inner = inner
        self.calls: list[str] = []

    def sign(self, data: bytes, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        self.calls.append("sign")
        return self._inner.sign(data, signature_algorithm)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        self.calls.append("public_key")
        return self._inner.public_key()

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._inner.curve

    @property
    def key_size(self) -> int:
        return self._inner.key_size

    def exchange(self, *args: object, **kwargs: object) -> bytes:
        raise AssertionError("exchange() must not be called on a token key")

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        raise AssertionError("private_numbers() must not be called on a token key")

    def private_bytes(self, *args: object, **kwargs: object) -> bytes:
        raise AssertionError("private_bytes() must not be called on a token key")

    def __copy__(self) -> OnlySigns:
        return self

    def __deepcopy__(self, memo: object) -> OnlySigns:
        return self


def test_token_like_issuer_key(pki: PKI) -> None:
    token_key = OnlySigns(pki.issuing_key)
    issuer = Issuer(pki.issuing, token_key, CRL_URL, OCSP_URL, CA_ISSUERS_URL)
    cert = build_certificate(
        issuer,
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        ORG,
        1,
        ORG_SUBSCRIBER,
        new_serial(),
        NOW,
    )
    cert.verify_directly_issued_by(pki.issuing)
    assert "sign" in token_key.calls


def test_issuer_is_checked_when_created(pki: PKI) -> None:
    with pytest.raises(ConfigurationError, match="不匹配"):
        Issuer(pki.issuing, pki.root_key, CRL_URL, OCSP_URL, CA_ISSUERS_URL)
    with pytest.raises(ConfigurationError, match="不是 CA 证书"):
        Issuer(pki.responder, pki.responder_key, CRL_URL, OCSP_URL, CA_ISSUERS_URL)
    with pytest.raises(ConfigurationError, match=r"ocsp_url 须为 http\(s\) 地址"):
        Issuer(pki.issuing, pki.issuing_key, CRL_URL, "ldap://x/ocsp", CA_ISSUERS_URL)
    with pytest.raises(ConfigurationError, match=r"crl_url 须为 http\(s\) 地址"):
        Issuer(pki.issuing, pki.issuing_key, "http://x/a b.crl", OCSP_URL, CA_ISSUERS_URL)


def test_csr_content_other_than_the_key_is_ignored(pki: PKI) -> None:
    from certhall.pki.csr import load_csr

    key = ec.generate_private_key(ec.SECP256R1())
    csr_pem = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "evil.example")]))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("evil.example")]), critical=False)
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    csr = load_csr(csr_pem)
    cert = build_certificate(
        pki.issuer, csr.public_key(), get_profile("org"), 1, ORG_SUBSCRIBER, new_serial(), NOW
    )
    assert "evil" not in cert.subject.rfc4514_string()
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)


def _built_by_cryptography(
    issuer: Issuer, key: object, profile_name: str, subscriber: Subscriber, serial: int
) -> x509.Certificate:
    """The certificate as cryptography's CertificateBuilder makes it from the same content:
    the reference build_certificate's own DER is held to."""
    from certhall.pki.issuance import identity_extensions, subject_name
    from certhall.pki.profiles import validity

    profile = get_profile(profile_name)
    checked = check_subscriber(profile, subscriber)
    not_before, not_after = validity(profile, 1, NOW)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject_name(profile, checked))
        .issuer_name(issuer.certificate.subject)
        .public_key(key)  # type: ignore[arg-type]
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for usage, critical in profile.usage_extensions:
        builder = builder.add_extension(usage, critical=critical)
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key),  # type: ignore[arg-type]
        critical=False,
    )
    for value in (*issuer.extensions, profile.policies):
        builder = builder.add_extension(value, critical=False)
    for extension in identity_extensions(profile, checked):
        builder = builder.add_extension(extension.value, critical=extension.critical)
    return builder.sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("profile_name", "subscriber", "key_kind"),
    [
        ("org", ORG_SUBSCRIBER, "ec"),
        ("personal", PERSON, "ec"),
        ("personal", PERSON, "rsa"),
        ("org", replace(ORG_SUBSCRIBER, org_name="深" * 64), "ec"),  # CN past 64 octets
    ],
    ids=["org", "personal", "personal-rsa-key", "long-common-name"],
)
def test_encoding_is_what_cryptography_builds(
    pki: PKI, profile_name: str, subscriber: Subscriber, key_kind: str
) -> None:
    """build_certificate writes its DER itself (a third cheaper than with the builder): the
    TBSCertificate is byte for byte what cryptography builds of the same content."""
    key = (
        ec.generate_private_key(ec.SECP256R1()).public_key()
        if key_kind == "ec"
        else rsa.generate_private_key(65537, 2048).public_key()
    )
    serial = new_serial()
    mine = build_certificate(pki.issuer, key, get_profile(profile_name), 1, subscriber, serial, NOW)
    reference = _built_by_cryptography(pki.issuer, key, profile_name, subscriber, serial)
    assert mine.tbs_certificate_bytes == reference.tbs_certificate_bytes
    assert mine.signature_algorithm_oid == reference.signature_algorithm_oid
    mine.verify_directly_issued_by(pki.issuing)


_SUBJECT_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20
) | st.sampled_from(["#深圳", " 深圳", "深圳 ", " ", 'a,b+c;d<e>f"g\\h\x00i', "深圳,南山"])


@given(org=_SUBJECT_TEXT, province=_SUBJECT_TEXT, locality=_SUBJECT_TEXT, person=_SUBJECT_TEXT)
def test_the_subject_text_is_what_cryptography_writes(
    org: str, province: str, locality: str, person: str
) -> None:
    """The registry's subject text and the certificate's subject DER are written by certhall;
    both must stay what cryptography makes of the same Name, escapes and all."""
    subscriber = replace(PERSON, org_name=org, province=province, locality=locality)
    for profile, who in ((ORG, subscriber), (PERSONAL, replace(subscriber, person_name=person))):
        name = subject_name(profile, who)
        assert subject_rfc4514(profile, who) == name.rfc4514_string()
        assert subject_der(profile, who) == name.public_bytes()
