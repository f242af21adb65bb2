"""The small looks every page shares are defined once (docs/architecture.md "one look"): in
web/site.css (customer and shared) or web/console.css (the consoles' own), never again in an
area's stylesheet, and the templates use the class names those two files define."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "certhall"
SITE = "web/static/web/site.css"
CONSOLE = "web/static/web/console.css"
# served by the local helper without site.css (agent/pinpage.py): its own small page
NOT_SERVED_WITH_SITE = {"agent/static/pin.css"}

# the shared look -> the one file that defines it
SHARED = {
    ".muted": SITE,
    ".small": SITE,
    ".hint": SITE,
    ".num": SITE,
    ".amount": SITE,
    ".tag": SITE,
    ".state": SITE,
    ".table-scroll": SITE,
    "table.kv th": SITE,
    ".notice": SITE,
    ".flash": SITE,
    "pre": SITE,
    "dl.facts": SITE,
    ".tiles": SITE,
    ".pager": SITE,
    ".logout": SITE,
    ".grid2": CONSOLE,
}
# a context's deliberate difference, not a copy: (file, full selector)
ALLOWED = {
    (CONSOLE, ".console table.plain .small"),  # the consoles' tables: 12 px notes in 14 px rows
    (CONSOLE, "table.kv th"),  # the consoles' density: 6 px 8 px cells at 14 px
    (CONSOLE, ".flash"),  # the consoles' messages: 14 px, 10 px apart (site.css: colours)
    ("web/static/web/status.css", ".status-search .hint"),  # where the page's hints sit
    ("web/static/web/status.css", ".status-result .hint"),
}


def _rel(path: Path) -> str:
    """``web/static/web/site.css`` for src/certhall/web/static/web/site.css."""
    return str(path.relative_to(SRC))


def _selectors(css: str) -> list[str]:
    """Every selector of every rule (comma lists split, at-rules' own lines left out)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    found = []
    for head in re.findall(r"([^{}]+)\{", css):
        head = " ".join(head.split())
        if head.startswith("@"):
            continue
        depth, part = 0, ""
        for ch in head + ",":
            if ch == "," and depth == 0:
                found.append(part.strip())
                part = ""
                continue
            depth += ch in "(["
            depth -= ch in ")]"
            part += ch
    return found


def _defines(selector: str, shared: str) -> bool:
    """Whether ``selector`` styles ``shared`` itself: its last compound is ``shared`` exactly."""
    return selector == shared or selector.endswith(" " + shared)


def _sheets() -> dict[str, str]:
    return {
        _rel(path): path.read_text()
        for path in SRC.glob("*/static/**/*.css")
        if _rel(path) not in NOT_SERVED_WITH_SITE
    }


@pytest.mark.parametrize("shared", sorted(SHARED))
def test_a_shared_look_is_defined_in_one_file(shared: str) -> None:
    where = sorted(
        (name, selector)
        for name, css in _sheets().items()
        for selector in _selectors(css)
        if _defines(selector, shared) and (name, selector) not in ALLOWED
    )
    assert where, f"{shared} is defined nowhere"
    assert {name for name, _ in where} == {SHARED[shared]}, where


def test_the_check_finds_a_copy() -> None:
    """The parser sees a copy in an area's file (so the test above can fail)."""
    css = (
        "/* x { } */ .refunds .hint { color: red; }\n"
        "@media (max-width: 1px) { .a, .hint { margin: 0; } }"
    )
    assert [s for s in _selectors(css) if _defines(s, ".hint")] == [".refunds .hint", ".hint"]
    assert not _defines(".hint-box", ".hint")
    assert not _defines("#x .hint small", ".hint")


def _template_classes() -> list[tuple[str, list[str]]]:
    """Each class attribute of every template, its words (template tags' own words left out)."""
    found = []
    for path in SRC.glob("*/templates/**/*.html"):
        text = path.read_text()
        for value in re.findall(r'class="((?:[^"{]|\{%[^%]*%\}|\{\{[^}]*\}\})*)"', text):
            words = re.sub(r"\{%.*?%\}|\{\{.*?\}\}", " ", value).split()
            found.append((str(path.relative_to(SRC)), words))
    return found


def test_a_tag_says_its_level_with_the_shared_words() -> None:
    """A tag is grey alone, or .ok / .warn / .error / .closed (site.css), .big the status page's
    answer: the areas' own words (tag-ok, tag-overdue, no, wait, pin, online, onsite) are gone,
    and so are the other pills (pay-status-*, certlogin's status-valid and renew-soon, the status
    page's status-badge-*)."""
    levels = {"ok", "warn", "error", "closed", "big"}
    odd = [
        (name, words)
        for name, words in _template_classes()
        if "tag" in words and set(words) - {"tag"} - levels
    ]
    assert odd == []


def test_the_shared_classes_are_used_and_the_old_names_are_not() -> None:
    used = {word for _, words in _template_classes() for word in words}
    for shared in (
        "muted",
        "small",
        "hint",
        "num",
        "amount",
        "big",
        "tag",
        "state",
        "table-scroll",
        "notice",
        "flash",
        "facts",
        "tiles",
        "grid2",
        "pager",
        "logout",
    ):
        assert shared in used, shared
    for old in (
        "scroll",
        "tag-ok",
        "tag-closed",
        "tag-overdue",
        "tag-today",
        "pin",
        "online",
        "onsite",
        "pay-status",
        "status",
        "status-badge",
        "renew-soon",
        "events-scroll",
        "status-hint",
        "status-note",
    ):
        assert old not in used, old
    # the old names' prefixes with a state after them (pay-status-paid, status-badge-valid)
    # and an area's own state palette (console.css's state-paid, ukey-lost; the hall's state-done)
    odd = [
        w
        for w in used
        if w.startswith(("pay-status-", "status-badge-", "status-valid", "state-", "ukey-"))
    ]
    assert odd == [], odd


def test_every_state_has_a_level_site_css_defines() -> None:
    """An application's and a Ukey's pill take their colour from the one list of levels: every
    state of both machines has one (a new state cannot fall back to a grey nobody chose)."""
    from certhall.hall.states import TONES as APPLICATION_TONES
    from certhall.hall.states import State
    from certhall.ukeys.lifecycle import TONES as UKEY_TONES
    from certhall.ukeys.lifecycle import Status

    css = (SRC / SITE).read_text(encoding="utf-8")
    levels = set(re.findall(r":is\(\.tag, \.state\)\.([a-z]+) \{", css))
    assert {"ok", "info", "warn", "error", "closed"} <= levels
    assert set(APPLICATION_TONES) == set(State) and set(UKEY_TONES) == set(Status)
    assert set(APPLICATION_TONES.values()) | set(UKEY_TONES.values()) <= levels


#: The stylesheets that may write a colour's value: the palette's one block each (a ``:root``
#: rule) and nothing else. site.css holds the site's; payments.css the stand-in cashiers' own.
PALETTES = {SITE, "payments/static/payments/payments.css"}
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\brgba?\([^)]*\)")


def _colours_outside_the_palette(name: str, css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    if name in PALETTES:
        css = re.sub(r":root\s*\{[^}]*\}", "", css, count=1)
    return [
        f"{name}: {css[: m.start()].count(chr(10)) + 1}: {m.group(0)}" for m in COLOUR.finditer(css)
    ]


def test_a_colour_is_named_from_the_palette() -> None:
    """Every colour of every stylesheet and template is one of site.css's palette (a level's
    background, border, text; the brand; money...): the same meaning wears the same colour (the
    hall's amounts were amber, the consoles' and the portal's two reds). White veils over the
    brand's bar (``rgba(255, 255, 255, ...)``) are the one kind of value left to write."""
    found = [
        place
        for name, css in _sheets().items()
        for place in _colours_outside_the_palette(name, css)
        if "rgba(255" not in place
    ]
    templates = [
        f"{path.relative_to(SRC)}: {m.group(0)}"
        for path in SRC.glob("*/templates/**/*.html")
        for m in re.finditer(
            r'(?:fill|stroke|color|background)[=:]\s*"?\s*(#[0-9a-fA-F]{3,8})\b', path.read_text()
        )
    ]
    assert found + templates == []
    assert _colours_outside_the_palette("x.css", ".a { color: #b54708; }") == ["x.css: 1: #b54708"]
