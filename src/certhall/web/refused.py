"""The fields a refusal is about, marked on the form shown again beside it (WCAG 3.3.1).

A page of :func:`certhall.web.errors.form_page` shows a refusal in its box ``id="form-error"``
(``role="alert"``, every template's); when the refusal names the inputs it is about
(:attr:`certhall.errors.CerthallError.fields`: ``error.naming(...)`` at the raise site,
``errors.about(...)`` around a check, ``web.errors.text_field`` for a text over its bound), each
field of the page by that name (an ``input`` but a hidden one or a button, a ``select``, a
``textarea``) gets ``aria-invalid="true"`` and ``aria-describedby`` naming the box (after the ids
it named already, a hint's), and the first one ``autofocus``: a screen reader arriving on the
page reads the field, that it is invalid and the refusal's words. Written into the page once
here, after the template, not by each template; a page without the box, or a refusal naming no
field of its form, is left as it is (the box alone). A name that several forms of the page hold
(a console's rows) is marked only within the box's scope, its form or else the element holding
it (a row's cell before its forms: finance's rows), and only when one form there holds it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser

#: The id of the element whose text is the refusal (every form page's box).
BOX = "form-error"

_FIELDS = ("input", "select", "textarea")
_NOT_FIELDS = ("hidden", "submit", "button", "reset", "image")
_ATTRIBUTE = r"""\s{name}(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?(?=[\s/>])"""


#: Elements that have no end tag (never open in :class:`_Finder`'s stack).
_VOID = frozenset(
    ("area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr")
)


@dataclass(frozen=True)
class _Field:
    name: str
    form: int | None  # which form of the page holds it (counted from 1), None for none
    at: tuple[int, int]  # where its start tag starts: line (from 1), column
    tag: str  # its start tag as written
    described_by: str  # the ids it is described by already
    within: frozenset[int]  # the elements holding it (their numbers in the page, 0 the page)


class _Finder(HTMLParser):
    """The fields named ``names``, the box's scope (the number of its form's element, else of
    the element holding it, 0 the page; None while the box is not seen), and whether anything
    already asks for the focus."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__(convert_charrefs=True)
        self.names = set(names)
        self.found: list[_Field] = []
        self.box: int | None = None
        self.focused = False
        self.forms = 0
        self.form: int | None = None
        self.elements = 0
        self.open: list[tuple[str, int]] = [("", 0)]  # (tag, number): the page holds all
        self.form_element: dict[int, int] = {}  # a form's number -> its element's

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            self.elements += 1
            self.open.append((tag, self.elements))
        self._start(tag, attrs, opened=tag not in _VOID)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, opened=False)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], *, opened: bool) -> None:
        """``tag`` starts (``opened``: it holds what follows, the last of :attr:`open`)."""
        given = dict(attrs)
        if tag == "form":
            self.forms += 1
            self.form = self.forms
            self.form_element[self.forms] = self.open[-1][1]
        if given.get("id") == BOX and self.box is None:
            holder = self.open[-2 if opened else -1][1]
            self.box = self.form_element[self.form] if self.form else holder
        self.focused = self.focused or "autofocus" in given
        name = given.get("name")
        if tag not in _FIELDS or name not in self.names:
            return
        if (given.get("type") or "").lower() in _NOT_FIELDS or "disabled" in given:
            return
        text = self.get_starttag_text() or ""
        described_by = given.get("aria-describedby") or ""
        within = frozenset(number for _tag, number in self.open)
        field = _Field(name or "", self.form, self.getpos(), text, described_by, within)
        self.found.append(field)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.form = None
        # the nearest open element of that name closes, with any left open inside it
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth][0] == tag:
                del self.open[depth:]
                break

    def refused(self) -> list[_Field]:
        """The fields to mark: of a name that more than one form of the page holds (a console's
        rows, each with its 原因), those within the box's scope (its form, else the element
        holding it) when one form there holds them; none otherwise."""
        forms: dict[str, set[int | None]] = {}
        scoped: dict[str, set[int | None]] = {}
        for field in self.found:
            forms.setdefault(field.name, set()).add(field.form)
            if self.box in field.within:
                scoped.setdefault(field.name, set()).add(field.form)
        return [
            f
            for f in self.found
            if len(forms[f.name]) == 1 or (self.box in f.within and len(scoped[f.name]) == 1)
        ]


def _without(tag: str, name: str) -> str:
    return re.sub(_ATTRIBUTE.format(name=re.escape(name)), "", tag, flags=re.IGNORECASE)


def _marked(tag: str, described_by: str, focus: bool) -> str:
    for name in ("aria-invalid", "aria-describedby"):
        tag = _without(tag, name)
    ids = [i for i in described_by.split() if i != BOX] + [BOX]
    added = f' aria-invalid="true" aria-describedby="{" ".join(ids)}"'
    if focus:
        added += " autofocus"
    end = len(tag) - (2 if tag.endswith("/>") else 1)
    return tag[:end].rstrip() + added + tag[end:]


def mark(page: str, names: Iterable[str]) -> str:
    """``page`` with its fields named ``names`` marked invalid and described by the box
    :data:`BOX`; unchanged when it has no such box or no such field."""
    finder = _Finder(names)
    finder.feed(page)
    finder.close()
    fields = finder.refused()
    if finder.box is None or not fields:
        return page
    starts = [0]  # where each line starts, as the parser counts lines (at "\n" alone)
    for text in page.split("\n"):
        starts.append(starts[-1] + len(text) + 1)
    out: list[str] = []
    done = 0
    for index, field in enumerate(fields):
        line, column = field.at
        at, tag = starts[line - 1] + column, field.tag
        if page[at : at + len(tag)] != tag:  # pragma: no cover - the parser's own position
            raise AssertionError(f"the field's tag is not where the parser read it: {tag}")
        focus = index == 0 and not finder.focused
        out += [page[done:at], _marked(tag, field.described_by, focus)]
        done = at + len(tag)
    out.append(page[done:])
    return "".join(out)
