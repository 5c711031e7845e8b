"""Authorization rules: admin guard, capabilities, team selection, runner groups, visibility."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import attrs
import pytest

from gharts_core.authz import (
    can_see_runner,
    can_see_team,
    ensure_not_last_admin,
    require_admin,
    require_capability,
    resolve_runner_group,
    select_team,
    visible_team_ids,
)
from gharts_core.errors import (
    AdminRequired,
    Conflict,
    NotTeamMember,
    RunnerGroupNotAllowed,
    TeamInactive,
    TeamRequired,
    UserNotAuthorized,
)
from gharts_core.model import (
    Actor,
    Capabilities,
    Deactivation,
    Principal,
    PrincipalKind,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    Team,
    User,
)
from gharts_core.policy import LabelPolicy

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def team(name: str, *, reason: str | None = None) -> Team:
    return Team(
        id=uuid.uuid4(),
        name=name,
        description="",
        policy=LabelPolicy(required_labels=[name]),
        allowed_runner_group_ids=(1, 7),
        default_runner_group_id=1,
        max_runners=None,
        created_at=NOW,
        updated_at=NOW,
        deactivation=None if reason is None else Deactivation(reason=reason, at=NOW, by="admin"),
    )


def user(*teams: Team, admin: bool = False, capabilities: Capabilities | None = None) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        id=uuid.uuid4(),
        name="alice@example.com",
        is_admin=admin,
        capabilities=capabilities or Capabilities(),
        team_ids={t.id for t in teams},
    )


def machine(home: Team, *, admin: bool = False) -> Principal:
    return Principal(
        kind=PrincipalKind.MACHINE,
        id=uuid.uuid4(),
        name="arc-controller",
        is_admin=admin,
        capabilities=Capabilities(),
        team_ids={home.id},
    )


def runner_of(owner: Team) -> RunnerRecord:
    return RunnerRecord(
        id=uuid.uuid4(),
        name="runner-1",
        team_id=owner.id,
        team_name=owner.name,
        labels=["x"],
        runner_group_id=1,
        status=RunnerStatus.ONLINE,
        method=ProvisionMethod.JIT,
        created_by=Actor.system(),
        created_at=NOW,
        updated_at=NOW,
    )


def account(*, admin: bool = True, active: bool = True) -> User:
    return User(
        id=uuid.uuid4(),
        email="lead@example.com",
        display_name="Lead",
        is_admin=admin,
        capabilities=Capabilities(),
        created_at=NOW,
        updated_at=NOW,
        deactivation=None if active else Deactivation(reason="left", at=NOW, by="admin"),
    )


BLUE, GREEN, GREY = team("blue"), team("green"), team("grey", reason="budget cut")


# ---------------------------------------------------------------- admin guard


def test_an_admin_user_passes_the_admin_guard() -> None:
    require_admin(user(admin=True))


def test_the_system_passes_the_admin_guard() -> None:
    require_admin(Principal.system())


def test_a_plain_user_is_refused_by_the_admin_guard() -> None:
    with pytest.raises(AdminRequired):
        require_admin(user(BLUE))


def test_a_machine_client_is_never_an_admin_even_if_flagged_so() -> None:
    with pytest.raises(AdminRequired):
        require_admin(machine(BLUE, admin=True))


# ---------------------------------------------------------------- capabilities


@pytest.mark.parametrize("method", list(ProvisionMethod))
def test_a_principal_with_both_capabilities_may_use_either_flow(method: ProvisionMethod) -> None:
    require_capability(user(capabilities=Capabilities(True, True)), method)


def test_jit_is_allowed_by_default() -> None:
    require_capability(user(), ProvisionMethod.JIT)


def test_registration_tokens_are_refused_by_default() -> None:
    with pytest.raises(UserNotAuthorized) as raised:
        require_capability(user(), ProvisionMethod.REGISTRATION_TOKEN)

    expected = "'alice@example.com' may not use the registration-token provisioning flow."
    assert expected == raised.value.detail


def test_jit_is_refused_without_its_capability() -> None:
    principal = user(capabilities=Capabilities(can_use_jit=False, can_use_registration_token=True))

    with pytest.raises(UserNotAuthorized) as raised:
        require_capability(principal, ProvisionMethod.JIT)

    expected = "'alice@example.com' may not use the JIT provisioning flow."
    assert expected == raised.value.detail


# ---------------------------------------------------------------- team selection


def test_a_member_may_act_for_a_team_they_name() -> None:
    chosen = select_team(
        user(BLUE, GREEN), requested=GREEN, requested_key="green", member_teams=[BLUE, GREEN]
    )

    assert chosen is GREEN


def test_naming_a_team_one_does_not_belong_to_is_refused_with_the_name_sent() -> None:
    with pytest.raises(NotTeamMember) as raised:
        select_team(user(BLUE), requested=GREEN, requested_key="GREEN", member_teams=[BLUE])

    expected = "GREEN"
    assert expected == raised.value.team


def test_a_team_named_by_id_falls_back_to_its_name_in_the_refusal() -> None:
    with pytest.raises(NotTeamMember) as raised:
        select_team(user(BLUE), requested=GREEN, requested_key=None, member_teams=[BLUE])

    expected = "green"
    assert expected == raised.value.team


def test_a_named_inactive_team_is_refused_with_its_reason() -> None:
    with pytest.raises(TeamInactive) as raised:
        select_team(user(GREY), requested=GREY, requested_key="grey", member_teams=[GREY])

    expected = ("grey", "budget cut", "Team 'grey' is deactivated: budget cut")
    assert expected == (raised.value.team, raised.value.reason, raised.value.detail)


def test_an_admin_may_act_for_any_team() -> None:
    chosen = select_team(user(admin=True), requested=GREEN, requested_key="green", member_teams=[])

    assert chosen is GREEN


def test_an_admin_may_not_act_for_an_inactive_team() -> None:
    with pytest.raises(TeamInactive):
        select_team(user(admin=True), requested=GREY, requested_key="grey", member_teams=[])


def test_without_a_name_the_only_active_team_is_chosen() -> None:
    chosen = select_team(
        user(GREY, BLUE), requested=None, requested_key=None, member_teams=[GREY, BLUE]
    )

    assert chosen is BLUE


def test_without_a_name_several_active_teams_require_one() -> None:
    with pytest.raises(TeamRequired) as raised:
        select_team(
            user(GREEN, BLUE, GREY),
            requested=None,
            requested_key=None,
            member_teams=[GREEN, BLUE, GREY],
        )

    expected = ("blue", "green")
    assert expected == raised.value.teams


def test_a_principal_with_no_team_is_not_authorized() -> None:
    with pytest.raises(UserNotAuthorized) as raised:
        select_team(user(), requested=None, requested_key=None, member_teams=[])

    expected = "'alice@example.com' belongs to no team."
    assert expected == raised.value.detail


def test_a_principal_with_only_inactive_teams_is_told_the_team_is_inactive() -> None:
    other_grey = team("grey-two", reason="paused")

    with pytest.raises(TeamInactive) as raised:
        select_team(
            user(GREY, other_grey),
            requested=None,
            requested_key=None,
            member_teams=[GREY, other_grey],
        )

    expected = ("grey", "budget cut")
    assert expected == (raised.value.team, raised.value.reason)


def test_a_machine_client_acts_for_its_only_team() -> None:
    chosen = select_team(machine(BLUE), requested=None, requested_key=None, member_teams=[BLUE])

    assert chosen is BLUE


# ---------------------------------------------------------------- runner groups


def test_no_runner_group_means_the_team_default() -> None:
    expected = 1
    assert expected == resolve_runner_group(BLUE, None)


def test_an_allowed_runner_group_is_used() -> None:
    expected = 7
    assert expected == resolve_runner_group(BLUE, 7)


def test_a_runner_group_outside_the_list_is_refused() -> None:
    with pytest.raises(RunnerGroupNotAllowed) as raised:
        resolve_runner_group(BLUE, 9)

    expected = (9, (1, 7), "Runner group 9 is not allowed for this team (allowed: 1, 7).")
    assert expected == (raised.value.runner_group_id, raised.value.allowed, raised.value.detail)


# ---------------------------------------------------------------- visibility


def test_admins_and_the_system_see_every_team() -> None:
    expected = [None, None]
    assert expected == [
        visible_team_ids(user(admin=True)),
        visible_team_ids(Principal.system()),
    ]


def test_a_user_sees_the_teams_they_belong_to() -> None:
    assert frozenset({BLUE.id, GREEN.id}) == visible_team_ids(user(BLUE, GREEN))


def test_a_machine_client_sees_only_its_team_even_if_flagged_admin() -> None:
    assert frozenset({BLUE.id}) == visible_team_ids(machine(BLUE, admin=True))


@pytest.mark.parametrize(
    ("principal", "visible"),
    [
        (user(admin=True), [True, True]),
        (user(BLUE), [True, False]),
        (machine(GREEN), [False, True]),
        (user(), [False, False]),
    ],
    ids=["admin", "member", "machine", "outsider"],
)
def test_runners_and_teams_are_visible_only_to_members_and_admins(
    principal: Principal, visible: list[bool]
) -> None:
    assert visible == [can_see_runner(principal, runner_of(t)) for t in (BLUE, GREEN)]
    assert visible == [can_see_team(principal, t) for t in (BLUE, GREEN)]


# ---------------------------------------------------------------- last admin


@pytest.mark.parametrize(
    "change", [{"is_admin": False}, {"deactivation": Deactivation("left", NOW, "bob")}]
)
def test_the_last_active_admin_cannot_be_demoted_or_deactivated(change: dict[str, Any]) -> None:
    current = account()

    with pytest.raises(Conflict):
        ensure_not_last_admin(current, attrs.evolve(current, **change), active_admins=1)


def test_an_admin_may_be_demoted_while_another_admin_remains() -> None:
    current = account()

    ensure_not_last_admin(current, attrs.evolve(current, is_admin=False), active_admins=2)


def test_the_last_admin_may_change_other_things() -> None:
    current = account()

    ensure_not_last_admin(current, attrs.evolve(current, display_name="Boss"), active_admins=1)


@pytest.mark.parametrize(
    "current", [account(admin=False), account(active=False)], ids=["non-admin", "inactive-admin"]
)
def test_changes_to_users_who_do_not_count_as_active_admins_are_never_blocked(
    current: User,
) -> None:
    ensure_not_last_admin(current, attrs.evolve(current, is_admin=False), active_admins=0)
