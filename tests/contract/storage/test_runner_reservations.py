"""Reservations: quota and unique live names hold under concurrency, on every backend."""

from __future__ import annotations

import asyncio
import uuid

import attrs
import pytest

from gharts_core.errors import Conflict, QuotaExceeded, RunnerNotFound, TeamNotFound
from gharts_core.model import RunnerRecord, RunnerStatus, RunnerTransition, TransitionSource
from gharts_core.ports.storage import Page, RunnerFilter, Store
from tests.contract.storage.storage_support import (
    Backend,
    add_teams,
    make_runner,
    make_team,
    minutes,
)


async def _reserve(store: Store, runner: RunnerRecord, max_runners: int | None) -> str:
    try:
        async with store.unit_of_work() as uow:
            await uow.runners.reserve(runner, max_runners)
    except QuotaExceeded:
        return "quota"
    except Conflict:
        return "conflict"
    return "ok"


async def _live(store: Store, team_id: uuid.UUID) -> int:
    async with store.unit_of_work() as uow:
        return await uow.runners.count_live(team_id)


async def test_fifty_concurrent_reservations_fill_a_quota_of_five_exactly(store: Store) -> None:
    team = make_team(max_runners=5)
    await add_teams(store, team)

    outcomes = await asyncio.gather(
        *(_reserve(store, make_runner(team, f"runner-{i}"), 5) for i in range(50))
    )

    expected = ((5, 45), 5)
    actual = ((outcomes.count("ok"), outcomes.count("quota")), await _live(store, team.id))
    assert expected == actual


async def test_reservations_through_two_stores_on_one_database_respect_the_quota(
    backend: Backend,
) -> None:
    first, second = backend.open(), backend.open()
    team = make_team(max_runners=3)
    await add_teams(first, team)

    outcomes = await asyncio.gather(
        *(
            _reserve(first if i % 2 else second, make_runner(team, f"runner-{i}"), 3)
            for i in range(20)
        )
    )

    expected = ((3, 17), 3)
    actual = ((outcomes.count("ok"), outcomes.count("quota")), await _live(second, team.id))
    assert expected == actual


async def test_concurrent_reservations_of_one_name_succeed_once(store: Store) -> None:
    team_a, team_b = make_team("team-a"), make_team("team-b")
    await add_teams(store, team_a, team_b)

    outcomes = await asyncio.gather(
        *(
            _reserve(store, make_runner((team_a, team_b)[i % 2], "same-name"), None)
            for i in range(20)
        )
    )

    expected = (1, 19)
    assert expected == (outcomes.count("ok"), outcomes.count("conflict"))


async def test_quota_is_counted_per_team(store: Store) -> None:
    full, other = make_team("full", max_runners=1), make_team("other", max_runners=1)
    await add_teams(store, full, other)
    await _reserve(store, make_runner(full, "f-1"), 1)

    actual = [
        await _reserve(store, make_runner(full, "f-2"), 1),
        await _reserve(store, make_runner(other, "o-1"), 1),
    ]

    expected = ["quota", "ok"]
    assert expected == actual


async def test_unlimited_quota_never_refuses(store: Store) -> None:
    team = make_team(max_runners=None)
    await add_teams(store, team)

    outcomes = [await _reserve(store, make_runner(team, f"r-{i}"), None) for i in range(12)]

    expected = ["ok"] * 12
    assert expected == outcomes


async def test_quota_exceeded_names_the_team_and_its_limit(store: Store) -> None:
    team = make_team("tight", max_runners=1)
    await add_teams(store, team)
    await _reserve(store, make_runner(team, "first"), 1)

    with pytest.raises(QuotaExceeded) as raised:
        async with store.unit_of_work() as uow:
            await uow.runners.reserve(make_runner(team, "second"), 1)

    expected = ("tight", 1)
    assert expected == (raised.value.team, raised.value.max_runners)


async def test_deleting_a_runner_frees_its_quota_slot_and_its_name(store: Store) -> None:
    team = make_team(max_runners=1)
    await add_teams(store, team)
    runner = make_runner(team, "reused")
    await _reserve(store, runner, 1)
    async with store.unit_of_work() as uow:
        await uow.runners.save(
            attrs.evolve(runner, status=RunnerStatus.DELETED, deleted_at=minutes(1)),
            RunnerTransition(
                runner.id,
                RunnerStatus.PROVISIONING,
                RunnerStatus.DELETED,
                TransitionSource.API,
                minutes(1),
                "GitHub refused",
            ),
        )

    expected = ("ok", 1)
    actual = (await _reserve(store, make_runner(team, "reused"), 1), await _live(store, team.id))
    assert expected == actual


async def test_reserve_records_the_first_transition_from_nothing(store: Store) -> None:
    team = make_team()
    await add_teams(store, team)
    runner = make_runner(team, "r-1", at=minutes(3))
    await _reserve(store, runner, None)

    async with store.unit_of_work() as uow:
        transitions = await uow.runners.transitions(runner.id)

    expected = [
        RunnerTransition(
            runner.id, None, RunnerStatus.PROVISIONING, TransitionSource.API, minutes(3)
        )
    ]
    assert expected == list(transitions)


async def test_reserving_for_an_unknown_team_is_team_not_found(store: Store) -> None:
    with pytest.raises(TeamNotFound):
        async with store.unit_of_work() as uow:
            await uow.runners.reserve(make_runner(make_team(), "orphan"), None)


async def test_saving_an_unknown_runner_is_runner_not_found(store: Store) -> None:
    team = make_team()
    await add_teams(store, team)

    with pytest.raises(RunnerNotFound):
        async with store.unit_of_work() as uow:
            await uow.runners.save(make_runner(team, "ghost"))


async def test_save_replaces_the_record_and_appends_transitions_in_order(store: Store) -> None:
    team = make_team()
    await add_teams(store, team)
    runner = make_runner(team, "r-1", at=minutes(0))
    await _reserve(store, runner, None)
    pending = attrs.evolve(runner, status=RunnerStatus.PENDING, github_runner_id=42)
    online = attrs.evolve(pending, status=RunnerStatus.ONLINE, updated_at=minutes(5))
    steps = [
        RunnerTransition(
            runner.id,
            RunnerStatus.PROVISIONING,
            RunnerStatus.PENDING,
            TransitionSource.API,
            minutes(1),
        ),
        RunnerTransition(
            runner.id,
            RunnerStatus.PENDING,
            RunnerStatus.ONLINE,
            TransitionSource.WEBHOOK,
            minutes(5),
            "job started",
        ),
    ]
    async with store.unit_of_work() as uow:
        await uow.runners.save(pending, steps[0])
    async with store.unit_of_work() as uow:
        await uow.runners.save(online, steps[1])
        await uow.runners.save(online)

    async with store.unit_of_work() as uow:
        stored = await uow.runners.get(runner.id)
        transitions = await uow.runners.transitions(runner.id)

    assert online == stored
    assert steps == list(transitions)[1:]
    expected = 3
    assert expected == len(transitions)


async def test_saving_a_changed_label_set_is_what_the_label_filter_sees(store: Store) -> None:
    team = make_team()
    await add_teams(store, team)
    runner = make_runner(team, "r-1", labels=("old-label", "kept"))
    await _reserve(store, runner, None)
    async with store.unit_of_work() as uow:
        await uow.runners.save(attrs.evolve(runner, labels=("kept", "new-label")))

    async with store.unit_of_work() as uow:
        found = {
            label: (await uow.runners.list(RunnerFilter(label=label), Page())).total
            for label in ("old-label", "kept", "new-label")
        }
    expected = {"old-label": 0, "kept": 1, "new-label": 1}
    assert expected == found


async def test_reviving_a_deleted_runner_whose_name_was_reused_conflicts(store: Store) -> None:
    team = make_team()
    await add_teams(store, team)
    old = make_runner(team, "reused")
    await _reserve(store, old, None)
    deleted = attrs.evolve(old, status=RunnerStatus.DELETED, deleted_at=minutes(1))
    async with store.unit_of_work() as uow:
        await uow.runners.save(deleted)
    await _reserve(store, make_runner(team, "reused"), None)

    async with store.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.runners.save(attrs.evolve(deleted, status=RunnerStatus.ONLINE))
        await uow.runners.save(attrs.evolve(deleted, deleted_reason="kept deleted"))
    async with store.unit_of_work() as uow:
        actual = await uow.runners.get(old.id)

    assert attrs.evolve(deleted, deleted_reason="kept deleted") == actual


async def test_find_live_looks_runners_up_by_github_id_or_name_in_any_case(store: Store) -> None:
    team = make_team("finders")
    await add_teams(store, team)
    bound = attrs.evolve(make_runner(team, "bound", at=minutes(1)), github_runner_id=42)
    named = make_runner(team, "named", at=minutes(2))
    gone = attrs.evolve(make_runner(team, "gone", at=minutes(3)), github_runner_id=7)
    async with store.unit_of_work() as uow:
        for runner in (bound, named, gone):
            await uow.runners.reserve(runner, None)
        await uow.runners.save(attrs.evolve(gone, status=RunnerStatus.DELETED))

    async with store.unit_of_work() as uow:
        by_id = await uow.runners.find_live(github_runner_id=42)
        by_name = await uow.runners.find_live(name="named")
        either = await uow.runners.find_live(github_runner_id=42, name="named")
        deleted = await uow.runners.find_live(github_runner_id=7, name="gone")
        other_case = await uow.runners.find_live(name="NAMED")
        nothing = await uow.runners.find_live()

    assert [bound.id] == [r.id for r in by_id]
    assert [named.id] == [r.id for r in by_name]
    assert [bound.id, named.id] == [r.id for r in either]
    assert [named.id] == [r.id for r in other_case]
    assert [] == [*deleted, *nothing]
