"""In-memory runner records and their transitions, with the atomic quota reservation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import attrs

from gharts_core.errors import Conflict, RunnerNotFound, TeamNotFound
from gharts_core.model import RunnerRecord, RunnerStatus, RunnerTransition, TransitionSource
from gharts_core.ports.storage import Page, PageResult, RunnerFilter
from gharts_core.quota import check_quota
from gharts_core.testing._fake_state import FakeRepository, newest_first, one_page


class FakeRunnerRepository(FakeRepository):
    """Runner records and their transitions."""

    def _live(self) -> Iterable[RunnerRecord]:
        return (r for r in self._s.runners.values() if r.status.is_live)

    async def reserve(self, runner: RunnerRecord, max_runners: int | None) -> None:
        """Insert a ``provisioning`` record if the team has room and the name is free."""
        team = self._s.teams.get(runner.team_id)
        if team is None:
            raise TeamNotFound(str(runner.team_id))
        if any(r.name == runner.name for r in self._live()):
            raise Conflict(f"A runner named '{runner.name}' already exists.")
        check_quota(team.name, await self.count_live(team.id), max_runners)
        if runner.id in self._s.runners:
            raise Conflict(f"A runner with id '{runner.id}' already exists.")
        self._s.runners[runner.id] = runner
        self._s.transitions.append(
            RunnerTransition(
                runner_id=runner.id,
                from_status=None,
                to_status=runner.status,
                source=TransitionSource.API,
                at=runner.created_at,
            )
        )
        self._s.writes += 1

    async def get(self, runner_id: uuid.UUID) -> RunnerRecord | None:
        """Return the runner with this id (deleted ones too), or ``None``."""
        return self._s.runners.get(runner_id)

    async def save(self, runner: RunnerRecord, transition: RunnerTransition | None = None) -> None:
        """Replace the stored record and record the transition if one is given."""
        if runner.id not in self._s.runners:
            raise RunnerNotFound(str(runner.id))
        if runner.status.is_live and any(
            r.name == runner.name and r.id != runner.id for r in self._live()
        ):
            raise Conflict(f"A runner named '{runner.name}' already exists.")
        self._s.runners[runner.id] = runner
        if transition is not None:
            self._s.transitions.append(transition)
        self._s.writes += 1

    async def advance(
        self,
        before: RunnerRecord,
        after: RunnerRecord,
        transition: RunnerTransition | None = None,
    ) -> bool:
        """Write the fields ``after`` changes if the stored status is still ``before.status``."""
        stored = self._s.runners.get(after.id)
        if stored is None or stored.status is not before.status:
            return False
        changed = {
            field.name: getattr(after, field.name)
            for field in attrs.fields(RunnerRecord)
            if getattr(after, field.name) != getattr(before, field.name)
        }
        await self.save(attrs.evolve(stored, **changed), transition)
        return True

    async def list(self, query: RunnerFilter, page: Page) -> PageResult[RunnerRecord]:
        """Return one page of runners matching the filter, newest first, then by id."""
        label = None if query.label is None else query.label.lower()
        found = sorted(
            (
                r
                for r in self._s.runners.values()
                if (query.team_ids is None or r.team_id in query.team_ids)
                and (query.status is None or r.status is query.status)
                and (query.team_name is None or r.team_name == query.team_name)
                and (label is None or label in r.labels)
                and (query.include_deleted or r.status.is_live)
            ),
            key=lambda r: r.id,
        )
        return one_page(newest_first(found, lambda r: r.created_at), page)

    async def list_live(self) -> Sequence[RunnerRecord]:
        """Return every runner not ``deleted``, oldest first, then by id."""
        return sorted(self._live(), key=lambda r: (r.created_at, r.id))

    async def find_live(
        self, *, github_runner_id: int | None = None, name: str | None = None
    ) -> Sequence[RunnerRecord]:
        """Return live runners with this GitHub id or this name (any case), oldest first."""
        found = [
            r
            for r in self._live()
            if (github_runner_id is not None and r.github_runner_id == github_runner_id)
            or (name is not None and r.name == name.lower())
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id))

    async def count_live(self, team_id: uuid.UUID) -> int:
        """Return how many of the team's runners count towards its quota."""
        return sum(1 for r in self._live() if r.team_id == team_id)

    async def count_by_team_and_status(self) -> dict[tuple[str, RunnerStatus], int]:
        """Return runner counts keyed by (team name, status), deleted excluded."""
        counts: dict[tuple[str, RunnerStatus], int] = {}
        for r in self._live():
            counts[r.team_name, r.status] = counts.get((r.team_name, r.status), 0) + 1
        return counts

    async def transitions(self, runner_id: uuid.UUID) -> Sequence[RunnerTransition]:
        """Return the runner's recorded transitions, oldest first (ties in recording order)."""
        return sorted(
            (t for t in self._s.transitions if t.runner_id == runner_id), key=lambda t: t.at
        )
