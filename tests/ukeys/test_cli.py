"""`certhall token init | unlock` (with the inventory), `certhall outbox`, and the operator's
path from a CSR on the token to a certificate on the token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.cli.main import main
from certhall.notify.models import SmsMessage
from certhall.notify.services import send_sms
from certhall.tokens import PinError, list_tokens, pin_status, user_login
from certhall.ukeys import services, sessions
from certhall.ukeys.lifecycle import Status
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.ukeys.conftest import assert_secret_nowhere

pytestmark = pytest.mark.softhsm

SO_PIN = "so-pin-for-cli-1"
PIN = "246810"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def token(store: UkeyStore, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    return run(capsys, "token", args[0], "--conf", str(store.conf), *args[1:])


@pytest.fixture
def registered(db: None, ukey_store: UkeyStore, capsys: pytest.CaptureFixture[str]) -> Ukey:
    code, out, err = token(
        ukey_store, capsys, "init", "--label", "cli-ukey", "--so-pin", SO_PIN, "--pin", PIN
    )
    assert (code, err) == (0, "")
    assert "recorded in the Ukey inventory" in out
    return Ukey.objects.get(label="cli-ukey")


def test_init_refuses_a_label_with_an_invisible_character(
    db: None, ukey_store: UkeyStore, capsys: pytest.CaptureFixture[str]
) -> None:
    """--label was checked for length and padding only: ukey-<RLO>0102 was formatted and
    recorded, and staff read it reversed in the inventory."""
    code, out, err = token(
        ukey_store, capsys, "init", "--label", "ukey-\u202e0102", "--so-pin", SO_PIN, "--pin", PIN
    )
    assert (code, out) == (2, "")
    said = "令牌标签的第6个字符（U+202E）是文字方向控制符，不能使用，请删除后重新输入。"
    assert err == f"certhall: error: {said}\n"
    assert not Ukey.objects.exists()
    assert list_tokens(ukey_store.module, conf=ukey_store.conf) == []


def test_init_registers_the_token_with_its_so_pin_sealed(
    registered: Ukey, ukey_store: UkeyStore
) -> None:
    assert registered.status == Status.IN_STOCK
    assert sessions.so_pin(registered) == SO_PIN
    assert SO_PIN.encode() not in bytes(registered.so_pin_sealed)
    assert_secret_nowhere(SO_PIN)
    assert_secret_nowhere(PIN)
    user_login(ukey_store.module, "cli-ukey", PIN, conf=ukey_store.conf).close()


def test_unlock_uses_the_stored_so_pin(
    registered: Ukey, ukey_store: UkeyStore, capsys: pytest.CaptureFixture[str]
) -> None:
    for _ in range(6):
        with pytest.raises(PinError):
            user_login(ukey_store.module, "cli-ukey", "000000", conf=ukey_store.conf)
    code, _, err = token(ukey_store, capsys, "csr", "--label", "cli-ukey", "--pin", PIN,
                         "--out", "/nonexistent/x.csr")  # fmt: skip
    assert code == 2 and "无法写入" in err  # the output is checked before the token
    code, _, err = token(ukey_store, capsys, "change-pin", "--label", "cli-ukey", "--pin", PIN,
                         "--new-pin", "135790")  # fmt: skip
    assert code == 7 and "PIN码已被锁定" in err
    code, out, err = token(
        ukey_store, capsys, "unlock", "--label", "cli-ukey", "--new-pin", "135790",
        "--phone", "13800138000",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert f"(Ukey {registered.serial}) unlocked" in out
    status = pin_status(ukey_store.module, "cli-ukey", conf=ukey_store.conf)
    assert (status.locked, status.tries_left, status.must_change) == (False, 6, True)
    code, _, err = token(ukey_store, capsys, "sign", "--label", "cli-ukey", "--pin", "135790",
                         "--in", __file__, "--out", "/tmp/never-written.sig")  # fmt: skip
    assert code == 7 and "请先修改PIN码" in err
    code, _, err = token(ukey_store, capsys, "change-pin", "--label", "cli-ukey", "--pin",
                         "135790", "--new-pin", "864200")  # fmt: skip
    assert (code, err) == (0, "")
    (sms,) = SmsMessage.objects.all()
    assert "135790" in sms.text
    assert_secret_nowhere("135790", outbox_allowed=True)
    assert_secret_nowhere(SO_PIN)
    event = AuditEvent.objects.filter(action="ukey.unlock", result="ok").get()
    assert event.actor.startswith("system:")


def test_unlock_refusals(
    registered: Ukey, ukey_store: UkeyStore, capsys: pytest.CaptureFixture[str], admin: User
) -> None:
    code, _, err = token(ukey_store, capsys, "unlock", "--label", "nope", "--new-pin", "135790")
    assert code == 7 and "未找到标签为“nope”的令牌" in err
    code, _, err = token(
        ukey_store, capsys, "init", "--label", "unknown-ukey", "--so-pin", SO_PIN, "--pin", PIN,
        "--no-register",
    )  # fmt: skip
    assert code == 0
    code, _, err = token(
        ukey_store, capsys, "unlock", "--label", "unknown-ukey", "--new-pin", "135790"
    )
    assert code == 4
    assert err == (
        "certhall: error: 令牌“unknown-ukey”（序列号 "
        f"{services.token_info(ukey_store.module, 'unknown-ukey', conf=ukey_store.conf).serial}）"
        "不在Ukey库存中。\n"
    )
    code, _, err = token(ukey_store, capsys, "unlock", "--label", "cli-ukey", "--new-pin", "1")
    assert code == 7 and "新PIN码须为 6 至 32 个字符" in err
    code, _, err = token(
        ukey_store, capsys, "unlock", "--label", "cli-ukey", "--new-pin", "135790",
        "--phone", "12345",
    )  # fmt: skip
    assert code == 2 and "11位中国大陆手机号码" in err
    services.report_status(admin, registered, Status.DAMAGED)
    code, _, err = token(ukey_store, capsys, "unlock", "--label", "cli-ukey", "--new-pin", "135790")
    assert code == 5 and "只有库存、已发放或已锁定的Ukey可以解锁" in err
    user_login(ukey_store.module, "cli-ukey", PIN, conf=ukey_store.conf).close()


def test_csr_from_the_token_is_issued_and_imported(  # type: ignore[no-untyped-def]
    ca, registered: Ukey, ukey_store: UkeyStore, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    csr = tmp_path / "ukey.csr"
    code, out, err = token(
        ukey_store, capsys, "csr", "--label", "cli-ukey", "--pin", PIN, "--out", str(csr)
    )
    assert (code, err) == (0, "")
    cert, chain = tmp_path / "cert.pem", tmp_path / "chain.pem"
    code, serial, err = run(
        capsys, "ca", "issue", "--csr", str(csr), "--profile", "personal", "--years", "3",
        "--org-name", "深圳市演示医疗科技有限公司", "--uscc", "91350100M000100Y43",
        "--person-name", "张三", "--id-number", "11010519491231002X", "--out", str(cert),
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert run(capsys, "ca", "chain", "--out", str(chain))[0] == 0
    code, out, err = token(
        ukey_store, capsys, "import", "--label", "cli-ukey", "--pin", PIN, "--cert", str(cert),
        "--chain", str(chain),
    )  # fmt: skip
    assert (code, err) == (0, "")
    code, out, _ = token(ukey_store, capsys, "list", "--label", "cli-ukey", "--json")
    doc = json.loads(out)
    (leaf,) = [c for c in doc["certificates"] if not c["is_ca"]]
    assert leaf["serial"] == serial.strip()
    assert leaf["has_private_key"]
    assert "CN=张三" in leaf["subject"]


def test_outbox_command(
    admin: User, capsys: pytest.CaptureFixture[str], ukey_store: UkeyStore
) -> None:
    send_sms("13800138000", "您的PIN码：123456", "ukey.pin")
    send_sms("13900139000", "hello", "test")
    code, out, err = run(capsys, "outbox", "--json", "--phone", "13800138000")
    assert (code, err) == (0, "")
    (row,) = json.loads(out)
    assert (row["phone"], row["kind"], row["status"]) == ("13800138000", "ukey.pin", "outbox")
    assert row["text"] == "您的PIN码：123456"
    code, out, _ = run(capsys, "outbox")
    assert out.count("\n") == 2 and "13900139000 test" in out
    code, _, err = run(capsys, "outbox", "--phone", "555")
    assert code == 2 and err == "certhall: error: 请输入正确的11位中国大陆手机号码。\n"
    assert AuditEvent.objects.filter(action="notify.outbox.read", result="ok").count() == 2


def test_init_never_formats_in_the_cas_own_token_store(
    db: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ``SOFTHSM2_CONF`` exported for the CA's token (softhsm2-util needs it), or ``--conf``
    naming any file that points at that token directory: until 12-06 ``token init`` formatted
    the Ukey there, beside the CA key, and put it in stock."""
    from certhall.tokens import DEFAULT_MODULE, write_softhsm_conf

    home = tmp_path / "home"
    monkeypatch.setenv("CERTHALL_HOME", str(home))
    ca_conf = write_softhsm_conf(home / "softhsm" / "tokens", home / "softhsm" / "softhsm2.conf")
    alias = write_softhsm_conf(home / "softhsm" / "tokens", tmp_path / "alias.conf")
    monkeypatch.setenv("SOFTHSM2_CONF", str(ca_conf))
    pins = ("--so-pin", SO_PIN, "--pin", PIN)
    for extra in ((), ("--conf", str(alias)), ("--no-register",)):
        code, out, err = run(capsys, "token", "init", "--label", "ukey-ca-dir", *pins, *extra)
        assert (code, out) == (2, ""), err
        assert "指向 CA 自身密钥的令牌库，Ukey 不能在那里格式化" in err
    assert list_tokens(DEFAULT_MODULE, conf=ca_conf) == []
    assert not Ukey.objects.exists()
