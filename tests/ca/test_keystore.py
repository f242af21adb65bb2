"""CA key stores: encrypted key files and keys on the instance's SoftHSM2 token."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes

from certhall.ca.keystore import (
    CA_TOKEN_LABEL,
    FileKeyStore,
    Pkcs11KeyStore,
    generate_software_key,
    open_keystore,
    parse_pkcs11_ref,
    pkcs11_ref,
)
from certhall.errors import ConfigurationError, Conflict, InvalidInput, TokenError
from certhall.tokens import Pkcs11ECPrivateKey, Pkcs11RSAPrivateKey, module
from certhall.tokens.softhsm import token_labels, write_softhsm_conf
from tests.conftest_softhsm import SOFTHSM_MODULE, require_softhsm

PASSPHRASE = "correct horse battery staple"


def signs(key: CertificateIssuerPrivateKeyTypes) -> None:
    """The key makes signatures its public key verifies."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(b"data", ec.ECDSA(hashes.SHA256()))
        key.public_key().verify(signature, b"data", ec.ECDSA(hashes.SHA256()))
    elif isinstance(key, rsa.RSAPrivateKey):
        signature = key.sign(b"data", padding.PKCS1v15(), hashes.SHA256())
        key.public_key().verify(signature, b"data", padding.PKCS1v15(), hashes.SHA256())
    else:
        raise AssertionError(f"unexpected key {key!r}")


@pytest.mark.parametrize(
    ("key_type", "cls", "size"),
    [("ec", ec.EllipticCurvePrivateKey, 256), ("rsa2048", rsa.RSAPrivateKey, 2048)],
)
def test_generate_software_key(key_type: str, cls: type, size: int) -> None:
    key = generate_software_key(key_type)
    assert isinstance(key, cls)
    assert key.key_size == size
    with pytest.raises(InvalidInput):
        generate_software_key("ed25519")


# -- file --------------------------------------------------------------------------------------


def test_file_round_trip(tmp_path: Path) -> None:
    store = open_keystore("file", tmp_path, PASSPHRASE, SOFTHSM_MODULE)
    assert store.backend == "file"
    ref = store.generate("sz-root", "ec")
    assert ref == "file:sz-root.key.pem"
    path = tmp_path / "ca" / "keys" / "sz-root.key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    generated = store.load(ref)

    fresh = FileKeyStore(tmp_path / "ca" / "keys", PASSPHRASE)
    loaded = fresh.load(ref)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.public_key() == generated.public_key()
    signs(loaded)
    assert fresh.load(ref) is loaded  # decrypted once


def test_file_rsa(tmp_path: Path) -> None:
    ref = FileKeyStore(tmp_path, PASSPHRASE).generate("rsa", "rsa2048")
    key = FileKeyStore(tmp_path, PASSPHRASE).load(ref)
    assert isinstance(key, rsa.RSAPrivateKey)
    assert key.key_size == 2048
    signs(key)


def test_file_wrong_passphrase(tmp_path: Path) -> None:
    ref = FileKeyStore(tmp_path, PASSPHRASE).generate("root", "ec")
    with pytest.raises(ConfigurationError, match="口令（CERTHALL_CA_KEY_PASSPHRASE）错误") as err:
        FileKeyStore(tmp_path, "not the passphrase").load(ref)
    assert err.value.code == "wrong_passphrase"
    assert PASSPHRASE not in str(err.value)


def test_file_never_overwrites(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, PASSPHRASE)
    ref = store.generate("root", "ec")
    before = (tmp_path / "root.key.pem").read_bytes()
    with pytest.raises(Conflict, match="已存在"):
        store.generate("root", "ec")
    with pytest.raises(Conflict):
        FileKeyStore(tmp_path, PASSPHRASE).generate("root", "rsa2048")
    assert (tmp_path / "root.key.pem").read_bytes() == before
    assert FileKeyStore(tmp_path, PASSPHRASE).load(ref).public_key() == store.load(ref).public_key()


@pytest.mark.parametrize(
    "ref",
    [
        "file:../root.key.pem",
        "file:/etc/passwd",
        "file:root.pem",
        "root.key.pem",
        "pkcs11:token=x;object=y",
    ],
)
def test_file_refuses_foreign_refs(tmp_path: Path, ref: str) -> None:
    with pytest.raises(ConfigurationError) as err:
        FileKeyStore(tmp_path, PASSPHRASE).load(ref)
    assert err.value.code == "key_ref_invalid"


def test_file_missing_key_and_bad_input(tmp_path: Path) -> None:
    store = FileKeyStore(tmp_path, PASSPHRASE)
    with pytest.raises(ConfigurationError) as err:
        store.load("file:missing.key.pem")
    assert err.value.code == "key_not_found"
    with pytest.raises(InvalidInput):
        store.generate("../escape", "ec")
    with pytest.raises(InvalidInput):
        store.generate("root", "dsa")
    with pytest.raises(ConfigurationError):
        FileKeyStore(tmp_path, "")
    assert list(tmp_path.iterdir()) == []


# -- pkcs11 ------------------------------------------------------------------------------------


@pytest.fixture
def pkcs11_home(tmp_path: Path) -> Path:
    require_softhsm()
    return tmp_path


def test_pkcs11_refs() -> None:
    ref = pkcs11_ref("certhall-ca", "sz-root")
    assert ref == "pkcs11:token=certhall-ca;object=sz-root"
    assert parse_pkcs11_ref(ref) == ("certhall-ca", "sz-root")
    assert parse_pkcs11_ref(pkcs11_ref("a;b=c", "x y")) == ("a;b=c", "x y")
    for bad in (
        "file:x.key.pem",
        "pkcs11:token=a",
        "pkcs11:object=b",
        "pkcs11:token=a;object=b;pin=1",
    ):
        with pytest.raises(ConfigurationError):
            parse_pkcs11_ref(bad)


@pytest.mark.softhsm
def test_pkcs11_round_trip(pkcs11_home: Path) -> None:
    store = open_keystore("pkcs11", pkcs11_home, PASSPHRASE, SOFTHSM_MODULE)
    assert store.backend == "pkcs11"
    try:
        ec_ref = store.generate("sz-root", "ec")
        rsa_ref = store.generate("sz-issuing", "rsa2048")
        assert ec_ref == "pkcs11:token=certhall-ca;object=sz-root"
        generated = store.load(ec_ref)
        assert isinstance(generated, Pkcs11ECPrivateKey)
    finally:
        store.close()
    conf = pkcs11_home / "softhsm" / "softhsm2.conf"
    assert conf.is_file()
    assert token_labels(conf) == [CA_TOKEN_LABEL]
    assert any((pkcs11_home / "softhsm" / "tokens").iterdir())

    fresh = open_keystore("pkcs11", pkcs11_home, PASSPHRASE, SOFTHSM_MODULE)
    try:
        loaded = fresh.load(ec_ref)
        assert isinstance(loaded, Pkcs11ECPrivateKey)
        assert loaded.public_key() == generated.public_key()
        signs(loaded)
        assert fresh.load(ec_ref) is loaded
        rsa_key = fresh.load(rsa_ref)
        assert isinstance(rsa_key, Pkcs11RSAPrivateKey)
        signs(rsa_key)
        with pytest.raises(Conflict):
            fresh.generate("sz-root", "ec")
        with pytest.raises(TokenError) as err:
            fresh.load(pkcs11_ref(CA_TOKEN_LABEL, "missing"))
        assert err.value.code == "key_not_found"
        with pytest.raises(ConfigurationError):
            fresh.load(pkcs11_ref("another-token", "sz-root"))
    finally:
        fresh.close()
    with pytest.raises(TokenError) as err:
        loaded.sign(b"data", ec.ECDSA(hashes.SHA256()))
    assert err.value.code == "session_closed"


@pytest.mark.softhsm
def test_pkcs11_wrong_passphrase(pkcs11_home: Path) -> None:
    store = open_keystore("pkcs11", pkcs11_home, PASSPHRASE, SOFTHSM_MODULE)
    ref = store.generate("root", "ec")
    store.close()
    wrong = open_keystore("pkcs11", pkcs11_home, "not the passphrase", SOFTHSM_MODULE)
    with pytest.raises(TokenError) as err:
        wrong.load(ref)
    assert err.value.code == "wrong_pin"
    right = open_keystore("pkcs11", pkcs11_home, PASSPHRASE, SOFTHSM_MODULE)
    try:
        signs(right.load(ref))
    finally:
        right.close()


@pytest.mark.softhsm
def test_pkcs11_load_does_not_create_the_token(pkcs11_home: Path) -> None:
    store = open_keystore("pkcs11", pkcs11_home, PASSPHRASE, SOFTHSM_MODULE)
    with pytest.raises(TokenError) as err:
        store.load(pkcs11_ref(CA_TOKEN_LABEL, "root"))
    assert err.value.code == "token_not_found"
    assert token_labels(pkcs11_home / "softhsm" / "softhsm2.conf") == []


@pytest.mark.softhsm
def test_pkcs11_store_with_a_given_so_pin(pkcs11_home: Path) -> None:
    conf = write_softhsm_conf(pkcs11_home / "hsm" / "tokens")
    store = Pkcs11KeyStore(SOFTHSM_MODULE, conf, "other-ca", pin="user-pin-1", so_pin="so-pin-1")
    try:
        assert store.generate("root", "ec") == "pkcs11:token=other-ca;object=root"
    finally:
        store.close()
    assert token_labels(conf) == ["other-ca"]
    binding = module.acquire(SOFTHSM_MODULE, conf)
    try:
        token = binding.lib.get_token(token_label="other-ca")
        token.open(rw=True, so_pin="so-pin-1").close()  # the SO PIN it was created with
    finally:
        module.release(binding)


def test_unknown_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="只能是 pkcs11 或 file"):
        open_keystore("hsm", tmp_path, PASSPHRASE, SOFTHSM_MODULE)
