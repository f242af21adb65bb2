from __future__ import annotations

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from certhall.errors import InvalidInput
from certhall.pki.csr import MAX_CSR_BYTES, csr_public_key, load_csr
from certhall.pki.keys import check_public_key, describe_key

# An SM2 key CSR made with `openssl req -new -key sm2.key` (OpenSSL 3.0, curve SM2).
SM2_CSR = b"""-----BEGIN CERTIFICATE REQUEST-----
MIHOMHUCAQAwEzERMA8GA1UEAwwIc20yIHRlc3QwWTATBgcqhkjOPQIBBggqgRzP
VQGCLQNCAATWU+0EmxRpHLr38DIkG1yLtzX6XjBXw/XReBzTrbItx0Y2Ht+Go4hp
70NYu97hC0nTisHQOzLAltM3BPzoKn87oAAwCgYIKoEcz1UBg3UDSQAwRgIhAMoO
EE0J7TSivQZRyM98zQyNUCQkkiq1hcFvM+PPcbr+AiEAwXqGrIx3yza8iBJlHbxy
v7Oe5ZHm2OLyhVsE+I6yEjI=
-----END CERTIFICATE REQUEST-----
"""


def make_csr(
    key: CertificateIssuerPrivateKeyTypes,
    encoding: serialization.Encoding = serialization.Encoding.PEM,
) -> bytes:
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "ignored")]))
        .sign(key, algorithm)
    )
    return csr.public_bytes(encoding)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def test_pem_and_der(ec_key: ec.EllipticCurvePrivateKey) -> None:
    for encoding in (serialization.Encoding.PEM, serialization.Encoding.DER):
        csr = load_csr(make_csr(ec_key, encoding))
        assert csr.public_key() == ec_key.public_key()


def test_pem_variants(ec_key: ec.EllipticCurvePrivateKey) -> None:
    pem = make_csr(ec_key)
    assert load_csr(b"\r\n  " + pem.replace(b"\n", b"\r\n") + b"\n\n").public_key() == (
        ec_key.public_key()
    )
    legacy = pem.replace(b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST")
    assert load_csr(legacy).public_key() == ec_key.public_key()
    with_text = b"Certificate Request:\n    Data:\n        Version: 1 (0x0)\n" + pem
    assert load_csr(with_text).public_key() == ec_key.public_key()


def test_rsa_keys_in_policy() -> None:
    key = rsa.generate_private_key(65537, 2048)
    assert load_csr(make_csr(key)).public_key() == key.public_key()


def test_too_large() -> None:
    with pytest.raises(InvalidInput, match="CSR 过大") as info:
        load_csr(b"0" * (MAX_CSR_BYTES + 1))
    assert info.value.code == "csr_too_large"
    # at the limit it is parsed (and found malformed), not refused for its size
    with pytest.raises(InvalidInput, match="不是有效的 PKCS#10"):
        load_csr(b"0" * MAX_CSR_BYTES)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "CSR 为空"),
        (b" \n", "CSR 为空"),
        (b"hello", r"不是有效的 PKCS#10 证书请求（无法解析DER"),
        (b"\x30\x03\x02\x01\x01", r"（无法解析DER）"),
        (b"-----BEGIN CERTIFICATE REQUEST-----\n@@@\n-----END CERTIFICATE REQUEST-----", "PEM"),
    ],
)
def test_malformed(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as info:
        load_csr(data)
    assert info.value.code in {"csr_malformed"}


def test_truncated_and_trailing_der(ec_key: ec.EllipticCurvePrivateKey) -> None:
    der = make_csr(ec_key, serialization.Encoding.DER)
    for bad in (der[:-1], der[: len(der) // 2], der + b"\x00"):
        with pytest.raises(InvalidInput, match="不是有效的 PKCS#10"):
            load_csr(bad)


def test_a_certificate_is_not_a_csr(ec_key: ec.EllipticCurvePrivateKey) -> None:
    pem = make_csr(ec_key).replace(b"CERTIFICATE REQUEST", b"CERTIFICATE")
    with pytest.raises(InvalidInput, match="不是有效的 PKCS#10"):
        load_csr(pem)


def test_bad_signature(ec_key: ec.EllipticCurvePrivateKey) -> None:
    der = bytearray(make_csr(ec_key, serialization.Encoding.DER))
    der[-1] ^= 0x01  # last octet of the ECDSA signature's s
    with pytest.raises(InvalidInput, match="签名验证失败") as info:
        load_csr(bytes(der))
    assert info.value.code == "csr_signature"


def test_signature_by_another_key() -> None:
    """A CSR whose public key was swapped: parses, but the signature fails."""
    one, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    der_one = make_csr(one, serialization.Encoding.DER)
    point_one = one.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    point_other = other.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    swapped = der_one.replace(point_one, point_other)
    assert swapped != der_one
    with pytest.raises(InvalidInput, match="签名验证失败"):
        load_csr(swapped)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (lambda: rsa.generate_private_key(65537, 1024), "RSA-1024 密钥太短"),  # noqa: S505
        (lambda: rsa.generate_private_key(3, 2048), "不接受公钥指数为 3 的"),
        (lambda: ec.generate_private_key(ec.SECP384R1()), "不接受 EC secp384r1 密钥"),
        (lambda: ec.generate_private_key(ec.SECP256K1()), "不接受 EC secp256k1 密钥"),
        (lambda: ec.generate_private_key(ec.SECP521R1()), "不接受 EC secp521r1 密钥"),
        (ed25519.Ed25519PrivateKey.generate, "不接受 Ed25519 密钥"),
        (lambda: dsa.generate_private_key(2048), "不接受 DSA-2048 密钥"),
    ],
)
def test_key_policy(key: object, message: str) -> None:
    private = key()  # type: ignore[operator]
    with pytest.raises(InvalidInput, match=message) as info:
        load_csr(make_csr(private))
    assert info.value.code == "key_policy"


def test_sm2_is_named() -> None:
    with pytest.raises(InvalidInput, match="不接受 SM2 曲线的密钥") as info:
        load_csr(SM2_CSR)
    assert info.value.code == "key_policy"


def test_key_policy_bounds_without_csr() -> None:
    # Public numbers need no private key: an 8200-bit modulus is refused, 8192 accepted.
    big = rsa.RSAPublicNumbers(65537, (1 << 8199) | 1).public_key()
    with pytest.raises(InvalidInput, match="不接受 RSA-8200 密钥：RSA 密钥最多为"):
        check_public_key(big)
    top = rsa.RSAPublicNumbers(65537, (1 << 8191) | 1).public_key()
    assert check_public_key(top) is top
    assert describe_key(top) == "RSA-8192"


def test_csr_public_key_helper(ec_key: ec.EllipticCurvePrivateKey) -> None:
    csr = x509.load_pem_x509_csr(make_csr(ec_key))
    assert csr_public_key(csr) == ec_key.public_key()


def test_der_containing_a_pem_marker_is_still_der(ec_key: ec.EllipticCurvePrivateKey) -> None:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "-----BEGIN x")]))
        .sign(ec_key, hashes.SHA256())
    )
    assert load_csr(csr.public_bytes(serialization.Encoding.DER)).public_key() == (
        ec_key.public_key()
    )
