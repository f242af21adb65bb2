"""CSV imports: columns as docs/refunds.md, a report of refused rows with line and reason, rows
whole or not at all, the same file twice changes nothing; the CLI on top."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.cli.main import main
from certhall.errors import Forbidden, InvalidInput
from certhall.messages import text
from certhall.refunds.imports import import_records
from certhall.refunds.models import FeeRecord, Programme, UsageRecord
from tests.refunds.conftest import USCC

pytestmark = pytest.mark.django_db

FEES = f"""ca,serial,uscc,enterprise_name,business,paid_on,amount_yuan,extra
szca,00AB12,{USCC},深圳市演示医疗科技有限公司,new,2018-03-01,300.00,ignored
netca,ff01,{USCC},深圳市演示医疗科技有限公司,renew,2019-03-01,150,
nosuchca,ff02,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,150,
szca,xyz,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,150,
szca,ab13,91350100M000100Y44,深圳市演示医疗科技有限公司,new,2019-03-01,150,
szca,ab14,{USCC},,new,2019-03-01,150,
szca,ab15,{USCC},深圳市演示医疗科技有限公司,rekey,2019-03-01,150,
szca,ab16,{USCC},深圳市演示医疗科技有限公司,new,2019/03/01,150,
szca,ab17,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,-1,
szca,ab18,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,1.005,
szca,ab19,{USCC},深圳市演示医疗科技有限公司,new
szca,ab12,{USCC},深圳市演示医疗科技有限公司,new,2018-03-01,300.00,
szca,ab12,{USCC},深圳市演示医疗科技有限公司,new,2018-03-01,301.00,
szca,ab20,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,1e3,
szca,ab21,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,10000000000.00,
"""

EXPECTED_REFUSALS = [
    (4, "ca_unknown"),
    (5, "serial_invalid"),
    (6, "uscc_invalid"),
    (7, "name_missing"),
    (8, "business_invalid"),
    (9, "date_invalid"),
    (10, "amount_invalid"),
    (11, "amount_invalid"),
    (12, "columns"),
    (14, "conflict"),
    (15, "amount_invalid"),  # exponent notation (was stored as 1000.00)
    (16, "amount_invalid"),  # more than the column holds
]


def test_fees_with_broken_rows(programme: Programme, admin: User) -> None:
    report = import_records(admin, programme.slug, "fees", FEES.encode(), source="fees.csv")
    assert [(r.line, r.reason) for r in report.refused] == EXPECTED_REFUSALS
    assert all(r.message.startswith(f"第{r.line}行") for r in report.refused)
    assert (report.imported, report.unchanged) == (2, 1)
    rows = FeeRecord.objects.filter(programme=programme).order_by("serial")
    assert [(r.provider.slug, r.serial, str(r.amount)) for r in rows] == [
        ("szca", "ab12", "300.00"),
        ("netca", "ff01", "150.00"),
    ]
    event = AuditEvent.objects.filter(action="refunds.import").get()
    assert event.after["imported"] == 2 and event.after["refused"] == 12

    again = import_records(admin, programme.slug, "fees", FEES.encode())
    assert (again.imported, again.unchanged) == (0, 3)
    assert FeeRecord.objects.filter(programme=programme).count() == 2


def test_usage_with_ca_option(programme: Programme, admin: User) -> None:
    data = "serial,platform,used_on\nab12,深圳市电子政务平台,2018-04-01\nab12,x,2018-4-1\n"
    report = import_records(admin, programme.slug, "usage", data.encode(), ca="netca")
    assert report.imported == 1 and [(r.line, r.reason) for r in report.refused] == [
        (3, "date_invalid")
    ]
    assert UsageRecord.objects.get().provider.slug == "netca"
    mixed = "ca,serial,platform,used_on\nszca,ab12,p,2018-04-01\n"
    report = import_records(admin, programme.slug, "usage", mixed.encode(), ca="netca")
    assert [r.reason for r in report.refused] == ["ca_mismatch"]


def test_whole_file_refusals(programme: Programme, admin: User) -> None:
    with pytest.raises(InvalidInput) as missing:
        import_records(admin, programme.slug, "usage", b"serial,platform,used_on\n")
    assert missing.value.code == "refund_import_header" and "ca" in missing.value.message
    with pytest.raises(InvalidInput) as encoding:
        import_records(admin, programme.slug, "fees", "ca,serial\n".encode("gbk") + b"\xff\xfe")
    assert encoding.value.code == "refund_import_encoding"


@pytest.mark.parametrize(
    ("kind", "bad", "said"),
    [
        (  # an RLO: officers read what follows 演示 reversed
            "fees",
            f"szca,a2,{USCC},深圳市演示\u202e医疗科技有限公司,new,2019-03-01,150",
            "第3行：企业名称的第6个字符（U+202E）是文字方向控制符",
        ),
        (  # a line separator, which the blanks' collapsing turned into a space unseen
            "fees",
            f"szca,a2,{USCC},深圳市演示\u2028医疗科技有限公司,new,2019-03-01,150",
            "第3行：企业名称的第6个字符（U+2028）",
        ),
        (
            "usage",
            "szca,a2,演示\u200b平台,2019-03-01",
            "第3行：平台名称的第3个字符（U+200B）",
        ),
    ],
)
def test_an_invisible_character_in_a_name_refuses_its_row(
    programme: Programme,
    admin: User,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    bad: str,
    said: str,
) -> None:
    """The names were only bounded: the row was stored as it came, and officers and the
    enterprise read it. Its row is refused and reported; the file's other rows are imported
    (an enterprise's name in a CA's records keeps no other enterprise out)."""
    from certhall.refunds import imports

    monkeypatch.setattr(imports, "CHUNK", 1)
    header = ",".join(imports.COLUMNS[kind])
    good = {
        "fees": f"szca,a1,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,150",
        "usage": "szca,a1,演示平台,2019-03-01",
    }[kind]
    data = "\n".join([header, good, bad, ""]).encode()
    report = import_records(admin, programme.slug, kind, data)
    assert report.imported == 1
    [refused] = report.refused
    assert (refused.line, refused.reason) == (3, "text_chars")
    assert refused.message.startswith(said) and refused.message.endswith("本行未导入。")
    stored = FeeRecord.objects if kind == "fees" else UsageRecord.objects
    assert list(stored.values_list("serial", flat=True)) == ["a1"]


def test_a_name_broken_over_two_lines_is_still_one_line(programme: Programme, admin: User) -> None:
    header = ",".join(("ca", "serial", "uscc", "enterprise_name", "business", "paid_on"))
    data = f'{header},amount_yuan\nszca,a1,{USCC},"深圳市演示\n医疗",new,2019-03-01,150\n'
    assert import_records(admin, programme.slug, "fees", data.encode()).imported == 1
    assert FeeRecord.objects.get().enterprise_name == "深圳市演示 医疗"


def test_a_file_that_is_not_csv_stores_nothing(
    programme: Programme, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field over the csv module's limit (131,072 characters) was a 500 (csv.Error); with
    chunks of one row the first row is written before the reading reaches the bad one, and the
    import's one transaction takes it back."""
    from certhall.refunds import imports

    monkeypatch.setattr(imports, "CHUNK", 1)
    header = "ca,serial,uscc,enterprise_name,business,paid_on,amount_yuan\n"
    good = f"szca,a1,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,150\n"
    bad = f"szca,a2,{USCC},{'长' * 131_073},new,2019-03-01,150\n"
    with pytest.raises(InvalidInput) as refused:
        import_records(admin, programme.slug, "fees", (header + good + good + bad).encode())
    assert refused.value.code == "refund_csv_malformed"
    assert refused.value.message.startswith("第4行不是有效的CSV")
    assert not FeeRecord.objects.exists()
    assert not AuditEvent.objects.filter(action="refunds.import").exists()


def test_only_officers_and_operators_import(programme: Programme, make_user) -> None:  # type: ignore[no-untyped-def]
    from certhall.accounts.models import Role

    with pytest.raises(Forbidden):
        import_records(make_user(Role.APPLICANT), programme.slug, "fees", FEES.encode())


def test_cli_import_and_eligibility(
    programme: Programme, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fees = tmp_path / "fees.csv"
    fees.write_text(
        "serial,uscc,enterprise_name,business,paid_on,amount_yuan\n"
        f"ab12,{USCC},深圳市演示医疗科技有限公司,new,2018-03-01,300.00\n"
        f"ab12,{USCC},深圳市演示医疗科技有限公司,unlock,2018-05-01,0\n",
        encoding="utf-8",
    )
    usage = tmp_path / "usage.csv"
    usage.write_text("ca,serial,platform,used_on\nszca,AB12,深圳市电子政务平台,2018-04-01\n")
    base = ["refund", "import", "--programme", programme.slug]
    assert main([*base, "--kind", "fees", "--ca", "szca", str(fees)]) == 0
    assert "imported 2, unchanged 0, refused 0" in capsys.readouterr().out
    assert main([*base, "--kind", "usage", str(usage)]) == 0
    assert main([*base, "--kind", "usage", str(usage)]) == 0
    assert "imported 0, unchanged 1, refused 0" in capsys.readouterr().out.splitlines()[-1]

    args = ["refund", "eligibility", "--programme", programme.slug, "--uscc", USCC]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["eligible"] is True and data["amount_yuan"] == "300.00"
    assert [c["serial"] for c in data["counted"]] == ["ab12"]
    assert data["excluded"][0]["reason"] == "business_not_covered"
    assert main(args) == 0
    assert "可返还 300.00 元" in capsys.readouterr().out

    assert main(["refund", "programmes", "--json"]) == 0
    listed = {p["slug"]: p for p in json.loads(capsys.readouterr().out)}
    assert listed["sz-2021"]["apply_from"] == "2021-12-21"
    assert listed["sz-2021"]["apply_to"] == "2022-01-20"
    assert listed["sz-2021"]["business_from"] == "2017-12-31"
    assert listed["sz-2021"]["business_to"] == "2020-12-31"
    assert len(listed["sz-2021"]["cas"]) == 4
    assert set(listed["sz-2021"]["cas"][0]) == {"slug", "name"}

    assert main(["refund", "eligibility", "--programme", "nope", "--uscc", USCC]) == 4
    assert "没有代号为“nope”的返还项目" in capsys.readouterr().err


def test_chunks_see_each_other_and_the_stored_rows(
    programme: Programme, admin: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks of two rows (the real size is thousands): a repeat in a later chunk is unchanged,
    a different amount in a later chunk a conflict, and a second import finds every stored row
    whatever its chunk; the same USCC, date and amount checked once still refuse each bad row."""
    from certhall.refunds import imports

    monkeypatch.setattr(imports, "CHUNK", 2)
    header = "ca,serial,uscc,enterprise_name,business,paid_on,amount_yuan\n"
    lines = [
        f"szca,a{i},{USCC},深圳市演示医疗科技有限公司,new,2019-03-0{1 + i % 3},150"
        for i in range(5)
    ]
    lines += [
        f"szca,a0,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,150",  # line 7: repeat
        f"szca,a1,{USCC},深圳市演示医疗科技有限公司,new,2019-03-02,151",  # line 8: conflict
        f"szca,a9,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,-1",  # line 9: bad amount
        f"szca,a8,{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,-1",  # line 10: again
    ]
    data = (header + "\n".join(lines) + "\n").encode()
    first = import_records(admin, programme.slug, "fees", data)
    assert (first.imported, first.unchanged) == (5, 1)
    assert [(r.line, r.reason) for r in first.refused] == [
        (8, "conflict"),
        (9, "amount_invalid"),
        (10, "amount_invalid"),
    ]
    again = import_records(admin, programme.slug, "fees", data)
    assert (again.imported, again.unchanged) == (0, 6)
    assert FeeRecord.objects.filter(programme=programme).count() == 5
    stored = FeeRecord.objects.get(programme=programme, serial="a1")
    assert (str(stored.amount), stored.source) == ("150.00", "import")


def test_repeats_inside_one_chunk_compare_with_the_stored_row_first(
    programme: Programme, admin: User
) -> None:
    """In one chunk: a stored key with other data is a conflict and with the same data
    unchanged (whatever came first in the file); a new key's repeats compare with its first."""
    header = "ca,serial,uscc,enterprise_name,business,paid_on,amount_yuan\n"
    row = f"szca,{{serial}},{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,{{amount}}\n"
    import_records(
        admin, programme.slug, "fees", (header + row.format(serial="a0", amount=150)).encode()
    )
    data = header + "".join(
        row.format(serial=serial, amount=amount)
        for serial, amount in [("a0", 151), ("a0", 150), ("b1", 150), ("b1", 150), ("b1", 160)]
    )
    report = import_records(admin, programme.slug, "fees", data.encode())
    assert (report.imported, report.unchanged) == (1, 2)
    assert [(r.line, r.reason) for r in report.refused] == [(2, "conflict"), (6, "conflict")]
    stored = dict(FeeRecord.objects.filter(programme=programme).values_list("serial", "amount"))
    assert {k: str(v) for k, v in stored.items()} == {"a0": "150.00", "b1": "150.00"}


def test_serials_are_read_as_typed_ones_are(programme: Programme, admin: User) -> None:
    """An imported serial goes through the typed serial's one reader (``ca.registry
    .parse_serial``): full-width characters folded (they were refused as not hex), zero and
    more than 20 bytes refused as RFC 5280 says (they were stored, up to 64 hex digits), colons
    only between groups. A refused serial refuses its line, with the line, the serial and the
    rule; the other lines are imported."""
    header = "ca,serial,uscc,enterprise_name,business,paid_on,amount_yuan\n"
    row = f"szca,{{}},{USCC},深圳市演示医疗科技有限公司,new,2019-03-01,150\n"
    serials = ["ＡＢ：１２", "0x00:0A:B3", "0", "00:00", "1" + "0" * 40, "ab::14", "f" * 40]
    data = header + "".join(row.format(serial) for serial in serials)
    report = import_records(admin, programme.slug, "fees", data.encode())
    assert [(r.line, r.reason) for r in report.refused] == [
        (4, "serial_invalid"),
        (5, "serial_invalid"),
        (6, "serial_invalid"),
        (7, "serial_invalid"),
    ]
    assert report.refused[2].message == text(
        "refund_row_serial_invalid", line=6, value="1" + "0" * 40
    )
    assert "大于0" in report.refused[0].message and "20字节" in report.refused[0].message
    stored = FeeRecord.objects.filter(programme=programme).values_list("serial", flat=True)
    # 160 bits: another CA's 20 octets read unsigned (a typed look-up refuses them)
    assert sorted(stored) == ["ab12", "ab3", "f" * 40]


def test_the_cli_names_a_refused_serials_line(
    programme: Programme, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A serial that is no longer taken (zero) refuses its line, not the import: the command
    prints the line and its reason, imports the rest and exits 1."""
    fees = tmp_path / "fees.csv"
    fees.write_text(
        "serial,uscc,enterprise_name,business,paid_on,amount_yuan\n"
        f"0,{USCC},深圳市演示医疗科技有限公司,new,2018-03-01,300.00\n"
        f"ab12,{USCC},深圳市演示医疗科技有限公司,new,2018-03-01,300.00\n",
        encoding="utf-8",
    )
    base = ["refund", "import", "--programme", programme.slug, "--kind", "fees", "--ca", "szca"]
    assert main([*base, str(fees)]) == 1
    out = capsys.readouterr().out
    assert "refused line 2: serial_invalid: 第2行：证书序列号“0”不正确" in out
    assert "imported 1, unchanged 0, refused 1" in out
