"""The FakeStore's test switches: a simulated outage and the count of committed writes."""

from __future__ import annotations

import pytest

from gharts_core.errors import StorageUnavailable
from gharts_core.ports.storage import Page, TeamFilter
from gharts_core.testing.fake_store import FakeStore
from tests.contract.storage.storage_support import add_teams, make_team


async def test_a_simulated_outage_fails_every_unit_of_work_until_healed() -> None:
    store = FakeStore()
    store.fail_with(StorageUnavailable())

    with pytest.raises(StorageUnavailable):
        async with store.unit_of_work():
            pass
    ready_during = await store.ping()
    store.fail_with(None)
    await add_teams(store, make_team())

    expected = (False, True, 1)
    assert expected == (ready_during, await store.ping(), store.writes)


async def _add_team_while_the_database_goes_away(store: FakeStore) -> None:
    async with store.unit_of_work() as uow:
        await uow.teams.add(make_team())
        store.fail_with(StorageUnavailable())


async def test_an_outage_starting_inside_a_unit_of_work_drops_its_changes() -> None:
    store = FakeStore()

    with pytest.raises(StorageUnavailable):
        await _add_team_while_the_database_goes_away(store)
    store.fail_with(None)
    async with store.unit_of_work() as uow:
        total = (await uow.teams.list(TeamFilter(), Page())).total

    expected = (0, 0)
    assert expected == (total, store.writes)


async def test_reads_and_refused_writes_are_not_counted_as_writes() -> None:
    store = FakeStore()
    team = make_team()
    await add_teams(store, team)

    async with store.unit_of_work() as uow:
        await uow.teams.get(team.id)
        await uow.memberships.remove(team.id, team.id)
        await uow.audit.purge_before(team.created_at)

    expected = 1
    assert expected == store.writes
