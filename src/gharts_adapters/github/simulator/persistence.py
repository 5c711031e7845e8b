"""The simulator's runners kept in a JSON file, so that a restarted simulator keeps its GitHub.

:func:`keep_in_file` loads the file into a simulator (when it exists) and saves the runners
after every change, atomically (a temporary file renamed over the old one). The file holds the
runners of every scope and the next runner id, so ids are never handed out twice across
restarts; tokens, faults and counters are not kept.
"""

from __future__ import annotations

import json
from pathlib import Path

from gharts_adapters.github.simulator.lifecycle import RunnerStore

__all__ = ["keep_in_file"]


def keep_in_file(simulator: RunnerStore, path: Path) -> None:
    """Load ``path`` into ``simulator`` if it exists, then save every change to it.

    Raise ``ValueError`` naming the file when it cannot be read as a simulator state.
    """
    if path.exists():
        try:
            simulator.restore(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise ValueError(f"{path}: cannot be read as simulator state ({error})") from error
    path.parent.mkdir(parents=True, exist_ok=True)
    simulator.on_change = lambda: _save(simulator, path)
    _save(simulator, path)


def _save(simulator: RunnerStore, path: Path) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(simulator.snapshot(), indent=1) + "\n", encoding="utf-8")
    temporary.replace(path)
