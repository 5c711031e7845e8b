"""Domain values: validators, converters and derived properties."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gharts_core.model import (
    Actor,
    Capabilities,
    Deactivation,
    LabelType,
    ObservedLabel,
    ObservedRunner,
    Principal,
    PrincipalKind,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    SyncReport,
    SyncState,
    Team,
    User,
    new_id,
)
from gharts_core.policy import LabelPolicy, is_system_label, is_valid_label
from gharts_core.testing.strategies import (
    aware_datetimes,
    observed_runners,
    principals,
    runner_names,
    runner_records,
    team_names,
    teams,
    users,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NAIVE = datetime(2026, 1, 1, 12, 0)  # noqa: DTZ001 - the point of these tests


def make_team(name: str = "blue", **changes: Any) -> Team:
    team = Team(
        id=uuid.uuid4(),
        name=name,
        description="",
        policy=LabelPolicy(required_labels=["blue"]),
        allowed_runner_group_ids=[1, 2],
        default_runner_group_id=1,
        max_runners=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return attrs.evolve(team, **changes)


def make_runner(**changes: Any) -> RunnerRecord:
    runner = RunnerRecord(
        id=uuid.uuid4(),
        name="runner-1",
        team_id=uuid.uuid4(),
        team_name="blue",
        labels=["x"],
        runner_group_id=1,
        status=RunnerStatus.PENDING,
        method=ProvisionMethod.JIT,
        created_by=Actor.system(),
        created_at=NOW,
        updated_at=NOW,
    )
    return attrs.evolve(runner, **changes)


@pytest.mark.parametrize("name", ["ab", "a1", "team-a", "9-lives", "a--b", "a" * 50])
def test_team_names_of_lower_case_letters_digits_and_dashes_are_accepted(name: str) -> None:
    assert name == make_team(name).name


@pytest.mark.parametrize(
    "name", ["", "a", "Team-a", "-ab", "ab-", "a_b", "a b", "a" * 51, "ab\n", "équipe"]
)
def test_other_team_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="team name"):
        make_team(name)


@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_teams_refuse_naive_timestamps(field: str) -> None:
    changes: dict[str, Any] = {field: NAIVE}

    with pytest.raises(ValueError, match=f"{field} must be timezone-aware"):
        make_team(**changes)


@pytest.mark.parametrize("field", ["created_at", "updated_at", "expires_at", "deleted_at"])
def test_runner_records_refuse_naive_timestamps(field: str) -> None:
    with pytest.raises(ValueError, match=f"{field} must be timezone-aware"):
        make_runner(**{field: NAIVE})


def test_deactivations_refuse_naive_timestamps() -> None:
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        Deactivation(reason="gone", at=NAIVE, by="admin")


def test_any_utc_offset_counts_as_timezone_aware() -> None:
    paris = timezone(timedelta(hours=1))

    assert make_runner(expires_at=NOW.astimezone(paris)).expires_at == NOW


def test_optional_timestamps_may_be_absent() -> None:
    expected = (None, None)

    assert expected == (make_runner().expires_at, SyncState().heartbeat_at)


def test_sync_state_refuses_a_naive_heartbeat() -> None:
    with pytest.raises(ValueError, match="heartbeat_at"):
        SyncState(heartbeat_at=NAIVE)


@pytest.mark.parametrize("status", list(RunnerStatus))
def test_every_status_but_deleted_counts_towards_the_quota(status: RunnerStatus) -> None:
    assert status.is_live == (status is not RunnerStatus.DELETED)


def test_a_team_is_active_until_deactivated() -> None:
    deactivated = make_team(deactivation=Deactivation(reason="paused", at=NOW, by="admin"))

    expected = (True, False)
    assert expected == (make_team().is_active, deactivated.is_active)


def test_team_runner_groups_are_kept_as_a_tuple() -> None:
    expected = (1, 2)

    assert expected == make_team().allowed_runner_group_ids


def test_user_emails_are_lower_cased_and_users_are_active_until_deactivated() -> None:
    alice = User(
        id=new_id(),
        email="Alice@Example.COM",
        display_name="Alice",
        is_admin=False,
        capabilities=Capabilities(),
        created_at=NOW,
        updated_at=NOW,
    )
    gone = attrs.evolve(alice, deactivation=Deactivation(reason="left", at=NOW, by="admin"))

    expected = ("alice@example.com", True, False)
    assert expected == (alice.email, alice.is_active, gone.is_active)


def test_capabilities_default_to_jit_only() -> None:
    expected = Capabilities(can_use_jit=True, can_use_registration_token=False)

    assert expected == Capabilities()


def test_runner_record_labels_are_deduplicated_and_sorted() -> None:
    expected = ("a", "b", "c")

    assert expected == make_runner(labels=["c", "a", "b", "a"]).labels


def test_observed_runner_custom_labels_are_the_lower_cased_custom_ones() -> None:
    runner = ObservedRunner(
        id=1,
        name="r",
        os="Linux",
        status="online",
        busy=False,
        labels=[
            ObservedLabel("self-hosted", LabelType.READ_ONLY),
            ObservedLabel("Linux", LabelType.READ_ONLY),
            ObservedLabel("GPU-A100", LabelType.CUSTOM),
            ObservedLabel("team-a", LabelType.CUSTOM),
        ],
    )

    expected = frozenset({"gpu-a100", "team-a"})
    assert expected == runner.custom_labels
    assert isinstance(runner.labels, tuple)


def test_principal_team_ids_are_a_frozenset_and_its_actor_mirrors_it() -> None:
    team_id = uuid.uuid4()
    principal = Principal(
        kind=PrincipalKind.MACHINE,
        id=team_id,
        name="arc",
        is_admin=False,
        capabilities=Capabilities(),
        team_ids=[team_id, team_id],
    )

    expected = (frozenset({team_id}), Actor(PrincipalKind.MACHINE, team_id, "arc"))
    assert expected == (principal.team_ids, principal.actor)


def test_the_system_principal_is_an_admin_with_every_capability_and_no_team() -> None:
    system = Principal.system()

    expected = (True, Capabilities(True, True), frozenset[uuid.UUID](), Actor.system())
    assert expected == (system.is_admin, system.capabilities, system.team_ids, system.actor)


def test_the_system_actor_has_no_id() -> None:
    expected = Actor(kind=PrincipalKind.SYSTEM, id=None, name="system")

    assert expected == Actor.system()


def test_sync_report_duration_is_the_wall_time_between_start_and_finish() -> None:
    report = SyncReport(
        started_at=NOW, finished_at=NOW + timedelta(seconds=2.5), observed=0, unmanaged=0
    )

    expected = 2.5
    assert expected == report.duration_seconds


def test_new_ids_are_random_uuids() -> None:
    first, second = new_id(), new_id()

    expected = (4, 4)
    assert expected == (first.version, second.version)
    assert first != second


# ---------------------------------------------------------------- the public domain strategies


@given(teams())
def test_generated_teams_are_consistent(team: Team) -> None:
    assert team.default_runner_group_id in team.allowed_runner_group_ids
    assert team.is_active == (team.deactivation is None)
    assert team.created_at <= team.updated_at
    assert team.max_runners is None or team.max_runners >= 0


@given(teams(active=False), teams(active=True))
def test_generated_teams_can_be_pinned_active_or_inactive(inactive: Team, active: Team) -> None:
    expected = (False, True)
    assert expected == (inactive.is_active, active.is_active)


@given(users(active=True, admin=True))
def test_generated_users_honour_pinned_flags(user: User) -> None:
    expected = (True, True, user.email.lower())
    assert expected == (user.is_active, user.is_admin, user.email)
    assert (user.oidc_issuer is None) == (user.oidc_subject is None)


@given(principals())
def test_generated_machine_principals_are_never_admins_and_have_one_team(
    principal: Principal,
) -> None:
    if principal.kind is PrincipalKind.MACHINE:
        expected = (False, 1)
        assert expected == (principal.is_admin, len(principal.team_ids))
    elif principal.kind is PrincipalKind.SYSTEM:
        assert Principal.system() == principal
    else:
        assert len(principal.team_ids) <= 3


@given(runner_records())
def test_generated_runner_records_are_consistent_with_their_status(runner: RunnerRecord) -> None:
    deleted = runner.status is RunnerStatus.DELETED
    assert (runner.github_runner_id is None) == (runner.status is RunnerStatus.PROVISIONING)
    assert (runner.deleted_at is not None, runner.deleted_reason is not None) == (deleted, deleted)
    assert all(is_valid_label(label) and label == label.lower() for label in runner.labels)


@given(st.data())
def test_generated_runner_records_can_belong_to_a_given_team(data: st.DataObject) -> None:
    team = data.draw(teams())

    runner = data.draw(runner_records(team=team, status=RunnerStatus.ONLINE))

    expected = (team.id, team.name, team.default_runner_group_id, RunnerStatus.ONLINE)
    assert expected == (runner.team_id, runner.team_name, runner.runner_group_id, runner.status)


@given(observed_runners())
def test_generated_observed_runners_look_like_githubs(runner: ObservedRunner) -> None:
    read_only = {lb.name for lb in runner.labels if lb.type is LabelType.READ_ONLY}
    assert all(is_system_label(name) for name in read_only)
    assert not any(is_system_label(name) for name in runner.custom_labels)
    assert not runner.busy or runner.status == "online"


@given(team_names(), aware_datetimes())
def test_generated_team_names_and_datetimes_are_accepted_by_teams(
    name: str, when: datetime
) -> None:
    team = make_team(name, created_at=when, updated_at=when)

    expected = (name, timedelta(0))
    assert expected == (team.name, team.created_at.utcoffset())


@given(runner_names())
def test_generated_runner_names_use_githubs_characters(name: str) -> None:
    assert re.fullmatch(r"[a-z0-9][A-Za-z0-9._-]{0,63}", name)
