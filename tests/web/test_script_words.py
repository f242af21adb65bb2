"""The words scripts show come from the one catalogue (docs/architecture.md "words").

No script under src/ writes Chinese of its own: it reads the catalogue's entries its context
lists for it (``SCRIPTS`` beside a messages module's ``MESSAGES``, merged in
``messages.SCRIPT_WORDS``) through ``web/words.js``, from the JSON its page carries
(``{% words_script %}``; the helper's PIN page, ``agent.pinpage``). A code a script reads that its
page does not carry, or a field it does not fill, fails here, not on a customer's page. Nor
does a page written in Python (the helper's, ``agent.pinpage``) write Chinese of its own.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from certhall import messages
from certhall.agent import pinpage

SRC = Path(__file__).resolve().parents[2] / "src" / "certhall"
SCRIPTS = sorted(SRC.rglob("*.js"))

#: CJK ideographs (with extension A), CJK punctuation (、。「」 and the ideographic space) and the
#: full-width forms (，：（）): any of them in a script is a word the catalogue should hold.
CJK = re.compile("[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")

#: A call of the words reader: ``say(`` (the scripts' name for it) or ``certhallWords(``.
CALL = re.compile(r"\b(?:say|certhallWords)\(")
LITERAL = re.compile(r'"([^"\\]*)"')
FIELD = re.compile(r"(\w+)\s*:")


def _name(path: Path) -> str:
    """The script's name in ``SCRIPT_WORDS``: its static path (the helper's own: agent/...)."""
    relative = path.relative_to(SRC)
    if relative.parts[0] == "agent":
        return "agent/" + path.name
    return "/".join(relative.parts[relative.parts.index("static") + 1 :])


def _calls(source: str) -> list[str]:
    """The argument text of every call of the reader (brackets balanced)."""
    calls = []
    for match in CALL.finditer(source):
        depth, end = 1, match.end()
        while depth:
            depth += {"(": 1, ")": -1}.get(source[end], 0)
            end += 1
        calls.append(source[match.end() : end - 1])
    return calls


def _reads(source: str) -> list[tuple[str, frozenset[str]]]:
    """(code, fields filled) of every call: the codes are the string literals before the
    parameters' object (``say(changing ? "a" : "b")`` reads both)."""
    reads = []
    for arguments in _calls(source):
        codes, _, params = arguments.partition("{")
        fields = frozenset(FIELD.findall(params))
        found = LITERAL.findall(codes)
        assert found, f"a call of the words reader without a literal code: say({arguments})"
        reads.extend((code, fields) for code in found)
    return reads


def _chinese_lines(path: Path) -> list[str]:
    return [
        f"{number}: {line.strip()}"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if CJK.search(line)
    ]


def test_the_scripts_are_found() -> None:
    names = {_name(path) for path in SCRIPTS}
    assert {"certlogin/login.js", "web/words.js", "agent/pin.js"} <= names


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: _name(path))
def test_no_script_writes_chinese(path: Path) -> None:
    lines = _chinese_lines(path)
    assert not lines, f"{_name(path)} writes its own words (catalogue them): {lines}"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: _name(path))
def test_a_script_reads_only_the_words_its_page_carries(path: Path) -> None:
    name = _name(path)
    if name == "web/words.js":
        return  # the reader itself
    reads = _reads(path.read_text(encoding="utf-8"))
    if not reads:
        assert name not in messages.SCRIPT_WORDS, f"{name} carries words it never reads"
        return
    carried = messages.SCRIPT_WORDS.get(name)
    assert carried is not None, f"{name} reads words: list them in its context's SCRIPTS"
    for code, fields in reads:
        assert code in carried, f"{name} reads {code}, which its page does not carry"
        assert fields == messages.placeholders(code), (
            f"{name} fills {sorted(fields)} of {code}, which has "
            f"{sorted(messages.placeholders(code))}"
        )
    unread = set(carried) - {code for code, _ in reads}
    assert not unread, f"{name}'s page carries words it never reads: {sorted(unread)}"


def test_every_script_with_words_exists() -> None:
    assert set(messages.SCRIPT_WORDS) <= {_name(path) for path in SCRIPTS}


def test_a_page_loads_a_script_with_words_only_with_its_words() -> None:
    """``{% words_script %}`` writes the words and the script together; a plain
    ``<script src>`` of such a script would leave it without them."""
    plain = re.compile(r"""static\s+['"]([^'"]+\.js)['"]""")
    loaded_bare = [
        (template.relative_to(SRC).as_posix(), script)
        for template in SRC.rglob("templates/**/*.html")
        for script in plain.findall(template.read_text(encoding="utf-8"))
        if script in messages.SCRIPT_WORDS
    ]
    assert not loaded_bare, f"scripts loaded without their words: {loaded_bare}"


#: Pages written in Python rather than in a template: the helper's own (``agent.pinpage``).
PYTHON_PAGES = [SRC / "agent" / "pinpage.py"]


@pytest.mark.parametrize("path", PYTHON_PAGES, ids=lambda path: path.name)
def test_no_page_written_in_python_writes_chinese(path: Path) -> None:
    """Their headings, labels and buttons come from the catalogue as the scripts' words do
    (pinpage wrote its own until 12-07)."""
    lines = _chinese_lines(path)
    assert not lines, f"{path.name} writes its own words (catalogue them): {lines}"


def test_the_helpers_page_carries_its_scripts_words() -> None:
    page = pinpage.render_index("https://hall.example")
    found = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page)
    assert found is not None
    assert json.loads(found.group(1)) == messages.script_words("agent/pin.js")
    assert page.index('src="/static/words.js"') < found.start() < page.index("/static/pin.js")


def test_the_words_cannot_close_their_element(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(messages.CATALOGUE, "file_pick_shrinking", "</script><b>&")
    element = messages.words_element("web/file-pick.js")
    assert element.count("</script>") == 1
    assert "<b>" not in element and "&" not in element
    inner = element[element.index(">") + 1 : element.rindex("</script>")]
    assert json.loads(inner)["file_pick_shrinking"] == "</script><b>&"


def test_a_script_without_declared_words_fails_loudly() -> None:
    with pytest.raises(KeyError):
        messages.words_element("web/no-such-script.js")
