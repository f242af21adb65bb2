"""Token key pairs and the cryptography private key adapters."""

from __future__ import annotations

import copy
import datetime
import os
import shutil
import subprocess
import threading

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, AttributeSensitive, ObjectClass

from certhall.errors import Conflict, TokenError
from certhall.tokens import (
    KeySpec,
    Pkcs11ECPrivateKey,
    TokenPrivateKey,
    TokenSession,
    generate_keypair,
    load_private_key,
)
from tests.conftest_softhsm import USER_PIN, SoftHSMStore

pytestmark = pytest.mark.softhsm

NOW = datetime.datetime(2025, 3, 1, 8, 0, tzinfo=datetime.UTC)
NAME = x509.Name(
    [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "测试电子认证服务有限公司"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Token Test CA"),
    ]
)


def verify(key: TokenPrivateKey, signature: bytes, data: bytes) -> None:
    public = key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    else:
        public.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())


def sign(key: TokenPrivateKey, data: bytes) -> bytes:
    if isinstance(key, Pkcs11ECPrivateKey):
        return key.sign(data, ec.ECDSA(hashes.SHA256()))
    return key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def private_object(session: TokenSession, label: str) -> object:
    (obj,) = session.raw.get_objects(
        {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: label}
    )
    return obj


def self_signed(key: TokenPrivateKey) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(NAME)
        .issuer_name(NAME)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW)
        .not_valid_after(NOW + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(params=["ec", "rsa2048"])
def token_key(request: pytest.FixtureRequest, softhsm_token: TokenSession) -> TokenPrivateKey:
    spec: KeySpec = request.param
    return generate_keypair(softhsm_token, f"key-{spec}", spec)


def test_private_key_is_sensitive_and_never_extractable(
    softhsm_token: TokenSession, token_key: TokenPrivateKey
) -> None:
    obj = private_object(softhsm_token, token_key.label)
    attrs = obj.get_attributes(  # type: ignore[attr-defined]
        [
            Attribute.TOKEN,
            Attribute.PRIVATE,
            Attribute.SENSITIVE,
            Attribute.ALWAYS_SENSITIVE,
            Attribute.EXTRACTABLE,
            Attribute.NEVER_EXTRACTABLE,
            Attribute.SIGN,
            Attribute.DECRYPT,
            Attribute.UNWRAP,
            Attribute.DERIVE,
        ]
    )
    assert attrs == {
        Attribute.TOKEN: True,
        Attribute.PRIVATE: True,
        Attribute.SENSITIVE: True,
        Attribute.ALWAYS_SENSITIVE: True,
        Attribute.EXTRACTABLE: False,
        Attribute.NEVER_EXTRACTABLE: True,
        Attribute.SIGN: True,
        Attribute.DECRYPT: False,
        Attribute.UNWRAP: False,
        Attribute.DERIVE: False,
    }
    secret = (
        Attribute.VALUE if isinstance(token_key, Pkcs11ECPrivateKey) else Attribute.PRIVATE_EXPONENT
    )
    with pytest.raises(AttributeSensitive):
        obj[secret]  # type: ignore[index]


def test_key_material(token_key: TokenPrivateKey) -> None:
    if isinstance(token_key, Pkcs11ECPrivateKey):
        assert isinstance(token_key, ec.EllipticCurvePrivateKey)
        assert isinstance(token_key.curve, ec.SECP256R1)
        assert token_key.key_size == 256
    else:
        assert isinstance(token_key, rsa.RSAPrivateKey)
        assert token_key.key_size == 2048
        assert token_key.public_key().public_numbers().e == 65537
    assert copy.copy(token_key) is token_key
    assert copy.deepcopy(token_key) is token_key


def test_signatures_verify_with_the_public_key(token_key: TokenPrivateKey) -> None:
    data = b"\xe5\x8c\xbb\xe4\xbf\x9d" * 1000
    signature = sign(token_key, data)
    verify(token_key, signature, data)
    with pytest.raises(InvalidSignature):
        verify(token_key, signature, data + b"!")


def test_ec_hashes_and_prehashed(softhsm_token: TokenSession) -> None:
    key = generate_keypair(softhsm_token, "ec", "ec")
    public = key.public_key()
    for algorithm in (hashes.SHA256(), hashes.SHA384(), hashes.SHA512(), hashes.SHA3_256()):
        public.verify(key.sign(b"data", ec.ECDSA(algorithm)), b"data", ec.ECDSA(algorithm))
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"data")
    prehashed = key.sign(digest.finalize(), ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    public.verify(prehashed, b"data", ec.ECDSA(hashes.SHA256()))
    with pytest.raises(ValueError, match="prehashed"):
        key.sign(b"short", ec.ECDSA(utils.Prehashed(hashes.SHA256())))


def test_rsa_paddings_and_prehashed(softhsm_token: TokenSession) -> None:
    key = generate_keypair(softhsm_token, "rsa", "rsa2048")
    public = key.public_key()
    data = b"data"
    for algorithm in (hashes.SHA256(), hashes.SHA384(), hashes.SHA512()):
        public.verify(
            key.sign(data, padding.PKCS1v15(), algorithm), data, padding.PKCS1v15(), algorithm
        )
        digest = hashes.Hash(algorithm)
        digest.update(data)
        prehashed = key.sign(digest.finalize(), padding.PKCS1v15(), utils.Prehashed(algorithm))
        public.verify(prehashed, data, padding.PKCS1v15(), algorithm)
    for salt in (padding.PSS.DIGEST_LENGTH, padding.PSS.MAX_LENGTH, 20):
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=salt)
        signature = key.sign(data, pss, hashes.SHA256())
        public.verify(signature, data, pss, hashes.SHA256())
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    signature = key.sign(digest.finalize(), pss, utils.Prehashed(hashes.SHA256()))
    public.verify(signature, data, pss, hashes.SHA256())


def test_rsa_every_hash_with_either_padding(softhsm_token: TokenSession) -> None:
    key = generate_keypair(softhsm_token, "rsa", "rsa2048")
    public = key.public_key()
    data = b"data"
    for algorithm in (hashes.SHA224(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()):
        digest = hashes.Hash(algorithm)
        digest.update(data)
        prehashed = digest.finalize()
        # SoftHSM2 takes PSS only with MGF1 over the same hash
        pss = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=20)
        for pad in (padding.PKCS1v15(), pss):
            public.verify(key.sign(data, pad, algorithm), data, pad, algorithm)
            signature = key.sign(prehashed, pad, utils.Prehashed(algorithm))
            public.verify(signature, data, pad, algorithm)
    with pytest.raises(TokenError) as err:
        key.sign(data, padding.PKCS1v15(), hashes.SHA3_256())
    assert err.value.params == {"algorithm": "sha3-256"}
    with pytest.raises(TokenError) as err:
        key.sign(data, padding.PSS(padding.MGF1(hashes.SHA3_256()), 20), hashes.SHA256())
    assert err.value.code == "algorithm_unsupported"


def test_what_a_token_key_cannot_do(softhsm_token: TokenSession) -> None:
    ec_key = generate_keypair(softhsm_token, "ec", "ec")
    rsa_key = generate_keypair(softhsm_token, "rsa", "rsa2048")
    pem = (
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    for key in (ec_key, rsa_key):
        with pytest.raises(TokenError) as err:
            key.private_bytes(*pem)
        assert err.value.code == "key_not_extractable"
        with pytest.raises(TokenError) as err:
            key.private_numbers()
        assert err.value.code == "key_not_extractable"
    with pytest.raises(TokenError):
        ec_key.exchange(ec.ECDH(), ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(TokenError):
        rsa_key.decrypt(b"x" * 256, padding.PKCS1v15())
    with pytest.raises(TokenError, match="md5"):
        rsa_key.sign(b"data", padding.PKCS1v15(), hashes.MD5())  # noqa: S303
    with pytest.raises(TokenError, match="确定性 ECDSA"):
        ec_key.sign(b"data", ec.ECDSA(hashes.SHA256(), deterministic_signing=True))


def test_duplicate_key_label_is_refused(softhsm_token: TokenSession) -> None:
    first = generate_keypair(softhsm_token, "root", "ec")
    with pytest.raises(Conflict, match="已有标签为“root”的密钥"):
        generate_keypair(softhsm_token, "root", "rsa2048")
    assert load_private_key(softhsm_token, "root").public_key() == first.public_key()


def test_bad_key_label_or_type(softhsm_token: TokenSession) -> None:
    with pytest.raises(TokenError, match="密钥标签须为"):
        generate_keypair(softhsm_token, "../root", "ec")
    with pytest.raises(TokenError, match="密钥类型只能是"):
        generate_keypair(softhsm_token, "root", "dsa")  # type: ignore[call-overload]


def test_load_by_label(softhsm_store: SoftHSMStore, token_key: TokenPrivateKey) -> None:
    with softhsm_store.open("test-token") as session:
        loaded = load_private_key(session, token_key.label)
        assert type(loaded) is type(token_key)
        assert loaded.public_key() == token_key.public_key()
        verify(token_key, sign(loaded, b"data"), b"data")
        with pytest.raises(TokenError) as err:
            load_private_key(session, "missing")
        assert err.value.code == "key_not_found"


def test_csr(token_key: TokenPrivateKey) -> None:
    csr = (
        x509.CertificateSigningRequestBuilder().subject_name(NAME).sign(token_key, hashes.SHA256())
    )
    assert csr.is_signature_valid
    assert csr.public_key() == token_key.public_key()


def test_self_signed_certificate(token_key: TokenPrivateKey) -> None:
    cert = self_signed(token_key)
    cert.verify_directly_issued_by(cert)
    assert cert.signature_hash_algorithm is not None
    assert cert.signature_hash_algorithm.name == "sha256"


def test_crl(token_key: TokenPrivateKey) -> None:
    cert = self_signed(token_key)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(NAME)
        .last_update(NOW)
        .next_update(NOW + datetime.timedelta(hours=24))
        .add_extension(x509.CRLNumber(7), critical=False)
    )
    for serial in (1, 2, 3):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(NOW - datetime.timedelta(hours=1))
            .build()
        )
    crl = builder.sign(token_key, hashes.SHA256())
    assert crl.is_signature_valid(cert.public_key())  # type: ignore[arg-type]
    assert len(crl) == 3


def test_ocsp_response(token_key: TokenPrivateKey) -> None:
    issuer = self_signed(token_key)
    subject_key = ec.generate_private_key(ec.SECP256R1())
    subject = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]))
        .issuer_name(NAME)
        .public_key(subject_key.public_key())
        .serial_number(12345)
        .not_valid_before(NOW)
        .not_valid_after(NOW + datetime.timedelta(days=1))
        .sign(token_key, hashes.SHA256())
    )
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=subject,
            issuer=issuer,
            algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=NOW,
            next_update=NOW + datetime.timedelta(hours=1),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
        .sign(token_key, hashes.SHA256())
    )
    parsed = ocsp.load_der_ocsp_response(response.public_bytes(serialization.Encoding.DER))
    assert parsed.serial_number == 12345
    verify(token_key, parsed.signature, parsed.tbs_response_bytes)


def test_concurrent_signing_from_four_threads(softhsm_token: TokenSession) -> None:
    keys: list[TokenPrivateKey] = [
        generate_keypair(softhsm_token, "ec", "ec"),
        generate_keypair(softhsm_token, "rsa", "rsa2048"),
    ]
    errors: list[BaseException] = []
    results: list[tuple[TokenPrivateKey, bytes, bytes]] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def work(n: int) -> None:
        start.wait()
        try:
            for i in range(50):
                key = keys[(n + i) % 2]
                data = f"thread {n} message {i}".encode()
                signature = sign(key, data)
                with lock:
                    results.append((key, data, signature))
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 200
    for key, data, signature in results:
        verify(key, signature, data)


def test_rsa3072(softhsm_token: TokenSession) -> None:
    key = generate_keypair(softhsm_token, "rsa3072", "rsa3072")
    assert key.key_size == 3072
    verify(key, sign(key, b"data"), b"data")


@pytest.mark.interop
def test_pkcs11_tool_sees_a_never_extractable_key(
    softhsm_store: SoftHSMStore, softhsm_token: TokenSession
) -> None:
    tool = shutil.which("pkcs11-tool")
    if tool is None:
        pytest.skip("pkcs11-tool (opensc) not installed")
    generate_keypair(softhsm_token, "ca-key", "ec")
    result = subprocess.run(
        [
            tool,
            "--module",
            softhsm_store.module,
            "--token-label",
            "test-token",
            "--login",
            "--pin",
            USER_PIN,
            "--list-objects",
            "--type",
            "privkey",
        ],
        env={**os.environ, "SOFTHSM2_CONF": str(softhsm_store.conf)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "label:      ca-key" in result.stdout
    assert "never extractable" in result.stdout
    assert "Usage:      sign" in result.stdout
