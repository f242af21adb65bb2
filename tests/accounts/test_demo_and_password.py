"""The demo can be tried at once and recovered (issue 9, item 7): `certhall setup --demo` seeds a
certificate of the demo organisation on a Ukey that expires within 30 days (so online renewal is
allowed now), and `certhall accounts set-password USERNAME` resets a lost demo password from a
prompt or standard input, with the registration's password rules, audited."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from certhall import clock
from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.ca.models import Certificate
from certhall.cli import setup_cmd
from certhall.cli.main import main
from certhall.hall import renewal
from certhall.notify.models import SmsMessage
from certhall.ukeys.models import Ukey

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    from certhall.cli import main as cli_main

    monkeypatch.setattr(cli_main, "_django", lambda: None)  # pytest-django has set Django up


def run(capsys: pytest.CaptureFixture[str], *args: str, stdin: str = "") -> tuple[int, str, str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", io.StringIO(stdin))
        code = main(list(args))
    out, err = capsys.readouterr()
    return code, out.strip(), err.strip()


@pytest.mark.softhsm
def test_the_demo_has_a_certificate_to_renew_online(
    ca: object, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_cmd._demo_accounts()
    setup_cmd._demo_ukey_stock()
    # 17:30 UTC is 01:30 of the next day in Shenzhen: the date printed is Shenzhen's
    moment = datetime.now(UTC).replace(hour=17, minute=30) + timedelta(days=1)
    with time_machine.travel(moment, tick=False):
        setup_cmd._demo_near_expiry()
    out = capsys.readouterr().out
    cert = Certificate.objects.get(uscc="91350100M000100Y43")
    assert f"demo certificate {cert.serial}" in out
    ends = (moment + timedelta(days=setup_cmd.DEMO_EXPIRES_IN_DAYS)).astimezone(clock.SHANGHAI)
    assert f"expires {ends:%Y-%m-%d} (Asia/Shanghai)" in out
    left = cert.not_after - clock.now()
    assert timedelta(days=1) < left <= timedelta(days=30)
    ukey = Ukey.objects.get(certificates=cert)
    assert ukey.status == "issued" and ukey.organization == cert.organization
    applicant = User.objects.get(username="demo-applicant")
    found = renewal.lookup(applicant, cert.serial, 1)
    assert found.quote.allowed, found.quote.reasons
    # a second setup adds nothing
    setup_cmd._demo_near_expiry()
    assert Certificate.objects.filter(uscc="91350100M000100Y43").count() == 1


def test_set_password_from_stdin_is_checked_and_audited(
    make_user,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,  # type: ignore[no-untyped-def]
) -> None:
    user = make_user(Role.APPLICANT)
    User.objects.filter(pk=user.pk).update(username="demo-applicant", phone="13800138000")
    code, out, err = run(
        capsys, "accounts", "set-password", "demo-applicant", stdin="New-demo-pass-2026\n"
    )
    assert (code, out, err) == (0, "已设置 demo-applicant 的密码。", "")
    user.refresh_from_db()
    assert user.check_password("New-demo-pass-2026")
    event = AuditEvent.objects.filter(action="accounts.password.set", result="ok").get()
    assert event.object_id == "demo-applicant"
    assert "New-demo-pass-2026" not in str(event.after) + str(event.before)
    told = SmsMessage.objects.get(kind="password_changed")  # the account's phone knows
    assert told.phone == "13800138000" and "demo-applicant" in told.text

    code, _, err = run(capsys, "accounts", "set-password", "demo-applicant", stdin="12345678\n")
    assert code == 2 and err.startswith("certhall: error: ")
    user.refresh_from_db()
    assert user.check_password("New-demo-pass-2026")
    code, _, err = run(capsys, "accounts", "set-password", "nobody", stdin="New-demo-pass-2026\n")
    assert code != 0 and "nobody" in err
    code, _, err = run(capsys, "accounts", "set-password", "demo-applicant", stdin="")
    assert code == 2 and "没有读到密码" in err
    assert AuditEvent.objects.filter(action="accounts.password.set", result="refused").count() == 2


def test_set_password_prompts_twice_at_a_terminal(
    make_user,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = make_user(Role.CLERK)
    User.objects.filter(pk=user.pk).update(username="demo-clerk")
    answers = iter(["Clerk-pass-2026x", "Clerk-pass-2026y"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr("sys.stdin", Tty())
    assert main(["accounts", "set-password", "demo-clerk"]) == 2
    assert "两次输入的密码不一致" in capsys.readouterr().err
    answers = iter(["Clerk-pass-2026x", "Clerk-pass-2026x"])
    assert main(["accounts", "set-password", "demo-clerk"]) == 0
    user.refresh_from_db()
    assert user.check_password("Clerk-pass-2026x")
    system = make_user(Role.CA_ADMIN)
    User.objects.filter(pk=system.pk).update(is_system=True)
    answers = iter(["Clerk-pass-2026x", "Clerk-pass-2026x"])
    assert main(["accounts", "set-password", system.username]) != 0
    assert "系统账户" in capsys.readouterr().err
