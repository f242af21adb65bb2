"""Certificates on a token, several key pairs, signing and CSRs."""

from __future__ import annotations

import datetime
import os
import re
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, ObjectClass

from certhall.errors import Conflict, InvalidInput, TokenError
from certhall.tokens import (
    KeySpec,
    TokenPrivateKey,
    TokenSession,
    build_csr,
    delete_certificate,
    delete_key_pair,
    generate_keypair,
    key_label_for,
    list_certificates,
    list_objects,
    new_key_label,
    open_public,
    private_key_labels,
    sign,
    write_certificate,
)
from tests.conftest_softhsm import USER_PIN, SoftHSMStore

pytestmark = pytest.mark.softhsm

NOW = datetime.datetime.now(datetime.UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class MiniCA:
    """A software root + issuing CA issuing for token keys."""

    def __init__(self) -> None:
        self.root_key = ec.generate_private_key(ec.SECP256R1())
        self.root = self._cert(
            _name("Test Root"), _name("Test Root"), self.root_key.public_key(), self.root_key, True
        )
        self.issuing_key = ec.generate_private_key(ec.SECP256R1())
        self.issuing = self._cert(
            _name("Test Issuing"),
            _name("Test Root"),
            self.issuing_key.public_key(),
            self.root_key,
            True,
        )

    @staticmethod
    def _cert(
        subject: x509.Name,
        issuer: x509.Name,
        public: object,
        key: ec.EllipticCurvePrivateKey,
        ca: bool,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)  # type: ignore[arg-type]
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(minutes=1))
            .not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier.from_public_key(public),  # type: ignore[arg-type]
                critical=False,
            )
        return builder.sign(key, hashes.SHA256())

    def issue(self, csr: x509.CertificateSigningRequest, cn: str = "张三") -> x509.Certificate:
        return self._cert(
            _name(cn), self.issuing.subject, csr.public_key(), self.issuing_key, False
        )

    @property
    def chain(self) -> list[x509.Certificate]:
        return [self.issuing, self.root]


@pytest.fixture
def mini_ca() -> MiniCA:
    return MiniCA()


@pytest.fixture(params=["ec", "rsa2048"])
def key(request: pytest.FixtureRequest, softhsm_token: TokenSession) -> TokenPrivateKey:
    spec: KeySpec = request.param
    return generate_keypair(softhsm_token, new_key_label(softhsm_token), spec)


def test_csr_from_the_token_verifies(key: TokenPrivateKey) -> None:
    csr = build_csr(key.session, key.label)
    assert csr.is_signature_valid
    assert csr.public_key() == key.public_key()
    assert csr.subject.rfc4514_string() == "CN=certhall-ukey"
    assert isinstance(csr.signature_hash_algorithm, hashes.SHA256)


def test_sign_verifies(key: TokenPrivateKey) -> None:
    signature = sign(key.session, key.label, b"contract.pdf digest")
    public = key.public_key()
    if isinstance(public, ec.EllipticCurvePublicKey):
        public.verify(signature, b"contract.pdf digest", ec.ECDSA(hashes.SHA256()))
    else:
        public.verify(signature, b"contract.pdf digest", padding.PKCS1v15(), hashes.SHA256())


def test_certificate_and_chain_written_and_listed(key: TokenPrivateKey, mini_ca: MiniCA) -> None:
    session = key.session
    cert = mini_ca.issue(build_csr(session, key.label))
    write_certificate(session, key.label, cert, mini_ca.chain)
    listed = list_certificates(session)
    by_cert = {c.certificate: c for c in listed}
    assert set(by_cert) == {cert, mini_ca.issuing, mini_ca.root}
    leaf, issuing, root = by_cert[cert], by_cert[mini_ca.issuing], by_cert[mini_ca.root]
    key_id = bytes(
        next(
            session.raw.get_objects(
                {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.LABEL: key.label}
            )
        )[Attribute.ID]
    )
    assert (leaf.label, leaf.id, leaf.has_private_key, leaf.is_ca) == (
        key.label,
        key_id,
        True,
        False,
    )
    assert len(key_id) == 16
    assert leaf.serial_hex == format(cert.serial_number, "x")
    assert issuing.is_ca and not issuing.has_private_key
    assert issuing.label.startswith("ca-")
    assert root.is_ca


def test_renewal_puts_a_second_key_beside_the_first(
    softhsm_token: TokenSession, mini_ca: MiniCA
) -> None:
    first = generate_keypair(softhsm_token, new_key_label(softhsm_token), "ec")
    write_certificate(
        softhsm_token,
        first.label,
        mini_ca.issue(build_csr(softhsm_token, first.label)),
        mini_ca.chain,
    )
    second = generate_keypair(softhsm_token, new_key_label(softhsm_token), "ec")
    assert second.label != first.label
    renewed = mini_ca.issue(build_csr(softhsm_token, second.label))
    write_certificate(softhsm_token, second.label, renewed, mini_ca.chain)
    listed = list_certificates(softhsm_token)
    assert len(listed) == 4  # two end-entity certificates, the chain once
    ids = {c.label: c.id for c in listed if not c.is_ca}
    assert ids[first.label] != ids[second.label]
    assert sorted(private_key_labels(softhsm_token)) == sorted([first.label, second.label])
    assert key_label_for(softhsm_token, renewed.public_key()) == second.label
    delete_key_pair(softhsm_token, first.label)
    assert [c.label for c in list_certificates(softhsm_token) if not c.is_ca] == [second.label]
    with pytest.raises(TokenError) as err:
        delete_key_pair(softhsm_token, first.label)
    assert err.value.code == "key_not_found"


def test_a_key_label_is_taken_once(softhsm_token: TokenSession) -> None:
    generate_keypair(softhsm_token, "k1", "ec")
    with pytest.raises(Conflict):
        generate_keypair(softhsm_token, "k1", "ec")


def test_certificate_for_another_key_is_refused(
    softhsm_token: TokenSession, mini_ca: MiniCA
) -> None:
    a = generate_keypair(softhsm_token, "a", "ec")
    b = generate_keypair(softhsm_token, "b", "ec")
    cert_b = mini_ca.issue(build_csr(softhsm_token, b.label))
    with pytest.raises(InvalidInput) as err:
        write_certificate(softhsm_token, a.label, cert_b)
    assert err.value.code == "certificate_key_mismatch"
    assert list_certificates(softhsm_token) == []


def test_second_certificate_for_a_key_is_refused(
    softhsm_token: TokenSession, mini_ca: MiniCA
) -> None:
    a = generate_keypair(softhsm_token, "a", "ec")
    write_certificate(softhsm_token, a.label, mini_ca.issue(build_csr(softhsm_token, "a")))
    with pytest.raises(Conflict) as err:
        write_certificate(softhsm_token, a.label, mini_ca.issue(build_csr(softhsm_token, "a")))
    assert err.value.code == "certificate_exists"


def test_unknown_key(softhsm_token: TokenSession, mini_ca: MiniCA) -> None:
    for call in (
        lambda: build_csr(softhsm_token, "nope"),
        lambda: sign(softhsm_token, "nope", b"x"),
        lambda: write_certificate(softhsm_token, "nope", mini_ca.root),
    ):
        with pytest.raises(TokenError) as err:
            call()
        assert err.value.code == "key_not_found"
    with pytest.raises(TokenError) as err:
        key_label_for(softhsm_token, mini_ca.root.public_key())
    assert err.value.code == "key_not_found"


def test_delete_certificate_keeps_the_key(softhsm_token: TokenSession, mini_ca: MiniCA) -> None:
    a = generate_keypair(softhsm_token, "a", "ec")
    write_certificate(softhsm_token, "a", mini_ca.issue(build_csr(softhsm_token, "a")))
    delete_certificate(softhsm_token, "a")
    assert list_certificates(softhsm_token) == []
    assert sign(softhsm_token, "a", b"x")
    assert a.label in private_key_labels(softhsm_token)
    with pytest.raises(TokenError) as err:
        delete_certificate(softhsm_token, "a")
    assert err.value.code == "certificate_not_found"


def test_list_objects_shows_no_values(softhsm_token: TokenSession, mini_ca: MiniCA) -> None:
    generate_keypair(softhsm_token, "a", "ec")
    write_certificate(softhsm_token, "a", mini_ca.issue(build_csr(softhsm_token, "a")))
    objects = list_objects(softhsm_token)
    assert sorted((o.object_class, o.label) for o in objects) == [
        ("certificate", "a"),
        ("private_key", "a"),
        ("public_key", "a"),
    ]
    assert len({o.id for o in objects}) == 1
    assert set(vars(objects[0])) == {"object_class", "label", "id"}


def test_a_public_session_sees_certificates_but_not_keys(
    softhsm_store: SoftHSMStore, softhsm_token: TokenSession, mini_ca: MiniCA
) -> None:
    generate_keypair(softhsm_token, "a", "ec")
    cert = mini_ca.issue(build_csr(softhsm_token, "a"))
    write_certificate(softhsm_token, "a", cert, mini_ca.chain)
    softhsm_token.close()
    with open_public(softhsm_store.module, "test-token", conf=softhsm_store.conf) as public:
        assert not public.logged_in
        listed = {c.label: c for c in list_certificates(public)}
        assert len(listed) == 3
        assert listed["a"].certificate == cert
        assert listed["a"].has_private_key  # inferred from the public key of the pair
        assert "private_key" not in {o.object_class for o in list_objects(public)}


@pytest.mark.interop
def test_pkcs11_tool_pairs_the_certificate_with_the_key(
    softhsm_store: SoftHSMStore, softhsm_token: TokenSession, mini_ca: MiniCA
) -> None:
    tool = shutil.which("pkcs11-tool")
    if tool is None:
        pytest.skip("pkcs11-tool (opensc) not installed")
    generate_keypair(softhsm_token, "signing", "ec")
    write_certificate(
        softhsm_token, "signing", mini_ca.issue(build_csr(softhsm_token, "signing")), mini_ca.chain
    )
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
        ],
        env={**os.environ, "SOFTHSM2_CONF": str(softhsm_store.conf)},
        capture_output=True,
        text=True,
        check=True,
    )
    blocks = re.split(r"\n(?=\S)", result.stdout)
    ids = {
        block.split()[0]: re.search(r"ID:\s+(\S+)", block).group(1)  # type: ignore[union-attr]
        for block in blocks
        if "label:      signing" in block
    }
    assert set(ids) == {"Private", "Public", "Certificate"}
    assert len(set(ids.values())) == 1
