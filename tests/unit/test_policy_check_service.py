"""The policy dry run through the fake store."""

from __future__ import annotations

import pytest

from gharts_core.errors import (
    NotTeamMember,
    TeamInactive,
    TeamNotFound,
    TeamRequired,
    ValidationFailed,
)
from gharts_core.model import AuditAction, Principal
from gharts_core.policy import ViolationReason
from gharts_core.services.policy_check import PolicyCheckService
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import (
    all_runners,
    audit_rows,
    machine_principal,
    make_client,
    make_team,
    make_user,
    new_uuid,
    seed,
    user_principal,
)


class World:
    """Teams backend and frontend, alice in backend, the service."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.service = PolicyCheckService(self.store, self.clock)
        self.backend = make_team("backend")
        self.frontend = make_team("frontend")
        self.alice = make_user("alice@example.com")

    @property
    def principal(self) -> Principal:
        """Alice, member of backend."""
        return user_principal(self.alice, self.backend)


@pytest.fixture
async def world() -> World:
    world = World()
    await seed(
        world.store,
        world.backend,
        world.frontend,
        world.alice,
        members=[(world.backend, world.alice)],
    )
    return world


async def test_allowed_labels_give_the_final_label_set(world: World) -> None:
    result = await world.service.check(world.principal, ["self-hosted", "GPU-A100"])

    expected = (True, ("backend", "gpu-a100"), (), "backend")
    actual = (
        result.allowed,
        result.decision.labels,
        result.decision.violations,
        result.team.name,
    )
    assert expected == actual


async def test_refused_labels_are_reported_not_raised(world: World) -> None:
    result = await world.service.check(world.principal, ["gpu-a", "cpu-x"])

    expected = (False, [("cpu-x", ViolationReason.NOT_ALLOWED)])
    assert expected == (result.allowed, [(v.label, v.reason) for v in result.decision.violations])


async def test_malformed_labels_are_reported_not_raised(world: World) -> None:
    result = await world.service.check(world.principal, ["bad label!"])

    expected = [ViolationReason.INVALID_FORMAT]
    assert expected == [v.reason for v in result.decision.violations]


async def test_a_check_provisions_nothing_and_is_audited(world: World) -> None:
    await world.service.check(world.principal, ["cpu-x"])

    (row,) = await audit_rows(world.store, AuditAction.POLICY_CHECK.value)
    runners = await all_runners(world.store)
    expected = ("backend", ["cpu-x"], False, [])
    assert expected == (row.team_name, row.details["labels"], row.details["allowed"], runners)


async def test_a_team_can_be_named_by_id(world: World) -> None:
    result = await world.service.check(world.principal, ["gpu-a"], team_id=world.backend.id)

    expected = world.backend
    assert expected == result.team


async def test_an_admin_may_check_any_team(world: World) -> None:
    root = make_user("root@example.com", is_admin=True)

    result = await world.service.check(user_principal(root), ["gpu-a"], team_name="frontend")

    expected = ("frontend", "gpu-a")
    assert expected == result.decision.labels


async def test_a_machine_client_checks_against_its_team(world: World) -> None:
    client = make_client(world.frontend)

    result = await world.service.check(machine_principal(client), ["frontend"])

    expected = "frontend"
    assert expected == result.team.name


async def test_a_member_of_several_teams_must_name_one(world: World) -> None:
    principal = user_principal(world.alice, world.backend, world.frontend)

    with pytest.raises(TeamRequired):
        await world.service.check(principal, ["gpu-a"])


async def test_an_unknown_team_is_not_found(world: World) -> None:
    with pytest.raises(TeamNotFound):
        await world.service.check(world.principal, ["gpu-a"], team_name="nope")


async def test_another_team_is_refused(world: World) -> None:
    with pytest.raises(NotTeamMember):
        await world.service.check(world.principal, ["gpu-a"], team_name="frontend")


async def test_a_deactivated_team_is_refused(world: World) -> None:
    legacy = make_team("legacy", deactivated="moved")
    await seed(world.store, legacy)
    principal = user_principal(world.alice, world.backend, legacy)

    with pytest.raises(TeamInactive):
        await world.service.check(principal, ["gpu-a"], team_name="legacy")


async def test_naming_a_team_twice_is_a_validation_error(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await world.service.check(
            world.principal, ["gpu-a"], team_name="backend", team_id=new_uuid()
        )

    expected = ["team_name"]
    assert expected == list(caught.value.field_errors)
