"""The configuration reference in docs/operations.md matches the settings class."""

from __future__ import annotations

import enum
import re
from pathlib import Path

import attrs

from gharts_http.settings import IssuerSettings, Settings

DOC = Path(__file__).parents[2] / "docs" / "operations.md"
_ROW = re.compile(r"^\| `(?P<key>[a-z_.\[\]]+)` \| (?P<default>[^|]*) \|")


def documented() -> dict[str, str]:
    """Return key -> default cell of the reference table."""
    text = DOC.read_text(encoding="utf-8")
    table = text.split("### Configuration reference", 1)[1].split("\n## ", 1)[0]
    return {m["key"]: m["default"].strip() for m in map(_ROW.match, table.splitlines()) if m}


def declared() -> dict[str, object]:
    """Return key -> default of every settings field (issuer fields as ``auth.issuers[].x``)."""
    keys: dict[str, object] = {}
    for section in attrs.fields(Settings):
        for field in attrs.fields(type(section.default)):
            if field.name == "issuers":
                for issuer_field in attrs.fields(IssuerSettings):
                    keys[f"auth.issuers[].{issuer_field.name}"] = issuer_field.default
            else:
                keys[f"{section.name}.{field.name}"] = field.default
    return keys


def test_every_setting_is_documented_and_nothing_else() -> None:
    """The table lists exactly the keys the settings class accepts."""
    assert sorted(declared()) == sorted(documented())


def test_documented_scalar_defaults_are_the_real_ones() -> None:
    """Where the table shows a literal default, it is the settings class's default."""
    doc = documented()
    for key, default in declared().items():
        if default is attrs.NOTHING:
            assert "required" == doc[key], key
            continue
        if isinstance(default, bool):
            expected = str(default).lower()
        elif isinstance(default, enum.Enum):
            expected = str(default.value)
        elif isinstance(default, int | str):
            expected = str(default)
        else:
            continue
        assert f"`{expected}`" == doc[key], key
