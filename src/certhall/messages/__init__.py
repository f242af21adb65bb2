"""The one message catalogue: every refusal's Chinese text, by its stable code.

Framework-free (the cores raise catalogued errors too). Each bounded context keeps its entries
in its own module below (``messages/hall.py`` ...), so that changes to one context do not touch
the others' files; :data:`CATALOGUE` is their union, and a code defined twice is an error at
import. Templates are ``str.format`` fields (``{number}``); a missing parameter is left visible
(``{number}``) rather than failing the refusal itself, and ``tests/test_messages.py`` checks
every raise site's parameters against its template.

**Decision** (docs/architecture.md): one catalogue module instead of Django's gettext. The UI is
zh-CN only, so translation machinery (msgids, .po/.mo compilation) would add a build step and a
second language nobody reads; what we need is one place per code and a test that every code and
parameter is there.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import string
from collections.abc import Mapping
from datetime import date
from html import escape
from types import ModuleType
from typing import Any

__all__ = [
    "CATALOGUE",
    "SCRIPT_WORDS",
    "day_text",
    "placeholders",
    "script_words",
    "text",
    "words_element",
]


def _merge(*modules: ModuleType) -> dict[str, str]:
    merged: dict[str, str] = {}
    for module in modules:
        entries: Mapping[str, str] = module.MESSAGES
        for code, template in entries.items():
            if code in merged:
                raise RuntimeError(f"message code {code!r} defined twice ({module.__name__})")
            merged[code] = template
    return merged


def _modules() -> list[ModuleType]:
    """Every module of this package: a context adds its own file, nothing else to register."""
    names = sorted(info.name for info in pkgutil.iter_modules(__path__))
    return [importlib.import_module(f"{__name__}.{name}") for name in names]


CATALOGUE: dict[str, str] = _merge(*_modules())


def _scripts(*modules: ModuleType) -> dict[str, tuple[str, ...]]:
    merged: dict[str, tuple[str, ...]] = {}
    for module in modules:
        scripts: Mapping[str, tuple[str, ...]] = getattr(module, "SCRIPTS", {})
        for script, codes in scripts.items():
            if script in merged:
                raise RuntimeError(f"script {script!r} given words twice ({module.__name__})")
            unknown = [code for code in codes if code not in CATALOGUE]
            if unknown:
                raise RuntimeError(f"script {script!r} reads unknown codes {unknown}")
            merged[script] = tuple(codes)
    return merged


#: The catalogue entries each script reads (``web/static/web/words.js``), by the script's path:
#: a context's module lists its own scripts' in ``SCRIPTS`` beside its ``MESSAGES``. The words
#: reach a script as JSON in its page (:func:`words_element`), never written in the script.
SCRIPT_WORDS: dict[str, tuple[str, ...]] = _scripts(*_modules())


class _Visible(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def text(code: str, **params: Any) -> str:
    """The Chinese text of ``code`` with ``params`` filled in (the code's generic class text if
    the code is unknown: never an English fallback on a page)."""
    template = CATALOGUE.get(code)
    if template is None:
        template = CATALOGUE["error"]
    return string.Formatter().vformat(template, (), _Visible(params))


def day_text(day: date) -> str:
    """A day as the words print it: 2022年1月20日, no leading zeros (the pages' ``Y年n月j日``)."""
    return f"{day.year}年{day.month}月{day.day}日"


def placeholders(code: str) -> frozenset[str]:
    """The parameter names the template of ``code`` uses."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(CATALOGUE[code]) if name)


def script_words(script: str) -> dict[str, str]:
    """The templates ``script`` reads, by code (unfilled: the script fills its ``{fields}``).
    A script without declared words is a programming error: KeyError."""
    return {code: CATALOGUE[code] for code in SCRIPT_WORDS[script]}


def words_element(script: str) -> str:
    """The ``<script type="application/json" class="certhall-words">`` a page carries before
    ``script``: data, not code, so the Content-Security-Policy's ban of inline script holds.
    Framework-free: the helper's own PIN page (``agent.pinpage``) uses it as the site's
    ``{% words_script %}`` does. ``<``, ``>`` and ``&`` are escaped as Django's ``json_script``
    escapes them, so no text can close the element."""
    data = json.dumps(script_words(script), ensure_ascii=False, sort_keys=True)
    data = data.replace("<", "\\u003C").replace(">", "\\u003E").replace("&", "\\u0026")
    return (
        f'<script type="application/json" class="certhall-words" data-script="{escape(script)}">'
        f"{data}</script>"
    )
