"""Users, teams, memberships and machine clients: uniqueness, lookups, filters and paging."""

from __future__ import annotations

import asyncio
import uuid

import attrs
import pytest

from gharts_core.authz import ensure_not_last_admin
from gharts_core.errors import ClientNotFound, Conflict, TeamNotFound, UserNotFound
from gharts_core.model import User
from gharts_core.ports.storage import ClientFilter, Page, Store, TeamFilter, UserFilter
from tests.contract.storage.storage_support import (
    add_teams,
    make_client,
    make_team,
    make_user,
    minutes,
)


async def _add_users(store: Store, *users: User) -> None:
    async with store.unit_of_work() as uow:
        for user in users:
            await uow.users.add(user)


async def test_users_read_back_equal_by_id_email_and_subject(store: Store) -> None:
    user = make_user("Carol@Example.com", admin=True, issuer="https://idp/", subject="c-1")
    await _add_users(store, user)

    async with store.unit_of_work() as uow:
        found = [
            await uow.users.get(user.id),
            await uow.users.get_by_email("CAROL@example.COM"),
            await uow.users.get_by_subject("https://idp/", "c-1"),
        ]
        missing = [
            await uow.users.get(uuid.uuid4()),
            await uow.users.get_by_email("nobody@example.com"),
            await uow.users.get_by_subject("https://idp/", "C-1"),
        ]

    assert [user] * 3 == found
    expected: list[User | None] = [None] * 3
    assert expected == missing


@pytest.mark.parametrize(
    "duplicate",
    [
        make_user("ALICE@example.com"),
        make_user("other@example.com", issuer="https://idp/", subject="alice"),
    ],
    ids=["email-any-case", "issuer-and-subject"],
)
async def test_adding_a_user_with_a_taken_email_or_binding_conflicts(
    store: Store, duplicate: User
) -> None:
    await _add_users(store, make_user("alice@example.com", issuer="https://idp/", subject="alice"))

    with pytest.raises(Conflict):
        await _add_users(store, duplicate)


async def test_updating_a_user_onto_a_taken_email_conflicts(store: Store) -> None:
    alice, bob = make_user("alice@example.com"), make_user("bob@example.com")
    await _add_users(store, alice, bob)

    with pytest.raises(Conflict):
        async with store.unit_of_work() as uow:
            await uow.users.update(attrs.evolve(bob, email="alice@example.com"))


async def test_updating_an_unknown_user_is_user_not_found(store: Store) -> None:
    with pytest.raises(UserNotFound):
        async with store.unit_of_work() as uow:
            await uow.users.update(make_user())


async def test_binding_a_subject_is_an_update(store: Store) -> None:
    alice = make_user("alice@example.com")
    await _add_users(store, alice)
    bound = attrs.evolve(alice, oidc_issuer="https://idp/", oidc_subject="a", updated_at=minutes(1))

    async with store.unit_of_work() as uow:
        await uow.users.update(bound)
    async with store.unit_of_work() as uow:
        actual = await uow.users.get_by_subject("https://idp/", "a")

    assert bound == actual


async def test_binding_an_identity_binds_only_a_row_bound_to_nobody(store: Store) -> None:
    """The first binder wins; a bound row, or one that is gone, is left as it is (``None``)."""
    alice = make_user("alice@example.com")
    await _add_users(store, alice)

    async with store.unit_of_work() as uow:
        bound = await uow.users.bind_identity(alice, "https://idp/", "a", minutes(1))
    async with store.unit_of_work() as uow:
        again = await uow.users.bind_identity(alice, "https://idp/", "b", minutes(2))
        gone = await uow.users.bind_identity(
            make_user("gone@example.com"), "https://idp/", "g", minutes(2)
        )
        stored = await uow.users.get(alice.id)

    expected = attrs.evolve(
        alice, oidc_issuer="https://idp/", oidc_subject="a", updated_at=minutes(1)
    )
    assert (expected, None, None, expected) == (bound, again, gone, stored)


async def test_binding_an_identity_another_user_holds_conflicts(store: Store) -> None:
    alice = make_user("alice@example.com", issuer="https://idp/", subject="a")
    bob = make_user("bob@example.com")
    await _add_users(store, alice, bob)

    with pytest.raises(Conflict):
        async with store.unit_of_work() as uow:
            await uow.users.bind_identity(bob, "https://idp/", "a", minutes(1))


async def test_two_logins_binding_one_row_at_once_bind_it_once(store: Store) -> None:
    """Concurrent units of work: one binds, the other finds the row bound and writes nothing."""
    alice = make_user("alice@example.com")
    await _add_users(store, alice)

    async def bind(subject: str) -> User | None:
        async with store.unit_of_work() as uow:
            return await uow.users.bind_identity(alice, "https://idp/", subject, minutes(1))

    results = await asyncio.gather(bind("first"), bind("second"))
    async with store.unit_of_work() as uow:
        stored = await uow.users.get(alice.id)

    winners = [result for result in results if result is not None]
    assert 1 == len(winners)
    assert winners == [stored]


async def test_user_list_filters_order_by_email_and_page(store: Store) -> None:
    team = make_team()
    await add_teams(store, team)
    users = [
        make_user("dave@example.com", admin=True),
        make_user("alice@example.com", admin=True, active=False),
        make_user("carol@corp.example", admin=True),
        make_user("bob_x@example.com"),
        make_user("bobby@example.com"),
    ]
    await _add_users(store, *users)
    async with store.unit_of_work() as uow:
        for user in users[2:]:
            await uow.memberships.add(team.id, user.id)

    async def emails(query: UserFilter, page: Page | None = None) -> tuple[list[str], int]:
        async with store.unit_of_work() as uow:
            result = await uow.users.list(query, page or Page())
        return [u.email for u in result.items], result.total

    expected = {
        "all, page 2": (["bobby@example.com", "carol@corp.example"], 5),
        "substring": (["carol@corp.example"], 1),
        "underscore is literal": (["bob_x@example.com"], 1),
        "admins": (["alice@example.com", "carol@corp.example", "dave@example.com"], 3),
        "active admins": (["carol@corp.example", "dave@example.com"], 2),
        "inactive": (["alice@example.com"], 1),
        "members": (["bob_x@example.com", "bobby@example.com", "carol@corp.example"], 3),
    }
    actual = {
        "all, page 2": await emails(UserFilter(), Page(limit=2, offset=2)),
        "substring": await emails(UserFilter(email="CORP")),
        "underscore is literal": await emails(UserFilter(email="b_x")),
        "admins": await emails(UserFilter(is_admin=True)),
        "active admins": await emails(UserFilter(is_admin=True, is_active=True)),
        "inactive": await emails(UserFilter(is_active=False)),
        "members": await emails(UserFilter(team_id=team.id)),
    }
    assert expected == actual
    async with store.unit_of_work() as uow:
        admins = await uow.users.count_active_admins()
    expected_admins = 2
    assert expected_admins == admins


async def test_team_names_are_unique(store: Store) -> None:
    await add_teams(store, make_team("team-a"))

    with pytest.raises(Conflict):
        await add_teams(store, make_team("team-a"))


async def test_teams_read_back_equal_and_updates_replace_them(store: Store) -> None:
    team = make_team("team-a", max_runners=3)
    await add_teams(store, team)
    unlimited = attrs.evolve(team, max_runners=None, description="new", updated_at=minutes(2))

    async with store.unit_of_work() as uow:
        before = await uow.teams.get_by_name("team-a")
        await uow.teams.update(unlimited)
    async with store.unit_of_work() as uow:
        after = await uow.teams.get(team.id)

    assert (team, unlimited) == (before, after)


async def test_updating_an_unknown_team_is_team_not_found(store: Store) -> None:
    with pytest.raises(TeamNotFound):
        async with store.unit_of_work() as uow:
            await uow.teams.update(make_team())


async def test_team_list_filters_order_by_name_and_page(store: Store) -> None:
    teams = [
        make_team("zeta"),
        make_team("alpha", active=False),
        make_team("mid"),
        make_team("beta"),
    ]
    await add_teams(store, *teams)

    async def names(query: TeamFilter, page: Page | None = None) -> tuple[list[str], int]:
        async with store.unit_of_work() as uow:
            result = await uow.teams.list(query, page or Page())
        return [t.name for t in result.items], result.total

    expected = [
        (["beta", "mid"], 4),
        (["beta", "mid", "zeta"], 3),
        (["alpha"], 1),
        (["alpha", "zeta"], 2),
        ([], 0),
    ]
    actual = [
        await names(TeamFilter(), Page(limit=2, offset=1)),
        await names(TeamFilter(is_active=True)),
        await names(TeamFilter(is_active=False)),
        await names(TeamFilter(team_ids=frozenset({teams[0].id, teams[1].id}))),
        await names(TeamFilter(team_ids=frozenset())),
    ]
    assert expected == actual


async def test_memberships_add_once_remove_once_and_list_by_email(store: Store) -> None:
    team_a, team_b = make_team("team-a"), make_team("team-b")
    bob, alice = make_user("bob@example.com"), make_user("alice@example.com")
    await add_teams(store, team_a, team_b)
    await _add_users(store, bob, alice)

    async with store.unit_of_work() as uow:
        added = [
            await uow.memberships.add(team_a.id, bob.id),
            await uow.memberships.add(team_a.id, bob.id),
            await uow.memberships.add(team_a.id, alice.id),
            await uow.memberships.add(team_b.id, bob.id),
        ]
    async with store.unit_of_work() as uow:
        removed = [
            await uow.memberships.remove(team_b.id, bob.id),
            await uow.memberships.remove(team_b.id, bob.id),
        ]
        members = await uow.memberships.members_of(team_a.id)
        teams_of_bob = await uow.memberships.team_ids_of(bob.id)

    expected = ([True, False, True, True], [True, False], [alice, bob], frozenset({team_a.id}))
    assert expected == (added, removed, list(members), teams_of_bob)


async def test_membership_of_an_unknown_team_or_user_is_not_found(store: Store) -> None:
    team, user = make_team(), make_user()
    await add_teams(store, team)
    await _add_users(store, user)

    with pytest.raises(TeamNotFound):
        async with store.unit_of_work() as uow:
            await uow.memberships.add(uuid.uuid4(), user.id)
    with pytest.raises(UserNotFound):
        async with store.unit_of_work() as uow:
            await uow.memberships.add(team.id, uuid.uuid4())


async def test_only_one_client_per_identity_may_be_active(store: Store) -> None:
    team_a, team_b = make_team("team-a"), make_team("team-b")
    await add_teams(store, team_a, team_b)
    active = make_client(team_a, subject="arc")
    disabled = make_client(team_b, subject="arc", active=False)
    async with store.unit_of_work() as uow:
        await uow.clients.add(active)
        await uow.clients.add(disabled)

    with pytest.raises(Conflict):
        async with store.unit_of_work() as uow:
            await uow.clients.add(make_client(team_b, subject="arc"))
    with pytest.raises(Conflict):
        async with store.unit_of_work() as uow:
            await uow.clients.update(attrs.evolve(disabled, is_active=True))
    async with store.unit_of_work() as uow:
        await uow.clients.update(attrs.evolve(active, is_active=False))
        await uow.clients.update(attrs.evolve(disabled, is_active=True))
    async with store.unit_of_work() as uow:
        actual = await uow.clients.get_active("https://idp.example.com/", "arc")

    assert attrs.evolve(disabled, is_active=True) == actual


async def test_clients_of_unknown_teams_or_ids_are_not_found(store: Store) -> None:
    team = make_team()
    await add_teams(store, team)

    with pytest.raises(TeamNotFound):
        async with store.unit_of_work() as uow:
            await uow.clients.add(make_client(make_team("ghost")))
    with pytest.raises(ClientNotFound):
        async with store.unit_of_work() as uow:
            await uow.clients.update(make_client(team))


async def test_client_list_filters_oldest_first_and_pages(store: Store) -> None:
    team_a, team_b = make_team("team-a"), make_team("team-b")
    await add_teams(store, team_a, team_b)
    clients = [
        make_client(team_a, subject="c3", at=minutes(3)),
        make_client(team_b, subject="c1", at=minutes(1)),
        make_client(team_a, subject="c2", at=minutes(2), active=False),
        make_client(team_a, subject="c4", at=minutes(4), issuer="https://k8s.local/"),
    ]
    async with store.unit_of_work() as uow:
        for client in clients:
            await uow.clients.add(client)

    async def subjects(query: ClientFilter, page: Page | None = None) -> tuple[list[str], int]:
        async with store.unit_of_work() as uow:
            result = await uow.clients.list(query, page or Page())
        return [c.subject for c in result.items], result.total

    expected = [
        (["c2", "c3"], 4),
        (["c2", "c3", "c4"], 3),
        (["c4"], 1),
        (["c1", "c3", "c4"], 3),
        (["c3"], 1),
    ]
    actual = [
        await subjects(ClientFilter(), Page(limit=2, offset=1)),
        await subjects(ClientFilter(team_id=team_a.id)),
        await subjects(ClientFilter(issuer="https://k8s.local/")),
        await subjects(ClientFilter(is_active=True)),
        await subjects(ClientFilter(team_id=team_a.id, is_active=True, issuer=clients[0].issuer)),
    ]
    assert expected == actual


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(store: Store) -> None:
    first, second = (
        make_user("first@example.com", admin=True),
        make_user("second@example.com", admin=True),
    )
    async with store.unit_of_work() as uow:
        await uow.users.add(first)
        await uow.users.add(second)

    async def demote(target: User) -> bool:
        try:
            async with store.unit_of_work() as uow:
                demoted = attrs.evolve(target, is_admin=False)
                ensure_not_last_admin(target, demoted, await uow.users.count_active_admins())
                # Widen the race window; the outcome must not depend on timing.
                await asyncio.sleep(0.05)
                await uow.users.update(demoted)
        except Conflict:
            return False
        return True

    outcomes = await asyncio.gather(demote(first), demote(second))
    async with store.unit_of_work() as uow:
        remaining = await uow.users.count_active_admins()
    assert [True, False] == sorted(outcomes, reverse=True)
    assert 1 == remaining
