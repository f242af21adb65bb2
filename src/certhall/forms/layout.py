"""Page furniture and building blocks shared by the three forms, on the one PDF stack
(:mod:`certhall.pdf`: font, palette, geometry, document builder).

Every page carries the CA's name, the form number as text and
as a Code 128 barcode (so the counter can scan it), the copy label (第一联 CA留存 / 第二联 客户
留存) where the form has copies, a 演示文本 watermark on demo wording, and a footer with the
form code and 第 x 页 共 y 页. Field grids are tables with shaded label cells, sized for
handwriting where a value is left blank.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Spacer, Table

from certhall.forms import texts
from certhall.pdf.fonts import cjk_font
from certhall.pdf.layout import (
    BRAND,
    CONTENT_WIDTH,
    INK,
    LINE,
    MARGIN_X,
    MUTED,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    SECTION,
    SHADE,
    WATERMARK,
    Metadata,
    Part,
    build_document,
    para,
    space,
    style_table,
    text_style,
)

TOP_MARGIN = 29 * mm
BOTTOM_MARGIN = 17 * mm

CHECKED = "■"
UNCHECKED = "□"

GAP = space(2)
BLANK_DATE = f"{space(3.5)}年{space(2)}月{space(2)}日"


class Styles:
    """The paragraph styles, all in the embedded CJK font."""

    def __init__(self) -> None:
        self.font = cjk_font()
        base = text_style("base", 9.5, 12.5)
        self.value = base
        self.label = ParagraphStyle("label", parent=base, textColor=INK, alignment=TA_CENTER)
        self.section = ParagraphStyle("section", parent=base, fontSize=10.5, leading=13)
        self.small = ParagraphStyle("small", parent=base, fontSize=8, leading=10.5)
        self.small_muted = ParagraphStyle("small_muted", parent=self.small, textColor=MUTED)
        self.body = ParagraphStyle(
            "body", parent=base, fontSize=9.5, leading=15, alignment=TA_JUSTIFY, firstLineIndent=19
        )
        self.body_plain = ParagraphStyle("body_plain", parent=self.body, firstLineIndent=0)
        self.clause_title = ParagraphStyle("clause_title", parent=base, fontSize=10, leading=15)
        self.center = ParagraphStyle("center", parent=base, alignment=TA_CENTER)
        self.subtitle = ParagraphStyle(
            "subtitle", parent=base, fontSize=9, leading=12, alignment=TA_CENTER, textColor=MUTED
        )
        self.seal = ParagraphStyle(
            "seal", parent=base, fontSize=9, alignment=TA_CENTER, textColor=MUTED
        )
        self.left = ParagraphStyle("left", parent=base, alignment=TA_LEFT)


def chinese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def checkbox_line(options: Sequence[tuple[str, bool]]) -> str:
    return space(1.2).join(f"{CHECKED if on else UNCHECKED} {name}" for name, on in options)


# --- grids -------------------------------------------------------------------------------------


@dataclass
class Cell:
    content: str | Flowable
    span: int = 1
    label: bool = False


def label(text: str, span: int = 1) -> Cell:
    return Cell(text, span, label=True)


def value(text: str | Flowable, span: int = 1) -> Cell:
    return Cell(text, span)


@dataclass
class Grid:
    """A form grid: full-width section rows and rows of label/value cells with column spans."""

    styles: Styles
    widths: Sequence[float]
    rows: list[list[Any]] = field(default_factory=list)
    commands: list[tuple[Any, ...]] = field(default_factory=list)
    heights: list[float | None] = field(default_factory=list)

    def section(self, title: str) -> Grid:
        index = len(self.rows)
        self.rows.append([para(title, self.styles.section)] + [""] * (len(self.widths) - 1))
        self.heights.append(None)
        self.commands += [
            ("SPAN", (0, index), (-1, index)),
            ("BACKGROUND", (0, index), (-1, index), SECTION),
        ]
        return self

    def row(self, *cells: Cell, height: float | None = None) -> Grid:
        index = len(self.rows)
        out: list[Any] = []
        for cell in cells:
            column = len(out)
            if isinstance(cell.content, str):
                style = self.styles.label if cell.label else self.styles.value
                content: Any = para(cell.content, style) if cell.content else ""
            else:
                content = cell.content
            out.append(content)
            out += [""] * (cell.span - 1)
            if cell.span > 1:
                self.commands.append(("SPAN", (column, index), (column + cell.span - 1, index)))
            if cell.label:
                self.commands.append(
                    ("BACKGROUND", (column, index), (column + cell.span - 1, index), SHADE)
                )
        if len(out) != len(self.widths):
            raise ValueError(f"row {index} has {len(out)} columns, the grid {len(self.widths)}")
        self.rows.append(out)
        self.heights.append(height)
        return self

    def table(self) -> Table:
        table = Table(
            self.rows, colWidths=list(self.widths), rowHeights=self.heights, hAlign="CENTER"
        )
        return style_table(
            table,
            [
                ("GRID", (0, 0), (-1, -1), 0.6, LINE),
                ("BOX", (0, 0), (-1, -1), 1.2, LINE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2.6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2.6),
                ("LEFTPADDING", (0, 0), (-1, -1), 4),
                ("RIGHTPADDING", (0, 0), (-1, -1), 4),
                *self.commands,
            ],
        )


def four_columns() -> tuple[float, float, float, float]:
    label_width = 30 * mm
    rest = (CONTENT_WIDTH - 2 * label_width) / 2
    return (label_width, rest, label_width, rest)


def signature_block(
    styles: Styles, signers: Sequence[str], seal_caption: str = "单位公章"
) -> Table:
    """Signature lines on the left, a 单位公章 box (≥ 42 mm square) on the right, dated."""
    row_height = max(11 * mm, 36 * mm / (len(signers) + 1))
    rows: list[list[Any]] = [
        [para(name, styles.label), "", para(f"（{seal_caption}）", styles.seal)] for name in signers
    ]
    rows.append([para("签署日期", styles.label), para(BLANK_DATE, styles.center), ""])
    table = Table(
        rows,
        colWidths=[36 * mm, CONTENT_WIDTH - 36 * mm - 64 * mm, 64 * mm],
        rowHeights=[row_height] * len(rows),
    )
    last = len(rows) - 1
    return style_table(
        table,
        [
            ("GRID", (0, 0), (1, -1), 0.6, LINE),
            ("BOX", (0, 0), (-1, -1), 1.2, LINE),
            ("BOX", (2, 0), (2, -1), 0.6, LINE),
            ("SPAN", (2, 0), (2, last)),
            ("VALIGN", (0, 0), (1, -1), "MIDDLE"),
            ("VALIGN", (2, 0), (2, 0), "BOTTOM"),
            ("BACKGROUND", (0, 0), (0, -1), SHADE),
            ("BOTTOMPADDING", (2, 0), (2, 0), 6),
        ],
    )


def notes(styles: Styles, lines: Sequence[str]) -> list[Flowable]:
    return [para(line, styles.small_muted) for line in lines]


# --- the document ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageKind:
    copy_label: str = ""
    watermark: str = ""

    @property
    def id(self) -> str:
        return f"p-{self.copy_label}-{self.watermark}"


@dataclass
class Section:
    """Consecutive pages sharing a copy label / watermark; starts on a new page."""

    kind: PageKind
    flowables: list[Flowable]


class _NumberedCanvas(Canvas):  # type: ignore[misc]  # reportlab has no type hints
    """Holds pages until ``save`` so each footer can say 共 y 页."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(cjk_font(), 8)
            self.setFillColor(MUTED)
            self.drawRightString(PAGE_WIDTH - MARGIN_X, 10 * mm, f"第 {number} 页  共 {total} 页")
            super().showPage()
        super().save()


@dataclass(frozen=True)
class DocumentInfo:
    title: str
    form_code: str
    form_number: str
    subject: str
    project: str


def _draw_page(info: DocumentInfo, kind: PageKind, canvas: Canvas, _doc: Any) -> None:
    font = cjk_font()
    top = PAGE_HEIGHT - 11 * mm
    canvas.saveState()
    if kind.watermark:
        canvas.saveState()
        canvas.setFillColor(WATERMARK)
        canvas.setFont(font, 72)
        canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
        canvas.rotate(35)
        canvas.drawCentredString(0, -24, kind.watermark)
        canvas.restoreState()
    # the CA and the project, top left
    canvas.setFillColor(BRAND)
    canvas.setFont(font, 11)
    canvas.drawString(MARGIN_X, top - 4, texts.CA_NAME)
    canvas.setFillColor(MUTED)
    canvas.setFont(font, 8.5)
    canvas.drawString(MARGIN_X, top - 16, f"{info.project}数字证书 · 深圳CA受理中心")
    # the form number: barcode and text, top right
    if info.form_number:  # a blank form has none: no barcode, a line to write it on
        barcode = Code128(
            info.form_number, barHeight=8 * mm, barWidth=0.75, humanReadable=0, quiet=0, lquiet=0
        )
        barcode.drawOn(canvas, PAGE_WIDTH - MARGIN_X - barcode.width, top - 8 * mm + 2)
    canvas.setFillColor(INK)
    canvas.setFont(font, 8.5)
    number = info.form_number or "_" * 16
    canvas.drawRightString(PAGE_WIDTH - MARGIN_X, top - 12 * mm, f"表单编号：{number}")
    canvas.setStrokeColor(BRAND)
    canvas.setLineWidth(1.2)
    rule = PAGE_HEIGHT - 24 * mm
    canvas.line(MARGIN_X, rule, PAGE_WIDTH - MARGIN_X, rule)
    if kind.copy_label:
        width = stringWidth(kind.copy_label, font, 10) + 12
        x = PAGE_WIDTH - MARGIN_X - width
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(0.8)
        canvas.roundRect(x, rule - 9 * mm, width, 6.5 * mm, 2)
        canvas.setFillColor(INK)
        canvas.setFont(font, 10)
        canvas.drawString(x + 6, rule - 9 * mm + 6, kind.copy_label)
    # footer
    canvas.setStrokeColor(LINE)
    canvas.setLineWidth(0.4)
    canvas.line(MARGIN_X, 13.5 * mm, PAGE_WIDTH - MARGIN_X, 13.5 * mm)
    canvas.setFont(font, 8)
    canvas.setFillColor(MUTED)
    canvas.drawString(
        MARGIN_X, 10 * mm, f"《{info.title}》 {info.form_code} · 请用黑色签字笔填写，字迹清晰"
    )
    canvas.restoreState()


def build_pdf(info: DocumentInfo, sections: Sequence[Section], *, invariant: bool) -> bytes:
    """Lay out the sections (each starting on a new page) and return the PDF bytes;
    ``invariant`` makes the bytes reproducible (:func:`certhall.pdf.layout.build_document`)."""
    meta = Metadata(title=info.title, author=texts.CA_NAME, subject=info.subject)
    parts = [
        Part(
            section.kind.id,
            section.flowables,
            functools.partial(_draw_page, info, section.kind),
        )
        for section in sections
    ]
    return build_document(
        meta,
        parts,
        top=TOP_MARGIN,
        bottom=BOTTOM_MARGIN,
        invariant=invariant,
        canvasmaker=_NumberedCanvas,
    )


def gap(height_mm: float) -> Spacer:
    return Spacer(1, height_mm * mm)
