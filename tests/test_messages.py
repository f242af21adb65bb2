"""The message catalogue holds every refusal's words (certhall.messages).

A static read of every error built in src/ (raised at once or returned to be raised): a
catalogued one names a code that exists and gives
every parameter its template uses, and none carries its own text.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from certhall import messages

SRC = Path(__file__).resolve().parents[1] / "src" / "certhall"
ROOTS = {"CerthallError"}


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    cls: str
    code: str | None
    keywords: frozenset[str]
    splat: bool
    legacy: bool

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.cls}(code={self.code!r})"


def _trees() -> list[tuple[Path, ast.Module]]:
    return [
        (path, ast.parse(path.read_text("utf-8"), str(path)))
        for path in sorted(SRC.rglob("*.py"))
        if "migrations" not in path.parts
    ]


def _error_classes(trees: list[tuple[Path, ast.Module]]) -> set[str]:
    """Names of every class that derives from CerthallError, transitively (by name)."""
    bases: dict[str, set[str]] = {}
    for _, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                names = {
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                }
                bases.setdefault(node.name, set()).update(names)
    found = set(ROOTS)
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name not in found and parents & found:
                found.add(name)
                changed = True
    return found


def _sites() -> list[Site]:
    trees = _trees()
    classes = _error_classes(trees)
    out: list[Site] = []
    for path, tree in trees:
        for call in ast.walk(tree):
            # Every construction, raised where it stands or returned to be raised elsewhere.
            if not isinstance(call, ast.Call):
                continue
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in classes:
                continue
            code = variant = None
            for kw in call.keywords:
                if kw.arg in ("code", "variant") and isinstance(kw.value, ast.Constant):
                    if kw.arg == "code":
                        code = str(kw.value.value)
                    else:
                        variant = str(kw.value.value)
            if code is not None and variant is not None:
                code = f"{code}.{variant}"  # the catalogue key of that wording
            out.append(
                Site(
                    path=str(path.relative_to(SRC.parent)),
                    line=call.lineno,
                    cls=name,
                    code=code,
                    keywords=frozenset(kw.arg for kw in call.keywords if kw.arg),
                    splat=any(kw.arg is None for kw in call.keywords),
                    legacy=bool(call.args) and not _carries_catalogued_words(call),
                )
            )
    return out


def _carries_catalogued_words(call: ast.Call) -> bool:
    """``AgentError(error.message, ...)``: another error's words, already from the catalogue."""
    (first, *rest) = call.args
    return not rest and isinstance(first, ast.Attribute) and first.attr == "message"


SITES = _sites()


def test_the_sites_are_found() -> None:
    assert len(SITES) > 300


@pytest.mark.parametrize("site", [s for s in SITES if not s.legacy and s.code], ids=str)
def test_catalogued_raise_names_a_known_code_with_its_parameters(site: Site) -> None:
    assert site.code in messages.CATALOGUE, f"{site}: no such code in certhall.messages"
    if not site.splat:
        missing = messages.placeholders(site.code) - site.keywords
        assert not missing, f"{site}: parameters {sorted(missing)} missing"


def test_no_raise_passes_its_own_text() -> None:
    legacy = [str(s) for s in SITES if s.legacy]
    assert not legacy, f"raise sites with their own text instead of a catalogued code: {legacy}"


def test_every_template_formats() -> None:
    for code, template in messages.CATALOGUE.items():
        names = messages.placeholders(code)
        assert messages.text(code, **{n: "X" for n in names}).count("{") == template.count("{{")


#: Words that are not sentences: column heads, button, field and step labels, section heads, and
#: fragments other messages or texts carry (a document problem joined by "；", an SMS's detail,
#: a refund record's reason in its table cell),
#: and a script's or the helper's pages' labels and fragments (``page_label.``: a button, a
#: window's title, a heading, a table's head, a line's parts).
NOT_SENTENCES = (
    "audit_csv.", "audit_result.", "surplus_page_", "discrepancy_page_", "bill_run_page_",
    "refund_notice.", "refund_reason.", "batch_item", "identity_missing", "path_",
    "lifecycle_onward", "next_", "page_label.", "cli_label.", "rules_label.",
)  # fmt: skip


#: Templates ending with a parameter that is itself a whole sentence of the catalogue (a rule's
#: refusal, the audit chain's problem, the SMS code's refusal, a setting's or a batch line's
#: refusal): its own 。 ends them.
PASS_A_SENTENCE_ON = (
    "password_weak", "renewal_expired", "rule_violation.quote", "refund_progress_code",
    "refund_counter_code",
    "audit_chain_broken", "audit_chain_failed", "agent_hall_origin", "setting_base_url.origin",
    "batch_manifest", "history_issue_failed", "history_issue_failed.renewal",
)  # fmt: skip


def test_every_sentence_ends_as_a_chinese_sentence() -> None:
    """One look on every page: a refusal or confirmation ends with 。, ？ or ！ (payments,
    forms, money, the calendar and the CLI ended without until 12-06). Ending with a
    parameter is not an ending (the hall's ``business`` and ``document_kind.unknown`` ended
    with their list of choices until 12-07), unless the parameter is a sentence itself. A line
    of progress a script shows while it waits ends with ……（正在读取Ukey中的证书……）: its
    sentence goes on when the step is done (since 12-07, when the scripts' words came here)."""
    unended = [
        code
        for code, template in messages.CATALOGUE.items()
        if not code.startswith(NOT_SENTENCES)
        and code not in PASS_A_SENTENCE_ON
        and not template.endswith(("。", "？", "！", "……"))
    ]
    assert not unended, f"catalogue sentences without a final 。: {unended}"


def test_a_missing_parameter_stays_visible() -> None:
    assert "{retry_after}" in messages.text("rate_limited")
    assert messages.text("no-such-code") == messages.CATALOGUE["error"]


def _written_in_place(node: ast.expr) -> bool:
    """A text written at the call instead of taken from the catalogue: a literal, an f-string,
    or a lambda or conditional giving one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.IfExp):
        return _written_in_place(node.body) or _written_in_place(node.orelse)
    if isinstance(node, ast.Lambda):
        return _written_in_place(node.body)
    return False


def test_confirmations_come_from_the_catalogue() -> None:
    """A page's notice after a step (``messages.success(request, ...)``, the ``done`` of
    ``act_and_return``) is catalogued like a refusal; the views wrote theirs until 12-05."""
    found = []
    for path, tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            owner = getattr(getattr(func, "value", None), "id", "")
            if owner == "messages" and name in ("success", "info", "warning", "error"):
                said = node.args[1:2]
            elif name == "act_and_return":
                said = node.args[3:4]
            else:
                continue
            if any(_written_in_place(arg) for arg in said):
                found.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert not found, f"notices written in place, not from certhall.messages: {found}"


#: The hall's calls that write an application's history note (the reason of a state change,
#: read by the customer and the staff): the argument that becomes the note, by keyword and by
#: position. ``issuing``'s ``what`` is the code of the note written if the issuance fails.
HISTORY_NOTES = {
    "transition": ("reason", None),
    "delivered": ("reason", 2),
    "put_back": ("reason", 2),
    "withdraw": ("reason", 2),
    "issuing": ("what", 3),
}
#: Where the argument is a catalogue code, not the note's words.
HISTORY_CODES = {"issuing"}


def _notes_written_in_place(function: ast.AST) -> list[int]:
    """Lines in ``function`` where a history note is a text written there: at the call, or in
    a local name the call passes (``reason = "自取"`` ... ``delivered(..., reason)``)."""
    assigned: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    assigned.setdefault(target.id, []).append(node.value)
    found = []
    for node in ast.walk(function):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in HISTORY_NOTES:
            continue
        keyword, position = HISTORY_NOTES[name]
        said = [kw.value for kw in node.keywords if kw.arg == keyword]
        if position is not None and len(node.args) > position:
            said.append(node.args[position])
        for arg in said:
            values = assigned.get(arg.id, []) if isinstance(arg, ast.Name) else [arg]
            if name in HISTORY_CODES:
                values = [v for v in values if getattr(v, "value", None) not in messages.CATALOGUE]
            if any(_written_in_place(value) for value in values):
                found.append(node.lineno)
    return found


def test_the_halls_history_notes_come_from_the_catalogue() -> None:
    """An application's history note the platform writes (订单已支付, 现场办理的领取方式, 制证
    未完成 ...) is catalogued; the hall's services wrote theirs until 12-07, one with a half-width
    colon. A note a person typed (a reviewer's, a cancellation's) is passed on as typed."""
    found = []
    for path, tree in _trees():
        if SRC / "hall" not in path.parents:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                lines = _notes_written_in_place(node)
                found += [f"{path.relative_to(SRC)}:{line}" for line in lines]
    found = sorted(set(found))  # a nested function is walked twice
    assert not found, f"history notes written in place, not from certhall.messages: {found}"


#: The rules core's texts that are its input, not words it writes, by the module-level name they
#: are assigned to: the patterns and words it reads the State Council's notice with (``notice``)
#: and the catalog's fee texts with (``loader``).
READS_INPUT = {
    "notice.py": {"TITLE", "ITEM", "DAY", "END", "OFF", "WORK", "ARRANGING"},
    "loader.py": {"_FEE_IN_TEXT", "FREE", "YUAN", "PER_YEAR"},
}
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def _assigned(node: ast.stmt) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {target.id for target in targets if isinstance(target, ast.Name)}


def words_written(tree: ast.Module, reads_input: set[str]) -> list[int]:
    """Lines of ``tree`` with a Chinese character in a text it writes: any string (an f-string's
    parts too) but a docstring, or another string standing as a statement, and the module-level
    assignments ``reads_input`` names. Comments are not in the tree."""
    passed: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            passed.add(id(node.value))
    for statement in tree.body:
        if isinstance(statement, ast.Assign | ast.AnnAssign) and _assigned(statement) & reads_input:
            passed.update(id(node) for node in ast.walk(statement))
    return sorted(
        {
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in passed
            and CHINESE.search(node.value)
        }
    )


def test_the_rules_core_writes_no_words() -> None:
    """The rules core's details (a refusal's 是周末, 不在服务时间 ...), labels and names come
    from the catalogue like its refusals (issue 7: ``rules/quote.py`` and ``hours.py`` wrote
    theirs until 12-07); only what it reads is Chinese in its code."""
    found = []
    for path in sorted((SRC / "rules").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"), str(path))
        reads = READS_INPUT.get(path.name, set())
        assigned = set().union(*(_assigned(s) for s in tree.body if isinstance(s, ast.Assign)))
        assert reads <= assigned, f"rules/{path.name}: no such names {sorted(reads - assigned)}"
        found += [f"rules/{path.name}:{line}" for line in words_written(tree, reads)]
    assert not found, f"words written in the rules core, not from certhall.messages: {found}"


def test_a_word_written_in_the_rules_is_found() -> None:
    source = (
        'FREE = "免费"\n'
        "def weekend(day):\n"
        '    """星期六 or 星期日."""\n'
        '    return f"{day} 是周末"  # 周末\n'
    )
    assert words_written(ast.parse(source), {"FREE"}) == [4]
    assert words_written(ast.parse(source), set()) == [1, 4]
