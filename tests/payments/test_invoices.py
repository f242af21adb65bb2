"""发票: a customer asks for the invoice of a paid order (title = the organisation, tax number =
its USCC, amount = the order's, an email); one per order; finance (clerk, CA admin) sees the
queue and records the number; the customer is told; every step and refusal is audited; another
organisation or provider sees nothing."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from certhall import config
from certhall import messages as catalogue
from certhall.accounts.models import Role, User
from certhall.audit.models import AuditEvent
from certhall.errors import Conflict, Forbidden, InvalidInput, NotFound
from certhall.notify.models import SmsMessage
from certhall.payments import invoices, services
from certhall.payments.models import Invoice, Order
from tests.support.images import encrypted, pdf

from .conftest import refused_row

pytestmark = pytest.mark.django_db

EMAIL = "finance@example.cn"
#: What the tax system hands out: a PDF of a page (a real one: the store opens it).
PDF = pdf(1, 595, 397)


@pytest.fixture
def paid_order(clock: Any, clerk: User, make_order: Callable[..., Order]) -> Order:
    order = make_order("312.00")
    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    return order


def requested_invoices(
    count: int, make_order: Callable[..., Order], clerk: User, applicant: User
) -> list[Invoice]:
    """``count`` orders paid at the counter, an invoice requested for each."""
    made = []
    for _ in range(count):
        order = make_order("150.00")
        services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
        made.append(
            invoices.request_invoice(applicant, order.reference, kind="normal", email=EMAIL)
        )
    return made


def upload(content: bytes = PDF, name: str = "fapiao.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def login(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_request_and_issue_through_the_pages(
    paid_order: Order, applicant: User, clerk: User, other_applicant: User
) -> None:
    applicant.phone = "13800138000"
    applicant.save()
    customer = login(applicant)
    url = f"/payments/orders/{paid_order.reference}"
    form = page(customer.get(url))
    assert 'id="invoice-form"' in form and paid_order.organization.uscc in form
    asked = customer.post(f"{url}/invoice", {"kind": "special", "email": EMAIL}, follow=True)
    assert "已提交开票申请" in page(asked)
    invoice = Invoice.objects.get(order=paid_order)
    assert (invoice.title, invoice.tax_number, invoice.amount, invoice.kind, invoice.email) == (
        paid_order.organization.name,
        paid_order.organization.uscc,
        paid_order.amount,
        "special",
        EMAIL,
    )
    assert invoice.status == "requested" and "已申请，待开具" in page(customer.get(url))
    # one per order
    again = customer.post(f"{url}/invoice", {"kind": "normal", "email": EMAIL}, follow=True)
    assert "已申请过发票" in page(again) and Invoice.objects.count() == 1

    # the customer has no queue; finance has
    assert customer.get("/payments/invoices/").status_code == 403
    finance = login(clerk)
    queue = page(finance.get("/payments/invoices/"))
    assert f'data-invoice="{invoice.pk}"' in queue and "增值税专用发票" in queue
    assert "/payments/invoices/" in page(finance.get("/console/"))  # in the console's menu
    # refused beside the invoice's form, the number as typed (a redirect lost it), nothing kept
    issue, row = f"/payments/invoices/{invoice.pk}/issue", f'data-invoice="{invoice.pk}"'
    bad = finance.post(issue, {"number": "12ab", "pdf": upload()})
    refused_row(bad, row, "发票号码应为20位数字", "number", "12ab")
    long = "1" * 41
    refused_row(
        finance.post(issue, {"number": long, "pdf": upload()}), row, "不能超过", "number", long
    )
    no_pdf = finance.post(issue, {"number": "26442000000012345678"})
    words = catalogue.text("invoice_pdf_missing")
    refused_row(no_pdf, row, words, "number", "26442000000012345678", about="pdf")
    refused_row(finance.post(issue, {"number": " ", "pdf": upload()}), row, "发票号码", "number")
    assert Invoice.objects.get(pk=invoice.pk).status == "requested"
    done = finance.post(
        f"/payments/invoices/{invoice.pk}/issue",
        {"number": "26442000000012345678", "pdf": upload()},
        follow=True,
    )
    assert "已登记发票号码 26442000000012345678" in page(done)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.issued_by) == (
        "issued",
        "26442000000012345678",
        clerk,
    )
    assert "26442000000012345678" in page(customer.get(url))
    download = customer.get(f"/payments/invoices/{invoice.pk}.pdf")
    assert download.status_code == 200 and download.content == PDF
    assert download["Content-Type"] == "application/pdf"
    assert 'filename="invoice-26442000000012345678.pdf"' in download["Content-Disposition"]
    assert f'href="/payments/invoices/{invoice.pk}.pdf"' in page(customer.get(url))
    # another enterprise is answered as for an invoice that does not exist (no 403 oracle)
    other = login(other_applicant)
    foreign = other.get(f"/payments/invoices/{invoice.pk}.pdf")
    missing = other.get(f"/payments/invoices/{invoice.pk + 1000}.pdf")
    assert foreign.status_code == missing.status_code == 404
    assert re.sub(rb"\d+", b"N", foreign.content) == re.sub(rb"\d+", b"N", missing.content)
    told = SmsMessage.objects.get(kind="invoice_issued")
    assert told.phone == "13800138000" and "26442000000012345678" in told.text
    # the link to the order's page, where the customer downloads it
    link = f"{config.get().base_url}/payments/orders/{invoice.order.reference}"
    assert told.text.endswith(f"下载电子发票（PDF）：{link}")
    assert customer.get(urlsplit(link).path).status_code == 200
    actions = list(
        AuditEvent.objects.filter(action__startswith="payments.invoice.").values_list(
            "action", "result"
        )
    )
    assert actions == [
        ("payments.invoice.request", "ok"),
        ("payments.invoice.request", "refused"),
        *[("payments.invoice.issue", "refused")] * 3,  # not the over-long number: the form's
        ("payments.invoice.issue", "ok"),
    ]
    with pytest.raises(Conflict):  # issued once
        invoices.issue_invoice(clerk, invoice.pk, "26442000000012345679", [PDF])


def test_only_paid_orders_and_only_ones_own(
    clock: Any,
    make_order: Callable[..., Order],
    paid_order: Order,
    applicant: User,
    other_applicant: User,
    other_clerk: User,
    make_user: Callable[..., User],
) -> None:
    unpaid = make_order("150.00")
    with pytest.raises(Conflict) as refused:
        invoices.request_invoice(applicant, unpaid.reference, kind="normal", email=EMAIL)
    assert refused.value.code == "invoice_order_unpaid"
    assert 'id="invoice-form"' not in page(login(applicant).get(
        f"/payments/orders/{unpaid.reference}"
    ))  # fmt: skip
    with pytest.raises(InvalidInput):
        invoices.request_invoice(applicant, paid_order.reference, kind="vat", email=EMAIL)
    with pytest.raises(InvalidInput):
        invoices.request_invoice(applicant, paid_order.reference, kind="normal", email="")
    # another organisation can neither ask nor see: its order is as one that does not exist
    with pytest.raises(NotFound) as unseen:
        invoices.request_invoice(other_applicant, paid_order.reference, kind="normal", email=EMAIL)
    assert unseen.value.code == "order_not_found"
    response = login(other_applicant).post(
        f"/payments/orders/{paid_order.reference}/invoice", {"kind": "normal", "email": EMAIL}
    )
    assert response.status_code == 404 and not Invoice.objects.exists()
    invoice = invoices.request_invoice(applicant, paid_order.reference, kind="normal", email=EMAIL)
    assert invoices.list_invoices(other_applicant) == []
    # staff of another provider, and roles that do not issue invoices, cannot issue it
    with pytest.raises(Forbidden):
        invoices.issue_invoice(other_clerk, invoice.pk, "04403190011112345678", [PDF])
    with pytest.raises(Forbidden):
        invoices.issue_invoice(make_user(Role.REVIEWER), invoice.pk, "04403190011112345678", [PDF])
    with pytest.raises(Forbidden):
        invoices.issue_invoice(applicant, invoice.pk, "04403190011112345678", [PDF])
    assert Invoice.objects.get().status == "requested"


def test_a_refused_invoice_request_keeps_what_was_typed(paid_order: Order, applicant: User) -> None:
    """The order page came back with the account's email and the first kind: what the customer
    typed was lost with the refusal."""
    customer = login(applicant)
    url = f"/payments/orders/{paid_order.reference}"
    typed = "finance@@example.cn"
    refused = customer.post(f"{url}/invoice", {"kind": "special", "email": typed})
    assert refused.status_code == 400
    shown = page(refused)
    assert 'id="form-error"' in shown and f'value="{typed}"' in shown
    assert 'value="special" checked' in shown and 'value="normal" checked' not in shown
    empty = page(customer.post(f"{url}/invoice", {"kind": "special", "email": ""}))
    assert catalogue.text("invoice_email_missing") in empty and 'value="special" checked' in empty
    long = customer.post(f"{url}/invoice", {"kind": "special", "email": "a" * 250 + "@x.cn"})
    assert long.status_code == 400 and "接收电子发票的邮箱不能超过254个字" in page(long)
    assert 'value="special" checked' in page(long)
    assert not Invoice.objects.exists()


def test_an_invoice_number_is_used_once(
    clock: Any, make_order: Callable[..., Order], clerk: User, applicant: User
) -> None:
    made = requested_invoices(2, make_order, clerk, applicant)
    invoices.issue_invoice(clerk, made[0].pk, "04403190011112345678", [PDF])
    with pytest.raises(Conflict) as refused:
        invoices.issue_invoice(clerk, made[1].pk, "04403190011112345678", [PDF])
    assert refused.value.code == "invoice_number_taken"


def test_a_paper_style_number_needs_its_code_so_next_years_numbers_do_not_collide(
    clock: Any, make_order: Callable[..., Order], clerk: User, applicant: User
) -> None:
    """An 8-digit 发票号码 (增值税电子普通发票, paper invoices) is numbered from 00000001 again
    under each 发票代码, a new one each year: 2026's 00000017 and 2027's 00000017 are two
    invoices. With the number alone, 2027's was refused as 已用于另一张发票 and finance could
    not record the invoice it had issued. The code is typed with it (10 or 12 digits first);
    a bare 8-digit number is refused, saying why."""
    made = []
    for moment in (datetime(2026, 12, 31, 10, tzinfo=UTC), datetime(2027, 1, 4, 10, tzinfo=UTC)):
        clock.move_to(moment)
        order = make_order("150.00")
        services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
        made.append(
            invoices.request_invoice(applicant, order.reference, kind="normal", email=EMAIL)
        )
    with pytest.raises(InvalidInput) as bare:
        invoices.issue_invoice(clerk, made[0].pk, "00000017", [PDF])
    assert bare.value.code == "invoice_number_without_code"
    assert "发票代码" in bare.value.message
    clock.move_to(datetime(2026, 12, 31, 11, tzinfo=UTC))
    invoices.issue_invoice(clerk, made[0].pk, "044031900111 00000017", [PDF])
    clock.move_to(datetime(2027, 1, 4, 11, tzinfo=UTC))
    invoices.issue_invoice(clerk, made[1].pk, "044031900121-00000017", [PDF])
    numbers = list(Invoice.objects.order_by("pk").values_list("number", flat=True))
    assert numbers == ["04403190011100000017", "04403190012100000017"]
    assert Invoice.objects.filter(status="issued").count() == 2


def test_the_pdf_is_required_and_must_be_a_pdf(
    paid_order: Order, applicant: User, clerk: User, make_user: Callable[..., User]
) -> None:
    invoice = invoices.request_invoice(applicant, paid_order.reference, kind="normal", email=EMAIL)
    finance = login(clerk)
    url = f"/payments/invoices/{invoice.pk}/issue"
    refusals = {
        "invoice_pdf_missing": {"number": "04403190011112345678"},
        "invoice_pdf_type": {
            "number": "04403190011112345678",
            "pdf": upload(b"<html>%PDF-</html>"),
        },
        "invoice_pdf_size": {"number": "04403190011112345678", "pdf": upload(b"")},
    }
    row = f'data-invoice="{invoice.pk}"'
    for code, form in refusals.items():
        shown = finance.post(url, form)
        words = catalogue.text(code, limit=5)[:12]
        # the number kept as typed, the PDF marked: the refusal is about it
        refused_row(shown, row, words, "number", "04403190011112345678", about="pdf")
    with pytest.raises(InvalidInput) as too_big:
        invoices.issue_invoice(
            clerk, invoice.pk, "04403190011112345678", [PDF, b"0" * invoices.MAX_PDF_BYTES]
        )
    assert too_big.value.code == "invoice_pdf_size"
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.pdf_sha256) == ("requested", "", "")
    # nothing to download before it is issued
    assert login(applicant).get(f"/payments/invoices/{invoice.pk}.pdf").status_code == 404


#: A PDF from the tax system broken on its way (12-07), made from a real one: refused in
#: finance's words before it is kept for the customer; the code stays the store's.
BROKEN_PDFS: dict[str, tuple[Callable[[], bytes], str, str]] = {
    "cut-halfway": (
        lambda: PDF[: len(PDF) // 2],
        "file_incomplete",
        "电子发票文件不完整（上传中断或文件已损坏），请从税务系统重新下载后上传。",
    ),
    "password": (
        lambda: encrypted(PDF),
        "pdf_encrypted",
        "电子发票PDF文件设置了打开密码，客户无法打开，请上传税务系统开具的未加密PDF文件。",
    ),
    "garbage": (
        lambda: b"%PDF-1.7\n" + b"x" * 500 + b"\nstartxref\n9\n%%EOF\n",
        "pdf_unreadable",
        "电子发票PDF文件已损坏，打不开，请从税务系统重新下载后上传。",
    ),
    "no-pages": (
        lambda: pdf(0),
        "pdf_no_pages",
        "电子发票PDF文件中没有页面，请从税务系统重新下载后上传。",
    ),
    "a-manual-not-an-invoice": (
        lambda: pdf(21),
        "pdf_too_many_pages",
        "电子发票PDF文件超过 20 页的限制，请确认上传的是税务系统开具的发票文件。",
    ),
}


@pytest.mark.parametrize(("make", "code", "words"), BROKEN_PDFS.values(), ids=BROKEN_PDFS.keys())
def test_a_broken_invoice_pdf_is_refused_and_nothing_is_kept(
    paid_order: Order,
    applicant: User,
    clerk: User,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[], bytes],
    code: str,
    words: str,
) -> None:
    monkeypatch.setattr(invoices, "_pdf_root", lambda: tmp_path / "invoices")
    invoice = invoices.request_invoice(applicant, paid_order.reference, kind="normal", email=EMAIL)
    shown = login(clerk).post(
        f"/payments/invoices/{invoice.pk}/issue",
        {"number": "04403190011112345678", "pdf": upload(make())},
    )
    row = f'data-invoice="{invoice.pk}"'
    refused_row(shown, row, words, "number", "04403190011112345678", about="pdf")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number, invoice.pdf_sha256) == ("requested", "", "")
    assert [p for p in (tmp_path / "invoices").rglob("*") if p.is_file()] == []
    event = AuditEvent.objects.get(action="payments.invoice.issue", result="refused")
    assert event.after["error"] == code and event.after["message"] == words
    # the intact one, accepted
    invoices.issue_invoice(clerk, invoice.pk, "04403190011112345678", [PDF])
    assert len([p for p in (tmp_path / "invoices").rglob("*") if p.is_file()]) == 1


def test_only_its_organisation_and_provider_download_it(
    paid_order: Order,
    applicant: User,
    other_applicant: User,
    clerk: User,
    other_clerk: User,
) -> None:
    invoice = invoices.request_invoice(applicant, paid_order.reference, kind="normal", email=EMAIL)
    invoices.issue_invoice(clerk, invoice.pk, "04403190011112345678", [PDF[:5], PDF[5:]])
    url = f"/payments/invoices/{invoice.pk}.pdf"
    assert login(applicant).get(url).content == PDF
    assert login(clerk).get(url).content == PDF
    for stranger in (other_applicant, other_clerk):
        assert login(stranger).get(url).status_code in (403, 404)
    assert Client().get(url).status_code == 302  # to the login page
    assert (
        AuditEvent.objects.get(action="payments.invoice.issue", result="ok").after["pdf_sha256"]
        == hashlib.sha256(PDF).hexdigest()
    )


def test_a_refund_withdraws_a_requested_invoice(
    paid_order: Order, applicant: User, clerk: User
) -> None:
    invoice = invoices.request_invoice(applicant, paid_order.reference, kind="normal", email=EMAIL)
    services.refund(clerk, paid_order, "客户放弃办理")
    invoice.refresh_from_db()
    assert invoice.status == "withdrawn"
    with pytest.raises(Conflict):  # finance can no longer issue it
        invoices.issue_invoice(clerk, invoice.pk, "04403190011112345678", [PDF])
    assert invoices.list_invoices(clerk, status="requested") == []
    shown = page(login(applicant).get(f"/payments/orders/{paid_order.reference}"))
    assert "订单已退款，不再开具" in shown
    event = AuditEvent.objects.get(action="payments.invoice.withdraw")
    assert (event.actor_id, event.after["status"]) == (clerk.pk, "withdrawn")


def test_a_refunded_orders_issued_invoice_awaits_its_red_letter_invoice(
    paid_order: Order, applicant: User, clerk: User, other_clerk: User
) -> None:
    """Before, the refund left the issued invoice standing: a tax invoice for money returned."""
    invoice = invoices.request_invoice(applicant, paid_order.reference, kind="normal", email=EMAIL)
    invoices.issue_invoice(clerk, invoice.pk, "26442000000012345678", [PDF])
    services.refund(clerk, paid_order, "客户放弃办理")
    invoice.refresh_from_db()
    assert invoice.status == "reversal_due"
    finance = login(clerk)
    queue = page(finance.get("/payments/invoices/"))
    assert 'id="reversal-queue"' in queue and f'data-invoice="{invoice.pk}"' in queue
    url = f"/payments/invoices/{invoice.pk}/reverse"
    taken = finance.post(url, {"number": "26442000000012345678", "pdf": upload()})
    words = "发票号码 26442000000012345678 已用于另一张发票"
    row = f'data-invoice="{invoice.pk}"'
    refused_row(taken, row, words, "number", "26442000000012345678", status=409)
    refused_row(
        finance.post(url, {"number": "8765", "pdf": upload()}), row, "20位数字", "number", "8765"
    )
    assert Invoice.objects.get(pk=invoice.pk).status == "reversal_due"
    with pytest.raises(Forbidden):
        invoices.reverse_invoice(other_clerk, invoice.pk, "04403190011187654321", [PDF])
    red = pdf(1, 595, 398)  # another page: another file
    done = page(
        finance.post(url, {"number": "04403190011187654321", "pdf": upload(red)}, follow=True)
    )
    assert "已登记红字发票 04403190011187654321" in done
    invoice.refresh_from_db()
    assert (invoice.status, invoice.reversal_number, invoice.reversed_by) == (
        "reversed",
        "04403190011187654321",
        clerk,
    )
    customer = login(applicant)
    shown = page(customer.get(f"/payments/orders/{paid_order.reference}"))
    assert "04403190011187654321" in shown and "原发票已冲销" in shown
    assert customer.get(f"/payments/invoices/{invoice.pk}-red.pdf").content == red
    assert customer.get(f"/payments/invoices/{invoice.pk}.pdf").content == PDF  # still on file
    with pytest.raises(Conflict):  # once
        invoices.reverse_invoice(clerk, invoice.pk, "04403190011187654322", [PDF])
    actions = list(
        AuditEvent.objects.filter(action__startswith="payments.invoice.").values_list(
            "action", "result"
        )
    )
    assert actions == [
        ("payments.invoice.request", "ok"),
        ("payments.invoice.issue", "ok"),
        ("payments.invoice.reversal_due", "ok"),
        *[("payments.invoice.reverse", "refused")] * 3,
        ("payments.invoice.reverse", "ok"),
        ("payments.invoice.reverse", "refused"),
    ]


def test_finance_records_a_refund_sent_back_through_its_page(
    clock: Any,
    make_order: Callable[..., Order],
    applicant: User,
    clerk: User,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import UTC, datetime

    from django.db import transaction

    from certhall.payments import gateways
    from certhall.payments.lifecycle import Channel, Method

    # no refund client configured: the online refund is finance's to send and record (with
    # one, the hand record waits for the gateway: tests/payments/test_refund_guard.py)
    monkeypatch.setattr(gateways, "refund_client", lambda gateway: None)
    order = make_order("150.00")
    with transaction.atomic():
        services.apply_payment(
            clerk, order, channel=Channel.ALIPAY, method=Method.ALIPAY_ONLINE,
            transaction_id="2026120522001", amount=order.amount, received_at=datetime.now(UTC),
        )  # fmt: skip
    services.refund(clerk, order, "客户撤回申请")
    customer = login(applicant)
    assert "待退回" in page(customer.get(f"/payments/orders/{order.reference}"))
    finance = login(clerk)
    queue = page(finance.get("/payments/invoices/"))
    assert 'id="refunds-owed"' in queue and f'data-order="{order.reference}"' in queue
    assert '支付宝<span class="nowrap">（网上支付）</span>' in queue  # its bracket whole on a phone
    url = f"/payments/orders/{order.reference}/refund-sent"
    empty = page(finance.post(url, {"sent_reference": ""}, follow=True))
    assert "退回流水号不能为空" in empty
    done = page(finance.post(url, {"sent_reference": "2026120522001R"}, follow=True))
    assert f"已登记订单 {order.reference} 的退款已退回" in done and 'id="refunds-owed"' not in done
    shown = page(customer.get(f"/payments/orders/{order.reference}"))
    assert "原路退回（流水号 2026120522001R）" in shown
    assert customer.post(url, {"sent_reference": "x"}).status_code == 403  # not the customer's


def test_an_invoice_number_typed_in_full_width_digits_is_the_same_number(
    clock: Any, make_order: Callable[..., Order], clerk: User, applicant: User
) -> None:
    """A Chinese input method types ０４４… (full-width digits) and a full-width blank: that is
    the invoice's number, recorded in ASCII, and the same invoice typed again any way (with or
    without blanks) is refused as taken. Before, full-width digits were refused as not a
    number. Other scripts' digits, letters and a 24-digit run are still refused."""
    made = requested_invoices(2, make_order, clerk, applicant)
    invoices.issue_invoice(
        clerk, made[0].pk, "０４４０３１９００１１１\u3000００００００１７", [PDF]
    )
    assert Invoice.objects.get(pk=made[0].pk).number == "04403190011100000017"
    for again in (
        "04403190011100000017",
        "044031900111 00000017",
        "０４４０３１９００１１１－00000017",
    ):
        with pytest.raises(Conflict) as taken:
            invoices.issue_invoice(clerk, made[1].pk, again, [PDF])
        assert taken.value.code == "invoice_number_taken"
    assert invoices.invoice_number(" 2444 2000 0000 1234 5678 ") == "24442000000012345678"
    refused = (
        "٠٤٤٠٣١٩٠٠١١١٠٠٠٠٠٠١٧",  # Arabic-Indic digits
        "०४४०३१९००१११०००००१७",  # Devanagari digits
        "0440319001110000001A",
        "044031900111000000170000",  # 24 digits
        "0440.3190.0111.0000.0017",
    )
    for typed in refused:
        with pytest.raises(InvalidInput) as bad:
            invoices.invoice_number(typed)
        assert bad.value.code == "invoice_number", typed
