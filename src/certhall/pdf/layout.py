"""Page geometry, palette, text helpers and the document builder every PDF is made with.

A4 portrait with 18 mm side margins. Every paragraph and table cell is set in the embedded CJK
font (:func:`certhall.pdf.fonts.cjk_font`), also for digits and Latin letters: no PDF standard
font appears. User data is always escaped (:func:`para`): it never becomes markup.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    NextPageTemplate,
    PageBreak,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from certhall.pdf.fonts import cjk_font

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 18 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X

INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#52606d")
LINE = colors.HexColor("#3e4c59")
SHADE = colors.HexColor("#e9eef4")
SECTION = colors.HexColor("#d5dfea")
BRAND = colors.HexColor("#0b5cad")
STAMP = colors.HexColor("#b42318")
WATERMARK = colors.Color(0.75, 0.78, 0.82, alpha=0.35)

NBSP = "\u00a0"

#: What a page callback gets: the canvas and reportlab's document.
PageDrawer = Callable[[Canvas, Any], None]


def space(em: float) -> str:
    """Horizontal blank that paragraphs keep (they collapse ordinary and ideographic spaces)."""
    return NBSP * round(em * 3.85)


def text_style(name: str, size: float, leading: float, **options: Any) -> ParagraphStyle:
    """A paragraph style in the embedded CJK font, wrapping Chinese text anywhere."""
    return ParagraphStyle(
        name,
        fontName=cjk_font(),
        fontSize=size,
        leading=leading,
        textColor=options.pop("textColor", INK),
        wordWrap="CJK",
        **options,
    )


def para(text: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (escaped: user data never becomes markup)."""
    return Paragraph(escape(text), style)


def style_table(table: Table, commands: Sequence[tuple[Any, ...]]) -> Table:
    """Apply ``commands``; string cells (even empty ones) use the CJK font, never Helvetica."""
    table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), cjk_font()), *commands]))
    return table


class Heading(Flowable):  # type: ignore[misc]  # reportlab has no type hints
    """A centred title drawn with fill + stroke (the font has no bold face)."""

    def __init__(self, text: str, size: float = 18, space_after: float = 2 * mm) -> None:
        super().__init__()
        self.text = text
        self.size = size
        self.space_after = space_after
        self._width = 0.0

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self._width = available_width
        return available_width, self.size * 1.35 + self.space_after

    def draw(self) -> None:
        canvas = self.canv
        font = cjk_font()
        spacing = self.size * 0.08
        width = stringWidth(self.text, font, self.size) + spacing * (len(self.text) - 1)
        canvas.saveState()
        canvas.setFillColor(INK)
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(self.size * 0.025)
        text = canvas.beginText((self._width - width) / 2, self.space_after + self.size * 0.3)
        text.setFont(font, self.size)
        text.setCharSpace(spacing)
        text.setTextRenderMode(2)
        text.textOut(self.text)
        canvas.drawText(text)
        canvas.restoreState()


@dataclass(frozen=True)
class Metadata:
    """The PDF's document information."""

    title: str
    author: str
    subject: str
    creator: str = "certhall"


@dataclass
class Part:
    """Consecutive pages drawn alike: ``draw`` paints each page's furniture (header, footer,
    watermark) before its content. Parts with the same ``key`` share one page template; every
    part after the first starts on a new page."""

    key: str
    flowables: list[Flowable]
    draw: PageDrawer | None = None


def build_document(
    meta: Metadata,
    parts: Sequence[Part],
    *,
    top: float,
    bottom: float,
    invariant: bool,
    canvasmaker: type[Canvas] = Canvas,
) -> bytes:
    """Lay out the parts between the margins (``top``, ``bottom``; 18 mm at the sides) and
    return the PDF bytes.

    ``invariant``: reportlab's reproducible mode (fixed creation date and document id), so the
    same content gives byte-identical PDFs (tests, caching).
    """
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=top,
        bottomMargin=bottom,
        title=meta.title,
        author=meta.author,
        subject=meta.subject,
        creator=meta.creator,
        producer="certhall (reportlab)",
        lang="zh-CN",
        invariant=1 if invariant else 0,
        initialFontName=cjk_font(),  # else the canvas starts with Helvetica, not embedded
    )
    templates: dict[str, PageTemplate] = {}
    for part in parts:
        if part.key not in templates:
            frame = Frame(
                MARGIN_X,
                bottom,
                CONTENT_WIDTH,
                PAGE_HEIGHT - top - bottom,
                leftPadding=0,
                rightPadding=0,
                topPadding=0,
                bottomPadding=0,
                id="body",
            )
            templates[part.key] = PageTemplate(
                id=part.key, frames=[frame], onPage=part.draw or _blank
            )
    doc.addPageTemplates(list(templates.values()))
    story: list[Flowable] = []
    for index, part in enumerate(parts):
        if index:
            story += [NextPageTemplate(part.key), PageBreak()]
        story += part.flowables
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def _blank(canvas: Canvas, doc: Any) -> None:
    """No page furniture."""
