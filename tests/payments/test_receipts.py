"""PDF receipts: content (pdftotext), embedded CJK font (pdffonts), who may fetch them."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from certhall.accounts.models import User
from certhall.errors import Conflict
from certhall.payments import receipts, reconcile, services
from certhall.payments.models import Order

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed"),
]


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


def pdf_fonts(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    path = tmp_path / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


def test_receipt_states_payer_items_amounts_payee_and_payment(
    clock: Any, clerk: User, applicant: User, make_order: Callable[..., Order], tmp_path: Path
) -> None:
    order = make_order(
        "470.00",
        description="机构个人证书新办",
        items=[("机构个人证书（法人证书）新办 3年", "450.00"), ("Ukey邮寄费", "20.00")],
    )
    payment = services.record_counter_payment(
        clerk, order, method="pos", amount=Decimal("470"), voucher="POS-778899"
    )
    name, pdf = receipts.receipt(applicant, order.reference)
    assert name == "SJ20261120-000001.pdf"
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf, tmp_path)
    flat = re.sub(r"\s+", "", text)
    for expected in (
        "收款收据（电子凭证）",
        "收据编号：SJ20261120-000001",
        "开具日期：2026-11-20",
        "深圳市演示医疗科技有限公司",  # payer
        "91350100M000100Y43",  # USCC
        "机构个人证书（法人证书）新办3年",
        "450.00",
        "Ukey邮寄费",
        "20.00",
        "人民币肆佰柒拾元整",
        "¥470.00",
        "深圳市电子商务安全证书管理有限公司",  # payee, from the rules catalog
        "平安银行深圳高新技术区支行",
        "15473969760074",
        "POS刷卡（柜台）",
        "2026-11-2010:30:00",  # payment time, Shanghai
        "POS-778899",
        "ZF20261120-000001",
        f"凭证校验码：{receipts.check_code(order, payment)}",
    ):
        assert expected in flat, expected
    assert "已退款" not in flat


def test_receipt_font_is_embedded(
    clock: Any, clerk: User, applicant: User, order: Order, tmp_path: Path
) -> None:
    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    _, pdf = receipts.receipt(applicant, order.reference)
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts, "no fonts listed"
    names = [row[0] for row in fonts]
    assert any("WenQuanYiMicroHei" in n for n in names), names  # subset, embedded
    # columns: name type encoding emb sub uni object ID; every font embedded
    for row in fonts:
        assert row[-5] == "yes", row


def test_receipt_is_reproducible_with_the_invariant_flag(
    clock: Any, clerk: User, applicant: User, order: Order
) -> None:
    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    first = receipts.receipt(applicant, order.reference, invariant=True)[1]
    assert receipts.receipt(applicant, order.reference, invariant=True)[1] == first


def test_bank_transfer_and_refund_show_on_the_receipt(
    clock: Any, admin: User, clerk: User, applicant: User, order: Order, tmp_path: Path
) -> None:
    data = f"date,amount,payer,note\n2026-11-18,300.00,付款单位,{order.reference}\n".encode()
    reconcile.reconcile(admin, data)
    services.refund(clerk, order, "客户撤回申请")
    flat = re.sub(r"\s+", "", pdf_text(receipts.receipt(applicant, order.reference)[1], tmp_path))
    assert "银行转账" in flat
    assert "2026-11-18（到账日）" in flat
    assert "人民币叁佰元整" in flat
    assert "已退款（2026-11-20）：客户撤回申请" in flat


def test_no_receipt_before_payment(clock: Any, applicant: User, order: Order) -> None:
    with pytest.raises(Conflict, match="支付后才能开具收据"):
        receipts.receipt(applicant, order.reference)


def test_receipt_endpoint(
    clock: Any, client: Client, clerk: User, applicant: User, order: Order
) -> None:
    url = f"/payments/receipt/{order.reference}.pdf"
    client.force_login(applicant)
    assert client.get(url).status_code == 409
    services.record_counter_payment(clerk, order, method="cash", amount=order.amount)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="SJ20261120-000001.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert response.content.startswith(b"%PDF-")
    client.force_login(clerk)  # the provider's staff too
    assert client.get(url).status_code == 200
