"""How the ``gharts`` commands print their results: a table for people, JSON for scripts.

Every command that prints a result takes ``--output table|json``. Without it the choice follows
stdout: a table on a terminal, JSON (the API's own response shape) when piped or captured, so
``gharts admin teams list | jq`` needs no flag and an operator at a shell gets columns.
"""

from __future__ import annotations

import argparse
import enum
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import attrs

from gharts_http.cli.support import print_json

__all__ = [
    "OutputFormat",
    "Table",
    "add_output_option",
    "chosen_format",
    "emit",
    "fields_table",
    "rows_table",
]


class OutputFormat(enum.StrEnum):
    """What a command prints its result as."""

    TABLE = "table"
    JSON = "json"


@attrs.frozen
class Table:
    """Column headings and rows of cells, already text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def render(self) -> str:
        """Return the table as aligned columns, a heading line first."""
        widths = [len(column) for column in self.columns]
        for row in self.rows:
            widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
        lines = [self.columns, *self.rows]
        return "\n".join(
            "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            for line in lines
        )


def add_output_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--output table|json`` to a command that prints a result."""
    parser.add_argument(
        "--output",
        type=OutputFormat,
        choices=list(OutputFormat),
        help="table (the default on a terminal) or json (the default otherwise)",
    )


def chosen_format(args: argparse.Namespace) -> OutputFormat:
    """Return ``--output``, or the default for where stdout goes."""
    chosen: OutputFormat | None = getattr(args, "output", None)
    if chosen is not None:
        return chosen
    return OutputFormat.TABLE if sys.stdout.isatty() else OutputFormat.JSON


def emit(args: argparse.Namespace, value: Any, table: Callable[[], Table | str]) -> None:
    """Print ``value`` as JSON, or ``table()`` (a table, or plain text) for a person."""
    if chosen_format(args) is OutputFormat.JSON:
        print_json(value)
        return
    rendered = table()
    print(rendered.render() if isinstance(rendered, Table) else rendered)


def _scalar(value: object) -> str | None:
    """Return the text of a value that is not a collection, ``None`` for collections."""
    text: str | None = None
    if value is None or value in ("", ()):
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, datetime):
        text = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    elif isinstance(value, enum.Enum):
        text = str(value.value)
    elif isinstance(value, str | int | float | uuid.UUID):
        text = " ".join(str(value).split())
    return text


def cell(value: object) -> str:
    """Return one value as table text: lists joined by commas, nothing as ``-``."""
    text = _scalar(value)
    if text is not None:
        return text
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={cell(item)}" for key, item in value.items()) or "-"
    if isinstance(value, Iterable):
        return ",".join(cell(item) for item in value) or "-"
    return " ".join(str(value).split())


def _fields(item: object) -> Mapping[str, object]:
    if attrs.has(type(item)):
        return {f.name: getattr(item, f.name) for f in attrs.fields(type(item))}  # type: ignore[arg-type]
    if isinstance(item, Mapping):
        return item
    raise TypeError(f"cannot tabulate {type(item).__name__}")


def fields_table(item: object, *, exclude: Iterable[str] = ()) -> Table:
    """Return one object as a FIELD / VALUE table (nested objects flattened one level)."""
    left_out = set(exclude)
    rows: list[tuple[str, str]] = []
    for name, value in _fields(item).items():
        if name in left_out:
            continue
        if attrs.has(type(value)):
            rows += [(f"{name}.{key}", cell(inner)) for key, inner in _fields(value).items()]
        else:
            rows.append((name, cell(value)))
    return Table(("FIELD", "VALUE"), tuple(rows))


def rows_table(items: Sequence[object], columns: Sequence[str], *, total: int | None = None) -> str:
    """Return ``items`` as a table of these fields, with a ``N of TOTAL`` line under it."""
    table = Table(
        tuple(column.upper() for column in columns),
        tuple(tuple(cell(_fields(item)[column]) for column in columns) for item in items),
    )
    shown = f"{len(items)} of {total}" if total is not None and total != len(items) else None
    return table.render() + (f"\n({shown} shown; see --limit and --offset)" if shown else "")
