"""certhall rules quote | deadline | points: names, JSON keys and exit codes operators rely on.
No database: the built-in calendar (the rules conftest), Django already set up by pytest."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
import time_machine

from certhall.cli import main as cli_main
from certhall.rules import SHANGHAI

WEEKEND_WORDS = "注:周末无法办理机构证书(ODC证书),机构个人证书可正常办理"


@pytest.fixture(autouse=True)
def django_already_set_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_main, "_django", lambda: None)
    monkeypatch.setattr(cli_main, "_ready_home", lambda: None)  # no database here


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main.main(["rules", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code, out, err = run(capsys, *argv, "--json")
    assert err == ""
    return code, json.loads(out)


QUOTE = ["quote", "--channel", "onsite", "--point", "kejiyuan"]


def test_quote_refused_exits_3_with_the_rule(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(
        capsys, *QUOTE, "--business", "new", "--cert", "org", "--at", "2026-11-21T10:00"
    )
    assert code == 3
    assert data["allowed"] is False
    assert data["reasons"] == [WEEKEND_WORDS]
    assert data["fee_yuan"] == 300
    assert [d["id"] for d in data["documents"]] == [
        "org_form",
        "licence_copy",
        "legal_rep_id_copy",
        "handler_id_copy",
    ]
    assert data["refusals"][0]["rule"] == "weekend"


def test_quote_allowed_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(
        capsys,
        *QUOTE,
        "--business",
        "new",
        "--cert",
        "personal",
        "--years",
        "3",
        "--at",
        "2026-11-21T10:00",
    )
    assert code == 0
    assert data["allowed"] is True
    assert data["reasons"] == []
    assert data["fee_yuan"] == 450
    assert data["years"] == 3
    assert data["at"] == "2026-11-21T10:00:00+08:00"
    assert data["processing"]["due"] == "2026-11-21"
    assert data["payee"]["account"] == "154 739 697 600 74"


def test_quote_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, *QUOTE, "--business", "unlock", "--cert", "org", "--at", "2026-11-21T10:00"
    )
    assert code == 3
    assert "REFUSED:" in out
    assert WEEKEND_WORDS in out
    assert "Ukey" in out
    code, out, _ = run(
        capsys, *QUOTE, "--business", "unlock", "--cert", "org", "--at", "2026-11-23T10:00"
    )
    assert code == 0
    assert out.splitlines()[1] == "allowed"
    assert "fee: 0.00 元" in out


def test_quote_online(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["quote", "--channel", "online", "--at", "2026-02-13T20:00"]
    code, data = run_json(capsys, *base, "--business", "new", "--cert", "personal", "--years", "1")
    assert code == 0
    assert data["processing"]["due"] == "2026-02-25"
    assert data["delivery"]["postage_paid_by_customer"] is True
    code, data = run_json(capsys, *base, "--business", "new", "--cert", "org")
    assert code == 3
    assert data["reasons"] == ["注:仅支持机构个人证书网厅办理。"]
    code, data = run_json(capsys, *base, "--business", "change", "--cert", "personal")
    assert code == 3
    assert data["refusals"][0]["rule"] == "channel"


@pytest.mark.parametrize(
    ("expiry", "code"),
    [("2026-05-14", 0), ("2026-05-13", 0), ("2026-05-15", 3), ("2026-02-12", 3), ("2026-02-13", 0)],
)
def test_quote_online_renewal_window(
    capsys: pytest.CaptureFixture[str], expiry: str, code: int
) -> None:
    # 2026-02-13 + 90 days = 2026-05-14
    got, data = run_json(
        capsys,
        "quote",
        "--business",
        "renew",
        "--cert",
        "org",
        "--channel",
        "online",
        "--at",
        "2026-02-13T10:00",
        "--cert-expiry",
        expiry,
    )
    assert (got, data["allowed"]) == (code, code == 0)


def test_quote_with_an_offset(capsys: pytest.CaptureFixture[str]) -> None:
    # 02:00 UTC = 10:00 in Shenzhen
    code, data = run_json(
        capsys, *QUOTE, "--business", "revoke", "--cert", "org", "--at", "2026-11-23T02:00+00:00"
    )
    assert code == 0
    assert data["at"] == "2026-11-23T10:00:00+08:00"


def test_deadline_into_a_provisional_year(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "deadline", "--from", "2026-12-30")
    assert code == 0
    assert (data["due"], data["provisional"]) == ("2027-01-05", True)
    assert [(y["year"], y["provisional"]) for y in data["calendar"]] == [
        (2026, False),
        (2027, True),
    ]
    code, data = run_json(capsys, "deadline", "--from", "2026-12-01")
    assert (data["due"], data["provisional"]) == ("2026-12-04", False)
    code, out, _ = run(capsys, "deadline", "--from", "2026-12-30")
    assert out.splitlines()[0] == "2027-01-05 (provisional: 预计)"
    assert "2027: no official holiday arrangement yet" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--point", "futian", "--at", "2026-11-23T10:00"], "未知的受理点“futian”"),
        (["--point", "kejiyuan", "--at", "tomorrow"], "--at “tomorrow” 不是"),
        (["--at", "2026-11-23T10:00"], "须选择受理点"),
        (["--point", "kejiyuan", "--at", "2003-03-03T10:00"], "2003 年的节假日安排未知"),
    ],
)
def test_quote_invalid_input_exits_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(
        capsys, "quote", "--business", "unlock", "--cert", "org", "--channel", "onsite", *argv
    )
    assert code == 2
    assert out == ""
    assert err.startswith("certhall: error: ")
    assert message in err
    assert len(err.splitlines()) == 1


def test_quote_needs_years_for_personal_new(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        capsys, *QUOTE, "--business", "new", "--cert", "personal", "--at", "2026-11-23T10:00"
    )
    assert code == 2
    assert "请选择机构个人证书(法人证书)新办的年限（1-5年）" in err


def test_quote_unknown_choice_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli_main.main(["rules", *QUOTE, "--business", "renewal", "--cert", "org"])
    assert caught.value.code == 2


@pytest.mark.parametrize(
    ("now", "code"),
    [
        (datetime(2026, 11, 21, 10, 0, tzinfo=SHANGHAI), 3),  # Saturday: no ODC business
        (datetime(2026, 11, 23, 10, 0, tzinfo=SHANGHAI), 0),  # Monday
        (datetime(2026, 11, 23, 12, 30, tzinfo=SHANGHAI), 3),  # Monday lunch break
    ],
)
def test_quote_at_defaults_to_now_in_shanghai(
    capsys: pytest.CaptureFixture[str], now: datetime, code: int
) -> None:
    with time_machine.travel(now, tick=False):
        got, data = run_json(capsys, *QUOTE, "--business", "new", "--cert", "org")
    assert got == code
    assert data["at"] == now.isoformat()


def test_deadline_json_across_spring_festival(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "deadline", "--from", "2026-02-13")
    assert code == 0
    assert data["due"] == "2026-02-25"
    assert data["working_days"] == 3
    assert data["start_day_counts"] is False
    assert [d["date"] for d in data["counted"]] == ["2026-02-14", "2026-02-24", "2026-02-25"]
    assert data["counted"][0]["kind"] == "makeup_workday"
    assert len(data["skipped"]) == 9
    assert {d["holiday"] for d in data["skipped"]} == {"春节"}


@pytest.mark.parametrize(
    ("start", "n", "due"),
    [
        ("2026-09-30", "1", "2026-10-08"),
        ("2026-09-30", "3", "2026-10-10"),
        ("2026-11-23", "5", "2026-11-30"),
    ],
)
def test_deadline(capsys: pytest.CaptureFixture[str], start: str, n: str, due: str) -> None:
    code, out, _ = run(capsys, "deadline", "--from", start, "--working-days", n)
    assert code == 0
    assert out.splitlines()[0] == due


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--from", "2003-12-30"], "2003 年的节假日安排未知"),
        (["--from", "13/02/2026"], "不是 YYYY-MM-DD 格式的日期"),
        (["--from", "2026-02-13", "--working-days", "0"], "工作日数须为不小于1的整数"),
    ],
)
def test_deadline_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run(capsys, "deadline", *argv)
    assert code == 2
    assert out == ""
    assert message in err


def test_points_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, data = run_json(capsys, "points")
    assert code == 0
    assert [p["slug"] for p in data["points"]] == ["kejiyuan", "longgang-hall", "longgang"]
    kejiyuan, hall, _ = data["points"]
    assert kejiyuan["hours_text"] == "周一至周日:9:00-12:00,13:30-18:00  法定节假日休息"
    assert kejiyuan["sessions"] == [["09:00", "12:00"], ["13:30", "18:00"]]
    assert len(kejiyuan["open_weekdays"]) == 7
    assert hall["sessions"] == [["09:00", "12:00"], ["14:00", "18:00"]]
    assert hall["open_weekdays"] == ["mon", "tue", "wed", "thu", "fri"]
    assert hall["address"] == "深圳市龙岗区龙翔大道8033-1龙岗区行政服务大厅一楼36号窗口"


def test_points_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "points")
    assert code == 0
    assert "longgang-hall  龙岗行政服务大厅受理点" in out
    assert "服务时间:周一至周五:9:00-12:00,13:30-18:00  周六日及法定节假日休息" in out
