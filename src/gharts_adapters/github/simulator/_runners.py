"""The simulator's runners: one pool per scope, GitHub-shaped JSON, cached pages with ETags."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

import attrs


@attrs.define
class SimRunner:
    """A self-hosted runner as the simulator keeps it."""

    id: int
    scope: str
    name: str
    os: str
    arch: str
    status: str
    busy: bool
    ephemeral: bool
    runner_group_id: int
    custom_labels: tuple[str, ...]


@attrs.frozen
class Page:
    """A serialised page of runners and its ETag."""

    body: bytes
    etag: str
    total_count: int


class LabelIds:
    """GitHub gives every distinct label name one id."""

    def __init__(self, known: dict[str, int] | None = None) -> None:
        self._ids: dict[str, int] = dict(known or {})

    def known(self) -> dict[str, int]:
        """Return every label name (lower-cased) given an id so far, with its id."""
        return dict(self._ids)

    def __call__(self, name: str) -> int:
        """Return the id of ``name`` (case-insensitive), assigning the next one if new."""
        return self._ids.setdefault(name.lower(), len(self._ids) + 1)


def runner_json(runner: SimRunner, label_id: LabelIds) -> dict[str, Any]:
    """Return the runner as GitHub's REST API shows it."""
    read_only = ("self-hosted", runner.os, runner.arch)
    labels = [{"id": label_id(n), "name": n, "type": "read-only"} for n in read_only]
    labels += [{"id": label_id(n), "name": n, "type": "custom"} for n in runner.custom_labels]
    return {
        "id": runner.id,
        "name": runner.name,
        "os": runner.os,
        "status": runner.status,
        "busy": runner.busy,
        "ephemeral": runner.ephemeral,
        "runner_group_id": runner.runner_group_id,
        "labels": labels,
    }


def custom_labels(labels: Iterable[str], *, os: str, arch: str) -> tuple[str, ...]:
    """Drop duplicates and the names GitHub already gives as read-only labels."""
    read_only = {"self-hosted", os.lower(), arch.lower()}
    unique: dict[str, str] = {}
    for label in labels:
        if label.lower() not in read_only:
            unique.setdefault(label.lower(), label)
    return tuple(unique.values())


class Pool:
    """The runners of one scope, in registration order, with a page cache per version."""

    def __init__(self) -> None:
        self.runners: dict[int, SimRunner] = {}
        self._names: dict[str, int] = {}
        self._snapshot: tuple[SimRunner, ...] | None = None
        self._positions: dict[int, int] = {}
        self._pages: dict[tuple[int, int], Page] = {}

    def by_name(self, name: str) -> SimRunner | None:
        """Return the runner called ``name`` (names are unique case-insensitively)."""
        runner_id = self._names.get(name.lower())
        return None if runner_id is None else self.runners[runner_id]

    def add(self, runner: SimRunner) -> None:
        """Add a runner whose name is free."""
        self.runners[runner.id] = runner
        self._names[runner.name.lower()] = runner.id
        self.changed()

    def remove(self, runner_id: int) -> SimRunner | None:
        """Remove a runner; return it, or ``None`` when it was not here."""
        runner = self.runners.pop(runner_id, None)
        if runner is not None:
            del self._names[runner.name.lower()]
            self.changed()
        return runner

    def changed(self) -> None:
        """Drop every cached page: runners were added or removed, so pages shift."""
        self._snapshot = None
        self._pages.clear()

    def updated(self, runner_id: int) -> None:
        """Drop the cached pages holding ``runner_id``, changed in place."""
        position = self._positions.get(runner_id) if self._snapshot is not None else None
        if position is None:
            self.changed()
            return
        for page, per_page in list(self._pages):
            if (page - 1) * per_page <= position < page * per_page:
                del self._pages[(page, per_page)]

    def page(self, page: int, per_page: int, label_id: LabelIds) -> Page:
        """Return page ``page`` (1-based) of ``per_page`` runners, built once per version."""
        cached = self._pages.get((page, per_page))
        if cached is not None:
            return cached
        if self._snapshot is None:
            self._snapshot = tuple(self.runners.values())
            self._positions = {runner.id: i for i, runner in enumerate(self._snapshot)}
        start = (page - 1) * per_page
        chunk = self._snapshot[start : start + per_page]
        body = {
            "total_count": len(self._snapshot),
            "runners": [runner_json(r, label_id) for r in chunk],
        }
        encoded = json.dumps(body, separators=(",", ":")).encode()
        digest = hashlib.sha256(encoded).hexdigest()[:32]
        built = Page(body=encoded, etag=f'W/"{digest}"', total_count=len(self._snapshot))
        self._pages[(page, per_page)] = built
        return built
