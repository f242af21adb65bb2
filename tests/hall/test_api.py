"""The hall's JSON API: the applicant's and the staff's flows over the same services."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.test import Client

from certhall.accounts.models import Handler, User
from certhall.hall.models import Application, Business, CertType
from certhall.hall.states import State
from certhall.payments.lifecycle import Status
from tests.hall.conftest import (
    FRIDAY,
    LEGAL_REP_ID,
    ONLINE_NEW_DOCUMENTS,
    PDF,
    PHONE,
    SATURDAY,
    at,
    finish_identity_on_phone,
    pay_online,
)

pytestmark = pytest.mark.django_db

API = "/api/hall"


def as_user(user: User, **options: object) -> Client:
    client = Client(**options)  # type: ignore[arg-type]
    client.force_login(user)
    return client


def test_online_new_through_the_api(
    applicant: User, handler: Handler, reviewer: User, clerk: User, uploads
) -> None:  # type: ignore[no-untyped-def]
    web = as_user(applicant)
    with at(FRIDAY):
        created = web.post(
            f"{API}/applications", {"handler_id": handler.pk}, content_type="application/json"
        )
        assert created.status_code == 201, created.content
        number = created.json()["number"]
        assert created.json()["state"] == "draft"
        assert created.json()["delivery"]["method"] == "mail"

        item = web.post(
            f"{API}/applications/{number}/items",
            {
                "business": "new",
                "cert_type": "personal",
                "years": 2,
                "person_name": "王五",
                "person_id_number": LEGAL_REP_ID,
            },
            content_type="application/json",
        )
        assert item.status_code == 201, item.content
        assert item.json()["fee"] == "300.00"
        assert item.json()["person_id_number"] == "110***********002X"

        refused = web.post(
            f"{API}/applications/{number}/items",
            {"business": "new", "cert_type": "org"},
            content_type="application/json",
        )
        assert refused.status_code == 422
        assert refused.json() == {
            "error": "rule_violation",
            "message": "注:仅支持机构个人证书网厅办理。",
            # the inputs the rule is about (rules.Refusal.inputs), as a page marks them: the
            # application's channel and the line's type
            "fields": ["channel", "cert_type"],
        }

        details = web.patch(
            f"{API}/applications/{number}",
            {"recipient_name": "李四", "recipient_phone": PHONE, "address": "深圳市南山区"},
            content_type="application/json",
        )
        assert details.status_code == 200, details.content
        assert details.json()["total"] == "312.00"

        for kind, content in ONLINE_NEW_DOCUMENTS.items():
            from django.core.files.uploadedfile import SimpleUploadedFile

            uploaded = web.post(
                f"{API}/applications/{number}/documents",
                {"kind": kind, "file": SimpleUploadedFile("scan.pdf", content)},
            )
            assert uploaded.status_code == 201, uploaded.content
        bad = web.post(
            f"{API}/applications/{number}/documents",
            {"kind": "licence_copy", "file": SimpleUploadedFile("a.pdf", b"MZ\x90\x00" * 8)},
        )
        assert bad.status_code == 400 and bad.json()["error"] == "file_type"

        detail = web.get(f"{API}/applications/{number}").json()
        assert detail["missing"] == ["未完成经办人实名核验（请在“实名核验”一步用手机扫码完成）"]
        assert web.get(f"{API}/applications/{number}/identity").status_code == 404
        started = web.post(f"{API}/applications/{number}/identity")
        assert started.status_code == 201, started.content
        assert started.json()["state"] == "waiting" and not started.json()["verified"]
        phone_path = urlsplit(started.json()["phone_url"]).path
        # the link is the key to the check's photo uploads: the enterprise's, not staff's
        seen = as_user(clerk).get(f"{API}/applications/{number}/identity")
        assert seen.status_code == 200 and seen.json()["state"] == "waiting"
        assert seen.json()["phone_url"] == ""
        finish_identity_on_phone(Client(), phone_path, "passed")
        finished = web.get(f"{API}/applications/{number}/identity").json()
        assert finished["state"] == "passed" and finished["verified"]
        assert finished["phone_url"] == ""
        detail = web.get(f"{API}/applications/{number}").json()
        assert detail["missing"] == []
        assert {d["kind"] for d in detail["documents"]} == set(ONLINE_NEW_DOCUMENTS)
        first = detail["documents"][0]
        download = web.get(f"{API}/applications/{number}/documents/{first['id']}")
        assert download.status_code == 200
        assert download["Content-Type"] == "application/pdf"
        assert download["X-Content-Type-Options"] == "nosniff"
        assert download.content == PDF

        submitted = web.post(f"{API}/applications/{number}/submit")
        assert submitted.status_code == 200, submitted.content
        assert submitted.json()["state"] == "awaiting_payment"
        assert submitted.json()["payment_reference"].startswith("ZF")

        pay_online(number, applicant)
        listed = web.get(f"{API}/applications").json()
        assert [(a["number"], a["state"]) for a in listed] == [(number, "paid")]

        staff = as_user(reviewer)
        queue = staff.get(f"{API}/review/queue").json()
        assert [e["application"]["number"] for e in queue] == [number]
        assert queue[0]["due_date"] == "2026-11-25" and queue[0]["overdue"] is False
        # staff see the identity numbers in full, to compare with the ID copies
        assert queue[0]["application"]["items"][0]["person_id_number"] == LEGAL_REP_ID
        approved = staff.post(
            f"{API}/applications/{number}/approve", {"note": "ok"}, content_type="application/json"
        )
        assert approved.status_code == 200 and approved.json()["state"] == "approved"
        assert [h["state"] for h in approved.json()["history"]] == [
            "draft",
            "awaiting_payment",
            "paid",
            "approved",
        ]


def test_session_calls_are_csrf_protected(applicant: User) -> None:
    web = as_user(applicant, enforce_csrf_checks=True)
    with at(FRIDAY):
        response = web.post(f"{API}/applications", {}, content_type="application/json")
    assert response.status_code == 403 and response.json()["error"] == "csrf_failed"
    assert not Application.objects.exists()
    # a GET needs no token
    assert web.get(f"{API}/applications").status_code == 200


def test_anonymous_is_refused() -> None:
    assert Client().get(f"{API}/applications").status_code == 401


def test_a_list_offset_past_64_bits_is_refused(applicant: User, reviewer: User) -> None:
    """``?offset=9223372036854775808`` went to the database as it was: an HTTP 500."""
    for user in (applicant, reviewer):
        web = as_user(user)
        for offset in ("9223372036854775808", "99999999999999999999", "1000000001", "-1"):
            response = web.get(f"{API}/applications", {"offset": offset})
            assert response.status_code == 400, (offset, response.content[:200])
            assert response.json()["error"] == "list_limit"
        assert web.get(f"{API}/applications", {"offset": "1000000000"}).json() == []


def test_counter_through_the_api(clerk: User, handler: Handler, reviewer: User) -> None:
    web = as_user(clerk)
    with at(SATURDAY):
        no_point = web.post(
            f"{API}/counter/applications",
            {"customer": {"uscc": handler.organization.uscc}, "handler_id": handler.pk},
            content_type="application/json",
        )
        assert no_point.status_code == 400
        point = web.put(
            f"{API}/counter/point", {"point": "kejiyuan"}, content_type="application/json"
        )
        assert point.json() == {"point": "kejiyuan", "name": "科技园文化广场"}
        assert web.get(f"{API}/counter/point").json()["point"] == "kejiyuan"
        opened = web.post(
            f"{API}/counter/applications",
            {
                "customer": {"uscc": "91440300MA5F00001A", "name": "深圳市新客户有限公司"},
                "handler": {
                    "name": "赵六",
                    "id_kind": "resident_id",
                    "id_number": "440301199001011234",
                    "phone": "13900139000",
                },
            },
            content_type="application/json",
        )
        assert opened.status_code == 201, opened.content
        body = opened.json()
        number = body["number"]
        assert (body["channel"], body["point"], body["organization"]["name"]) == (
            "onsite",
            "kejiyuan",
            "深圳市新客户有限公司",
        )
        weekend = web.post(
            f"{API}/applications/{number}/items",
            {"business": "new", "cert_type": "org"},
            content_type="application/json",
        )
        assert weekend.status_code == 422
        assert weekend.json()["message"] == (  # the seed's words, then the moment refused
            "注:周末无法办理机构证书(ODC证书),机构个人证书可正常办理"
            "（办理时间：2026-11-21 星期六 10:00）。"
        )
        added = web.post(
            f"{API}/applications/{number}/items",
            {
                "business": "new",
                "cert_type": "personal",
                "years": 1,
                "person_name": "王五",
                "person_id_number": LEGAL_REP_ID,
            },
            content_type="application/json",
        )
        assert added.status_code == 201
        for kind in (
            "personal_form",
            "personal_annex",
            "licence_copy",
            "legal_rep_id_copy",
            "handler_id_copy",
        ):
            ticked = web.post(
                f"{API}/applications/{number}/checklist",
                {"kind": kind, "original_seen": True},
                content_type="application/json",
            )
            assert ticked.status_code == 200, ticked.content
        submitted = web.post(f"{API}/applications/{number}/submit")
        assert submitted.json()["state"] == "awaiting_payment"
        paid = web.post(
            f"{API}/applications/{number}/counter-payment",
            {"method": "pos", "voucher": "POS-0001"},
            content_type="application/json",
        )
        assert paid.status_code == 200, paid.content
        assert paid.json()["state"] == "paid" and paid.json()["due_date"] == "2026-11-21"
        assert Decimal(paid.json()["total"]) == Decimal("150.00")
        # the clerk who entered it cannot approve it (and is no reviewer anyway)
        assert (
            web.post(
                f"{API}/applications/{number}/approve", {}, content_type="application/json"
            ).status_code
            == 403
        )
        # a note over 500 characters is refused, not cut
        long_note = as_user(reviewer).post(
            f"{API}/applications/{number}/approve",
            {"note": "资" * 501},
            content_type="application/json",
        )
        assert long_note.status_code == 400
        assert long_note.json()["error"] == "field_too_long"  # approve_note_too_long before
        assert long_note.json()["message"] == "审核意见不能超过500个字，请核对后重新填写。"
        assert Application.objects.get(number=number).state == State.PAID
        approved = as_user(reviewer).post(
            f"{API}/applications/{number}/approve", {}, content_type="application/json"
        )
        assert approved.json()["state"] == State.APPROVED


def test_a_huge_identifier_is_never_echoed_whole(
    clerk: User, handler: Handler, reviewer: User, issuer: User, applicant: User
) -> None:
    """A 20,000-character Ukey serial (or application number, order number, certificate
    serial) sent to the API came back whole in the refusal and went whole into the audit log:
    each is bounded to its real maximum length before it is looked up, echoed or audited."""
    from certhall.audit.models import AuditEvent
    from certhall.hall import review
    from tests.hall.test_review import counter_submitted

    huge = "Z" * 20000
    application = counter_submitted(clerk, handler, FRIDAY)
    line = application.items.get()
    with at(FRIDAY):
        review.approve(reviewer, application.number)
        staff = as_user(issuer)
        answers = [
            staff.post(
                f"{API}/applications/{application.number}/issue",
                {"tokens": {str(line.pk): huge}},
                content_type="application/json",
            ),
            as_user(reviewer).post(
                f"{API}/applications/{huge}/approve", {}, content_type="application/json"
            ),
            as_user(applicant).get(f"{API}/applications/{huge}"),
            as_user(applicant).get(f"/api/payments/orders/{huge}"),
            as_user(applicant).get(f"{API}/renewals/lookup", {"serial": huge}),
            as_user(applicant).get(f"/api/refunds/applications/{huge}"),
        ]
    assert [a.status_code for a in answers] == [404, 404, 404, 400, 400, 404]
    for answer in answers:
        assert len(answer.content) < 400, answer.content[:200]
        assert "Z" * 60 not in answer.json()["message"]
    assert answers[0].json()["error"] == "ukey_unknown"
    assert "ZZZZ…" in answers[0].json()["message"]
    refused = AuditEvent.objects.filter(result="refused")
    assert refused.filter(action="hall.application.issue").exists()
    for event in refused:
        assert len(event.object_id) <= 128
        assert len(str(event.after)) < 400, event.action


def _one_of(schema: dict[str, object]) -> object:
    for branch in schema.get("anyOf", [schema]):  # type: ignore[attr-defined]
        if "enum" in branch:
            return branch["enum"]
    return None


def test_codes_are_documented_as_the_values_the_services_take(applicant: User) -> None:
    """A business, a certificate type, a way of delivery, a handler's ID kind, an application's
    state and an order's status were documented as any text, a list's limit and offset as any
    number (schemathesis: "Schema-valid request rejected"); each service refuses another value
    with its own message naming them."""
    document = Client().get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    parameters = {
        path: {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}
        for path in (f"{API}/applications", "/api/payments/orders")
    }
    assert _one_of(schemas["ItemIn"]["properties"]["business"]) == Business.values
    assert _one_of(schemas["ItemIn"]["properties"]["cert_type"]) == CertType.values
    assert _one_of(schemas["DetailsIn"]["properties"]["delivery"]) == ["mail", "pickup"]
    assert _one_of(schemas["CounterHandlerIn"]["properties"]["id_kind"]) == Handler.IdKind.values
    assert _one_of(parameters[f"{API}/applications"]["state"]) == ["", *State.values]
    assert _one_of(parameters["/api/payments/orders"]["status"]) == Status.values
    listed = parameters[f"{API}/applications"]
    assert (listed["limit"]["minimum"], listed["limit"]["maximum"]) == (1, 200)
    assert (listed["offset"]["minimum"], listed["offset"]["maximum"]) == (0, 10**9)
    assert as_user(applicant).get(f"{API}/applications", {"state": ""}).status_code == 200
    refused = as_user(applicant).get(f"{API}/applications", {"state": "nope"})
    assert (refused.status_code, refused.json()["error"]) == (400, "state")
