"""`certhall token ...` commands that work on the token alone (no database)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from certhall.cli.main import main
from certhall.tokens import format_token, pin_status
from tests.conftest_softhsm import SO_PIN, USER_PIN, SoftHSMStore
from tests.tokens.test_objects import MiniCA

pytestmark = pytest.mark.softhsm


def run(
    store: SoftHSMStore, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    code = main(["token", args[0], "--conf", str(store.conf), *args[1:]])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def ukey(softhsm_store: SoftHSMStore) -> str:
    format_token(softhsm_store.module, "ukey", SO_PIN, USER_PIN, conf=softhsm_store.conf)
    return "ukey"


def test_init_without_registering(
    softhsm_store: SoftHSMStore, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        softhsm_store,
        capsys,
        "init",
        "--label",
        "fresh",
        "--so-pin",
        SO_PIN,
        "--pin",
        USER_PIN,
        "--no-register",
    )
    assert (code, err) == (0, "")
    assert "formatted token fresh (serial " in out
    assert "inventory" not in out
    assert SO_PIN not in out and USER_PIN not in out
    assert pin_status(softhsm_store.module, "fresh", conf=softhsm_store.conf).tries_left == 6
    code, _, err = run(
        softhsm_store,
        capsys,
        "init",
        "--label",
        "fresh",
        "--so-pin",
        SO_PIN,
        "--pin",
        USER_PIN,
        "--no-register",
    )
    assert code == 7
    assert err == "certhall: error: 标签为“fresh”的令牌已存在。\n"


def test_csr_import_list_sign(
    softhsm_store: SoftHSMStore, ukey: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    csr_path = tmp_path / "req.csr"
    code, out, err = run(
        softhsm_store, capsys, "csr", "--label", ukey, "--pin", USER_PIN, "--out", str(csr_path)
    )
    assert (code, err) == (0, "")
    csr = x509.load_pem_x509_csr(csr_path.read_bytes())
    assert csr.is_signature_valid
    key_label = out.split()[1]
    mini = MiniCA()
    cert = mini.issue(csr)
    cert_path = tmp_path / "cert.pem"
    cert_path.write_bytes(cert.public_bytes(serialization_pem()))
    chain_path = tmp_path / "chain.pem"
    chain_path.write_bytes(b"".join(c.public_bytes(serialization_pem()) for c in mini.chain))
    code, out, err = run(
        softhsm_store,
        capsys,
        "import",
        "--label",
        ukey,
        "--pin",
        USER_PIN,
        "--cert",
        str(cert_path),
        "--chain",
        str(chain_path),
    )
    assert (code, err) == (0, "")
    assert f"(key {key_label})" in out and "2 CA certificate(s)" in out
    # list: the store, then the token (no PIN needed)
    code, out, _ = run(softhsm_store, capsys, "list", "--json")
    (listed,) = json.loads(out)
    assert listed["label"] == ukey and listed["pin"]["tries_left"] == 6
    code, out, _ = run(softhsm_store, capsys, "list", "--label", ukey, "--json")
    doc = json.loads(out)
    leaf = next(c for c in doc["certificates"] if not c["is_ca"])
    assert (leaf["label"], leaf["serial"], leaf["has_private_key"]) == (
        key_label,
        format(cert.serial_number, "x"),
        True,
    )
    assert sum(c["is_ca"] for c in doc["certificates"]) == 2
    assert {o["class"] for o in doc["objects"]} == {"certificate", "public_key", "data"}
    code, out, _ = run(softhsm_store, capsys, "list", "--label", ukey)
    assert code == 0 and key_label in out and "CN=张三" in out
    # sign
    data = tmp_path / "contract.txt"
    data.write_bytes("合同 contract".encode())
    sig = tmp_path / "contract.sig"
    code, out, err = run(
        softhsm_store,
        capsys,
        "sign",
        "--label",
        ukey,
        "--pin",
        USER_PIN,
        "--in",
        str(data),
        "--out",
        str(sig),
    )
    assert (code, err) == (0, "")
    public = cert.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    public.verify(sig.read_bytes(), data.read_bytes(), ec.ECDSA(hashes.SHA256()))


def serialization_pem():  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.PEM


def test_wrong_pin_prints_the_tries_left_and_writes_nothing(
    softhsm_store: SoftHSMStore, ukey: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out_path = out_dir / "req.csr"
    code, out, err = run(
        softhsm_store, capsys, "csr", "--label", ukey, "--pin", "000000", "--out", str(out_path)
    )
    assert code == 7
    assert out == ""
    assert err == "certhall: error: PIN码错误，还可以尝试 5 次；次数用完后Ukey将被锁定。\n"
    assert list(out_dir.iterdir()) == []  # no file, no temporary left behind
    for left in (4, 3, 2, 1):
        code, _, err = run(
            softhsm_store,
            capsys,
            "change-pin",
            "--label",
            ukey,
            "--pin",
            "000000",  # a 1-byte PIN is refused (pin_length) before it costs a try
            "--new-pin",
            "658421",
        )
        assert code == 7 and f"还可以尝试 {left} 次" in err
    code, _, err = run(
        softhsm_store, capsys, "sign", "--label", ukey, "--pin", "000000", "--in", __file__,
        "--out", str(out_dir / "x.sig"),
    )  # fmt: skip
    assert code == 7 and "PIN码错误，次数已用完，Ukey的PIN码已被锁定" in err
    code, _, err = run(
        softhsm_store, capsys, "csr", "--label", ukey, "--pin", USER_PIN, "--out", str(out_path)
    )
    assert code == 7
    assert err.startswith("certhall: error: Ukey的PIN码已被锁定") and err.count("\n") == 1
    code, out, _ = run(softhsm_store, capsys, "list")
    assert "PIN locked" in out
    assert list(out_dir.iterdir()) == []


def test_change_pin(
    softhsm_store: SoftHSMStore, ukey: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        softhsm_store,
        capsys,
        "change-pin",
        "--label",
        ukey,
        "--pin",
        USER_PIN,
        "--new-pin",
        "658421",
    )
    assert (code, err) == (0, "")
    assert out == "the PIN of token ukey was changed\n"
    code, _, err = run(
        softhsm_store, capsys, "change-pin", "--label", ukey, "--pin", "658421", "--new-pin", "12"
    )
    assert code == 7 and "新PIN码须为 6 至 32 个字符" in err and "12\n" not in err


def test_unknown_label_and_bad_input(
    softhsm_store: SoftHSMStore, ukey: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(
        softhsm_store,
        capsys,
        "csr",
        "--label",
        "nope",
        "--pin",
        USER_PIN,
        "--out",
        str(tmp_path / "a"),
    )
    assert code == 7 and "未找到标签为“nope”的令牌" in err and err.count("\n") == 1
    code, _, err = run(softhsm_store, capsys, "list", "--label", "nope")
    assert code == 7 and "未找到标签为“nope”的令牌" in err
    not_a_cert = tmp_path / "x.pem"
    not_a_cert.write_text("hello")
    code, _, err = run(
        softhsm_store,
        capsys,
        "import",
        "--label",
        ukey,
        "--pin",
        USER_PIN,
        "--cert",
        str(not_a_cert),
    )
    assert code == 2 and "不是证书" in err
    code, _, err = run(
        softhsm_store, capsys, "sign", "--label", ukey, "--pin", USER_PIN, "--in",
        str(tmp_path / "missing"), "--out", str(tmp_path / "x.sig"),
    )  # fmt: skip
    assert code == 2 and "无法读取" in err
    # no key on the token yet: sign cannot choose
    code, _, err = run(
        softhsm_store, capsys, "sign", "--label", ukey, "--pin", USER_PIN, "--in", str(not_a_cert),
        "--out", str(tmp_path / "x.sig"),
    )  # fmt: skip
    assert code == 2 and "有 0 个密钥" in err
    assert not (tmp_path / "x.sig").exists()
    assert pin_status(softhsm_store.module, ukey, conf=softhsm_store.conf).tries_left == 6
    code, _, err = run(softhsm_store, capsys, "list", "--conf", str(tmp_path / "missing.conf"))
    assert code == 2 and "不存在" in err


def test_several_keys_need_a_key_label(
    softhsm_store: SoftHSMStore, ukey: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("a", "b"):
        code, _, _ = run(
            softhsm_store, capsys, "csr", "--label", ukey, "--pin", USER_PIN, "--key-label",
            name, "--key-type", "rsa2048", "--out", str(tmp_path / f"{name}.csr"),
        )  # fmt: skip
        assert code == 0
    args = ["--label", ukey, "--pin", USER_PIN, "--in", str(tmp_path / "a.csr")]
    code, _, err = run(softhsm_store, capsys, "sign", *args, "--out", str(tmp_path / "s"))
    assert code == 2 and "有 2 个密钥（a, b）" in err
    code, _, _ = run(
        softhsm_store, capsys, "sign", *args, "--key-label", "b", "--out", str(tmp_path / "s")
    )
    assert code == 0 and (tmp_path / "s").stat().st_size == 256
    code, _, err = run(
        softhsm_store, capsys, "csr", "--label", ukey, "--pin", USER_PIN, "--key-label", "a",
        "--out", str(tmp_path / "c.csr"),
    )  # fmt: skip
    assert code == 5 and "已有标签为“a”的密钥" in err
    assert not (tmp_path / "c.csr").exists()


def test_the_installed_command(softhsm_store: SoftHSMStore, ukey: str, tmp_path: Path) -> None:
    """Through the console script: exit code and one line on stderr; SOFTHSM2_CONF is used."""
    certhall = Path(sys.executable).parent / "certhall"
    env = {
        **os.environ,
        "SOFTHSM2_CONF": str(softhsm_store.conf),
        "CERTHALL_HOME": str(tmp_path / "home"),
    }
    result = subprocess.run(
        [str(certhall), "token", "change-pin", "--label", ukey, "--pin", "nope-nope",
         "--new-pin", "658421"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 7
    assert (
        result.stderr == "certhall: error: PIN码错误，还可以尝试 5 次；次数用完后Ukey将被锁定。\n"
    )
    result = subprocess.run(
        [str(certhall), "token", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("ukey ") and "5/6 tries" in result.stdout
    assert not (tmp_path / "home").exists()  # no database, no instance files were needed


def test_a_csr_that_cannot_be_written_leaves_no_key(
    softhsm_store: SoftHSMStore,
    ukey: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The key was generated on the token before the file was written: a full disk left a key
    without a CSR, under a label nobody was told."""
    import errno

    from certhall.cli import output

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    args = ("csr", "--label", ukey, "--pin", USER_PIN, "--key-label", "k1")
    with monkeypatch.context() as patched:
        patched.setattr(output.os, "fsync", full)
        code, _, err = run(softhsm_store, capsys, *args, "--out", str(tmp_path / "a.csr"))
    assert code == 2 and "No space left on device" in err
    assert not (tmp_path / "a.csr").exists()
    # the label is free again: the key went with the file
    code, _, err = run(softhsm_store, capsys, *args, "--out", str(tmp_path / "b.csr"))
    assert (code, err) == (0, "")
