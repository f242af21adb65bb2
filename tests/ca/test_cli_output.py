"""`--out FILE` of the CA commands: a file that cannot be written is a one-line error and undoes
the work (no certificate issued and unsaved, no CRL number spent); a symbolic link is written
through and something that is not a regular file (a FIFO, /dev/stdout) is written into, never
replaced by a regular file."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.ca.models import CRL, Certificate
from certhall.cli import output
from tests.ca.test_ocsp_store import T0
from tests.ca.test_ocsp_store import ca as ca
from tests.ca.test_renew_cli import no_setup as no_setup
from tests.ca.test_renew_cli import run
from tests.ca.test_services import csr

pytestmark = pytest.mark.django_db

ISSUE = (
    "ca", "issue", "--profile", "org", "--years", "1", "--org-name", "深圳市测试科技有限公司",
    "--uscc", "91440300MA5DEM0K1W",
)  # fmt: skip


@pytest.fixture
def disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def fsync(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(output.os, "fsync", fsync)


def test_issue_onto_a_full_disk_issues_nothing(
    admin: User,
    ca,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
    disk_full: None,
) -> None:
    (tmp_path / "a.csr").write_bytes(csr())
    before = Certificate.objects.count()
    with time_machine.travel(T0, tick=False):
        code, stdout, err = run(
            capsys, *ISSUE, "--csr", str(tmp_path / "a.csr"), "--out", str(tmp_path / "a.pem")
        )
    assert (code, stdout) == (2, "")
    assert err.splitlines() == [
        f"certhall: error: 无法写入 {tmp_path / 'a.pem'}：No space left on device。"
    ]
    assert Certificate.objects.count() == before
    # audited as refused, with the reason, after the rollback
    [refused] = AuditEvent.objects.filter(result="refused")
    assert refused.action == "ca.certificate.issue"
    assert refused.after["error"] == "cli_cannot_write"


def test_a_refused_issue_is_audited(
    admin: User,
    ca,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
) -> None:
    """The issuance's own refusal event was written inside the command's transaction and rolled
    back with it: a refused CLI issuance left no trace in the audit log."""
    (tmp_path / "a.csr").write_bytes(b"not a CSR")
    with time_machine.travel(T0, tick=False):
        code, _, _ = run(
            capsys, *ISSUE, "--csr", str(tmp_path / "a.csr"), "--out", str(tmp_path / "a.pem")
        )
    assert code == 2 and not (tmp_path / "a.pem").exists()
    [refused] = AuditEvent.objects.filter(result="refused")
    assert refused.action == "ca.certificate.issue" and refused.after["error"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csr"]


def test_crl_onto_a_full_disk_spends_no_number(
    ca,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with time_machine.travel(T0, tick=False):
        assert run(capsys, "ca", "crl", "--out", str(tmp_path / "1.crl"))[0] == 0
        published = CRL.objects.count()
        monkeypatch.setattr(output.os, "fsync", lambda fd: os.write(-1, b""))  # EBADF
        code, _, err = run(capsys, "ca", "crl", "--out", str(tmp_path / "2.crl"))
        assert (
            code == 2 and err.startswith("certhall: error: 无法写入") and len(err.splitlines()) == 1
        )
        assert CRL.objects.count() == published
        monkeypatch.undo()
        assert run(capsys, "ca", "crl", "--out", str(tmp_path / "3.crl"))[0] == 0
    first, third = (
        x509.load_der_x509_crl((tmp_path / name).read_bytes()) for name in ("1.crl", "3.crl")
    )
    number = x509.CRLNumber
    assert third.extensions.get_extension_for_class(number).value.crl_number == (
        first.extensions.get_extension_for_class(number).value.crl_number + 1
    )
    assert not (tmp_path / "2.crl").exists()


def test_a_symbolic_link_is_written_through(
    ca,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
) -> None:
    (tmp_path / "pki").mkdir()
    link = tmp_path / "chain.pem"
    link.symlink_to(tmp_path / "pki" / "chain.pem")
    assert run(capsys, "ca", "chain", "--out", str(link))[0] == 0
    assert link.is_symlink()
    assert len(x509.load_pem_x509_certificates((tmp_path / "pki" / "chain.pem").read_bytes())) == 2


def test_a_fifo_is_written_into_not_replaced(
    ca,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
) -> None:
    """As /dev/stdout or /dev/null would be: renaming a file over them, as root, replaced the
    device node with a regular file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as f:
            received.append(f.read())

    reader = threading.Thread(target=read)
    reader.start()
    code = run(capsys, "ca", "chain", "--out", str(fifo))[0]
    reader.join(timeout=10)
    assert code == 0
    assert fifo.is_fifo()
    assert len(x509.load_pem_x509_certificates(received[0])) == 2


def test_a_killed_runs_temporary_file_is_removed_by_the_next(tmp_path: Path) -> None:
    """What a process killed before its rename left beside the target (uncommitted work, or
    work the database keeps) is removed when the target is written next; a live process's
    temporary file and other files are left alone."""
    target = tmp_path / "out.pem"
    prefix = output._prefix(target)
    dead = os.fork()
    if dead == 0:  # pragma: no cover - the child exits at once
        os._exit(0)
    os.waitpid(dead, 0)
    stale = tmp_path / f"{prefix}{dead}.abc123"
    live = tmp_path / f"{prefix}{os.getppid()}.def456"
    other = tmp_path / ".out.pem.notes"
    for path in (stale, live, other):
        path.write_bytes(b"left")
    with output.atomic_output(str(target)) as out:
        out.write(b"new")
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["out.pem", live.name, other.name])


def test_export_writes_registered_certificates_or_nothing(
    admin: User,
    ca,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
) -> None:
    (tmp_path / "a.csr").write_bytes(csr())
    with time_machine.travel(T0, tick=False):
        run(capsys, *ISSUE, "--csr", str(tmp_path / "a.csr"), "--out", str(tmp_path / "a.pem"))
    serial = Certificate.objects.get(profile="org").serial
    out = tmp_path / "again.pem"
    code, _, err = run(capsys, "ca", "export", serial, "nope", "--out", str(out))
    assert code != 0 and "nope" in err and not out.exists()  # one unknown: none written
    code, stdout, _ = run(capsys, "ca", "export", serial, serial.upper(), "--out", str(out))
    assert code == 0 and stdout.startswith("1 certificates")
    (exported,) = x509.load_pem_x509_certificates(out.read_bytes())
    assert exported.public_bytes(serialization.Encoding.DER) == bytes(
        Certificate.objects.get(serial=serial).der
    )
