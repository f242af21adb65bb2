"""网上营业厅 pages (/hall/): the online 新办 wizard, the progress page, cancel, the printed
forms, refusals shown on the page (the documents step and correction after a return:
test_applicant_documents.py; online 续期: test_applicant_renew_pages.py). The pages call the
same services as the JSON API; these tests check what a person sees and that nothing changes
where it must not (another enterprise and CSRF: test_applicant_access.py)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client

from certhall.accounts.models import Handler, Organization, Role, User
from certhall.audit.models import AuditEvent
from certhall.hall import documents, review, services
from certhall.hall.items import ItemRequest
from certhall.hall.models import Application
from certhall.hall.states import State
from certhall.rules import Business as RuleBusiness
from certhall.rules import CertType as RuleCertType
from certhall.rules import default_catalog
from certhall.web.templatetags.wrapping import numbers_whole, ranges_whole
from tests.hall.conftest import (
    FRIDAY,
    HANDLER_ID,
    JPEG,
    LEGAL_REP_ID,
    ONLINE_NEW_DOCUMENTS,
    PHONE,
    at,
    at_counter,
    finish_identity_on_phone,
    online_draft,
    pay_online,
    software_certificate,
)
from tests.hall.web.conftest import draft_without_documents, file, new_form, text
from tests.support.refused import marked

pytestmark = pytest.mark.django_db

WRONG_CHECK_DIGIT = LEGAL_REP_ID[:-1] + "1"  # 11010519491231002X with a wrong last character


# --- access --------------------------------------------------------------------------------


def test_anonymous_goes_to_login(client: Client) -> None:
    for url in ("/hall/", "/hall/new/", "/hall/applications/", "/hall/renew/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_staff_are_sent_away(make_user: Callable[..., User]) -> None:
    client = Client()
    client.force_login(make_user(Role.CLERK))
    response = client.get("/hall/")
    assert response.status_code == 403
    assert "网上营业厅仅供单位账户使用" in text(response)


def test_hall_home_shows_businesses_points_and_my_applications(
    client_a: Client, applicant: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        page = client_a.get("/hall/")
    body = text(page)
    assert page.status_code == 200
    for point in default_catalog().points:
        assert point.name in body and point.address in body
        assert ranges_whole(point.hours_text) in body  # 9:00-12:00 kept on one line
    assert default_catalog().weekend_rule.text in body
    assert draft.number in body and "申请尚未提交，请继续填写" in body
    assert 'href="/hall/"' in body  # the nav link for applicants
    # online: 新办 and 续期; the others on site only
    assert body.count("可网上办理") == 2 and body.count("仅现场办理") == 4


def test_an_on_site_business_leads_to_what_to_bring_and_where(
    client_a: Client, applicant: User
) -> None:
    """变更, 解锁, 介质补办, 吊销 on the hall home: the button led to the home's list of points,
    which names neither the documents to bring nor the fee (12-06): it opens the business's
    办事指南, with its documents, fee, the points and their hours."""
    catalog = default_catalog()
    page = text(client_a.get("/hall/"))
    for key, spec in catalog.businesses.items():
        if key.value in ("new", "renew"):
            continue
        card = re.search(rf'data-business="{key.value}".*?</div>\s*</div>', page, re.S)
        assert card is not None, key
        link = re.search(r'<a class="btn small" href="([^"]+)">([^<]+)</a>', card.group(0))
        assert link is not None and link.group(2) == "所需资料与受理点", card.group(0)
        guide = client_a.get(link.group(1))
        assert guide.status_code == 200, link.group(1)
        body = text(guide)
        for offer in spec.offers.values():
            assert numbers_whole(offer.fee_text) in body  # the guide's page
            assert all(d.text in body for d in offer.documents)
        assert all(p.name in body and p.address in body for p in catalog.points)


def test_an_odc_chosen_online_leads_to_what_to_bring_and_where(client_a: Client) -> None:
    """证书新办 with 机构证书 chosen said 请携带资料到受理点现场办理 and no more (12-07, a first
    visit on a phone): which documents, what fee, which counter? It links the 新办 guide's
    机构证书 section, which has them; refused online, the page still shows it."""
    with at(FRIDAY):
        page = text(client_a.get("/hall/new/"))
        refused = text(client_a.post("/hall/new/", new_form(cert_type="org", years="1")))
    for body in (page, refused):
        warning = re.search(r'<p class="notice warn org-warning" id="onsite-org">(.*?)</p>', body)
        assert warning is not None
        assert '<a href="/guide/new/#org">所需资料、收费与受理点</a>' in warning.group(1)
    guide = text(client_a.get("/guide/new/"))
    section = guide[guide.index('<section class="card" id="org">') :]
    section = section[: section.index("</section>")]
    offer = default_catalog().businesses[RuleBusiness.NEW].offers[RuleCertType.ORG]
    assert numbers_whole(offer.fee_text) in section
    assert all(document.text in section for document in offer.documents)


def test_to_pay_says_the_review_time_once_as_the_confirm_page_did(
    client_a: Client, applicant: User, handler: Handler
) -> None:
    """Submitted, the progress page said 付款后深圳CA在三个工作日内审核（网厅办理:三个工作日(前提是
    资料无误)）: three working days twice, a bracket in a bracket (12-06). It says what the
    confirm page said a step before."""
    said = "付款后深圳CA在三个工作日内审核（前提是资料无误）。"
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        assert said in text(client_a.get(f"/hall/applications/{draft.number}/confirm/"))
        services.submit(applicant, draft.number)
        body = text(client_a.get(f"/hall/applications/{draft.number}/"))
    assert said in body and "（网厅办理" not in body


def test_continue_leads_a_draft_to_the_step_it_still_needs(
    client_a: Client, applicant: User, handler: Handler
) -> None:
    """继续填写 on a list row: the wizard step the draft needs is worked out on the click."""
    with at(FRIDAY):
        bare = services.create_draft(applicant)  # no handler yet
        unchecked = online_draft(applicant, handler, identity_check=False)
        ready = online_draft(applicant, handler)
        submitted = online_draft(applicant, handler)
        services.submit(applicant, submitted.number)
        home = text(client_a.get("/hall/"))
        steps = {
            draft.number: client_a.get(f"/hall/applications/{draft.number}/continue/")
            for draft in (bare, unchecked, ready, submitted)
        }
    base = "/hall/applications/{}/"
    for draft in (bare, unchecked, ready):
        assert f'href="{base.format(draft.number)}continue/"' in home
    assert steps[bare.number]["Location"] == base.format(bare.number) + "handler/"
    assert steps[unchecked.number]["Location"] == base.format(unchecked.number) + "identity/"
    assert steps[ready.number]["Location"] == base.format(ready.number) + "confirm/"
    # no longer a draft: the application page
    assert steps[submitted.number]["Location"] == base.format(submitted.number)
    assert all(response.status_code == 302 for response in steps.values())


# --- the online 新办 wizard ------------------------------------------------------------------


def test_online_new_through_the_pages(
    client_a: Client, applicant: User, handler: Handler, organization: Organization
) -> None:
    with at(FRIDAY):
        form_page = client_a.get("/hall/new/")
        assert "2年 · 300.00 元" in text(form_page)  # the fee from the rules, per term
        response = client_a.post("/hall/new/", new_form())
        application = Application.objects.get(organization=organization)
        assert response.status_code == 302
        assert response["Location"] == f"/hall/applications/{application.number}/handler/"
        line = application.items.get()
        assert (line.business, line.cert_type, line.years, line.fee) == (
            "new",
            "personal",
            2,
            Decimal("300.00"),
        )

        base = f"/hall/applications/{application.number}"
        response = client_a.post(f"{base}/handler/", {"action": "pick", "handler_id": handler.pk})
        assert response["Location"] == f"{base}/delivery/"
        delivery = client_a.get(f"{base}/delivery/")
        assert "12.00 元" in text(delivery)  # postage shown (邮费自付)
        # an incomplete choice stays on the step with its reason, not four steps later
        for incomplete, reason in (
            ({"delivery": "pickup", "pickup_point": ""}, "请选择自取的受理点"),
            ({"delivery": "mail", "recipient_name": "李四", "address": ""}, "邮寄须填写"),
        ):
            stays = client_a.post(f"{base}/delivery/", incomplete)
            assert stays.status_code == 400 and reason in text(stays)
        response = client_a.post(
            f"{base}/delivery/",
            {
                "delivery": "mail",
                "recipient_name": "李四",
                "recipient_phone": PHONE,
                "address": "深圳市南山区科技园",
            },
        )
        assert response["Location"] == f"{base}/documents/"
        page = text(client_a.get(f"{base}/documents/"))
        assert "《机构个人数字证书附页》" in page and "经办人身份证正面照" in page
        assert "注1:以上资料均须加盖单位公章" in page
        assert 'id="to-identity"' in page  # the photos are taken on the phone, next step
        for kind, content in ONLINE_NEW_DOCUMENTS.items():
            if kind in documents.HANDLER_PHOTOS:
                continue
            response = client_a.post(
                f"{base}/documents/", {"kind": kind, "file": file(content, f"{kind}.pdf")}
            )
            assert response.status_code == 302, text(response)
        refused = client_a.post(f"{base}/confirm/")
        assert "未完成经办人实名核验" in text(refused)
        assert Application.objects.get(pk=application.pk).state == State.DRAFT

        # 经办人实名核验: a QR code of the phone's URL; the phone fails once, then passes
        first = text(client_a.get(f"{base}/identity/"))
        assert 'id="identity-start"' in first and "<svg" not in first
        assert client_a.post(f"{base}/identity/").status_code == 303
        waiting = text(client_a.get(f"{base}/identity/"))
        assert "<svg" in waiting and 'data-watch="waiting"' in waiting and "web/watch.js" in waiting
        phone_path = urlsplit(re.search(r'id="phone-link"[^>]*>([^<]+)<', waiting)[1]).path
        failed = finish_identity_on_phone(Client(), phone_path, "failed")
        assert "核验未通过：人脸与证件照片不一致" in failed
        retry = text(client_a.get(f"{base}/identity/"))
        assert "上次核验：核验未通过（人脸与证件照片不一致）" in retry and "<svg" not in retry
        assert client_a.post(f"{base}/identity/").status_code == 303
        again = text(client_a.get(f"{base}/identity/"))
        phone_path = urlsplit(re.search(r'id="phone-link"[^>]*>([^<]+)<', again)[1]).path
        assert "实名核验已通过" in finish_identity_on_phone(Client(), phone_path, "passed")
        passed = text(client_a.get(f"{base}/identity/"))
        assert 'id="identity-passed"' in passed and "web/watch.js" not in passed
        confirm = text(client_a.get(f"{base}/confirm/"))
        assert "312.00 元" in confirm and "1101**********002X" in confirm
        response = client_a.post(f"{base}/confirm/")
        assert response["Location"] == f"{base}/"
        application.refresh_from_db()
        assert application.state == State.AWAITING_PAYMENT
        detail = text(client_a.get(f"{base}/"))
        assert f"/payments/sandbox/{application.payment_reference}?gateway=alipay" in detail
        assert "请支付 312.00 元" in detail

        pay_online(application.number, applicant)
        detail = text(client_a.get(f"{base}/"))
    assert "已付款，待审核" in detail
    assert 'id="due-date">2026-11-25<' in detail  # three working days after Friday 20 Nov
    assert "取消申请" not in detail  # paid: no cancel


def test_forms_pdf_of_the_application(client_a: Client, applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
    base = f"/hall/applications/{draft.number}/forms"
    for key in ("org_application", "personal_annex"):
        response = client_a.get(f"{base}/{key}.pdf")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
    assert client_a.get(f"{base}/unit_application.pdf").status_code == 404  # no ODC here
    assert client_a.get(f"{base}/nothing.pdf").status_code == 404


def test_the_printed_form_tells_the_order_story(
    client_a: Client, applicant: User, handler: Handler, tmp_path: Path
) -> None:
    """The 法人证书's holder is the legal representative: the form prints the ID number the
    application has; the postage of a mailed Ukey is said beside the certificates' fees (the
    order is 312 = 300 + 12); every note of the seed, 注2 included (found by a probe)."""
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
    pdf = client_a.get(f"/hall/applications/{draft.number}/forms/org_application.pdf").content
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    page = "".join(
        subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert LEGAL_REP_ID in page
    fees = sum(line.fee for line in draft.items.all())
    # (the cell wraps: pdftotext puts the labels beside it between its lines)
    assert f"¥{fees:.2f}" in page and f"邮寄费¥{draft.postage:.2f}另计" in page
    assert "注1" in page and "注2" in page and "注3" in page


@pytest.mark.parametrize(
    ("fields", "status", "words", "refused"),
    [
        (
            {"person_id_number": WRONG_CHECK_DIGIT},
            400,
            "身份证号码校验位不正确",
            ["person_id_number"],
        ),
        # the rules' own refusals name what they are about: the term, the certificate type
        ({"years": "6"}, 422, "机构个人证书(法人证书):150元/个/年(可办理1-5年期)", ["years"]),
        ({"cert_type": "org", "years": "1"}, 422, "注:仅支持机构个人证书网厅办理。", ["cert_type"]),
        ({"years": "两年"}, 400, "证书年限应为整数", ["years"]),
        ({"project": "other"}, 400, "请选择办理的项目", []),
    ],
    ids=["id-check-digit", "six-years", "odc-online", "years-not-a-number", "project"],
)
def test_bad_new_application_is_explained_on_the_page(
    client_a: Client,
    organization: Organization,
    fields: dict[str, str],
    status: int,
    words: str,
    refused: list[str],
) -> None:
    with at(FRIDAY):
        response = client_a.post("/hall/new/", new_form(**fields))
    assert response.status_code == status
    assert ranges_whole(words) in text(response)  # a range kept on one line
    assert 'id="form-error"' in text(response)
    assert marked(text(response)) == refused  # the fields it is about (web.refused)
    assert not Application.objects.filter(organization=organization).exists()  # no orphan draft


def test_refused_start_is_audited_once(client_a: Client, organization: Organization) -> None:
    with at(FRIDAY):
        client_a.post("/hall/new/", new_form(years="6"))
    refused = AuditEvent.objects.filter(result="refused")
    assert [e.action for e in refused] == ["hall.application.start"]


def test_handler_added_on_the_way(client_a: Client, applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        client_a.post("/hall/new/", new_form())
        number = Application.objects.get().number
        bad = client_a.post(
            f"/hall/applications/{number}/handler/",
            {
                "action": "add",
                "name": "赵六",
                "id_kind": "resident_id",
                "id_number": HANDLER_ID[:-1] + "0",
                "phone": "13900139000",
            },
        )
        assert bad.status_code == 400 and "校验位不正确" in text(bad)
        good = client_a.post(
            f"/hall/applications/{number}/handler/",
            {
                "action": "add",
                "name": "赵六",
                "id_kind": "passport",
                "id_number": "E12345678",
                "phone": "13900139000",
            },
        )
    assert good.status_code == 302
    assert Application.objects.get().handler == Handler.objects.get(name="赵六")


def test_submit_incomplete_says_what_is_missing(
    client_a: Client, applicant: User, handler: Handler
) -> None:
    draft = draft_without_documents(client_a, applicant, handler)
    with at(FRIDAY):
        response = client_a.post(f"/hall/applications/{draft.number}/confirm/")
    assert response.status_code == 400
    assert "资料不齐：缺少：《机构数字证书申请表》" in text(response)
    assert Application.objects.get(pk=draft.pk).state == State.DRAFT


# --- after submission ----------------------------------------------------------------------


def test_cancel_before_payment_only(client_a: Client, applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        first = online_draft(applicant, handler)
        client_a.post(f"/hall/applications/{first.number}/confirm/")
        response = client_a.post(f"/hall/applications/{first.number}/cancel/")
        assert response.status_code == 303
        assert Application.objects.get(pk=first.pk).state == State.CANCELLED
        assert "已取消" in text(client_a.get(response["Location"]))

        second = online_draft(applicant, handler)
        client_a.post(f"/hall/applications/{second.number}/confirm/")
        pay_online(second.number, applicant)
        response = client_a.post(f"/hall/applications/{second.number}/cancel/", follow=True)
    assert "已付款，请到受理点或联系客服（见“联系我们”）办理退款" in text(response)
    assert Application.objects.get(pk=second.pk).state == State.PAID


def test_an_over_long_field_is_refused_not_cut(
    client_a: Client, applicant: User, handler: Handler
) -> None:
    """The forms cut what was typed at their bound and went on with the cut text."""
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        url = f"/hall/applications/{draft.number}/cancel/"
        refused = client_a.post(url, {"reason": "不" * 201}, follow=True)
        assert "填写的内容过长：此项最多200个字" in text(refused)
        assert Application.objects.get(pk=draft.pk).state == State.DRAFT
        client_a.post(url, {"reason": "不" * 200})
        assert Application.objects.get(pk=draft.pk).state == State.CANCELLED


def test_a_refused_cancel_is_the_application_page_with_its_reason_marked(
    client_a: Client, applicant: User, handler: Handler
) -> None:
    """撤销申请 went through ``act_and_return``: refused, a notice after a redirect, the reason
    sent lost. It is the application page again, the refusal inside the cancel form, the
    reason as sent (hidden: nothing to mark); a paid one's refusal on the page without it."""
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        url = f"/hall/applications/{draft.number}/cancel/"
        refused = client_a.post(url, {"reason": "不要了\u200b"})
        assert refused.status_code == 400
        page = refused.content.decode()
        form = page[
            page.index('id="cancel-form"') : page.index("</form>", page.index('id="cancel-form"'))
        ]
        assert 'id="form-error"' in form and "原因" in form
        assert 'value="不要了\u200b"' in form
        assert marked(page) == []  # the reason is a hidden field: nothing to mark (web.refused)
        assert Application.objects.get(pk=draft.pk).state == State.DRAFT

        client_a.post(f"/hall/applications/{draft.number}/confirm/")
        pay_online(draft.number, applicant)
        paid = client_a.post(url, {"reason": "不要了"})
    assert paid.status_code == 409
    assert "已付款，请到受理点或联系客服" in text(paid)
    assert 'id="form-error"' in paid.content.decode() and "cancel-form" not in paid.content.decode()


def _path(page: str) -> list[tuple[str, str]]:
    """The progress path's steps: (class, label)."""
    found = re.search(r'<ol class="path">(.*?)</ol>', page, re.S)
    assert found is not None
    return re.findall(r'<li class="([^"]*)">([^<]*)</li>', found[1])


def test_the_path_says_a_returned_application_awaits_correction(
    client_a: Client, applicant: User, handler: Handler, reviewer: User
) -> None:
    """退回补正 is the customer's turn: the path said 已付款，待审核 (current) until 12-06, as if
    the review went on; after the correction is sent the review is current again."""
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
        client_a.post(f"/hall/applications/{draft.number}/confirm/")
        pay_online(draft.number, applicant)
        url = f"/hall/applications/{draft.number}/"
        paid = _path(text(client_a.get(url)))
        licence = draft.documents.get(kind="licence_copy")
        review.return_application(reviewer, draft.number, reasons={licence.pk: "未加盖公章"})
        returned = _path(text(client_a.get(url)))
        client_a.post(
            f"/hall/applications/{draft.number}/documents/",
            {"kind": "licence_copy", "file": file(JPEG + b"stamped", "licence.jpg")},
        )
        client_a.post(f"/hall/applications/{draft.number}/resubmit/")
        resubmitted = _path(text(client_a.get(url)))
    done = [("done", "填写申请"), ("done", "待付款")]
    rest = [("", "审核通过"), ("", "已制证"), ("", "已办结")]
    assert paid == [*done, ("current", "已付款，待审核"), *rest]
    assert returned == [*done, ("current returned", "已退回，待补正"), *rest]
    assert resubmitted == [*done, ("current", "已补正，待审核"), *rest]


def test_the_path_of_a_free_application_has_no_payment_step(
    client_a: Client, admin: User, hall_ca: object, clerk: User, handler: Handler
) -> None:
    """A free business at the counter (吊销, 变更, 解锁, an ODC 续期) goes from 填写申请 straight
    to the review: the path showed 待付款 as done and the review as 已付款，待审核 until 12-06."""
    _, cert = software_certificate(admin, handler.organization, profile="personal")
    with at(FRIDAY):
        application = at_counter(
            clerk,
            handler,
            ItemRequest(business="revoke", serial=cert.serial, revocation_reason="superseded"),
        )
        assert application.state == State.SUBMITTED and application.total == 0
        seen = _path(text(client_a.get(f"/hall/applications/{application.number}/")))
    assert seen == [
        ("done", "填写申请"),
        ("current", "已提交，待审核"),
        ("", "审核通过"),
        ("", "已吊销"),
        ("", "已办结"),
    ]


def test_delivered_shows_tracking_number_and_certificate(
    client_a: Client, applicant: User, handler: Handler
) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
    Application.objects.filter(pk=draft.pk).update(
        state=State.DELIVERED, carrier="顺丰速运", tracking_number="SF1234567890"
    )
    page = text(client_a.get(f"/hall/applications/{draft.number}/"))
    assert "已办结" in page and 'id="tracking-number">SF1234567890<' in page
    listing = text(client_a.get("/hall/applications/"))
    assert "已办结：Ukey已寄出（顺丰速运 SF1234567890）" in listing


def test_list_filters_by_state(client_a: Client, applicant: User, handler: Handler) -> None:
    with at(FRIDAY):
        draft = online_draft(applicant, handler)
    assert draft.number in text(client_a.get("/hall/applications/?state=draft"))
    assert draft.number not in text(client_a.get("/hall/applications/?state=paid"))
    bad = client_a.get("/hall/applications/?state=nonsense")
    assert bad.status_code == 400 and "未知的申请状态" in text(bad)
    assert "还没有申请" not in text(bad)  # the refusal, not an empty list's words beneath it
