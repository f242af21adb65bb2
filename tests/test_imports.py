"""Imports stay honest: modules and libraries through their public names only.

A static read of every module in src/ (the source, not the imported modules, so an import
inside a function or under TYPE_CHECKING counts too).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


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


def _private(name: str) -> bool:
    # ``Model._meta`` is Django's documented Options API, not a private name of ours.
    return name.startswith("_") and not name.startswith("__") and name != "_meta"


def _private_names(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """``from x import _name``, and ``m._name`` where ``m`` came from an import of certhall."""
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if _private(alias.name):
                    yield node.lineno, f"from {node.module} import {alias.name}"
                if (node.module or "").startswith("certhall"):
                    imported.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("certhall"):
                    imported.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in imported
            and _private(node.attr)
        ):
            yield node.lineno, f"{node.value.id}.{node.attr}"


def test_no_private_name_crosses_a_module() -> None:
    """What another module needs is public API of its module (or lives where it is used)."""
    found = [
        f"{path}:{line} {what}" for path, tree in _modules() for line, what in _private_names(tree)
    ]
    assert found == []


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


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree``, imports inside a function too, but not under ``if
    TYPE_CHECKING:`` (never run: an annotation's import ties no module to another)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in _runtime_nodes_of(child))
            continue
        yield from _runtime_nodes_of(node)


def _runtime_nodes_of(node: ast.AST) -> Iterator[ast.AST]:
    yield node
    yield from _runtime_nodes(node)


def _package_graph(package: str) -> dict[str, set[str]]:
    """Which modules of ``package`` each of its modules imports, at its top or inside a
    function (the package itself counts as a node when a name is taken from it: that runs its
    ``__init__``)."""
    root = SRC / package.replace(".", "/")
    paths = {_module_name(path): path for path in root.rglob("*.py")}
    nodes = set(paths)
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        edges: set[str] = set()
        for node in _runtime_nodes(tree):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in nodes and a.name != package}
            elif isinstance(node, ast.ImportFrom) and node.module in nodes:
                for alias in node.names:
                    target = f"{node.module}.{alias.name}"
                    edges.add(target if target in nodes else node.module)
        graph[name] = edges - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for target in sorted(graph.get(node, ())):
            found = visit(target, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def test_the_token_layer_has_no_import_cycle() -> None:
    graph = _package_graph("certhall.tokens")
    assert "certhall.tokens.pin" in graph["certhall.tokens.admin"]  # the graph sees imports
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts of ``graph`` of more than one module, each sorted: the
    modules that import each other, through any number of steps (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            part = [stack.pop()]
            while part[-1] != node:
                part.append(stack.pop())
            if len(part) > 1:
                found.append(sorted(part))

    for start in sorted(graph):
        if start not in index:
            visit(start)
    return sorted(found)


#: The import cycles left, each with why (docs/architecture.md, "Import cycles"). A cycle broken
#: only by an import inside a function is a cycle all the same. Four were, until what both
#: sides read moved below them: ``payments.services`` / ``payments.refunding`` (the refund guard,
#: ``payments.refund_state``), ``hall.documents`` / ``hall.identity`` (whether the real-name
#: check applies and passed, ``hall.realname``), ``ukeys.services`` / ``ukeys.writes`` (a
#: session on a stock Ukey, ``ukeys.sessions``), and the payment sandbox / the gateways and
#: their keys (the sandbox registers itself as ``gateways.StandIn`` in ``PaymentsConfig.ready``
#: instead of being imported by them). None may come back, and no new one form.
CYCLES_LEFT: list[list[str]] = []


def test_no_module_cycle_but_the_ones_left() -> None:
    graph = _package_graph("certhall")
    # the graph sees imports inside functions (the app's ready), not those for annotations only
    assert "certhall.payments.sandbox" in graph["certhall.payments.apps"]
    assert "certhall.hall.models" not in graph["certhall.hall.states"]
    assert _cycles(graph) == sorted(CYCLES_LEFT)
