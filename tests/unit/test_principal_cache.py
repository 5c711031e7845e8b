"""The principal cache: a change to a caller's row takes effect within ``principal_ttl``.

The stated bound: a deactivated user or a disabled client is refused at most ``principal_ttl``
(5 s by default) after the change; ``forget_principals`` makes it immediate. Refusals are never
cached, and the cache never holds more than ``principal_cache_size`` principals.
"""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from gharts_core.errors import UserNotAuthorized
from gharts_core.model import (
    Capabilities,
    Deactivation,
    MachineClient,
    Principal,
    PrincipalKind,
    User,
)
from gharts_core.ports.identity import TokenKind
from gharts_core.services._principal_cache import PrincipalCache
from gharts_core.services.auth import AuthenticationSettings, AuthService
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_identity import FAKE_ISSUER, FakeTokenVerifier
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import make_client, make_team, make_user, seed

TTL = AuthenticationSettings().principal_ttl


class World:
    """A service with the default cache, one team, one user and one client."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.verifier = FakeTokenVerifier(self.clock)
        self.service = AuthService(self.store, self.verifier, self.clock)
        self.team = make_team("backend")
        self.user = make_user("alice@example.com", issuer=FAKE_ISSUER, subject="sub-a")
        self.client = make_client(self.team, subject="arc")
        self.user_token = self.verifier.user_token(email="alice@example.com", subject="sub-a")
        self.machine_token = self.verifier.machine_token(subject="arc")

    async def deactivate(self, user: User) -> None:
        """Deactivate ``user`` in the store, as an admin would."""
        left = Deactivation("left", self.clock.now(), "admin")
        async with self.store.unit_of_work() as uow:
            await uow.users.update(attrs.evolve(user, deactivation=left))

    async def disable(self, client: MachineClient) -> None:
        """Disable ``client`` in the store, as an admin would."""
        async with self.store.unit_of_work() as uow:
            await uow.clients.update(attrs.evolve(client, is_active=False))


@pytest.fixture
async def world() -> World:
    """The world, seeded."""
    world = World()
    await seed(
        world.store, world.team, world.user, world.client, members=[(world.team, world.user)]
    )
    return world


async def test_the_default_bound_is_five_seconds() -> None:
    assert timedelta(seconds=5) == TTL


async def test_a_deactivated_user_is_refused_once_the_ttl_has_passed(world: World) -> None:
    await world.service.authenticate(world.user_token)
    await world.deactivate(world.user)

    world.clock.advance(TTL - timedelta(milliseconds=1))
    assert PrincipalKind.USER == (await world.service.authenticate(world.user_token)).kind
    world.clock.advance(timedelta(milliseconds=1))
    with pytest.raises(UserNotAuthorized):
        await world.service.authenticate(world.user_token)


async def test_a_disabled_client_is_refused_once_the_ttl_has_passed(world: World) -> None:
    await world.service.authenticate(world.machine_token)
    await world.disable(world.client)

    world.clock.advance(TTL)
    with pytest.raises(UserNotAuthorized):
        await world.service.authenticate(world.machine_token)


async def test_forgetting_principals_makes_a_change_immediate(world: World) -> None:
    await world.service.authenticate(world.user_token)
    await world.deactivate(world.user)

    world.service.forget_principals()

    with pytest.raises(UserNotAuthorized):
        await world.service.authenticate(world.user_token)


async def test_a_refusal_is_not_cached(world: World) -> None:
    stranger = make_client(world.team, subject="late")
    token = world.verifier.machine_token(subject="late")
    with pytest.raises(UserNotAuthorized):
        await world.service.authenticate(token)

    await seed(world.store, stranger)

    assert stranger.id == (await world.service.authenticate(token)).id


async def test_a_zero_ttl_reads_the_row_on_every_request(world: World) -> None:
    settings = AuthenticationSettings(principal_ttl=timedelta(0))
    service = AuthService(world.store, world.verifier, world.clock, settings)
    await service.authenticate(world.user_token)
    await world.deactivate(world.user)

    with pytest.raises(UserNotAuthorized):
        await service.authenticate(world.user_token)


def test_a_negative_ttl_is_refused() -> None:
    with pytest.raises(ValueError, match="principal_ttl"):
        AuthenticationSettings(principal_ttl=timedelta(seconds=-1))


def _principal(n: int) -> Principal:
    return Principal(
        kind=PrincipalKind.MACHINE,
        id=None,
        name=f"m{n}",
        is_admin=False,
        capabilities=Capabilities(),
        team_ids=frozenset(),
    )


def test_the_cache_keeps_at_most_its_size_dropping_the_least_recently_used() -> None:
    clock = FakeClock()
    cache = PrincipalCache(timedelta(seconds=5), max_entries=2)
    keys = [(TokenKind.MACHINE, FAKE_ISSUER, f"m{n}") for n in range(3)]
    cache.put(keys[0], _principal(0), clock.now())
    cache.put(keys[1], _principal(1), clock.now())
    assert cache.get(keys[0], clock.now()) is not None  # m0 is now the most recently used

    cache.put(keys[2], _principal(2), clock.now())

    assert 2 == len(cache)
    assert cache.get(keys[1], clock.now()) is None
    assert _principal(0) == cache.get(keys[0], clock.now())
    assert _principal(2) == cache.get(keys[2], clock.now())


def test_an_expired_entry_is_dropped_when_asked_for() -> None:
    clock = FakeClock()
    cache = PrincipalCache(timedelta(seconds=5), max_entries=10)
    key = (TokenKind.MACHINE, FAKE_ISSUER, "m0")
    cache.put(key, _principal(0), clock.now())

    clock.advance(5)

    assert cache.get(key, clock.now()) is None
    assert 0 == len(cache)
