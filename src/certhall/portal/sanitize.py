"""Rich text of notices, FAQ entries and usage guides: an allow-list sanitiser (nh3, the
Rust ``ammonia`` library).

Only structural and inline formatting tags survive; every attribute that can run code
(``on*``, ``style``), every element that can (``script``, ``iframe``, ``object``, ``svg``,
``form`` ...) and every URL scheme but http, https and mailto are removed. Links get
``rel="noopener noreferrer"``. Text is stored after cleaning, and cleaned again when it is
shown, so a row written around the service (an import, an old row) cannot carry a script onto
a page either.
"""

from __future__ import annotations

import html
import re

import nh3

TAGS = frozenset(
    {
        "p", "br", "strong", "b", "em", "i", "u", "s", "sub", "sup", "span",
        "h2", "h3", "h4", "ul", "ol", "li", "blockquote", "pre", "code", "hr",
        "a", "img", "table", "thead", "tbody", "tr", "th", "td", "caption",
    }
)  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "ol": {"start"},
}
SCHEMES = frozenset({"http", "https", "mailto"})

_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</(p|li|h[2-4]|tr|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def clean(markup: str) -> str:
    """``markup`` with everything outside the allow-list removed."""
    return nh3.clean(
        markup,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def from_plain(text: str) -> str:
    """Plain text (a seed's lines, a staff answer) as paragraphs of escaped text."""
    paragraphs = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return "".join(f"<p>{html.escape(line)}</p>" for line in paragraphs)


def to_plain(markup: str) -> str:
    """The words of sanitised ``markup`` (for the search index and snippets)."""
    text = _BLOCK_END.sub("\n", markup)
    text = _TAG.sub("", text)
    return html.unescape(text).strip()
