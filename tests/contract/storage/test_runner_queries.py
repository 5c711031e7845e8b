"""Runner listing: filters, ordering, paging and counts, done by the store."""

from __future__ import annotations

import gc
import uuid

import pytest

from gharts_core.model import RunnerRecord, RunnerStatus, Team
from gharts_core.ports.storage import Page, RunnerFilter, Store
from tests.contract.storage.storage_support import add_teams, make_runner, make_team, minutes

TEAM_A = make_team("team-a", team_id=uuid.UUID(int=0xA))
TEAM_B = make_team("team-b", team_id=uuid.UUID(int=0xB))


def _runner(
    team: Team, name: str, n: int, at: float, status: RunnerStatus, *labels: str
) -> RunnerRecord:
    return make_runner(
        team,
        name,
        labels=labels or ("linux-build",),
        status=status,
        at=minutes(at),
        runner_id=uuid.UUID(int=n),
    )


# Names say (team, age): "a3" was created at minute 3. "a2x" and "a2y" share minute 2 and are
# ordered by id among themselves.
RUNNERS = (
    _runner(TEAM_A, "a1", 1, 1, RunnerStatus.ONLINE, "gpu-a100", "linux-build"),
    _runner(TEAM_A, "a2y", 3, 2, RunnerStatus.BUSY),
    _runner(TEAM_A, "a2x", 2, 2, RunnerStatus.PENDING, "gpu-a100"),
    _runner(TEAM_A, "a3", 4, 3, RunnerStatus.DELETED),
    _runner(TEAM_B, "b1", 5, 1.5, RunnerStatus.ONLINE),
    _runner(TEAM_B, "b4", 6, 4, RunnerStatus.OFFLINE, "gpu-a100"),
)


@pytest.fixture
async def runners(store: Store) -> Store:
    await add_teams(store, TEAM_A, TEAM_B)
    async with store.unit_of_work() as uow:
        for runner in RUNNERS:
            await uow.runners.reserve(runner, None)
    return store


async def _names(
    store: Store, query: RunnerFilter, page: Page | None = None
) -> tuple[list[str], int]:
    async with store.unit_of_work() as uow:
        result = await uow.runners.list(query, page or Page())
    return [r.name for r in result.items], result.total


async def test_list_is_newest_first_then_by_id(runners: Store) -> None:
    expected = (["b4", "a3", "a2x", "a2y", "b1", "a1"], 6)
    assert expected == await _names(runners, RunnerFilter())


async def test_list_pages_keep_the_total_of_every_match(runners: Store) -> None:
    pages = [await _names(runners, RunnerFilter(), Page(limit=4, offset=o)) for o in (0, 4, 8)]

    expected = [(["b4", "a3", "a2x", "a2y"], 6), (["b1", "a1"], 6), ([], 6)]
    assert expected == pages


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (RunnerFilter(team_ids=frozenset({TEAM_B.id})), ["b4", "b1"]),
        (RunnerFilter(team_ids=frozenset()), []),
        (RunnerFilter(team_name="team-a"), ["a3", "a2x", "a2y", "a1"]),
        (RunnerFilter(status=RunnerStatus.ONLINE), ["b1", "a1"]),
        (RunnerFilter(label="GPU-a100"), ["b4", "a2x", "a1"]),
        (RunnerFilter(label="gpu"), []),
        (RunnerFilter(include_deleted=False), ["b4", "a2x", "a2y", "b1", "a1"]),
        (
            RunnerFilter(team_ids=frozenset({TEAM_A.id, TEAM_B.id}), label="linux-build"),
            ["a3", "a2y", "b1", "a1"],
        ),
        (RunnerFilter(team_name="team-a", status=RunnerStatus.DELETED, include_deleted=False), []),
    ],
)
async def test_list_filters(runners: Store, query: RunnerFilter, expected: list[str]) -> None:
    assert (expected, len(expected)) == await _names(runners, query)


async def test_list_live_returns_every_runner_but_deleted_ones_oldest_first(
    runners: Store,
) -> None:
    async with runners.unit_of_work() as uow:
        live = await uow.runners.list_live()

    expected = ["a1", "b1", "a2x", "a2y", "b4"]
    assert expected == [r.name for r in live]


async def test_counts_exclude_deleted_runners(runners: Store) -> None:
    async with runners.unit_of_work() as uow:
        per_team = (
            await uow.runners.count_live(TEAM_A.id),
            await uow.runners.count_live(TEAM_B.id),
        )
        grouped = await uow.runners.count_by_team_and_status()

    expected_per_team = (3, 2)
    assert expected_per_team == per_team
    expected = {
        ("team-a", RunnerStatus.ONLINE): 1,
        ("team-a", RunnerStatus.BUSY): 1,
        ("team-a", RunnerStatus.PENDING): 1,
        ("team-b", RunnerStatus.ONLINE): 1,
        ("team-b", RunnerStatus.OFFLINE): 1,
    }
    assert expected == grouped


async def test_runners_read_back_equal_to_what_was_written(runners: Store) -> None:
    async with runners.unit_of_work() as uow:
        stored = [await uow.runners.get(r.id) for r in RUNNERS]

    assert list(RUNNERS) == stored


async def test_get_of_an_unknown_runner_is_none(store: Store) -> None:
    async with store.unit_of_work() as uow:
        assert await uow.runners.get(uuid.uuid4()) is None


async def test_loading_every_live_runner_leaves_the_garbage_collector_as_it_was(
    runners: Store,
) -> None:
    async with runners.unit_of_work(read_only=True) as uow:
        await uow.runners.list_live()
        on_after_load = gc.isenabled()
        gc.disable()
        try:
            await uow.runners.list_live()
            off_after_load = not gc.isenabled()
        finally:
            gc.enable()

    assert (True, True) == (on_after_load, off_after_load)
