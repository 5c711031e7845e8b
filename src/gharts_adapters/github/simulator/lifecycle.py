"""The simulator's runners and the controls that move them through their lives."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from gharts_adapters.github.simulator import _api
from gharts_adapters.github.simulator._runners import (
    LabelIds,
    Pool,
    SimRunner,
    custom_labels,
    runner_json,
)

DEFAULT_SCOPE = "org:gharts-sim"


class RunnerStore:
    """Runners in one pool per scope, indexed by id; ids are unique across scopes."""

    def __init__(
        self, *, default_scope: str = DEFAULT_SCOPE, os: str, arch: str, first_runner_id: int
    ) -> None:
        self.default_scope = _api.scope_key(default_scope)
        self.os, self.arch = os, arch
        self._pools: dict[str, Pool] = {}
        self._by_id: dict[int, SimRunner] = {}
        self._label_id = LabelIds()
        self._next_id = first_runner_id
        #: Called after every change of the runners (a state file saves them).
        self.on_change: Callable[[], None] | None = None

    def snapshot(self) -> dict[str, Any]:
        """Return the runners, the next runner id and the label ids, as plain JSON values."""
        runners = [
            {**attrs.asdict(runner), "custom_labels": list(runner.custom_labels)}
            for pool in self._pools.values()
            for runner in pool.runners.values()
        ]
        for pool in self._pools.values():  # label ids are given as runners are first shown
            for runner in pool.runners.values():
                runner_json(runner, self._label_id)
        labels = self._label_id.known()
        return {"next_runner_id": self._next_id, "label_ids": labels, "runners": runners}

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Replace the runners with those of a :meth:`snapshot` (``ValueError`` if malformed)."""
        try:
            runners = [
                SimRunner(**{**raw, "custom_labels": tuple(raw["custom_labels"])})
                for raw in snapshot["runners"]
            ]
            next_id = int(snapshot["next_runner_id"])
            labels = {str(name): int(i) for name, i in snapshot.get("label_ids", {}).items()}
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a simulator snapshot: {error!r}") from error
        self._pools.clear()
        self._by_id.clear()
        self._label_id = LabelIds(labels)
        for runner in runners:
            self._pool(runner.scope).add(runner)
            self._by_id[runner.id] = runner
        self._next_id = max([next_id, *(runner.id + 1 for runner in runners)])

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def register(
        self,
        name: str,
        labels: Iterable[str],
        *,
        scope: str | None = None,
        os: str | None = None,
        arch: str | None = None,
        status: str = "online",
        busy: bool = False,
        ephemeral: bool = False,
        runner_group_id: int = 1,
    ) -> dict[str, Any]:
        """Add a runner configured outside gharts; return it as GitHub shows it."""
        key = _api.scope_key(scope) if scope else self.default_scope
        if self._pool(key).by_name(name) is not None:
            raise ValueError(f"a runner named {name!r} already exists in {key}")
        if status not in {"online", "offline"}:
            raise ValueError("status must be 'online' or 'offline'")
        runner = self._add(
            key, name, list(labels), ephemeral=ephemeral, status=status, busy=busy,
            runner_group_id=runner_group_id, os=os, arch=arch,
        )  # fmt: skip
        return runner_json(runner, self._label_id)

    def runners(self, scope: str | None = None) -> list[dict[str, Any]]:
        """Return every runner (of ``scope`` when given), GitHub-shaped plus its ``scope``."""
        keys = [_api.scope_key(scope)] if scope else list(self._pools)
        return [
            {**runner_json(r, self._label_id), "scope": r.scope}
            for key in keys
            for r in self._pool(key).runners.values()
        ]

    def runner(self, runner_id: int) -> dict[str, Any]:
        """Return one runner as GitHub shows it (``KeyError`` when unknown)."""
        return runner_json(self._runner(runner_id), self._label_id)

    def set_online(self, runner_id: int) -> None:
        """Make the runner connect: online and idle."""
        self._update(runner_id, status="online", busy=False)

    def set_busy(self, runner_id: int, busy: bool = True) -> None:
        """Make the runner take a job (or become idle with ``busy=False``)."""
        self._update(runner_id, status="online", busy=busy)

    def set_idle(self, runner_id: int) -> None:
        """Make the runner online and idle."""
        self._update(runner_id, status="online", busy=False)

    def set_offline(self, runner_id: int) -> None:
        """Make the runner disconnect."""
        self._update(runner_id, status="offline", busy=False)

    def finish_job(self, runner_id: int) -> None:
        """End the runner's job: an ephemeral runner disappears, another one goes idle."""
        runner = self._runner(runner_id)
        if runner.ephemeral:
            self.vanish(runner_id)
        else:
            self._update(runner_id, busy=False)

    def relabel(self, runner_id: int, labels: Iterable[str]) -> None:
        """Replace the runner's custom labels."""
        runner = self._runner(runner_id)
        new = custom_labels(labels, os=runner.os, arch=runner.arch)
        self._update(runner_id, custom_labels=new)

    def vanish(self, runner_id: int) -> None:
        """Make GitHub forget the runner."""
        runner = self._runner(runner_id)
        self._pools[runner.scope].remove(runner_id)
        del self._by_id[runner_id]
        self._changed()

    def _pool(self, scope: str) -> Pool:
        return self._pools.setdefault(scope, Pool())

    def _runner(self, runner_id: int) -> SimRunner:
        try:
            return self._by_id[runner_id]
        except KeyError:
            raise KeyError(f"no runner with id {runner_id}") from None

    def _update(self, runner_id: int, **changes: Any) -> None:
        runner = self._runner(runner_id)
        for field, value in changes.items():
            setattr(runner, field, value)
        self._pools[runner.scope].updated(runner_id)
        self._changed()

    def _add(
        self,
        scope: str,
        name: str,
        labels: Iterable[str],
        *,
        ephemeral: bool,
        status: str,
        busy: bool,
        runner_group_id: int,
        os: str | None = None,
        arch: str | None = None,
    ) -> SimRunner:
        os, arch = os or self.os, arch or self.arch
        runner = SimRunner(
            id=self._next_id,
            scope=scope,
            name=name,
            os=os,
            arch=arch,
            status=status,
            busy=busy,
            ephemeral=ephemeral,
            runner_group_id=runner_group_id,
            custom_labels=custom_labels(labels, os=os, arch=arch),
        )
        self._next_id += 1
        self._pool(scope).add(runner)
        self._by_id[runner.id] = runner
        self._changed()
        return runner
