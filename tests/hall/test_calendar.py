"""The working-day calendar as the operator's data: the hall keeps working into a year nobody
has published (provisional deadlines, shown as 预计), an import makes the year official, is
audited and recomputes the deadlines of open applications; the console and the jobs warn from
1 November while next year is provisional."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from certhall.accounts.models import Handler, User
from certhall.audit.models import AuditEvent
from certhall.audit.services import verify
from certhall.cli import main as cli_main
from certhall.errors import Forbidden
from certhall.hall import calendar, services
from certhall.hall.models import Application, CalendarYear
from certhall.hall.states import State
from certhall.rules import SHANGHAI, workdays
from certhall.rules.workdays import Arrangement
from tests.hall.conftest import at, online_draft, pay_online
from tests.support.threads import together

pytestmark = pytest.mark.django_db

#: Tuesday 2026-12-29 10:00: the day the hall used to stop (3 working days reach into 2027).
DEC_29 = datetime(2026, 12, 29, 10, 0, tzinfo=SHANGHAI)

ARRANGEMENT_2027 = {
    "year": 2027,
    "holidays": [
        "2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04",  # a made-up four-day 元旦
        "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08",
        "2027-04-05", "2027-05-01", "2027-05-02", "2027-06-09", "2027-09-15",
        "2027-10-01", "2027-10-02", "2027-10-03",
    ],
    "workdays": ["2027-01-09"],
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试）",
}  # fmt: skip


def paid_on(moment: datetime, applicant: User, handler: Handler) -> Application:
    with at(moment):
        draft = online_draft(applicant, handler)
        services.submit(applicant, draft.number)
        pay_online(draft.number, applicant)
    return Application.objects.get(pk=draft.pk)


def test_online_new_on_dec_29_goes_through_with_a_provisional_deadline(
    applicant: User, handler: Handler
) -> None:
    paid = paid_on(DEC_29, applicant, handler)
    assert paid.state == State.PAID
    # 12-30, 12-31, then 元旦 2027-01-01 by law (a Friday), so Monday 01-04
    assert (paid.due_date, paid.due_provisional) == (date(2027, 1, 4), True)
    client = Client()
    with at(DEC_29):
        client.force_login(applicant)
        page = client.get(reverse("hall-applicant:detail", args=[paid.number]))
    assert page.status_code == 200, page
    html = re.sub(r"\s+", " ", page.content.decode())
    assert re.search(r'id="due-date">2027-01-04</strong><span[^>]*>（预计）', html)
    with at(DEC_29):
        api = client.get(f"/api/hall/applications/{paid.number}")
    assert api.status_code == 200
    assert (api.json()["due_date"], api.json()["due_provisional"]) == ("2027-01-04", True)


def test_import_makes_the_year_official_and_recomputes_open_deadlines(
    applicant: User, handler: Handler, admin: User
) -> None:
    paid = paid_on(DEC_29, applicant, handler)
    earlier = paid_on(datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI), applicant, handler)
    result = calendar.import_year(admin, Arrangement.parse(ARRANGEMENT_2027))
    assert (result.created, result.changed) == (True, True)
    # 12-30, 12-31, then 01-01..01-04 off, so Tuesday 01-05; no longer provisional
    assert result.recomputed == [(paid.number, date(2027, 1, 4), date(2027, 1, 5))]
    paid.refresh_from_db()
    assert (paid.due_date, paid.due_provisional) == (date(2027, 1, 5), False)
    earlier.refresh_from_db()
    assert (earlier.due_date, earlier.due_provisional) == (date(2026, 12, 4), False)
    assert workdays.current().status(2027).source == "imported"

    event = AuditEvent.objects.get(action="calendar.import")
    assert (event.object_id, event.before, event.after["source"]) == (
        "2027",
        None,
        ARRANGEMENT_2027["source"],
    )
    moved = AuditEvent.objects.get(action="hall.application.deadline_recomputed")
    assert moved.object_id == paid.number
    assert (moved.before["due_date"], moved.after["due_date"]) == ("2027-01-04", "2027-01-05")
    assert (moved.before["due_provisional"], moved.after["due_provisional"]) == (True, False)
    assert verify().ok

    # the same file again changes nothing and writes nothing
    again = calendar.import_year(admin, Arrangement.parse(ARRANGEMENT_2027))
    assert (again.changed, again.recomputed) == (False, [])
    assert AuditEvent.objects.filter(action="calendar.import").count() == 1


def test_a_corrected_import_replaces_the_year(admin: User) -> None:
    calendar.import_year(admin, Arrangement.parse(ARRANGEMENT_2027))
    fixed = {**ARRANGEMENT_2027, "workdays": []}
    result = calendar.import_year(admin, Arrangement.parse(fixed))
    assert (result.created, result.changed) == (False, True)
    assert CalendarYear.objects.get(year=2027).workdays == []
    events = AuditEvent.objects.filter(action="calendar.import").order_by("seq")
    assert events[1].before["workdays"] == ["2027-01-09"]
    assert events[1].after["workdays"] == []


def test_an_unreadable_store_never_stops_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("database is down")

    monkeypatch.setattr(calendar, "load", broken)
    calendar.invalidate()
    deadline = workdays.working_deadline(date(2026, 12, 29), 3)
    assert (deadline.due, deadline.provisional) == (date(2027, 1, 4), True)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def no_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main, "_django", lambda: None)  # pytest-django has set Django up


def test_calendar_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_setup: None
) -> None:
    code, out, _ = run(capsys, "rules", "deadline", "--from", "2026-12-30", "--json")
    assert (code, json.loads(out)["due"], json.loads(out)["provisional"]) == (0, "2027-01-05", True)

    file = tmp_path / "2027.json"
    file.write_text(json.dumps(ARRANGEMENT_2027, ensure_ascii=False), "utf-8")
    code, out, _ = run(capsys, "calendar", "import", str(file))
    assert code == 0
    assert "2027: imported (国务院办公厅关于2027年部分节假日安排的通知（测试）)" in out
    # the made-up arrangement lacks no statutory day of the law
    assert "warning" not in out

    code, out, _ = run(capsys, "rules", "deadline", "--from", "2026-12-30", "--json")
    assert (json.loads(out)["due"], json.loads(out)["provisional"]) == ("2027-01-06", False)

    code, out, _ = run(capsys, "calendar", "show", "--year", "2027", "--json")
    shown = json.loads(out)
    assert (shown["source"], shown["official"]) == ("imported", True)
    assert shown["holidays"] == ARRANGEMENT_2027["holidays"]
    assert shown["workdays"] == ["2027-01-09"]

    with at(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)):
        code, out, _ = run(capsys, "calendar", "status", "--json")
    years = {y["year"]: y for y in json.loads(out)["years"]}
    assert years[2026]["source"] == "package" and years[2027]["source"] == "imported"
    assert json.loads(out)["warning"] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "不是JSON"),
        (b"\xff\xfe", "不是JSON"),
        (json.dumps({**ARRANGEMENT_2027, "holidays": ["2026-11-30"]}).encode(), "不在 2027 年内"),
        # dates fromisoformat reads but the file's readers do not: basic form, a week date
        (json.dumps({**ARRANGEMENT_2027, "holidays": ["20270101"]}).encode(), "不是日期"),
        (json.dumps({**ARRANGEMENT_2027, "holidays": ["2026-W53-4"]}).encode(), "不是日期"),
        # an RLO in the source staff read in `calendar status` (it was stored as it came)
        (
            json.dumps({**ARRANGEMENT_2027, "source": "国务院\u202e办公厅"}).encode(),
            "“source”的第4个字符（U+202E）是文字方向控制符",
        ),
        # over the column: stored whole by SQLite, a DataError traceback on PostgreSQL
        (json.dumps({**ARRANGEMENT_2027, "source": "通" * 201}).encode(), "不能超过200个字"),
    ],
)
def test_bad_import_files_are_one_line_errors(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_setup: None,
    content: bytes,
    message: str,
) -> None:
    file = tmp_path / "bad.json"
    file.write_bytes(content)
    code, out, err = run(capsys, "calendar", "import", str(file))
    assert (code, out) == (2, "")
    assert message in err and len(err.splitlines()) == 1
    assert not CalendarYear.objects.exists()
    assert not AuditEvent.objects.filter(action="calendar.import").exists()


def test_missing_statutory_days_are_warned_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_setup: None
) -> None:
    data = {
        **ARRANGEMENT_2027,
        "holidays": [d for d in ARRANGEMENT_2027["holidays"] if d != "2027-06-09"],
    }
    file = tmp_path / "2027.json"
    file.write_text(json.dumps(data), "utf-8")
    code, out, _ = run(capsys, "calendar", "import", str(file))
    assert code == 0
    assert "warning: 2027-06-09 is a statutory holiday by law" in out
    assert CalendarYear.objects.filter(year=2027).exists()


def test_a_december_day_two_imports_arrange_otherwise_is_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_setup: None
) -> None:
    """2027's notice arranges Saturday 2026-12-26 off (元旦's block), 2026's import made it a
    working day: the calendar counts 2027's (the later notice), and both imports say so, in
    either order. Before, the day changed kind with no word: the operator who imported 2026's
    correction afterwards saw it stored and not counted."""
    files = {}
    for year, data in {
        2026: {
            "year": 2026,
            "holidays": ["2026-01-01", "2026-10-01"],
            "workdays": ["2026-12-26"],
            "source": "2026（测试）",
        },
        2027: {**ARRANGEMENT_2027, "holidays": ["2026-12-26", *ARRANGEMENT_2027["holidays"]]},
    }.items():
        files[year] = tmp_path / f"{year}.json"
        files[year].write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    told = "warning: 2026-12-26 is arranged otherwise by the import of {}: 2027's notice counts"
    code, out, _ = run(capsys, "calendar", "import", str(files[2026]))
    assert code == 0 and "2026-12-26" not in out  # nothing to disagree with yet
    code, out, _ = run(capsys, "calendar", "import", str(files[2027]))
    assert code == 0 and told.format(2026) in out
    code, out, _ = run(capsys, "calendar", "show", "--year", "2026", "--json")
    assert "2026-12-26" in json.loads(out)["holidays"]
    CalendarYear.objects.filter(year=2026).delete()
    code, out, _ = run(capsys, "calendar", "import", str(files[2026]))
    assert code == 0 and told.format(2027) in out
    # the same day arranged alike by both: nothing said
    CalendarYear.objects.all().delete()
    run(capsys, "calendar", "import", str(files[2027]))
    files[2026].write_text(
        json.dumps({"year": 2026, "holidays": ["2026-12-26"], "workdays": [], "source": "x"}),
        "utf-8",
    )
    code, out, _ = run(capsys, "calendar", "import", str(files[2026]))
    assert code == 0 and "2026-12-26" not in out


@pytest.mark.parametrize(
    ("today", "warned"),
    [(date(2026, 10, 31), False), (date(2026, 11, 1), True), (date(2026, 12, 29), True)],
)
def test_next_year_warning_from_november(today: date, warned: bool) -> None:
    warning = calendar.next_year_warning(today)
    assert (warning is not None) is warned
    if warned:
        assert warning is not None and "2027年节假日安排尚未导入" in warning


def test_warning_stops_once_next_year_is_imported(admin: User) -> None:
    calendar.import_year(admin, Arrangement.parse(ARRANGEMENT_2027))
    assert calendar.next_year_warning(date(2026, 12, 2)) is None


def test_console_and_jobs_warn(reviewer: User, caplog: pytest.LogCaptureFixture) -> None:
    from certhall.hall import calendar as hall_calendar

    client = Client()
    with at(datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)):
        client.force_login(reviewer)
        page = client.get(reverse("hall-staff:home"))
        warning = hall_calendar.next_year_warning(date(2026, 11, 2))
    assert 'id="calendar-warning"' in page.content.decode()
    with at(datetime(2026, 10, 2, 10, 0, tzinfo=SHANGHAI)):
        client.force_login(reviewer)
        page = client.get(reverse("hall-staff:home"))
    assert 'id="calendar-warning"' not in page.content.decode()

    from certhall import jobs

    with caplog.at_level(logging.WARNING), at(datetime(2026, 11, 2, 10, 0, tzinfo=SHANGHAI)):
        jobs.run_due_jobs()
    assert warning in caplog.text


def test_only_a_ca_administrator_of_this_ca_imports(
    clerk: User, reviewer: User, issuer: User, ca_admin: User, foreign_staff: dict[str, User]
) -> None:
    """The calendar is one for every provider's deadlines: the home CA's administrators import
    it (the console's page and the command's system actor), nobody else (12-06: any actor)."""
    arrangement = Arrangement.parse(ARRANGEMENT_2027)
    for actor in (clerk, reviewer, issuer, foreign_staff["ca_admin"]):
        with pytest.raises(Forbidden):
            calendar.import_year(actor, arrangement)
        with pytest.raises(Forbidden):
            calendar.preview(actor, arrangement)
    assert not CalendarYear.objects.exists()
    assert calendar.import_year(ca_admin, arrangement).changed


def test_two_confirmations_at_once_import_once(audit_flushable: None, admin: User) -> None:
    """The console's confirmation clicked twice, or by two administrators from the same
    preview: one import, one audit event (the first import of a year has no row to lock)."""
    if connection.vendor != "postgresql":
        pytest.skip("true concurrency needs PostgreSQL")
    arrangement = Arrangement.parse(ARRANGEMENT_2027)
    basis = calendar.preview(admin, arrangement).basis
    results = together(*[lambda: calendar.import_year(admin, arrangement, basis=basis)] * 2)
    assert sorted(r.changed for r in results) == [False, True], results
    assert AuditEvent.objects.filter(action="calendar.import").count() == 1


NOTICE_2027 = Path(__file__).parents[1] / "rules" / "notices" / "2027-example.txt"


def test_calendar_import_takes_the_notices_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_setup: None
) -> None:
    """``--notice FILE.txt``: the text through the console's parser (``rules.notice``)."""
    code, out, _ = run(capsys, "calendar", "import", "--notice", str(NOTICE_2027))
    assert code == 0, out
    assert "2027: imported (国务院办公厅关于2027年部分节假日安排的通知)" in out
    stored = calendar.load().imported[2027]
    assert date(2027, 2, 12) in stored.holidays and date(2027, 2, 20) in stored.workdays
    code, out, _ = run(capsys, "calendar", "import", "--notice", str(NOTICE_2027), "--year", "2027")
    assert (code, out) == (0, "2027: unchanged (already imported)\n")
    bom = tmp_path / "notepad.txt"
    bom.write_bytes("\ufeff".encode() + NOTICE_2027.read_bytes())
    assert run(capsys, "calendar", "import", "--notice", str(bom))[0] == 0
    for argv, words in [
        (["--notice", str(NOTICE_2027), "--year", "2028"], "与所填年份2028不符"),
        (["--notice", str(tmp_path)], "无法读取"),
        ([str(tmp_path / "2027.json"), "--year", "2027"], "--year 只用于 --notice"),
    ]:
        code, out, err = run(capsys, "calendar", "import", *argv)
        assert (code, out) == (2, "") and words in err and len(err.splitlines()) == 1, err
    assert AuditEvent.objects.filter(action="calendar.import").count() == 1
