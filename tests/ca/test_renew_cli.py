"""`certhall ca renew SERIAL --csr FILE --years N --out FILE`: the operators' renewal keeps what
is left of the old certificate (its end date plus the years), revokes it as superseded, and
refuses a revoked certificate or a term beyond the issuing CA, each with a one-line error."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from cryptography import x509

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.ca.models import Certificate
from certhall.cli.main import main
from certhall.pki.profiles import add_years
from tests.ca.test_ocsp_store import T0
from tests.ca.test_ocsp_store import ca as ca
from tests.ca.test_services import ORG, PERSON, csr

pytestmark = pytest.mark.django_db


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.strip(), err


@pytest.fixture
def no_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    from certhall.cli import main as cli_main

    monkeypatch.setattr(cli_main, "_django", lambda: None)  # pytest-django has set Django up


def issue(admin: User, years: int, subscriber=PERSON) -> Certificate:  # type: ignore[no-untyped-def]
    from certhall.ca.services import IssueRequest
    from certhall.ca.services import issue as ca_issue

    profile = "personal" if subscriber is PERSON else "org"
    with time_machine.travel(T0, tick=False):
        return ca_issue(admin, IssueRequest(csr(), profile, years, subscriber))


def test_renew_keeps_the_remaining_validity(
    admin: User,
    ca,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,  # type: ignore[no-untyped-def]
) -> None:
    old = issue(admin, 2)
    (tmp_path / "new.csr").write_bytes(csr())
    out = tmp_path / "new.pem"
    with time_machine.travel(T0 + timedelta(days=700), tick=False):  # 30 days before expiry
        code, serial, err = run(
            capsys, "ca", "renew", old.serial, "--csr", str(tmp_path / "new.csr"),
            "--years", "3", "--out", str(out),
        )  # fmt: skip
    assert (code, err) == (0, "")
    new = x509.load_pem_x509_certificate(out.read_bytes())
    assert format(new.serial_number, "x") == serial
    assert new.not_valid_after_utc == add_years(old.not_after, 3)
    assert new.subject.rfc4514_string() == old.subject
    old.refresh_from_db()
    assert (old.status, old.revocation_reason) == ("revoked", "superseded")


def test_renew_after_expiry_counts_from_now(
    admin: User,
    ca,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,  # type: ignore[no-untyped-def]
) -> None:
    old = issue(admin, 1, ORG)
    (tmp_path / "new.csr").write_bytes(csr())
    later = T0 + timedelta(days=400)
    with time_machine.travel(later, tick=False):
        code, serial, _ = run(
            capsys, "ca", "renew", old.serial, "--csr", str(tmp_path / "new.csr"),
            "--years", "1", "--out", str(tmp_path / "new.pem"),
        )  # fmt: skip
    assert code == 0
    assert Certificate.objects.get(serial=serial).not_after == add_years(later, 1) - timedelta(
        seconds=1
    )


@pytest.mark.parametrize(("years", "message"), [(5, "最多可续期 4 年"), (0, "可办理1-5年期")])
def test_renew_refusals_write_nothing(
    admin: User,
    ca,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
    years: int,
    message: str,
) -> None:
    old = issue(admin, 5)  # ends 2031-12; the issuing CA ends 2036-12: 5 more years do not fit
    (tmp_path / "new.csr").write_bytes(csr())
    out = tmp_path / "new.pem"
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        code, stdout, err = run(
            capsys, "ca", "renew", old.serial, "--csr", str(tmp_path / "new.csr"),
            "--years", str(years), "--out", str(out),
        )  # fmt: skip
    assert code != 0 and stdout == "" and len(err.splitlines()) == 1
    assert message in err
    assert not out.exists()
    assert list(Certificate.objects.values_list("serial", "status")) == [(old.serial, "valid")]
    # the refusal is audited once, as the renewal, after its transaction rolled back
    [refused] = AuditEvent.objects.filter(result="refused")
    assert (refused.action, refused.object_id) == ("ca.certificate.renew", old.serial)


def test_a_refused_renewal_is_audited_by_the_service(admin: User, ca) -> None:  # type: ignore[no-untyped-def]
    """renew() issues and revokes in one transaction: the issuance's refusal event was written
    inside it and rolled back with it (a bad CSR at the counter left no trace)."""
    from certhall.ca.services import renew
    from certhall.errors import CerthallError

    old = issue(admin, 2)
    with time_machine.travel(T0 + timedelta(days=10), tick=False), pytest.raises(CerthallError):
        renew(admin, old.serial, b"not a CSR", 1)
    [refused] = AuditEvent.objects.filter(result="refused")
    assert (refused.action, refused.object_id) == ("ca.certificate.renew", old.serial)
    assert Certificate.objects.get(pk=old.pk).status == "valid"
