"""PDF receipts (收款收据 / 电子凭证) for paid orders, drawn with reportlab.

The CJK font (WenQuanYi Micro Hei, TrueType) is embedded (subset), so the receipt prints the
same everywhere. One receipt per order: its number is the order's with the prefix ``SJ``. A
refunded order's receipt says so. The payee is the rules catalog's (seed 001, 收款账户).
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from certhall import money
from certhall.accounts.models import User
from certhall.errors import ConfigurationError, Conflict
from certhall.payments import services
from certhall.payments.lifecycle import Channel, Status
from certhall.payments.models import Order, Payment
from certhall.rules import default_catalog, local

FONT_NAME = "WQYMicroHei"
FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
PLATFORM = "深圳医保在线签约数字证书服务平台"

_font_lock = threading.Lock()


def _font() -> str:
    with _font_lock:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            if not FONT_PATH.exists():
                raise ConfigurationError(
                    f"the CJK font {FONT_PATH} is missing (apt-get install fonts-wqy-microhei)"
                )
            pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    return FONT_NAME


def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=10.5, leading=15, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle("title", parent=base, fontSize=20, leading=28, alignment=TA_CENTER),
        "sub": ParagraphStyle("sub", parent=base, fontSize=11, alignment=TA_CENTER),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "small": ParagraphStyle(
            "small", parent=base, fontSize=8.5, leading=12, textColor=colors.HexColor("#555555")
        ),
        "stamp": ParagraphStyle(
            "stamp", parent=base, fontSize=16, leading=22, textColor=colors.HexColor("#b42318")
        ),
    }


def _p(text: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text), style)


def _payment_time(payment: Payment) -> str:
    at = local(payment.received_at)
    if payment.channel == Channel.BANK:
        return f"{at:%Y-%m-%d}（到账日）"
    return f"{at:%Y-%m-%d %H:%M:%S}"


def check_code(order: Order, payment: Payment) -> str:
    """凭证校验码: a digest of what the receipt states, to compare with the platform's record."""
    text = "|".join(
        (
            order.receipt_number,
            order.organization.uscc,
            str(order.amount),
            payment.channel,
            payment.transaction_id,
            payment.received_at.isoformat(),
        )
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16].upper()


def render_receipt(order: Order, payment: Payment, *, invariant: bool = False) -> bytes:
    """The receipt of a paid (or refunded) order as PDF bytes. ``invariant`` makes the bytes
    reproducible (fixed document dates and ids), for tests."""
    font = _font()
    style = _styles(font)
    payee = default_catalog().payee
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"收款收据 {order.receipt_number}",
        author=payee.company,
        subject=f"订单 {order.reference}",
        creator=PLATFORM,
        invariant=1 if invariant else 0,
        initialFontName=font,  # else the canvas starts with Helvetica, not embedded
    )
    issued = local(order.paid_at or payment.recorded_at)
    width = doc.width
    story: list[object] = [
        _p(payee.company, style["sub"]),
        Spacer(1, 2 * mm),
        _p("收款收据（电子凭证）", style["title"]),
        Spacer(1, 4 * mm),
    ]
    head = Table(
        [
            [
                _p(f"收据编号：{order.receipt_number}", style["base"]),
                _p(f"开具日期：{issued:%Y-%m-%d}", style["right"]),
            ]
        ],
        colWidths=[width / 2, width / 2],
    )
    head.setStyle(
        TableStyle([("FONTNAME", (0, 0), (-1, -1), font), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    )
    story += [head, Spacer(1, 2 * mm)]

    label_w, amount_w, mid_w = 34 * mm, 46 * mm, 24 * mm
    rows: list[list[object]] = []
    spans: list[tuple[int, int]] = []  # (row, last column of the span starting at column 1)

    def wide(label: str, value: str) -> None:
        spans.append((len(rows), 3))
        rows.append([_p(label, style["base"]), _p(value, style["base"]), "", ""])

    wide("付款单位", order.organization.name)
    wide("统一社会信用代码", order.organization.uscc)
    header_row = len(rows)
    spans.append((header_row, 2))
    rows.append(
        [
            _p("序号", style["base"]),
            _p("收款项目", style["base"]),
            "",
            _p("金额（元）", style["right"]),
        ]
    )
    for number, item in enumerate(order.items or [], start=1):
        spans.append((len(rows), 2))
        rows.append(
            [
                _p(str(number), style["base"]),
                _p(str(item["description"]), style["base"]),
                "",
                _p(money.grouped(money.parse(str(item["amount"]))), style["right"]),
            ]
        )
    rows.append(
        [
            _p("合计（大写）", style["base"]),
            _p(f"人民币{money.in_words(order.amount)}", style["base"]),
            _p("（小写）", style["right"]),
            _p(money.with_symbol(order.amount), style["right"]),
        ]
    )
    wide("收款单位", payee.company)
    wide("开户行", payee.bank)
    wide("账号", payee.account)
    rows.append(
        [
            _p("支付方式", style["base"]),
            _p(order.get_method_display(), style["base"]),
            _p("支付时间", style["right"]),
            _p(_payment_time(payment), style["right"]),
        ]
    )
    wide("交易流水号", payment.transaction_id)
    wide("订单号", order.reference)
    table = Table(rows, colWidths=[label_w, width - label_w - amount_w - mid_w, mid_w, amount_w])
    commands: list[tuple[object, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("GRID", (0, 0), (-1, -1), 0.6, colors.HexColor("#333333")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f4f7")),
        ("BACKGROUND", (0, header_row), (-1, header_row), colors.HexColor("#f2f4f7")),
    ]
    commands += [("SPAN", (1, row), (last, row)) for row, last in spans]
    table.setStyle(TableStyle(commands))
    story += [table, Spacer(1, 6 * mm)]

    if order.status == Status.REFUNDED and order.refunded_at is not None:
        story += [
            _p(
                f"已退款（{local(order.refunded_at):%Y-%m-%d}）：{order.refund_reason}",
                style["stamp"],
            ),
            Spacer(1, 4 * mm),
        ]
    story += [
        Table(
            [[_p("收款单位（盖章）：", style["base"]), _p("经办：平台自动开具", style["right"])]],
            colWidths=[width / 2, width / 2],
            rowHeights=[22 * mm],
            style=TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), font),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ]
            ),
        ),
        _p(
            f"本电子凭证由{PLATFORM}生成，与纸质收据具有同等效力（演示）。"
            f"凭证校验码：{check_code(order, payment)}",
            style["small"],
        ),
    ]
    doc.build(story)
    return buffer.getvalue()


def receipt(actor: User, reference: str, *, invariant: bool = False) -> tuple[str, bytes]:
    """(file name, PDF) of the receipt of an order the actor may see; Conflict unless paid."""
    order = services.get_order(actor, reference)
    payment = services.payment_of(order)
    if order.status not in (Status.PAID, Status.REFUNDED) or payment is None:
        raise Conflict(
            f"订单 {order.reference} {order.get_status_display()}，支付后才能开具收据",
            code="order_not_paid",
        )
    return f"{order.receipt_number}.pdf", render_receipt(order, payment, invariant=invariant)
