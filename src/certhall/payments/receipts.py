"""PDF receipts (收款收据 / 电子凭证) for paid orders, drawn on the one PDF stack
(:mod:`certhall.pdf`: the embedded CJK font, palette, helpers and document builder), like the
printed forms. One receipt per order: its number is the order's with the prefix ``SJ``. A
refunded order's receipt says so. The payee is the rules catalog's (seed 001, 收款账户).
"""

from __future__ import annotations

import hashlib

from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table

from certhall import money
from certhall.accounts.models import User
from certhall.errors import Conflict
from certhall.payments import services
from certhall.payments.lifecycle import Channel, Status
from certhall.payments.models import Order, Payment
from certhall.pdf.layout import (
    CONTENT_WIDTH,
    LINE,
    MUTED,
    SHADE,
    STAMP,
    Heading,
    Metadata,
    Part,
    build_document,
    style_table,
    text_style,
)
from certhall.pdf.layout import para as _p
from certhall.rules import default_catalog, local

PLATFORM = "深圳医保在线签约数字证书服务平台"
MARGIN = 18 * mm


def _styles() -> dict[str, ParagraphStyle]:
    base = text_style("base", 10.5, 15)
    return {
        "base": base,
        "sub": ParagraphStyle("sub", parent=base, fontSize=11, alignment=TA_CENTER),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
        "small": ParagraphStyle("small", parent=base, fontSize=8.5, leading=12, textColor=MUTED),
        "stamp": ParagraphStyle("stamp", parent=base, fontSize=16, leading=22, textColor=STAMP),
    }


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
    style = _styles()
    payee = default_catalog().payee
    issued = local(order.paid_at or payment.recorded_at)
    half = CONTENT_WIDTH / 2
    head = Table(
        [
            [
                _p(f"收据编号：{order.receipt_number}", style["base"]),
                _p(f"开具日期：{issued:%Y-%m-%d}", style["right"]),
            ]
        ],
        colWidths=[half, half],
    )
    story: list[Flowable] = [
        _p(payee.company, style["sub"]),
        Spacer(1, 2 * mm),
        Heading("收款收据（电子凭证）", size=20, space_after=3 * mm),
        Spacer(1, 2 * mm),
        style_table(head, [("LEFTPADDING", (0, 0), (-1, -1), 0)]),
        Spacer(1, 2 * mm),
        _table(order, payment, style),
        Spacer(1, 6 * mm),
    ]
    if order.status == Status.REFUNDED and order.refunded_at is not None:
        refunded = f"已退款（{local(order.refunded_at):%Y-%m-%d}）：{order.refund_reason}"
        story += [_p(refunded, style["stamp"]), Spacer(1, 4 * mm)]
    seal = Table(
        [[_p("收款单位（盖章）：", style["base"]), _p("经办：平台自动开具", style["right"])]],
        colWidths=[half, half],
        rowHeights=[22 * mm],
    )
    story += [
        style_table(
            seal, [("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]
        ),
        _p(
            f"本电子凭证由{PLATFORM}生成，与纸质收据具有同等效力（演示）。"
            f"凭证校验码：{check_code(order, payment)}",
            style["small"],
        ),
    ]
    meta = Metadata(
        title=f"收款收据 {order.receipt_number}",
        author=payee.company,
        subject=f"订单 {order.reference}",
        creator=PLATFORM,
    )
    return build_document(
        meta, [Part("receipt", story)], top=MARGIN, bottom=MARGIN, invariant=invariant
    )


def _table(order: Order, payment: Payment, style: dict[str, ParagraphStyle]) -> Table:
    """Payer, the items with their amounts, the total in words and figures, payee, payment."""
    payee = default_catalog().payee
    rows: list[list[Paragraph | str]] = []
    spans: list[tuple[int, int]] = []  # (row, last column of the span starting at column 1)

    def wide(label: str, value: str) -> None:
        spans.append((len(rows), 3))
        rows.append([_p(label, style["base"]), _p(value, style["base"]), "", ""])

    def line(first: str, second: str, amount: str) -> None:
        spans.append((len(rows), 2))
        rows.append([_p(first, style["base"]), _p(second, style["base"]), "", amount])

    wide("付款单位", order.organization.name)
    wide("统一社会信用代码", order.organization.uscc)
    header_row = len(rows)
    line("序号", "收款项目", _p("金额（元）", style["right"]))
    for number, item in enumerate(order.items or [], start=1):
        amount = money.grouped(money.parse(str(item["amount"])))
        line(str(number), str(item["description"]), _p(amount, style["right"]))
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
    label_w, amount_w, mid_w = 34 * mm, 46 * mm, 24 * mm
    widths = [label_w, CONTENT_WIDTH - label_w - amount_w - mid_w, mid_w, amount_w]
    return style_table(
        Table(rows, colWidths=widths),
        [
            ("GRID", (0, 0), (-1, -1), 0.6, LINE),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("BACKGROUND", (0, 0), (0, -1), SHADE),
            ("BACKGROUND", (0, header_row), (-1, header_row), SHADE),
            *[("SPAN", (1, row), (last, row)) for row, last in spans],
        ],
    )


def receipt(actor: User, reference: str, *, invariant: bool = False) -> tuple[str, bytes]:
    """(file name, PDF) of the receipt of an order the actor may see; Conflict unless paid."""
    order = services.get_order(actor, reference)
    payment = services.payment_of(order)
    if order.status not in (Status.PAID, Status.REFUNDED) or payment is None:
        raise Conflict(
            code="order_not_paid", reference=order.reference, status=order.get_status_display()
        )
    return f"{order.receipt_number}.pdf", render_receipt(order, payment, invariant=invariant)
