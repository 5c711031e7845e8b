"""The import graph of gharts_core and gharts_http has no cycle.

import-linter keeps the layers; this reads every module with ``ast`` and looks for cycles of any
length, counting every import a module makes (at the top, inside functions, and under
``TYPE_CHECKING``): a lazy import that closes a loop is still a loop for the reader.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGES = ("gharts_core", "gharts_http")


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path for package in PACKAGES for path in (SRC / package).rglob("*.py")
    }


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The modules of ours that one import statement names."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in known)
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".")
            anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            submodule = f"{base}.{alias.name}"
            if submodule in known:
                yield submodule
            elif base in known:
                yield base


def import_graph() -> dict[str, set[str]]:
    """Each module of ``PACKAGES`` and the modules of ``PACKAGES`` it imports."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        is_package = path.name == "__init__.py"
        graph[module] = {
            target
            for node in ast.walk(tree)
            for target in _imported(node, module, is_package, known)
            if target != module
        }
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_module_of_the_core_or_the_service_imports_itself_back() -> None:
    """No cycle among the modules of gharts_core and gharts_http, however long."""
    assert [] == cycles(import_graph())


def test_the_graph_sees_the_imports_it_must_see() -> None:
    """The reader finds known edges, so an empty cycle list means something."""
    graph = import_graph()
    assert "gharts_core.errors" in graph["gharts_core.policy"]
    assert "gharts_http.cli.dev.server" in graph["gharts_http.cli.dev.command"]  # a lazy import
    assert len(graph) > 100


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set(), "c": {"b"}}, []),
    ],
    ids=["two", "three with a tail", "none"],
)
def test_cycles_are_found_whatever_their_length(
    graph: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert expected == cycles(graph)
