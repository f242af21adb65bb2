"""Modules that fit in a head (issue 7): no module of src/ over 600 lines and no function over
80, migrations aside (Django writes them)."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "certhall"
MODULE_LINES, FUNCTION_LINES = 600, 80


def _modules() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if "migrations" not in p.parts]


def test_the_modules_are_found() -> None:
    assert len(_modules()) > 200


def test_no_module_over_600_lines() -> None:
    long = {
        str(p.relative_to(SRC)): n
        for p in _modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_LINES
    }
    assert not long, f"modules over {MODULE_LINES} lines: {long}"


def test_no_function_over_80_lines() -> None:
    long = {}
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > FUNCTION_LINES:
                    long[f"{path.relative_to(SRC)}:{node.lineno} {node.name}"] = lines
    assert not long, f"functions over {FUNCTION_LINES} lines: {long}"
