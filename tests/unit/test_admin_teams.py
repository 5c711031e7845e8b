"""Admin use cases for teams and their members, through the fake store."""

from __future__ import annotations

import uuid

import attrs
import pytest

from gharts_core.errors import (
    AdminRequired,
    Conflict,
    InvalidPolicy,
    TeamNotFound,
    UserNotFound,
    ValidationFailed,
)
from gharts_core.model import AuditAction, Deactivation
from gharts_core.policy import LabelPolicy
from gharts_core.ports.storage import Page
from gharts_core.services.admin_teams import CreateTeam, TeamQuery, UpdateTeam
from tests.unit.admin_support import World, outsider


@pytest.fixture
def world() -> World:
    return World()


def problems(error: InvalidPolicy) -> set[tuple[str, str | None, str]]:
    return {(p.field, p.value, p.reason) for p in error.problems}


async def test_create_team_applies_the_defaults(world: World) -> None:
    admin = await world.admin()

    team = await world.teams.create_team(admin, CreateTeam(name="backend"))

    expected = ("backend", "", LabelPolicy(), (1,), 1, None, True)
    actual = (
        team.name,
        team.description,
        team.policy,
        team.allowed_runner_group_ids,
        team.default_runner_group_id,
        team.max_runners,
        team.is_active,
    )
    assert expected == actual


async def test_create_team_stores_the_policy_and_audits_a_snapshot(world: World) -> None:
    admin = await world.admin()
    command = CreateTeam(
        name="ml-platform",
        description=" GPU runners ",
        required_labels=["ML", "gpu"],
        optional_label_patterns=["cuda-[0-9]+"],
        allowed_runner_group_ids=[7, 3, 7],
        max_runners=10,
    )

    team = await world.teams.create_team(admin, command)

    expected = ("GPU runners", ("gpu", "ml"), (7, 3), 7, team)
    actual = (
        team.description,
        team.policy.required_labels,
        team.allowed_runner_group_ids,
        team.default_runner_group_id,
        await world.teams.get_team(admin, "ml-platform"),
    )
    assert expected == actual
    [row] = await world.audit_rows(AuditAction.TEAM_CREATE)
    snapshot = {
        "name": "ml-platform",
        "description": "GPU runners",
        "required_labels": ["gpu", "ml"],
        "optional_label_patterns": ["cuda-[0-9]+"],
        "allowed_runner_group_ids": [7, 3],
        "default_runner_group_id": 7,
        "max_runners": 10,
        "is_active": True,
    }
    assert (snapshot, "ml-platform", team.id) == (dict(row.details), row.target_id, row.team_id)


async def test_create_team_keeps_an_explicit_default_group(world: World) -> None:
    admin = await world.admin()

    team = await world.teams.create_team(
        admin, CreateTeam(name="web", allowed_runner_group_ids=[2, 5], default_runner_group_id=5)
    )

    expected = 5
    assert expected == team.default_runner_group_id


async def test_create_team_with_a_bad_pattern_names_the_pattern(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(InvalidPolicy) as raised:
        await world.teams.create_team(
            admin, CreateTeam(name="web", optional_label_patterns=["ok-.*", "bad-(["])
        )

    assert {("optional_label_patterns", "bad-([", "invalid_regex")} == problems(raised.value)
    assert "bad-([" in raised.value.detail


async def test_create_team_reports_every_policy_problem_at_once(world: World) -> None:
    admin = await world.admin()
    command = CreateTeam(
        name="web",
        required_labels=["linux"],
        optional_label_patterns=["("],
        allowed_runner_group_ids=[],
        max_runners=0,
    )

    with pytest.raises(InvalidPolicy) as raised:
        await world.teams.create_team(admin, command)

    expected = {
        ("required_labels", "linux", "system_label"),
        ("optional_label_patterns", "(", "invalid_regex"),
        ("allowed_runner_group_ids", None, "empty"),
        ("max_runners", "0", "out_of_range"),
    }
    assert expected == problems(raised.value)


@pytest.mark.parametrize(
    ("groups", "default", "expected"),
    [
        ([0, 2], None, {("allowed_runner_group_ids", "0", "invalid_id")}),
        ([2, 3], 4, {("default_runner_group_id", "4", "not_allowed")}),
    ],
)
async def test_create_team_refuses_bad_runner_groups(
    world: World, groups: list[int], default: int | None, expected: set[tuple[str, str, str]]
) -> None:
    admin = await world.admin()

    with pytest.raises(InvalidPolicy) as raised:
        await world.teams.create_team(
            admin,
            CreateTeam(
                name="web", allowed_runner_group_ids=groups, default_runner_group_id=default
            ),
        )

    assert expected == problems(raised.value)


@pytest.mark.parametrize("name", ["a", "Backend", "back_end", "-web", "web-", "x" * 51, ""])
async def test_create_team_refuses_a_malformed_name(world: World, name: str) -> None:
    admin = await world.admin()

    with pytest.raises(ValidationFailed) as raised:
        await world.teams.create_team(admin, CreateTeam(name=name))

    expected = ["name"]
    assert expected == list(raised.value.field_errors)


async def test_create_team_refuses_a_long_description(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(ValidationFailed) as raised:
        await world.teams.create_team(admin, CreateTeam(name="web", description="d" * 1001))

    expected = ["description"]
    assert expected == list(raised.value.field_errors)


async def test_create_team_with_a_taken_name_is_a_conflict(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")

    with pytest.raises(Conflict):
        await world.team(admin, "web")


async def test_team_admin_refuses_non_admins(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")

    with pytest.raises(AdminRequired):
        await world.teams.get_team(outsider(), "web")


async def test_get_team_with_an_unknown_name_is_team_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(TeamNotFound):
        await world.teams.get_team(admin, "nope")


async def test_list_teams_filters_and_pages_by_name(world: World) -> None:
    admin = await world.admin()
    for name in ("web", "api", "ml"):
        await world.team(admin, name)
    await world.teams.deactivate_team(admin, "ml", "sunset")

    first = await world.teams.list_teams(admin, page=Page(limit=2))
    active = await world.teams.list_teams(admin, TeamQuery(is_active=True))

    expected = (3, ["api", "ml"], ["api", "web"])
    actual = (first.total, [t.name for t in first.items], [t.name for t in active.items])
    assert expected == actual


async def test_update_team_changes_only_the_given_fields(world: World) -> None:
    admin = await world.admin()
    team = await world.team(admin, "web", optional_label_patterns=["web-.*"], max_runners=5)
    world.clock.advance(60)

    updated = await world.teams.update_team(
        admin, "web", UpdateTeam(optional_label_patterns=["web-.*", "node-[0-9]+"])
    )

    expected = attrs.evolve(
        team,
        policy=LabelPolicy(["web"], ["web-.*", "node-[0-9]+"]),
        updated_at=world.clock.now(),
    )
    assert expected == updated
    [row] = await world.audit_rows(AuditAction.TEAM_UPDATE)
    expected_row = (["optional_label_patterns"], ["web-.*"], ["web-.*", "node-[0-9]+"])
    actual_row = (
        row.details["changed"],
        row.details["before"]["optional_label_patterns"],
        row.details["after"]["optional_label_patterns"],
    )
    assert expected_row == actual_row


async def test_update_team_can_set_the_quota_back_to_unlimited(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web", max_runners=5)

    updated = await world.teams.update_team(admin, "web", UpdateTeam(max_runners=None))

    assert updated.max_runners is None
    [row] = await world.audit_rows(AuditAction.TEAM_UPDATE)
    expected = (5, None)
    assert expected == (row.details["before"]["max_runners"], row.details["after"]["max_runners"])


async def test_update_team_edits_description_labels_and_groups(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web", allowed_runner_group_ids=[1, 2])

    updated = await world.teams.update_team(
        admin,
        "web",
        UpdateTeam(
            description="Front end",
            required_labels=["web", "frontend"],
            allowed_runner_group_ids=[3, 4],
            default_runner_group_id=4,
            max_runners=3,
        ),
    )

    expected = ("Front end", ("frontend", "web"), (3, 4), 4, 3)
    actual = (
        updated.description,
        updated.policy.required_labels,
        updated.allowed_runner_group_ids,
        updated.default_runner_group_id,
        updated.max_runners,
    )
    assert expected == actual


async def test_update_team_dropping_the_default_group_needs_a_new_default(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web", allowed_runner_group_ids=[1, 2])

    with pytest.raises(InvalidPolicy) as raised:
        await world.teams.update_team(admin, "web", UpdateTeam(allowed_runner_group_ids=[2, 3]))
    reset = await world.teams.update_team(
        admin, "web", UpdateTeam(allowed_runner_group_ids=[2, 3], default_runner_group_id=None)
    )

    assert {("default_runner_group_id", "1", "not_allowed")} == problems(raised.value)
    expected = 2
    assert expected == reset.default_runner_group_id


async def test_update_team_with_a_bad_pattern_leaves_the_team_unchanged(world: World) -> None:
    admin = await world.admin()
    team = await world.team(admin, "web")

    with pytest.raises(InvalidPolicy):
        await world.teams.update_team(admin, "web", UpdateTeam(optional_label_patterns=["(a"]))

    expected = (team, 0)
    actual = (
        await world.teams.get_team(admin, "web"),
        len(await world.audit_rows(AuditAction.TEAM_UPDATE)),
    )
    assert expected == actual


async def test_update_team_that_changes_nothing_records_nothing(world: World) -> None:
    admin = await world.admin()
    team = await world.team(admin, "web")
    world.clock.advance(60)

    updated = await world.teams.update_team(admin, "web", UpdateTeam(required_labels=["WEB"]))

    expected = (team, 0)
    assert expected == (updated, len(await world.audit_rows(AuditAction.TEAM_UPDATE)))


async def test_update_team_refuses_a_long_description(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")

    with pytest.raises(ValidationFailed):
        await world.teams.update_team(admin, "web", UpdateTeam(description="d" * 1001))


async def test_update_team_with_an_unknown_name_is_team_not_found(world: World) -> None:
    admin = await world.admin()

    with pytest.raises(TeamNotFound):
        await world.teams.update_team(admin, "nope", UpdateTeam(max_runners=1))


async def test_deactivate_team_records_reason_time_and_actor(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    world.clock.advance(5)

    team = await world.teams.deactivate_team(admin, "web", "budget freeze")

    assert Deactivation("budget freeze", world.clock.now(), admin.name) == team.deactivation
    [row] = await world.audit_rows(AuditAction.TEAM_DEACTIVATE)
    expected = ("budget freeze", ["is_active"])
    assert expected == (row.details["reason"], row.details["changed"])


async def test_deactivating_an_inactive_team_keeps_the_first_reason(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    first = await world.teams.deactivate_team(admin, "web", "first")

    again = await world.teams.deactivate_team(admin, "web", "second")

    assert first == again
    expected = 1
    assert expected == len(await world.audit_rows(AuditAction.TEAM_DEACTIVATE))


async def test_deactivate_team_needs_a_reason(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")

    with pytest.raises(ValidationFailed):
        await world.teams.deactivate_team(admin, "web", " ")


async def test_reactivate_team_clears_the_deactivation_once(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    await world.teams.deactivate_team(admin, "web", "pause")

    team = await world.teams.reactivate_team(admin, "web")
    await world.teams.reactivate_team(admin, "web")

    assert team.is_active
    [row] = await world.audit_rows(AuditAction.TEAM_REACTIVATE)
    assert "reason" not in row.details


async def test_add_member_adds_once_and_audits_once(world: World) -> None:
    admin = await world.admin()
    team = await world.team(admin, "web")
    user = await world.user(admin)

    first = await world.teams.add_member(admin, "web", user.id)
    second = await world.teams.add_member(admin, "web", user.id)

    expected = (True, False)
    assert expected == (first.changed, second.changed)
    assert (team, user) == (first.team, first.user)
    assert (user,) == await world.teams.list_members(admin, "web")
    [row] = await world.audit_rows(AuditAction.TEAM_MEMBER_ADD)
    assert ("web", str(user.id), user.email) == (row.team_name, row.target_id, row.details["email"])


async def test_add_member_needs_an_existing_team_and_user(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    user = await world.user(admin)

    with pytest.raises(UserNotFound):
        await world.teams.add_member(admin, "web", uuid.uuid4())
    with pytest.raises(TeamNotFound):
        await world.teams.add_member(admin, "nope", user.id)


async def test_remove_member_is_idempotent(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")
    user = await world.user(admin, teams=["web"])

    first = await world.teams.remove_member(admin, "web", user.id)
    second = await world.teams.remove_member(admin, "web", user.id)

    expected = (True, False, (), 1)
    actual = (
        first.changed,
        second.changed,
        await world.teams.list_members(admin, "web"),
        len(await world.audit_rows(AuditAction.TEAM_MEMBER_REMOVE)),
    )
    assert expected == actual


async def test_remove_member_of_an_unknown_user_is_user_not_found(world: World) -> None:
    admin = await world.admin()
    await world.team(admin, "web")

    with pytest.raises(UserNotFound):
        await world.teams.remove_member(admin, "web", uuid.uuid4())
