"""The JSON API over the same services: programmes, eligibility, apply, review, batch, settle,
dashboard; refusals as {"error", "message"}."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.refunds import payout
from certhall.refunds.imports import csv_rows
from certhall.refunds.models import Programme, RefundApplication
from tests.refunds.conftest import (
    ACCOUNT,
    GONE_NAME,
    GONE_USCC,
    LEGAL_REP_ID,
    NAME,
    PHONE,
    USCC,
    other_code,
    sent_code,
)
from tests.refunds.test_applications import bank_return
from tests.support.openapi import documented_fields

pytestmark = pytest.mark.django_db

IN = date(2019, 6, 1)


def api(user: User | None) -> Client:
    client = Client(enforce_csrf_checks=False)
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.usefixtures("frozen")
def test_the_online_flow_over_the_api(
    actors: dict[str, User],
    open_programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> None:
    fee("a1", IN, "300.00")
    fee("a2", IN, "50.00", business="revoke")
    use("a1", IN)
    listed = api(None).get("/api/refunds/programmes").json()
    assert {"slug", "name", "apply_from", "apply_to", "cas"} <= set(listed[0])

    password = api(actors["password_applicant"])  # registered, never proved the USCC
    hidden = password.get("/api/refunds/programmes/sz-2021/eligibility")
    assert hidden.status_code == 403 and hidden.json()["error"] == "refund_no_organization"
    body = {"account_name": NAME, "account_number": ACCOUNT, "bank_name": "工行", "phone": PHONE}
    refused = password.post(
        "/api/refunds/programmes/sz-2021/applications", body, content_type="application/json"
    )
    assert refused.status_code == 403 and refused.json()["error"] == "refund_no_organization"

    applicant = api(actors["applicant"])
    result = applicant.get("/api/refunds/programmes/sz-2021/eligibility").json()
    assert result["eligible"] is True and result["amount_yuan"] == "300.00"
    assert result["excluded"][0]["reason"] == "business_not_covered"
    body = {"account_name": NAME, "account_number": ACCOUNT, "bank_name": "工行", "phone": PHONE}
    created = applicant.post(
        "/api/refunds/programmes/sz-2021/applications", body, content_type="application/json"
    )
    assert created.status_code == 201
    number = created.json()["number"]
    again = applicant.post(
        "/api/refunds/programmes/sz-2021/applications", body, content_type="application/json"
    )
    assert again.status_code == 409 and again.json()["error"] == "refund_already_applied"

    other = api(actors["other_applicant"])
    # another enterprise's is answered as one that does not exist (no 403 oracle)
    foreign = other.get(f"/api/refunds/applications/{number}")
    nothing = "TF20991231-999999"
    missing = other.get(f"/api/refunds/applications/{nothing}")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.content.decode().replace(number, nothing) == missing.content.decode()
    refused = other.get(f"/api/refunds/programmes/sz-2021/eligibility?uscc={USCC}")
    assert refused.status_code == 403 and refused.json()["error"] == "other_organization"
    assert applicant.post(f"/api/refunds/applications/{number}/approve").status_code == 403

    officer = api(actors["officer"])
    approved = officer.post(f"/api/refunds/applications/{number}/approve")
    assert approved.status_code == 200 and approved.json()["state"] == "approved"
    batch = officer.post("/api/refunds/programmes/sz-2021/batches")
    assert batch.status_code == 201 and batch.json()["count"] == 1
    made = batch.json()
    assert made["state"] == "pending_release" and "file" not in made
    batches = "/api/refunds/programmes/{slug}/batches"
    assert set(made) == documented_fields("POST", batches, 201)
    file = f"/api/refunds/batches/{made['number']}/file"
    assert officer.get(file).json()["error"] == "refund_batch_not_released"
    own = officer.post(f"/api/refunds/batches/{made['number']}/release")
    assert own.status_code == 422 and own.json()["error"] == "refund_batch_same_officer"
    released = api(actors["officer2"]).post(f"/api/refunds/batches/{made['number']}/release")
    assert released.json()["state"] == "released" and released.json()["released_by"] == "officer2"
    assert officer.get(file).content.decode().splitlines()[-2].startswith("TOTAL,")
    from certhall.refunds.models import PayoutBatch

    data = bank_return(PayoutBatch.objects.get(), [(1, "paid")])
    settled = officer.post(
        "/api/refunds/programmes/sz-2021/settlements", data, content_type="text/csv"
    ).json()
    assert settled["paid"] == 1
    assert applicant.get(f"/api/refunds/applications/{number}").json()["state"] == "paid"
    board = officer.get("/api/refunds/programmes/sz-2021/dashboard").json()
    assert board["total"] == {"label": "合计", "count": 1, "amount_yuan": "300.00"}
    dashboard = "/api/refunds/programmes/{slug}/dashboard"
    assert set(board) == documented_fields("GET", dashboard, 200)
    assert set(board["by_state"][0]) == documented_fields("GET", dashboard, 200, "by_state")
    assert api(actors["clerk"]).get("/api/refunds/programmes/sz-2021/dashboard").status_code == 403


def unsettled(batch: Any) -> None:
    """Nothing of the bank return was applied, and no settlement was audited."""
    from certhall.audit.models import AuditEvent
    from certhall.refunds.states import State

    items = batch.items.select_related("application")
    assert {(i.result, i.application.state) for i in items} == {("pending", State.BATCHED)}
    assert not AuditEvent.objects.filter(action="refunds.batch.settle", result="ok").exists()
    transitions = ["refunds.application.paid", "refunds.application.payout_failed"]
    assert not AuditEvent.objects.filter(action__in=transitions).exists()


@pytest.mark.usefixtures("frozen")
def test_a_bank_return_that_is_not_csv_is_refused_before_any_line(
    actors: dict[str, User], two_in_a_batch: Any
) -> None:
    """A field over the csv module's limit (131,072 characters) raised csv.Error after the
    first line had been applied: a 500, the first application failed, no settlement audited."""
    from certhall.audit.models import AuditEvent

    good = bank_return(two_in_a_batch, [(1, "failed")])
    data = good + f"{two_in_a_batch.number},2,X,300.00,paid,,{'长' * 131_073}\n".encode()
    refused = api(actors["officer"]).post(
        "/api/refunds/programmes/sz-2021/settlements", data, content_type="text/csv"
    )
    assert refused.status_code == 400
    assert refused.json()["error"] == "refund_csv_malformed"
    assert refused.json()["message"].startswith("第3行不是有效的CSV")
    unsettled(two_in_a_batch)
    [event] = AuditEvent.objects.filter(action="refunds.batch.settle")  # the refusal, audited
    assert event.result == "refused" and event.after["error"] == "refund_csv_malformed"


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "text/plain; charset=utf-8",
        "application/octet-stream",
        "application/x-www-form-urlencoded",
        "text/csv-schema",
        "",
    ],
)
def test_a_settlement_of_another_content_type_is_refused_with_415(
    actors: dict[str, User], two_in_a_batch: Any, content_type: str
) -> None:
    """The route read any body as the return file (12-07, late: the content type was not
    checked); a body that says it is something else is refused before it is read."""
    from certhall.audit.models import AuditEvent

    data = bank_return(two_in_a_batch, [(1, "failed"), (2, "paid")])
    refused = api(actors["officer"]).generic(
        "POST", "/api/refunds/programmes/sz-2021/settlements", data, content_type=content_type
    )
    assert refused.status_code == 415
    assert set(refused.json()) == {"error", "message"}
    assert refused.json()["error"] == "unsupported_media_type"
    message = refused.json()["message"]
    assert "应为 text/csv" in message
    assert (f"不是“{content_type}”" in message) if content_type else ("没有说明" in message)
    unsettled(two_in_a_batch)
    assert not AuditEvent.objects.filter(action="refunds.batch.settle").exists()


@pytest.mark.usefixtures("frozen")
@pytest.mark.parametrize(
    "content_type", ["text/csv", "text/csv; charset=utf-8", "TEXT/CSV;charset=UTF-8", "text/csv "]
)
def test_a_settlement_in_csv_with_its_charset_is_read(
    actors: dict[str, User], two_in_a_batch: Any, content_type: str
) -> None:
    data = bank_return(two_in_a_batch, [(1, "failed"), (2, "paid")])
    settled = api(actors["officer"]).generic(
        "POST", "/api/refunds/programmes/sz-2021/settlements", data, content_type=content_type
    )
    assert settled.status_code == 200, settled.content
    assert (settled.json()["paid"], settled.json()["failed"]) == (1, 1)


@pytest.mark.usefixtures("frozen")
def test_a_bank_return_over_the_body_limit_is_refused_not_a_server_error(
    actors: dict[str, User], two_in_a_batch: Any, settings: Any
) -> None:
    """The route reads its CSV body itself: one over DATA_UPLOAD_MAX_MEMORY_SIZE (2 MiB, some
    25,000 lines) was an HTTP 500, 系统繁忙，请稍后再试 (a probe of 12-07), which sends the
    officer to retry what will never pass; the page's upload is a file and takes it."""
    good = bank_return(two_in_a_batch, [(1, "failed")])
    data = good + f"{two_in_a_batch.number},9,FH20990101-999999,1.00,paid,,\n".encode() * (
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 40
    )
    assert len(data) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    refused = api(actors["officer"]).post(
        "/api/refunds/programmes/sz-2021/settlements", data, content_type="text/csv"
    )
    assert refused.status_code == 413
    assert refused.json() == {"error": "request_too_large", "message": "请求内容过大。"}
    unsettled(two_in_a_batch)


@pytest.mark.usefixtures("frozen")
def test_a_bank_line_longer_than_its_field_refuses_the_file_not_cut(
    actors: dict[str, User], two_in_a_batch: Any
) -> None:
    """The bank's reference and message were cut to 64 and 200 characters and stored as if
    the bank had written them so; the file is now refused, naming the line and the field."""
    good = bank_return(two_in_a_batch, [(1, "failed")])
    long_message = good.replace("账户不存在".encode(), ("账户不存在" * 41).encode())
    report = api(actors["officer"]).post(
        "/api/refunds/programmes/sz-2021/settlements", long_message, content_type="text/csv"
    )
    assert report.json()["refused"] == 1
    [refusal] = report.json()["refusals"]
    assert refusal["reason"] == "bank_row_too_long"
    assert refusal["message"] == "第2行：银行附言超过200个字，请核对回盘文件。"
    unsettled(two_in_a_batch)


@pytest.mark.usefixtures("frozen")
def test_a_bank_return_is_settled_whole_or_not_at_all(
    actors: dict[str, User], two_in_a_batch: Any
) -> None:
    from certhall.audit.models import AuditEvent

    officer = api(actors["officer"])
    url = "/api/refunds/programmes/sz-2021/settlements"
    good = bank_return(two_in_a_batch, [(1, "failed")])
    unknown = good + f"{two_in_a_batch.number},2,FH20990101-999999,300.00,paid,,\n".encode()
    report = officer.post(url, unknown, content_type="text/csv").json()
    assert (report["paid"], report["failed"], report["unchanged"], report["refused"]) == (
        0,
        0,
        0,
        1,
    )
    assert report["refusals"][0]["line"] == 3
    assert report["refusals"][0]["reason"] == "bank_row_unknown"
    unsettled(two_in_a_batch)
    refused = AuditEvent.objects.get(action="refunds.batch.settle")
    assert refused.result == "refused" and refused.after["refused"] == 1

    data = bank_return(two_in_a_batch, [(1, "failed"), (2, "paid")])
    whole = officer.post(url, data, content_type="text/csv")
    assert whole.status_code == 200
    assert (whole.json()["paid"], whole.json()["failed"], whole.json()["refused"]) == (1, 1, 0)
    settled = AuditEvent.objects.filter(action="refunds.batch.settle").order_by("seq").last()
    assert settled is not None and settled.result == "ok"


@pytest.mark.usefixtures("frozen")
def test_a_partnerships_counter_application_needs_no_legal_representative(
    actors: dict[str, User],
    open_programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> None:
    """The API's counter application, for a partnership whose executive partner is an
    institution: the delegate's ID instead of the legal representative's, which is left out."""
    fee("g1", IN, "300.00", uscc=GONE_USCC, name=GONE_NAME)
    use("g1", IN)
    items = ["licence", "change_proof", "delegate_id", "opening_permit"]
    entry = {
        "uscc": GONE_USCC, "enterprise_name": GONE_NAME, "special_case": "deregistered",
        "phone": PHONE, "partnership": True, "delegate_name": "王五",
        "delegate_id_number": LEGAL_REP_ID, "received": items, "signed": items,
        "account": {"account_name": GONE_NAME, "account_number": ACCOUNT, "bank_name": "建行"},
    }  # fmt: skip
    clerk = api(actors["clerk"])
    path = f"/api/refunds/programmes/{open_programme.slug}/counter-applications"
    # the phone is proven first, as on the page: without its code nothing is stored
    refused = clerk.post(path, entry, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["error"] == "refund_counter_code_empty"
    assert "发送验证码" in refused.json()["message"]
    assert not RefundApplication.objects.exists()
    sent = clerk.post(f"{path}/phone-code", {"phone": PHONE}, content_type="application/json")
    assert sent.status_code == 200, sent.content
    assert sent.json()["phone"] == "138****8000"
    code = sent_code(PHONE, "refund_counter_code")
    wrong = clerk.post(path, {**entry, "code": other_code(code)}, content_type="application/json")
    assert wrong.status_code == 400
    assert wrong.json() == {
        "error": "refund_counter_code",
        "message": "登记手机号的验证码不正确，请核对或重新获取。",
        "fields": ["code"],
    }
    assert not RefundApplication.objects.exists()
    response = clerk.post(path, {**entry, "code": code}, content_type="application/json")
    assert response.status_code == 201, response.content
    # the phone's sending limit counts every purpose (docs/accounts.md): its progress code, asked
    # in the counter code's minute, waits it out, the wait in Retry-After and in the words
    query = {"number": response.json()["number"], "uscc": GONE_USCC}
    waits = api(None).post("/api/refunds/progress/code", query, content_type="application/json")
    assert waits.status_code == 429 and waits["Retry-After"] == "60"
    assert waits.json()["error"] == "rate_limited"
    assert (
        "各项业务合计" in waits.json()["message"] and "请60秒后再获取。" in waits.json()["message"]
    )
    again = clerk.post(f"{path}/phone-code", {"phone": PHONE}, content_type="application/json")
    assert again.status_code == 429 and again["Retry-After"] == "60"
    # an applicant cannot have a counter's code sent (nor enter at a counter)
    applicant = api(actors["applicant"])
    asked = applicant.post(f"{path}/phone-code", {"phone": PHONE}, content_type="application/json")
    assert asked.status_code == 403


@pytest.mark.usefixtures("frozen")
def test_the_applications_and_the_progress_query_answer_what_the_document_says(
    actors: dict[str, User],
    open_programme: Programme,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> None:
    """The list, an application and the offline progress query (its code, then the page)
    answer the fields `/api/openapi.json` documents (schemathesis: they were any object)."""
    import re

    from certhall.notify.models import SmsMessage

    fee("a1", IN, "300.00")
    use("a1", IN)
    applicant = api(actors["applicant"])
    body = {"account_name": NAME, "account_number": ACCOUNT, "bank_name": "工行", "phone": PHONE}
    created = applicant.post(
        "/api/refunds/programmes/sz-2021/applications", body, content_type="application/json"
    ).json()
    path = "/api/refunds/programmes/{slug}/applications"
    assert set(created) == documented_fields("POST", path, 201)
    (row,) = applicant.get("/api/refunds/applications").json()
    assert set(row) == documented_fields("GET", "/api/refunds/applications", 200)
    shown = applicant.get(f"/api/refunds/applications/{created['number']}").json()
    assert set(shown) == documented_fields("GET", "/api/refunds/applications/{number}", 200)
    step = documented_fields("GET", "/api/refunds/applications/{number}", 200, "history")
    assert set(shown["history"][0]) == step

    public = api(None)
    query = {"number": created["number"], "uscc": USCC}
    sent = public.post("/api/refunds/progress/code", query, content_type="application/json")
    assert set(sent.json()) == documented_fields("POST", "/api/refunds/progress/code", 200)
    sms = SmsMessage.objects.filter(phone=PHONE).order_by("-pk").first()
    code = re.search(r"验证码为(\d{6})", sms.text if sms else "")
    assert code is not None
    opened = public.post(
        "/api/refunds/progress", {**query, "code": code.group(1)}, content_type="application/json"
    )
    assert opened.json() == shown
    assert set(opened.json()) == documented_fields("POST", "/api/refunds/progress", 200)


@pytest.mark.usefixtures("frozen")
def test_the_programmes_an_eligibility_and_a_settlement_answer_what_the_document_says(
    actors: dict[str, User],
    two_in_a_batch: Any,
    fee: Callable[..., Any],
    use: Callable[..., Any],
) -> None:
    """The programme list (its CAs and their counters), an eligibility statement (its counted
    and its excluded lines) and a settlement's report (its refused lines) answer the fields
    `/api/openapi.json` documents (they were documented as any object)."""
    listed = api(None).get("/api/refunds/programmes").json()
    programmes = "/api/refunds/programmes"
    assert set(listed[0]) == documented_fields("GET", programmes, 200)
    ca = next(ca for ca in listed[0]["cas"] if ca["counters"])
    assert set(ca) == documented_fields("GET", programmes, 200, "cas")
    counter = documented_fields("GET", programmes, 200, "cas", "counters")
    assert set(ca["counters"][0]) == counter

    fee("c1", IN, "50.00", uscc=GONE_USCC, name=GONE_NAME, business="revoke")
    fee("c2", IN, "300.00", uscc=GONE_USCC, name=GONE_NAME)
    use("c2", IN)
    officer = api(actors["officer"])
    statement = officer.get(f"/api/refunds/programmes/sz-2021/eligibility?uscc={GONE_USCC}")
    shown = statement.json()
    eligibility = "/api/refunds/programmes/{slug}/eligibility"
    assert set(shown) == documented_fields("GET", eligibility, 200)
    (counted,) = shown["counted"]
    assert set(counted) == documented_fields("GET", eligibility, 200, "counted")
    (excluded,) = shown["excluded"]
    assert excluded["reason"] == "business_not_covered"
    assert set(excluded) == documented_fields("GET", eligibility, 200, "excluded")

    data = bank_return(two_in_a_batch, [(1, "failed")])
    unknown = data + f"{two_in_a_batch.number},2,FH20990101-999999,300.00,paid,,\n".encode()
    settlements = "/api/refunds/programmes/{slug}/settlements"
    report = officer.post("/api/refunds/programmes/sz-2021/settlements", unknown, "text/csv")
    assert set(report.json()) == documented_fields("POST", settlements, 200)
    (refusal,) = report.json()["refusals"]
    assert set(refusal) == documented_fields("POST", settlements, 200, "refusals")


def test_the_document_describes_a_settlements_csv_body() -> None:
    """The settlement takes the bank's return file as its raw body, which the document did not
    describe (no requestBody: a client, and schemathesis, sent none; nor 413 for a body over
    the limit). It is text/csv now, required, naming the columns the reader needs."""
    document = Client().get("/api/openapi.json").json()
    operation = document["paths"]["/api/refunds/programmes/{slug}/settlements"]["post"]
    body = operation["requestBody"]
    assert body["required"] is True and list(body["content"]) == ["text/csv"]
    assert body["content"]["text/csv"]["schema"] == {"type": "string"}
    assert ",".join(payout.RETURN_COLUMNS) in body["description"]
    example = body["content"]["text/csv"]["example"].encode()
    header = next(csv_rows(example, list(payout.RETURN_COLUMNS), header_code="x"))
    assert header[1] is not None and header[1]["result"] == "paid"  # the reader takes it
    assert "413" in operation["responses"]  # a body: too large is documented too
    # another Content-Type: 415, with the API's refusal body (12-07, late)
    refused = operation["responses"]["415"]
    assert "unsupported_media_type" in refused["description"]
    assert refused["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Refusal"
    }
