"""certhall certlogin (trust list) and certhall agent's start-up checks, in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certhall.audit.models import AuditEvent
from certhall.certlogin.models import TrustedRoot
from certhall.cli.main import main
from tests.agent.support import SoftwareCA
from tests.certlogin.support import crl_of, der


@pytest.mark.django_db
def test_trust_import_list_refresh_disable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = SoftwareCA.create("广东数字证书认证中心")
    cert_file = tmp_path / "issuing.pem"
    from cryptography.hazmat.primitives.serialization import Encoding

    cert_file.write_bytes(other.issuer.certificate.public_bytes(Encoding.PEM))
    crl_file = tmp_path / "issuing.crl"
    crl_file.write_bytes(crl_of(other, number=7))
    assert (
        main(["certlogin", "trust-import", "--cert", str(cert_file), "--crl", str(crl_file)]) == 0
    )
    out = capsys.readouterr().out
    root = TrustedRoot.objects.get()
    assert root.fingerprint_sha256 in out
    assert "CRL: 0 entries" in out
    assert root.crl_number == 7
    assert not root.self_signed

    assert main(["certlogin", "trust-list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert listed["name"] == "广东数字证书认证中心 签发CA"
    assert listed["crl_number"] == 7

    # an older CRL is refused, a newer one stored
    crl_file.write_bytes(crl_of(other, number=6))
    fp = root.fingerprint_sha256[:12]
    assert main(["certlogin", "crl-refresh", "--fingerprint", fp, "--crl", str(crl_file)]) == 5
    assert "比已保存的" in capsys.readouterr().err
    crl_file.write_bytes(crl_of(other, [42], number=8))
    assert main(["certlogin", "crl-refresh", "--fingerprint", fp, "--crl", str(crl_file)]) == 0
    root.refresh_from_db()
    assert (root.crl_number, root.crl_entries) == (8, 1)

    # a CRL of another CA, or one already past its nextUpdate, is refused
    stranger = SoftwareCA.create("别的CA")
    crl_file.write_bytes(crl_of(stranger, number=9))
    assert main(["certlogin", "crl-refresh", "--fingerprint", fp, "--crl", str(crl_file)]) == 2
    from datetime import UTC, datetime, timedelta

    stale = crl_of(other, number=10, now=datetime.now(UTC) - timedelta(days=3))
    crl_file.write_bytes(stale)
    assert main(["certlogin", "crl-refresh", "--fingerprint", fp, "--crl", str(crl_file)]) == 2
    assert "该 CRL 已过期" in capsys.readouterr().err

    # importing twice is refused; our own CA is not imported
    assert main(["certlogin", "trust-import", "--cert", str(cert_file)]) == 5
    assert main(["certlogin", "trust-disable", fp]) == 0
    root.refresh_from_db()
    assert not root.enabled
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"certlogin.trust.import", "certlogin.trust.crl", "certlogin.trust.disable"} <= actions


@pytest.mark.django_db
def test_a_name_with_an_invisible_character_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--name was bounded only: 广东<RLO>CA was stored and listed to staff reversed."""
    cert_file = tmp_path / "ca.der"
    cert_file.write_bytes(der(SoftwareCA.create("甲CA").issuer.certificate))
    command = ["certlogin", "trust-import", "--cert", str(cert_file), "--name", "广东\u202eCA"]
    assert main(command) == 2
    said = (
        "certhall: error: 名称的第3个字符（U+202E）是文字方向控制符，不能使用，请删除后重新输入。"
    )
    assert capsys.readouterr().err.strip() == said
    assert not TrustedRoot.objects.exists()
    refusal = AuditEvent.objects.get(action="certlogin.trust.import")
    assert refusal.result == "refused" and refusal.after["error"] == "text_chars"


@pytest.mark.django_db
def test_a_certificates_name_with_an_invisible_character_needs_a_name_of_ones_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --name the certificate's CN was the label, unchecked: 广东<RLO>CA 签发CA was
    listed to staff reversed. Refused, saying how to go on; with --name it is imported."""
    cert_file = tmp_path / "ca.der"
    cert_file.write_bytes(der(SoftwareCA.create("广东\u202eCA").issuer.certificate))
    command = ["certlogin", "trust-import", "--cert", str(cert_file)]
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "证书中的名称（可用 --name 另起名称）的第3个字符（U+202E）" in err
    assert not TrustedRoot.objects.exists()
    assert main([*command, "--name", "广东CA"]) == 0
    assert TrustedRoot.objects.get().name == "广东CA"


@pytest.mark.django_db
def test_our_own_ca_is_not_imported(tmp_path: Path, ca, capsys) -> None:  # type: ignore[no-untyped-def]
    root, _ = ca
    path = tmp_path / "root.der"
    path.write_bytes(bytes(root.certificate_der))
    assert main(["certlogin", "trust-import", "--cert", str(path)]) == 5
    assert "本平台自己的CA" in capsys.readouterr().err
    assert not TrustedRoot.objects.exists()


def test_agent_refuses_a_bad_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agent", "--hall-origin", "http://hall.example/path"]) == 8
    assert "不是网站来源" in capsys.readouterr().err
    assert main(["agent", "--hall-origin", "http://hall.example", "--module", "/nope.so"]) == 8
    assert "找不到 PKCS#11 模块" in capsys.readouterr().err


@pytest.mark.django_db
def test_crl_is_fetched_from_its_url(tmp_path: Path, admin, capsys) -> None:  # type: ignore[no-untyped-def]
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from certhall.certlogin import trust

    other = SoftwareCA.create()
    served = {"crl": crl_of(other, number=1)}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = served["crl"]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/issuing.crl"
        root = trust.import_trusted_ca(admin, der(other.issuer.certificate), crl_url=url)
        assert root.crl_number == 1
        served["crl"] = crl_of(other, [7], number=2)
        assert main(["certlogin", "crl-refresh"]) == 0
        assert "next update" in capsys.readouterr().out
        root.refresh_from_db()
        assert (root.crl_number, root.crl_entries) == (2, 1)
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.django_db
def test_a_refused_crl_imports_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    other, stranger = SoftwareCA.create("甲CA"), SoftwareCA.create("乙CA")
    cert_file, crl_file = tmp_path / "ca.der", tmp_path / "ca.crl"
    cert_file.write_bytes(der(other.issuer.certificate))
    crl_file.write_bytes(crl_of(stranger))
    assert (
        main(["certlogin", "trust-import", "--cert", str(cert_file), "--crl", str(crl_file)]) == 2
    )
    assert "而不是由" in capsys.readouterr().err
    assert not TrustedRoot.objects.exists()
    refusal = AuditEvent.objects.get(action="certlogin.trust.import")
    assert refusal.result == "refused" and refusal.after["error"] == "crl_issuer"


def _help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 0
    return capsys.readouterr().out


def test_the_helpers_help_is_chinese_from_the_catalogue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Customers run the helper and read its --help: Chinese (it was argparse's English and
    ours); the options' names stay as the command line takes them, their placeholders are
    Chinese (HALL_ORIGIN, PORT until 12-07) and the help column stays one column."""
    from certhall.messages import text

    out = _help(["agent", "--help"], capsys)
    assert out.startswith(text("cli_label.usage") + "certhall agent [-h]")
    assert text("agent_help") in " ".join(out.split())
    for line in ("agent_help.help", "agent_help.module", "agent_help.verbose"):
        assert text(line) in out
    assert text("agent_help.port", default=17443) in out
    for english in ("usage:", "options:", "show this help", "log every request", "default"):
        assert english not in out
    assert "--port 端口" in out and "HALL_ORIGIN" not in out and "PORT" not in out
    assert "\n选项：\n" in out  # the section's title with a Chinese colon (argparse's was ASCII)
    # each option's help starts in the same column of the terminal (a Chinese character: two)
    columns = {
        len(line[: line.index(help)]) + sum(ord(c) > 0x2E7F for c in line[: line.index(help)])
        for line in out.splitlines()
        for help in (text("agent_help.help"), text("agent_help.verbose"), "证书助手在本机")
        if help in line
    }
    assert len(columns) == 1, out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--bogus"], "无法识别的参数 --bogus"),
        (["x", "y"], "无法识别的参数 x y"),
        (["--port"], "选项 --port：后面须跟一个值"),
        (["--port", "abc"], "选项 --port：“abc”不是端口号（0-65535的数字）"),
        (["--verbose=1"], "选项 --verbose：不带值（多了“1”）"),
        (["--h"], "--h 可以指 --help, --hall-origin，请写出完整的选项名"),
    ],
)
def test_a_mistyped_helper_command_line_is_refused_in_chinese(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse's own words on ``certhall agent`` were English ("certhall: error: unrecognized
    arguments: --bogus"): one Chinese line now, with the way to the help."""
    with pytest.raises(SystemExit) as exited:
        main(["agent", *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        f"certhall agent 的命令行有误：{says}。运行 certhall agent --help 可查看用法。\n"
    )


def test_the_helpers_refusal_after_its_command_line_is_chinese_too(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["agent", "--port", "99999"]) == 8
    assert capsys.readouterr().err.startswith("certhall agent：--port 须为 0-65535")


def test_the_operators_commands_keep_argparses_english(capsys: pytest.CaptureFixture[str]) -> None:
    """Only the helper's parse speaks Chinese: argparse's words are its own again after it."""
    with pytest.raises(SystemExit):
        main(["agent", "--bogus"])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exited:
        main(["certlogin", "trust-list", "--bogus"])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "certhall: error: unrecognized arguments: --bogus\n"


def test_the_other_commands_help_stays_english(capsys: pytest.CaptureFixture[str]) -> None:
    out = _help(["token", "--help"], capsys)
    assert out.startswith("usage: certhall token") and "show this help message" in out
