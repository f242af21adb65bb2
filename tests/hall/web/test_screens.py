"""Screens that say what they do (issue 9, item 5): buttons only for the roles that may use them
and no refusal in an application's history; 解锁 / 吊销 never said as 制证; online renewal
without a review promise or deadline; the seed's 微信扫码 / 活体验证 note is the 实名核验 step;
注1-注3 numbered as the seed does; lines numbered 1..n; SMS sentences punctuated; a favicon."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from certhall.accounts.models import Handler, Organization, User
from certhall.audit.models import AuditEvent
from certhall.hall import renewal, review, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.notify.messages import render
from certhall.ukeys.models import Ukey
from certhall.ukeys.store import UkeyStore
from tests.hall.conftest import (
    FRIDAY,
    at,
    at_counter,
    issued_ukey,
    online_draft,
    pay_online,
    software_certificate,
)

pytestmark = pytest.mark.django_db


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.softhsm
def test_unlock_and_revoke_say_what_they_do_and_only_the_clerk_may(
    hall_ca: object,
    clerk: User,
    reviewer: User,
    issuer: User,
    handler: Handler,
    organization: Organization,
    stock: Callable[[str], Ukey],
    ukey_store: UkeyStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("certhall.hall.issuance.instance_store", lambda: ukey_store)
    _, cert = issued_ukey(issuer, stock, ukey_store, organization)
    _, other = issued_ukey(issuer, stock, ukey_store, organization, label="ukey-two")
    with at(FRIDAY):
        application = at_counter(
            clerk,
            handler,
            ItemRequest(business="unlock", serial=cert.serial),
            ItemRequest(
                business="revoke", serial=other.serial, revocation_reason="cessationOfOperation"
            ),
        )
        review.approve(reviewer, application.number)
        url = reverse("hall-staff:application", args=[application.number])
        # the issuer may not unlock: no button, and a forged POST is a 403 that the
        # application's history never shows (the refusal is in the audit log)
        seen = page(login(issuer), url)
        assert 'id="issue"' not in seen and "审核通过，待办理" in seen and "待制证" not in seen
        refused = login(issuer).post(reverse("hall-staff:issue", args=[application.number]))
        assert refused.status_code == 403
        assert Application.objects.get(pk=application.pk).state == State.APPROVED
        assert [h["state"] for h in services.history(clerk, application)][-1] == "approved"
        assert AuditEvent.objects.filter(
            action="hall.application.issue", object_id=application.number, result="refused"
        ).exists()
        assert not AuditEvent.objects.filter(action="hall.application.issue_failed").exists()
        # the clerk's page: 解锁、吊销, not 制证
        clerk_page = page(login(clerk), url)
        assert "<h3>解锁、吊销</h3>" in clerk_page and "确认解锁、吊销</button>" in clerk_page
        done = login(clerk).post(
            reverse("hall-staff:issue", args=[application.number]), follow=True
        )
        body = re.sub(r"\s+", " ", done.content.decode())
    assert "已解锁、已吊销。" in body and "制证完成" not in body
    assert "已解锁、已吊销，已办结" in body and "已制证" not in body and "制证中" not in body
    applicant_view = page(
        login(User.objects.create(username="who", organization=organization)),
        reverse("hall-applicant:detail", args=[application.number]),
    )
    assert "已解锁、已吊销" in applicant_view and "制证" not in applicant_view


def test_the_only_line_is_line_1(
    clerk: User, reviewer: User, issuer: User, handler: Handler, applicant: User
) -> None:
    with at(FRIDAY):
        online_draft(applicant, handler)  # lines of other applications come first
        application = at_counter(
            clerk, handler, ItemRequest(business="new", cert_type="personal", years=1,
                                        person_name="王五", person_id_number="11010519491231002X")
        )  # fmt: skip
        review.approve(reviewer, application.number)
        assert application.items.get().pk > 1
        seen = page(login(issuer), reverse("hall-staff:application", args=[application.number]))
    assert "（第1项）用库存Ukey" in seen
    assert '<td class="num">1</td>' in seen
    with at(FRIDAY):
        refused = login(issuer).post(
            reverse("hall-staff:issue", args=[application.number]), follow=True
        )
    assert "请为第1项业务（新办）选择一个库存Ukey。" in refused.content.decode()


def test_online_renewal_promises_no_review(
    admin: User, hall_ca: object, applicant: User, organization: Organization
) -> None:
    _, old = software_certificate(admin, organization, profile="personal")
    client = login(applicant)
    with at(FRIDAY):
        response = client.post(reverse("hall-applicant:renew"), {"serial": old.serial, "years": 1})
        number = Application.objects.get(organization=organization).number
        detail = reverse("hall-applicant:detail", args=[number])
        assert response.status_code == 302
        before = page(client, detail)
        pay_online(number, applicant)
        after = page(client, detail)
    for seen in (before, after):
        assert "三个工作日" not in seen and "审核期限" not in seen and "审核中" not in seen
    assert "付款成功后即可在线更新证书，无需审核" in before
    paid = Application.objects.get(number=number)
    assert paid.due_date is None and paid.state == State.APPROVED
    # a free (ODC) renewal is approved at submission: no deadline either
    _, odc = software_certificate(admin, organization)
    with at(FRIDAY):
        free = renewal.start(applicant, odc.serial, None)
    assert free.state == State.APPROVED and free.due_date is None
    listed = page(client, reverse("hall-applicant:list"))
    row = listed[listed.index(f'data-number="{number}"') :]
    cells = re.sub(r"<[^>]+>", " ", row[: row.index("</tr>")])  # what the customer reads
    assert "待在线更新" in cells and "审核" not in cells


def test_the_seeds_scan_and_liveness_note_is_a_step_and_notes_are_numbered_as_the_seed(
    applicant: User, handler: Handler
) -> None:
    client = login(applicant)
    with at(FRIDAY):
        new = page(client, reverse("hall-applicant:new"))
        draft = online_draft(applicant, handler)
        docs = page(client, reverse("hall-applicant:documents", args=[draft.number]))
    # the seed's words, and the wizard has the step they describe
    assert "使用微信扫码后请在手机端上传经办人身份证正面照、反面照,并进行经办人活体验证" in new
    assert "实名核验" in new and 'id="to-identity"' in docs
    notes = re.findall(r"注(\d):", docs)
    assert notes == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("reason", "sms"),
    [
        ("身份证照片不清晰", "审核未通过，请补正资料后重新提交。身份证照片不清晰。请登录"),
        ("身份证照片不清晰，", "重新提交。身份证照片不清晰。请登录"),
        ("请重新上传！", "重新提交。请重新上传！请登录"),
        ("", "重新提交。请登录"),
    ],
)
def test_sms_sentences_end_before_the_fixed_tail(reason: str, sms: str) -> None:
    rendered = render(
        "review_result",
        {
            "business": "新办",
            "application": "SQ1",
            "organization": "某公司",
            "result": "未通过，请补正资料后重新提交",
            "reason": reason,
            "link": "https://hall.example.cn/hall/applications/SQ1/",
        },
    )
    assert sms in rendered.sms
    status = render(
        "application_status",
        {
            "business": "新办",
            "application": "SQ1",
            "organization": "某公司",
            "status": "证书Ukey已寄出",
            "detail": "顺丰速运运单号SF1",
            "link": "https://hall.example.cn/hall/applications/SQ1/",
        },
    )
    assert "运单号SF1。详情请登录" in status.sms


def test_a_favicon(client: Any) -> None:
    html = client.get("/").content.decode()
    assert re.search(r'<link rel="icon" type="image/svg\+xml" href="/static/web/favicon\.svg', html)
    from django.contrib.staticfiles import finders

    found = finders.find("web/favicon.svg")
    assert found is not None and "<svg" in Path(found).read_text(encoding="utf-8")
