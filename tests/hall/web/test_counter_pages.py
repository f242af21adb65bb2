"""The counter's pages under /console/counter/: a walk-in customer through the checklist and the
counter payment, the rule's own words for a Saturday ODC, who may use the counter, refused forms
keeping what the clerk typed and naming their fields (review, issuance and stock:
test_staff_pages.py)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from certhall.accounts.models import Handler, Organization, User
from certhall.hall import documents
from certhall.hall.models import Application, ApplicationItem
from certhall.hall.states import State
from certhall.payments.models import Order
from certhall.ukeys.models import Ukey
from tests.hall.conftest import FRIDAY, SATURDAY, at, software_certificate
from tests.hall.web.staff_support import (
    HANDLER_ID,
    NEW_USCC,
    WEEKEND_WORDS,
    counter_client,
    flashes,
    login,
    online_paid_at,
    text,
)
from tests.support.refused import marked

pytestmark = pytest.mark.django_db


def test_counter_walk_in_customer_through_payment(clerk: User, reviewer: User) -> None:
    with at(FRIDAY):
        client = counter_client(clerk)
        page = client.get(reverse("hall-staff:counter"))
        assert page.status_code == 200
        body = text(page)
        assert "科技园文化广场" in body and "服务中" in body
        # the lookup of an unknown organisation asks for its name
        lookup = client.get(reverse("hall-staff:counter"), {"uscc": NEW_USCC.lower()})
        assert "未登记的单位" in text(lookup)
        opened = client.post(
            reverse("hall-staff:counter-open"),
            {
                "uscc": NEW_USCC,
                "name": "深圳市新客户医疗有限公司",
                "legal_representative": "赵六",
                "handler_id": "new",
                "handler_name": "钱七",
                "handler_id_kind": "resident_id",
                "handler_id_number": HANDLER_ID,
                "handler_phone": "13900139000",
            },
        )
        assert opened.status_code == 303
        application = Application.objects.get(organization__uscc=NEW_USCC)
        assert opened["Location"] == reverse("hall-staff:application", args=[application.number])
        assert (application.channel, application.point, application.entered_by) == (
            "onsite",
            "kejiyuan",
            clerk,
        )
        assert application.handler is not None and application.handler.name == "钱七"
        url = reverse("hall-staff:application", args=[application.number])
        added = client.post(
            reverse("hall-staff:add-item", args=[application.number]),
            {"business": "new", "cert_type": "org", "years": "1"},
            follow=True,
        )
        assert "已添加业务" in " ".join(flashes(added))
        body = text(added)
        # the checklist from the catalog, originals to check for the licence and handler ID
        for name in ("单位新版营业执照复印件", "经办人有效身份证复印件", "注2:现场办理时"):
            assert name in body
        assert 'id="original-licence_copy"' in body and 'id="original-org_form"' not in body
        # submitting before the checklist is complete is refused with what is missing
        refused = client.post(reverse("hall-staff:submit", args=[application.number]), follow=True)
        assert "资料不齐" in " ".join(flashes(refused))
        required = documents.required(application, list(application.items.all()))
        client.post(
            reverse("hall-staff:checklist", args=[application.number]),
            {"received": required, "original": ["licence_copy", "handler_id_copy"]},
        )
        assert all(
            d.original_seen == (d.kind in ("licence_copy", "handler_id_copy"))
            for d in application.documents.all()
        )
        client.post(reverse("hall-staff:submit", args=[application.number]))
        application.refresh_from_db()
        assert application.state == State.AWAITING_PAYMENT and str(application.total) == "300.00"
        assert "¥300.00" in text(client.get(url))
        paid = client.post(
            reverse("hall-staff:payment", args=[application.number]),
            {"method": "pos", "voucher": "POS-0001"},
            follow=True,
        )
        application.refresh_from_db()
        assert application.state == State.PAID
        assert Order.objects.get(reference=application.payment_reference).method == "pos"
        body = text(paid)
        assert reverse("payments-receipt", args=[application.payment_reference]) in body
        # the clerk entered it: no approval on the clerk's page, the reviewer's queue has it
        assert 'id="approve"' not in body and "须由审核员审核通过后制证" in body
        receipt = client.get(reverse("payments-receipt", args=[application.payment_reference]))
        assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
        queue = login(reviewer).get(reverse("hall-staff:review"))
        assert application.number in text(queue)
        # the business lines' 操作 column is there only where a line can be removed (a draft at
        # the counter): a reviewer's read had an empty column (12-07, axe's named headers)
        page = reverse("hall-staff:application", args=[application.number])
        items = text(login(reviewer).get(page)).split('id="items"')[1].split("</table>")[0]
        assert "<th>序号</th>" in items and "<th>操作</th>" not in items
        # the printed forms, filled from the application
        form = client.get(reverse("hall-staff:form", args=[application.number, "unit_application"]))
        assert form.status_code == 200 and form.content.startswith(b"%PDF")
        assert form["Content-Type"] == "application/pdf"


def test_saturday_odc_refused_with_the_rules_words(clerk: User, handler: Handler) -> None:
    with at(SATURDAY):
        client = counter_client(clerk)
        page = text(client.get(reverse("hall-staff:counter")))
        # the matrix of what is allowed now at this point quotes the rule
        assert WEEKEND_WORDS in page
        opened = client.post(
            reverse("hall-staff:counter-open"),
            {"uscc": handler.organization.uscc, "handler_id": str(handler.pk)},
        )
        number = Application.objects.get().number
        assert opened["Location"].endswith(f"/{number}/")
        refused = client.post(
            reverse("hall-staff:add-item", args=[number]),
            {"business": "new", "cert_type": "org", "years": "1"},
            follow=True,
        )
        assert WEEKEND_WORDS in " ".join(flashes(refused))
        assert marked(text(refused)) == ["cert_type"]  # the type it is about (web.refused)
        assert not ApplicationItem.objects.exists()
        # a personal certificate is done as usual on a Saturday
        client.post(
            reverse("hall-staff:add-item", args=[number]),
            {
                "business": "new",
                "cert_type": "personal",
                "years": "2",
                "person_name": "王五",
                "person_id_number": "11010519491231002X",
            },
        )
        assert ApplicationItem.objects.get().fee == 300


def test_a_rule_refusing_a_line_on_a_certificate_names_its_serial(
    hall_ca: object, admin: User, clerk: User, handler: Handler
) -> None:
    """An ODC's 续期 on a Saturday: the weekend rule is about the certificate's type, which is
    the certificate's own (the form's 证书类型 says 按原证书): the serial is marked."""
    _key, odc = software_certificate(admin, handler.organization, profile="org")
    with at(SATURDAY):
        client = counter_client(clerk)
        client.post(
            reverse("hall-staff:counter-open"),
            {"uscc": handler.organization.uscc, "handler_id": str(handler.pk)},
        )
        number = Application.objects.get().number
        refused = client.post(
            reverse("hall-staff:add-item", args=[number]),
            {"business": "renew", "serial": odc.serial},
        )
    assert refused.status_code == 422 and WEEKEND_WORDS in " ".join(flashes(refused))
    assert marked(text(refused)) == ["serial"]
    assert not ApplicationItem.objects.exists()


def test_the_counter_needs_a_point_and_a_counter_role(clerk: User, reviewer: User) -> None:
    with at(FRIDAY):
        client = login(clerk)
        refused = client.post(
            reverse("hall-staff:counter-open"), {"uscc": NEW_USCC, "name": "x"}, follow=True
        )
        assert "请先选择您所在的受理点" in " ".join(flashes(refused))
        assert login(reviewer).get(reverse("hall-staff:counter")).status_code == 403
    assert not Application.objects.exists()


@pytest.mark.parametrize(
    ("sent", "words"),
    [
        ({"point": "nowhere"}, "未知的受理点"),
        ({}, "现场办理须选择受理点。"),  # none chosen (was 未知的受理点“”)
        ({"point": "x" * 33}, "填写的内容过长：此项最多32个字"),  # not an error page
    ],
)
def test_a_refused_point_is_shown_in_its_form_and_marked(
    clerk: User, sent: dict[str, str], words: str
) -> None:
    """选择受理点 refused went back by a redirect with a notice above the page (``act_and_return``),
    nothing marked: the page again now, the refusal inside the points' form, the radio buttons
    marked invalid and described by it (``act_on_page``), the point chosen before kept."""
    with at(FRIDAY):
        client = login(clerk)
        assert client.post(reverse("hall-staff:counter"), {"point": "kejiyuan"}).status_code == 303
        refused = client.post(reverse("hall-staff:counter"), sent)
    assert refused.status_code == 400
    page = text(refused)
    points = page[page.index('id="points"') : page.index('id="allowed-now"')]
    assert 'id="form-error"' in points and words in points
    assert page.count('id="form-error"') == 1
    assert marked(page) == ["point"]
    assert 'value="kejiyuan" id="point-kejiyuan" checked' in page  # the point chosen before


def test_a_refused_counter_form_keeps_what_the_clerk_typed(clerk: User) -> None:
    """受理 refused went back to the counter with the USCC alone: the new organisation's name,
    its legal representative and the handler's four fields were typed again."""
    typed = {
        "uscc": NEW_USCC,
        "name": "深圳市新客户科技有限公司",
        "legal_representative": "赵六",
        "handler_id": "new",
        "handler_name": "钱七",
        "handler_id_kind": "passport",
        "handler_id_number": "E1234567",
        "handler_phone": "1390013900",  # ten digits
    }
    with at(FRIDAY):
        client = counter_client(clerk)
        refused = client.post(reverse("hall-staff:counter-open"), typed)
        long = client.post(
            reverse("hall-staff:counter-open"), {**typed, "handler_name": "钱" * 201}
        )
    assert refused.status_code == 400
    page = text(refused)
    assert 'id="form-error"' in page and 'id="open-form"' in page
    for name in ("name", "legal_representative", "handler_name", "handler_id_number"):
        assert f'name="{name}" maxlength' in page and f'value="{typed[name]}"' in page, name
    assert 'value="1390013900"' in page
    assert '<option value="passport" selected>' in page
    assert 'value="new" checked' in page
    assert marked(page) == ["handler_phone"]  # the handler form's phone, by the 受理 form's name
    assert long.status_code == 400 and "填写的内容过长：此项最多200个字" in text(long)
    assert f'value="{typed["name"]}"' in text(long)  # the others kept beside the refusal
    assert not Application.objects.exists()
    assert not Organization.objects.filter(uscc=NEW_USCC).exists()


def test_a_refused_form_of_the_application_page_keeps_what_was_typed(
    applicant: User, handler: Handler, reviewer: User, clerk: User
) -> None:
    """The application page's forms were buttons (act_and_return): refused, back to the page
    with a notice and every form empty: a reviewer's reasons for each document, the note."""
    paid = online_paid_at(applicant, handler, FRIDAY)
    bad = paid.documents.get(kind="legal_rep_id_copy")
    with at(FRIDAY):
        client = login(reviewer)
        returned = client.post(
            reverse("hall-staff:return", args=[paid.number]),
            {f"reason_{bad.pk}": "复印件不清晰，请重新扫描", "note": "请" * 501},
        )
        approved = client.post(
            reverse("hall-staff:approve", args=[paid.number]), {"note": "资" * 501}
        )
        counter = counter_client(clerk)
        counter.post(
            reverse("hall-staff:counter-open"),
            {"uscc": handler.organization.uscc, "handler_id": str(handler.pk)},
        )
        draft = Application.objects.get(channel="onsite")
        item = counter.post(
            reverse("hall-staff:add-item", args=[draft.number]),
            {"business": "renew", "years": "²", "serial": "3F00A1", "person_name": "王五"},
        )
    page = text(returned)
    assert returned.status_code == 400 and "退回说明不能超过500个字" in page, page
    assert 'value="复印件不清晰，请重新扫描"' in page and ">" + "请" * 501 + "</textarea>" in page
    assert '<details class="return-box" open>' in page
    assert approved.status_code == 400 and f'value="{"资" * 501}"' in text(approved)
    assert Application.objects.get(pk=paid.pk).state == State.PAID
    page = text(item)
    assert item.status_code == 400 and 'id="form-error"' in page
    assert 'value="3F00A1"' in page and 'value="王五"' in page
    assert '<option value="renew" selected>' in page
    assert marked(page) == ["years"]  # the field refused, for a screen reader (web.refused)
    assert not ApplicationItem.objects.filter(application=draft).exists()


def test_a_serial_the_counter_refuses_is_refused_with_the_rule(
    clerk: User, handler: Handler
) -> None:
    """A serial typed at the counter that is not one (not hex, or past RFC 5280's 20 octets)
    is refused beside the form saying what a serial is (it said “不是有效的证书序列号” only)."""
    with at(FRIDAY):
        counter = counter_client(clerk)
        counter.post(
            reverse("hall-staff:counter-open"),
            {"uscc": handler.organization.uscc, "handler_id": str(handler.pk)},
        )
        draft = Application.objects.get(channel="onsite")
        pages = [
            text(
                counter.post(
                    reverse("hall-staff:add-item", args=[draft.number]),
                    {"business": "revoke", "serial": serial, "revocation_reason": "superseded"},
                )
            )
            for serial in ("3F00-A1", "F" * 40)
        ]
    for page in pages:
        assert 'id="form-error"' in page
        assert "至多40位（40位时首位为0-7）" in page and "可用冒号或空格分隔" in page, page
        assert marked(page) == ["serial"]
    assert not ApplicationItem.objects.filter(application=draft).exists()


def test_numbers_int_cannot_read_get_the_forms_refusal(
    clerk: User, issuer: User, handler: Handler
) -> None:
    """ "²".isdigit() is true and int("²") raises: these were HTTP 500s."""
    with at(FRIDAY):
        client = counter_client(clerk)
        refused = client.post(
            reverse("hall-staff:counter-open"),
            {"uscc": handler.organization.uscc, "handler_id": "²"},
            follow=True,
        )
        assert "经办人应为整数" in " ".join(flashes(refused))
        client.post(
            reverse("hall-staff:counter-open"),
            {"uscc": handler.organization.uscc, "handler_id": str(handler.pk)},
        )
        number = Application.objects.get().number
        years = client.post(
            reverse("hall-staff:add-item", args=[number]),
            {"business": "new", "cert_type": "personal", "years": "²"},
            follow=True,
        )
        assert "证书年限须为1-5的整数" in " ".join(flashes(years))
        assert not ApplicationItem.objects.exists()
    stock = login(issuer).post(reverse("hall-staff:ukeys"), {"count": "²"}, follow=True)
    assert "一次可入库1-20个Ukey" in " ".join(flashes(stock))
    # five digits: the notice on the stock page too, not an error page of its own
    many = login(issuer).post(reverse("hall-staff:ukeys"), {"count": "12345"}, follow=True)
    assert "填写的内容过长：此项最多4个字" in " ".join(flashes(many))
    assert not Ukey.objects.exists()
