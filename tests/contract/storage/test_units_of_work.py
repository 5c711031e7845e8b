"""Units of work are transactions: all or nothing, and usable after a refused write."""

from __future__ import annotations

import pytest

from gharts_core.errors import Conflict
from gharts_core.model import Team, User
from gharts_core.ports.storage import AuditFilter, Page, Store, TeamFilter
from tests.contract.storage.storage_support import (
    Backend,
    add_teams,
    make_audit,
    make_runner,
    make_team,
    make_user,
    minutes,
)


class Boom(Exception):
    """Raised by a test inside a unit of work."""


async def _write_everywhere_then_fail(store: Store, team: Team, user: User) -> None:
    async with store.unit_of_work() as uow:
        await uow.teams.add(make_team("dropped"))
        await uow.users.add(user)
        await uow.memberships.add(team.id, user.id)
        await uow.runners.reserve(make_runner(team, "r-1"), None)
        await uow.audit.append(make_audit(minutes(1)))
        await uow.webhook_deliveries.record("d-1", minutes(1))
        raise Boom


async def test_a_block_that_raises_leaves_no_trace(store: Store) -> None:
    team = make_team("kept")
    await add_teams(store, team)

    with pytest.raises(Boom):
        await _write_everywhere_then_fail(store, team, make_user("alice@example.com"))

    async with store.unit_of_work() as uow:
        actual = (
            (await uow.teams.list(TeamFilter(), Page())).items,
            await uow.users.get_by_email("alice@example.com"),
            await uow.memberships.members_of(team.id),
            await uow.runners.count_live(team.id),
            (await uow.audit.list(AuditFilter(), Page())).total,
            await uow.webhook_deliveries.record("d-1", minutes(2)),
        )
    expected: tuple[object, ...] = ((team,), None, [], 0, 0, True)
    assert expected == (actual[0], actual[1], list(actual[2]), *actual[3:])


async def test_a_refused_write_leaves_the_unit_of_work_usable(store: Store) -> None:
    await add_teams(store, make_team("taken"))

    async with store.unit_of_work() as uow:
        with pytest.raises(Conflict):
            await uow.teams.add(make_team("taken"))
        await uow.teams.add(make_team("fresh"))

    async with store.unit_of_work() as uow:
        names = [t.name for t in (await uow.teams.list(TeamFilter(), Page())).items]
    expected = ["fresh", "taken"]
    assert expected == names


async def test_a_committed_unit_is_seen_through_another_store_on_the_database(
    backend: Backend,
) -> None:
    team = make_team()
    await add_teams(backend.open(), team)

    async with backend.open().unit_of_work() as uow:
        actual = await uow.teams.get(team.id)

    assert team == actual


async def test_ping_answers_true(store: Store) -> None:
    assert await store.ping()
