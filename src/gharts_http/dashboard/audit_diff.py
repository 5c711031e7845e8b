"""The before/after of an audit row, as the audit pages show it: one line per changed field.

Change rows (``user.update``, ``team.update`` and the other admin edits) record ``before`` and
``after`` snapshots and the ``changed`` field names; every other row shows its details as they
were recorded.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from gharts_core.model import AuditEvent

__all__ = ["FieldChange", "changes_of", "other_details", "shown"]


@attrs.frozen
class FieldChange:
    """One changed field of an audit row: its name and its values before and after, as text."""

    field: str
    before: str
    after: str


def shown(value: Any) -> str:
    """Return a recorded value as text: strings as they are, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "))


def changes_of(event: AuditEvent) -> list[FieldChange]:
    """Return the changed fields of a row that recorded ``before`` and ``after`` snapshots."""
    before, after = event.details.get("before"), event.details.get("after")
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return []
    changed = event.details.get("changed")
    names = (
        [str(name) for name in changed]
        if isinstance(changed, list)
        else sorted(k for k in after if before.get(k) != after[k])
    )
    return [FieldChange(name, shown(before.get(name)), shown(after.get(name))) for name in names]


def other_details(event: AuditEvent) -> dict[str, str]:
    """Return the row's details beside its snapshots, each value as text."""
    skipped = {"before", "after", "changed"} if changes_of(event) else set()
    return {k: shown(v) for k, v in sorted(event.details.items()) if k not in skipped}
