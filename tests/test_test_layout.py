"""The test tree is a tree of packages, so any subset of it collects on its own.

Helpers are imported by their package path (``from tests.unit.builders import ...``), never by a
bare module name that only resolves through pytest's ``sys.path`` insertion, and never from a
``conftest`` (two of them clash as soon as a run collects two folders).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

TESTS = Path(__file__).parent
SKIPPED_FOLDERS = {"node_modules", "__pycache__"}
EDGE_PACKAGES = {"gharts_adapters", "gharts_http"}


def _python_files() -> list[Path]:
    return sorted(
        path
        for path in TESTS.rglob("*.py")
        if not SKIPPED_FOLDERS.intersection(path.relative_to(TESTS).parts)
    )


def _imported_modules(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module is not None:
            yield node.module


def _relative(path: Path) -> str:
    return path.relative_to(TESTS.parent).as_posix()


def test_every_folder_holding_python_files_is_a_package() -> None:
    """Each folder under tests/ with a Python file, and each folder above it, has __init__.py."""
    folders = {folder for path in _python_files() for folder in [path.parent, *path.parents]}
    folders = {folder for folder in folders if folder.is_relative_to(TESTS)}
    expected: list[str] = []
    assert expected == sorted(
        _relative(folder) for folder in folders if not (folder / "__init__.py").is_file()
    )


def test_no_test_module_imports_from_a_conftest() -> None:
    """Fixtures come from conftest files; names a test imports live in support modules."""
    expected: list[str] = []
    assert expected == [
        f"{_relative(path)}: {module}"
        for path in _python_files()
        for module in _imported_modules(path)
        if module.split(".")[-1] == "conftest"
    ]


def test_helpers_are_imported_by_their_package_path() -> None:
    """A module of tests/ is imported as ``tests.<folder>.<module>``, not by its bare name."""
    bare_names = {path.stem for path in _python_files()}
    expected: list[str] = []
    assert expected == [
        f"{_relative(path)}: {module}"
        for path in _python_files()
        for module in _imported_modules(path)
        if module.split(".")[0] in bare_names
    ]


def test_unit_tests_reach_the_core_only() -> None:
    """tests/unit is core behaviour through the fakes; adapter and HTTP tests live elsewhere."""
    expected: list[str] = []
    assert expected == [
        f"{_relative(path)}: {module}"
        for path in _python_files()
        if path.is_relative_to(TESTS / "unit")
        for module in _imported_modules(path)
        if module.split(".")[0] in EDGE_PACKAGES
    ]


def test_no_test_module_edits_sys_path() -> None:
    """Packages make the helpers importable; nothing in tests/ reaches into ``sys.path``."""
    expected: list[str] = []
    assert expected == [
        f"{_relative(path)}:{node.lineno}"
        for path in _python_files()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute)
        and node.attr == "path"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    ]
