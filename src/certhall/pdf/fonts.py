"""The CJK TrueType font every document is set in, embedded (subset) into each PDF.

WenQuanYi Micro Hei (Debian ``fonts-wqy-microhei``): one TrueType face in a collection, covering
GB 2312/GBK Chinese, Latin, digits and the form glyphs used here (□ ■ ✓). reportlab embeds a
subset of every TrueType font it uses, so the PDFs print the same on any computer. The font has
no bold face: headings are drawn with fill+stroke (:class:`certhall.pdf.layout.Heading`).
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from certhall.errors import ConfigurationError

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_NAME = "WQYMicroHei"

_lock = threading.Lock()


def cjk_font() -> str:
    """Register the font once (thread-safe) and return its reportlab name."""
    with _lock:
        if FONT_NAME in pdfmetrics.getRegisteredFontNames():
            return FONT_NAME
        if not FONT_PATH.is_file():
            raise ConfigurationError(code="font_missing", path=FONT_PATH)
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
        return FONT_NAME
