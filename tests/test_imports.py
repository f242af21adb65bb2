"""Imports stay honest: libraries through their public API.

A static read of every module in src/ (the source, not the imported modules, so an import
inside a function or under TYPE_CHECKING counts too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted((SRC / "certhall").rglob("*.py")):
        if "migrations" not in path.parts:
            yield str(path.relative_to(SRC)), ast.parse(path.read_text("utf-8"), str(path))


def _imported_modules(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """(line, dotted name) of every module an import statement names, and of every name a
    ``from`` import takes (it may be a module)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def _private_cryptography(name: str) -> bool:
    parts = name.split(".")
    if parts[0] != "cryptography":
        return False
    return any(part.startswith("_") for part in parts) or name.startswith(
        ("cryptography.hazmat.bindings", "cryptography.hazmat.backends")
    )


def test_cryptography_only_through_its_public_api() -> None:
    found = [
        f"{path}:{line} {name}"
        for path, tree in _modules()
        for line, name in _imported_modules(tree)
        if _private_cryptography(name)
    ]
    assert found == [], "use cryptography's public names (hazmat.primitives ...)"
