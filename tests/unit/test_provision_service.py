"""Provisioning use cases through the fake store and the fake GitHub."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
from datetime import timedelta

import attrs
import pytest

from gharts_core.drift import DriftSettings
from gharts_core.errors import (
    Conflict,
    GhartsError,
    GitHubUnavailable,
    InvalidLabels,
    LabelPolicyViolation,
    NotTeamMember,
    QuotaExceeded,
    RunnerGroupNotAllowed,
    StorageUnavailable,
    TeamInactive,
    TeamNotFound,
    TeamRequired,
    UserNotAuthorized,
    ValidationFailed,
)
from gharts_core.model import (
    AuditAction,
    AuditOutcome,
    Principal,
    ProvisionMethod,
    RunnerStatus,
    SecurityEventType,
    Severity,
    Team,
    TransitionSource,
)
from gharts_core.ports.github import JitConfig, JitRequest
from gharts_core.services.provision import (
    ProvisioningService,
    ProvisioningSettings,
    ProvisionJitRunner,
    ProvisionRegistrationToken,
)
from gharts_core.services.sync import SyncService
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import (
    T0,
    HookedPlatform,
    all_runners,
    audit_rows,
    machine_principal,
    make_client,
    make_team,
    make_user,
    new_uuid,
    runner_named,
    security_events,
    seed,
    transitions,
    update_runner,
    user_principal,
)

PROVISION = AuditAction.RUNNER_PROVISION.value


class World:
    """One team ``backend`` with member alice, the fakes, and the service."""

    def __init__(self, team: Team | None = None) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.github = HookedPlatform(clock=self.clock)
        self.service = ProvisioningService(
            self.store, self.github, self.clock, ProvisioningSettings()
        )
        self.team = team or make_team("backend")
        self.alice = make_user("alice@example.com", can_use_registration_token=True)

    @property
    def principal(self) -> Principal:
        """Alice, member of backend."""
        return user_principal(self.alice, self.team)

    async def seed(self) -> World:
        """Write the team and alice's membership."""
        await seed(self.store, self.team, self.alice, members=[(self.team, self.alice)])
        return self


@pytest.fixture
async def world() -> World:
    return await World().seed()


def jit(name: str = "runner-1", **fields: object) -> ProvisionJitRunner:
    fields.setdefault("labels", ("gpu-a100",))
    return ProvisionJitRunner(runner_name=name, **fields)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the JIT flow


async def test_jit_provisioning_returns_the_config_and_records_a_pending_runner(
    world: World,
) -> None:
    command = jit(labels=["self-hosted", "Linux", "GPU-A100", "gpu-a100"])

    result = await world.service.provision_jit(world.principal, command)

    runner = result.runner
    expected = (
        "runner-1",
        RunnerStatus.PENDING,
        ("backend", "gpu-a100"),
        1,
        1,
        ProvisionMethod.JIT,
        T0 + timedelta(hours=1),
        T0 + timedelta(hours=1),
        "backend",
    )
    actual = (
        runner.name,
        runner.status,
        runner.labels,
        runner.runner_group_id,
        runner.github_runner_id,
        runner.method,
        runner.expires_at,
        result.expires_at,
        result.team.name,
    )
    assert expected == actual
    assert f"./run.sh --jitconfig {result.encoded_jit_config}" == result.run_command
    assert runner == await runner_named(world.store, "runner-1")


async def test_jit_provisioning_sends_only_the_final_custom_labels_to_github(
    world: World,
) -> None:
    await world.service.provision_jit(world.principal, jit(labels=["x64", "GPU-H100"]))

    (observed,) = world.github.runners
    assert frozenset({"backend", "gpu-h100"}) == observed.custom_labels


async def test_jit_provisioning_records_both_transitions_from_the_api(world: World) -> None:
    result = await world.service.provision_jit(world.principal, jit())

    recorded = await transitions(world.store, result.runner.id)

    expected = [
        (None, RunnerStatus.PROVISIONING, TransitionSource.API),
        (RunnerStatus.PROVISIONING, RunnerStatus.PENDING, TransitionSource.API),
    ]
    assert expected == [(t.from_status, t.to_status, t.source) for t in recorded]


async def test_success_is_audited_without_the_jit_config(world: World) -> None:
    result = await world.service.provision_jit(world.principal, jit())

    (row,) = await audit_rows(world.store, PROVISION)

    expected = (AuditOutcome.SUCCESS, str(result.runner.id), "backend", "alice@example.com")
    assert expected == (row.outcome, row.target_id, row.team_name, row.actor.name)
    assert {"method": "jit", "runner_name": "runner-1", "github_runner_id": 1}.items() <= (
        row.details.items()
    )
    assert result.encoded_jit_config not in json.dumps(row.details)


async def test_results_keep_their_secrets_out_of_repr(world: World) -> None:
    jit_result = await world.service.provision_jit(world.principal, jit())
    token_result = await world.service.provision_registration_token(
        world.principal, ProvisionRegistrationToken(runner_name="r2", labels=["gpu-a"])
    )

    assert jit_result.encoded_jit_config not in repr(jit_result)
    assert token_result.token not in repr(token_result)


async def test_pending_ttl_comes_from_the_settings(world: World) -> None:
    settings = ProvisioningSettings(pending_ttl=timedelta(minutes=5))
    service = ProvisioningService(world.store, world.github, world.clock, settings)

    result = await service.provision_jit(world.principal, jit())

    assert T0 + timedelta(minutes=5) == result.expires_at


@pytest.mark.parametrize("ttl", [timedelta(0), timedelta(seconds=-1)])
def test_settings_refuse_a_pending_ttl_that_is_not_positive(ttl: timedelta) -> None:
    with pytest.raises(ValueError, match="pending_ttl"):
        ProvisioningSettings(pending_ttl=ttl)


# ---------------------------------------------------------------- names and commands


@pytest.mark.parametrize(
    ("prefix", "pattern"),
    [
        ("arc-runner", r"arc-runner-[a-z0-9]{8}"),
        ("arc-runner-", r"arc-runner-[a-z0-9]{8}"),
        ("build_", r"build_[a-z0-9]{8}"),
        ("p" * 55, r"p{55}-[a-z0-9]{8}"),
    ],
)
async def test_a_prefix_gets_a_random_lower_case_suffix(
    world: World, prefix: str, pattern: str
) -> None:
    command = ProvisionJitRunner(runner_name_prefix=prefix, labels=["gpu-a"])

    result = await world.service.provision_jit(world.principal, command)

    assert re.fullmatch(pattern, result.runner.name)
    assert len(result.runner.name) <= 64


async def test_two_runners_from_one_prefix_get_different_names(world: World) -> None:
    command = ProvisionJitRunner(runner_name_prefix="arc", labels=["gpu-a"])

    first = await world.service.provision_jit(world.principal, command)
    second = await world.service.provision_jit(world.principal, command)

    assert first.runner.name != second.runner.name


async def test_runner_names_are_kept_in_lower_case_so_case_variants_collide(
    world: World,
) -> None:
    first = await world.service.provision_registration_token(
        world.principal, ProvisionRegistrationToken(runner_name="Build-1", labels=["gpu-a"])
    )
    prefixed = await world.service.provision_jit(
        world.principal, ProvisionJitRunner(runner_name_prefix="ARC", labels=["gpu-a"])
    )

    with pytest.raises(Conflict):
        await world.service.provision_registration_token(
            world.principal, ProvisionRegistrationToken(runner_name="build-1", labels=["gpu-a"])
        )
    assert "build-1" == first.runner.name
    assert prefixed.runner.name.startswith("arc-")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({}, "runner_name"),
        ({"runner_name": "a", "runner_name_prefix": "b"}, "runner_name"),
        ({"runner_name": ""}, "runner_name"),
        ({"runner_name": "x" * 65}, "runner_name"),
        ({"runner_name": "-leading-dash"}, "runner_name"),
        ({"runner_name": "has space"}, "runner_name"),
        ({"runner_name": "semi;colon"}, "runner_name"),
        ({"runner_name_prefix": "p" * 56}, "runner_name_prefix"),
        ({"runner_name_prefix": "$(reboot)"}, "runner_name_prefix"),
        ({"runner_name": "ok", "team_name": "a", "team_id": new_uuid()}, "team_name"),
        ({"runner_name": "ok", "work_folder": ""}, "work_folder"),
        ({"runner_name": "ok", "work_folder": "/abs/path"}, "work_folder"),
        ({"runner_name": "ok", "work_folder": "\\\\server\\share"}, "work_folder"),
        ({"runner_name": "ok", "work_folder": "C:\\work"}, "work_folder"),
        ({"runner_name": "ok", "work_folder": "~/work"}, "work_folder"),
        ({"runner_name": "ok", "work_folder": ".."}, "work_folder"),
        ({"runner_name": "ok", "work_folder": "a/../../etc"}, "work_folder"),
        ({"runner_name": "ok", "work_folder": "a\\..\\b"}, "work_folder"),
        ({"runner_name": "ok", "work_folder": "a\x00b"}, "work_folder"),
        ({"runner_name": "ok", "work_folder": "w" * 256}, "work_folder"),
    ],
)
def test_jit_commands_refuse_bad_fields_naming_the_field(
    fields: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        ProvisionJitRunner(labels=["x"], **fields)  # type: ignore[arg-type]

    assert [field] == list(caught.value.field_errors)


@pytest.mark.parametrize("folder", ["_work", "work/dir", "a..b", ".hidden", "w" * 255])
def test_jit_commands_accept_relative_work_folders(folder: str) -> None:
    command = ProvisionJitRunner(runner_name="ok", work_folder=folder)

    assert folder == command.work_folder


def test_registration_token_commands_validate_their_names_too() -> None:
    with pytest.raises(ValidationFailed) as caught:
        ProvisionRegistrationToken(runner_name="a", runner_name_prefix="b")

    expected = ["runner_name"]
    assert expected == list(caught.value.field_errors)


# ---------------------------------------------------------------- team selection


async def test_the_only_team_is_chosen_when_none_is_named(world: World) -> None:
    result = await world.service.provision_jit(world.principal, jit())

    assert world.team.id == result.runner.team_id


async def test_a_team_can_be_named_by_id(world: World) -> None:
    result = await world.service.provision_jit(world.principal, jit(team_id=world.team.id))

    expected = "backend"
    assert expected == result.runner.team_name


async def test_a_member_of_several_teams_must_name_one(world: World) -> None:
    other = make_team("frontend")
    await seed(world.store, other, members=[(other, world.alice)])
    principal = user_principal(world.alice, world.team, other)

    with pytest.raises(TeamRequired) as caught:
        await world.service.provision_jit(principal, jit())

    expected = ("backend", "frontend")
    assert expected == caught.value.teams


async def test_a_member_of_several_teams_provisions_for_the_one_named(world: World) -> None:
    other = make_team("frontend")
    await seed(world.store, other, members=[(other, world.alice)])
    principal = user_principal(world.alice, world.team, other)

    result = await world.service.provision_jit(
        principal, jit(team_name="frontend", labels=["frontend"])
    )

    expected = ("frontend",)
    assert expected == result.runner.labels


async def test_inactive_teams_do_not_count_when_choosing_the_only_team(world: World) -> None:
    retired = make_team("legacy", deactivated="moved")
    await seed(world.store, retired, members=[(retired, world.alice)])
    principal = user_principal(world.alice, world.team, retired)

    result = await world.service.provision_jit(principal, jit())

    expected = "backend"
    assert expected == result.runner.team_name


async def test_an_admin_may_provision_for_a_team_they_do_not_belong_to(world: World) -> None:
    root = make_user("root@example.com", is_admin=True)
    await seed(world.store, root)

    result = await world.service.provision_jit(user_principal(root), jit(team_name="backend"))

    expected = "backend"
    assert expected == result.runner.team_name


async def test_a_machine_client_provisions_for_its_team(world: World) -> None:
    client = make_client(world.team)
    await seed(world.store, client)

    result = await world.service.provision_jit(machine_principal(client), jit())

    expected = ("backend", "ci-bot")
    assert expected == (result.runner.team_name, result.runner.created_by.name)


# ---------------------------------------------------------------- runner groups


async def test_the_default_runner_group_is_used_when_none_is_asked_for(world: World) -> None:
    result = await world.service.provision_jit(world.principal, jit())

    expected = 1
    assert expected == result.runner.runner_group_id


async def test_an_allowed_runner_group_is_used_when_asked_for(world: World) -> None:
    result = await world.service.provision_jit(world.principal, jit(runner_group_id=2))

    (observed,) = world.github.runners
    expected = (2, 2)
    assert expected == (result.runner.runner_group_id, observed.runner_group_id)


# ---------------------------------------------------------------- refusals


async def _refused(world: World, principal: Principal, command: ProvisionJitRunner) -> GhartsError:
    with pytest.raises(GhartsError) as caught:
        await world.service.provision_jit(principal, command)
    return caught.value


@pytest.mark.parametrize(
    ("command", "error", "code"),
    [
        (jit(team_name="nope"), TeamNotFound, "TEAM_NOT_FOUND"),
        (jit(team_id=new_uuid()), TeamNotFound, "TEAM_NOT_FOUND"),
        (jit(labels=["bad label!"]), InvalidLabels, "INVALID_LABELS"),
        (jit(labels=["forbidden"]), LabelPolicyViolation, "LABEL_POLICY_VIOLATION"),
        (jit(runner_group_id=9), RunnerGroupNotAllowed, "RUNNER_GROUP_NOT_ALLOWED"),
    ],
)
async def test_refusals_are_audited_as_denied_and_reserve_nothing(
    world: World, command: ProvisionJitRunner, error: type[Exception], code: str
) -> None:
    refusal = await _refused(world, world.principal, command)

    (row,) = await audit_rows(world.store, PROVISION)
    runners = await all_runners(world.store)
    assert isinstance(refusal, error)
    expected = (AuditOutcome.DENIED, code, [], 0)
    actual = (
        row.outcome,
        row.details["error_code"],
        runners,
        world.github.calls["create_jit_config"],
    )
    assert expected == actual


@pytest.mark.parametrize(
    ("command", "team"),
    [
        (jit(labels=["cpu-x"]), "backend"),
        (jit(runner_group_id=99), "backend"),
        (jit(team_name="no-such-team"), None),
    ],
    ids=["labels refused", "group refused", "unknown team"],
)
async def test_a_refusal_names_the_existing_team_it_was_about(
    world: World, command: ProvisionJitRunner, team: str | None
) -> None:
    """Metrics label refusals from the error itself: real teams only, never a made-up name."""
    refusal = await _refused(world, world.principal, command)
    assert team == refusal.team


async def test_a_failed_github_call_names_the_team() -> None:
    world = await World().seed()
    world.github.fail_next(GitHubUnavailable(status=502), method="create_jit_config")

    with pytest.raises(GitHubUnavailable) as caught:
        await world.service.provision_jit(world.principal, jit())

    assert "backend" == caught.value.team


async def test_a_label_policy_violation_names_each_refused_label(world: World) -> None:
    refusal = await _refused(world, world.principal, jit(labels=["gpu-a", "cpu-x", "arm-y"]))

    assert isinstance(refusal, LabelPolicyViolation)
    expected = ["arm-y", "cpu-x"]
    assert expected == [v.label for v in refusal.violations]


async def test_a_label_policy_violation_is_a_security_event_with_the_violations(
    world: World,
) -> None:
    await _refused(world, world.principal, jit(labels=["forbidden"]))

    (event,) = await security_events(world.store)
    expected = (
        SecurityEventType.LABEL_POLICY_VIOLATION,
        Severity.WARNING,
        "backend",
        ["forbidden"],
    )
    labels = [v["label"] for v in event.details["violations"]]
    assert expected == (event.type, event.severity, event.team_name, labels)


async def test_malformed_labels_next_to_refused_ones_still_raise_a_security_event(
    world: World,
) -> None:
    refusal = await _refused(world, world.principal, jit(labels=["forbidden", "bad label!"]))

    (event,) = await security_events(world.store)
    assert isinstance(refusal, InvalidLabels)
    expected = ["forbidden"]
    assert expected == [v["label"] for v in event.details["violations"]]


async def test_only_malformed_labels_are_no_security_event(world: World) -> None:
    await _refused(world, world.principal, jit(labels=["bad label!"]))

    expected = []
    assert expected == await security_events(world.store)


async def test_only_system_labels_without_required_labels_is_invalid() -> None:
    world = await World(make_team("bare", required_labels=())).seed()

    refusal = await _refused(world, world.principal, jit(labels=["self-hosted", "linux"]))

    assert isinstance(refusal, InvalidLabels)
    expected = ["no_custom_labels"]
    assert expected == [v.reason.value for v in refusal.violations]


async def test_a_runner_group_outside_the_list_is_a_security_event(world: World) -> None:
    await _refused(world, world.principal, jit(runner_group_id=9))

    (event,) = await security_events(world.store)
    expected = SecurityEventType.RUNNER_GROUP_VIOLATION
    assert expected == event.type


async def test_a_team_the_caller_does_not_belong_to_is_refused_and_reported(
    world: World,
) -> None:
    other = make_team("frontend")
    await seed(world.store, other)

    refusal = await _refused(world, world.principal, jit(team_name="frontend"))

    (event,) = await security_events(world.store)
    (row,) = await audit_rows(world.store, PROVISION)
    assert isinstance(refusal, NotTeamMember)
    expected = (SecurityEventType.UNAUTHORIZED_ACCESS, "frontend")
    assert expected == (event.type, row.details["requested_team"])


async def test_a_machine_client_cannot_provision_for_another_team(world: World) -> None:
    other = make_team("frontend")
    client = make_client(other)
    await seed(world.store, other, client)

    refusal = await _refused(world, machine_principal(client), jit(team_name="backend"))

    assert isinstance(refusal, NotTeamMember)


async def test_a_deactivated_team_is_refused(world: World) -> None:
    retired = make_team("legacy", deactivated="budget cut")
    await seed(world.store, retired, members=[(retired, world.alice)])
    principal = user_principal(world.alice, world.team, retired)

    refusal = await _refused(world, principal, jit(team_name="legacy"))

    assert isinstance(refusal, TeamInactive)
    expected = ("budget cut", [])
    assert expected == (refusal.reason, await security_events(world.store))


async def test_a_user_in_no_team_is_not_authorized(world: World) -> None:
    loner = make_user("loner@example.com")
    await seed(world.store, loner)

    refusal = await _refused(world, user_principal(loner), jit())

    assert isinstance(refusal, UserNotAuthorized)


async def test_a_caller_without_the_jit_capability_is_refused_and_reported(
    world: World,
) -> None:
    principal = attrs.evolve(
        world.principal, capabilities=attrs.evolve(world.principal.capabilities, can_use_jit=False)
    )

    refusal = await _refused(world, principal, jit())

    (event,) = await security_events(world.store)
    (row,) = await audit_rows(world.store, PROVISION)
    assert isinstance(refusal, UserNotAuthorized)
    expected = (SecurityEventType.UNAUTHORIZED_ACCESS, None)
    assert expected == (event.type, row.team_name)


async def test_a_taken_name_is_a_conflict(world: World) -> None:
    await world.service.provision_jit(world.principal, jit())

    refusal = await _refused(world, world.principal, jit())

    (_, row) = await audit_rows(world.store, PROVISION)
    assert isinstance(refusal, Conflict)
    expected = (AuditOutcome.DENIED, "CONFLICT")
    assert expected == (row.outcome, row.details["error_code"])


async def test_a_refusal_is_raised_even_when_it_cannot_be_recorded(world: World) -> None:
    world.store.fail_with(StorageUnavailable())
    principal = attrs.evolve(
        world.principal, capabilities=attrs.evolve(world.principal.capabilities, can_use_jit=False)
    )

    refusal = await _refused(world, principal, jit())

    world.store.fail_with(None)
    assert isinstance(refusal, UserNotAuthorized)
    expected = []
    assert expected == await audit_rows(world.store)


# ---------------------------------------------------------------- order of the checks


async def test_the_capability_is_checked_before_the_team(world: World) -> None:
    principal = attrs.evolve(
        world.principal, capabilities=attrs.evolve(world.principal.capabilities, can_use_jit=False)
    )

    refusal = await _refused(world, principal, jit(team_name="nope"))

    assert isinstance(refusal, UserNotAuthorized)


async def test_the_team_is_checked_before_the_labels(world: World) -> None:
    refusal = await _refused(world, world.principal, jit(team_name="nope", labels=["forbidden"]))

    assert isinstance(refusal, TeamNotFound)


async def test_the_labels_are_checked_before_the_runner_group(world: World) -> None:
    refusal = await _refused(world, world.principal, jit(labels=["forbidden"], runner_group_id=9))

    assert isinstance(refusal, LabelPolicyViolation)


async def test_the_runner_group_is_checked_before_the_quota() -> None:
    world = await World(make_team("backend", max_runners=0)).seed()

    refusal = await _refused(world, world.principal, jit(runner_group_id=9))

    assert isinstance(refusal, RunnerGroupNotAllowed)


# ---------------------------------------------------------------- quota


async def test_a_team_at_its_quota_is_refused_and_reported() -> None:
    world = await World(make_team("backend", max_runners=1)).seed()
    await world.service.provision_jit(world.principal, jit("r1"))

    refusal = await _refused(world, world.principal, jit("r2"))

    (event,) = await security_events(world.store)
    assert isinstance(refusal, QuotaExceeded)
    expected = (SecurityEventType.QUOTA_EXCEEDED, Severity.INFO, 1)
    assert expected == (event.type, event.severity, world.github.calls["create_jit_config"])


async def test_concurrent_requests_never_exceed_the_quota() -> None:
    world = await World(make_team("backend", max_runners=5)).seed()
    command = ProvisionJitRunner(runner_name_prefix="arc", labels=["gpu-a"])

    results = await asyncio.gather(
        *(world.service.provision_jit(world.principal, command) for _ in range(30)),
        return_exceptions=True,
    )

    succeeded = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, QuotaExceeded)]
    live = [r for r in await all_runners(world.store) if r.status.is_live]
    expected = (5, 25, 5, 5)
    assert expected == (len(succeeded), len(refused), len(live), len(world.github.runners))


async def test_deleted_runners_do_not_count_towards_the_quota() -> None:
    world = await World(make_team("backend", max_runners=1)).seed()
    first = await world.service.provision_jit(world.principal, jit("r1"))
    await update_runner(world.store, first.runner.id, status=RunnerStatus.DELETED)

    second = await world.service.provision_jit(world.principal, jit("r2"))

    expected = RunnerStatus.PENDING
    assert expected == second.runner.status


# ---------------------------------------------------------------- GitHub failures


ANSWERED = GitHubUnavailable(status=422)  # GitHub answered and refused: nothing was created


async def test_a_failed_github_call_releases_the_reservation() -> None:
    world = await World(make_team("backend", max_runners=1)).seed()
    world.github.fail_next(ANSWERED, method="create_jit_config")

    with pytest.raises(GitHubUnavailable):
        await world.service.provision_jit(world.principal, jit())

    released = await runner_named(world.store, "runner-1")
    expected = (
        RunnerStatus.DELETED,
        T0,
        "provisioning failed: GITHUB_UNAVAILABLE: GitHub is unavailable.",
    )
    assert expected == (released.status, released.deleted_at, released.deleted_reason)


async def test_a_failed_github_call_frees_the_quota_slot_and_the_name() -> None:
    world = await World(make_team("backend", max_runners=1)).seed()
    world.github.fail_next(ANSWERED, method="create_jit_config")
    with pytest.raises(GitHubUnavailable):
        await world.service.provision_jit(world.principal, jit())

    again = await world.service.provision_jit(world.principal, jit())

    expected = ("runner-1", RunnerStatus.PENDING)
    assert expected == (again.runner.name, again.runner.status)


async def test_a_failed_github_call_is_audited_as_a_failure(world: World) -> None:
    world.github.fail_next(GitHubUnavailable(), method="create_jit_config")

    with pytest.raises(GitHubUnavailable):
        await world.service.provision_jit(world.principal, jit())

    (row,) = await audit_rows(world.store, PROVISION)
    expected = AuditOutcome.FAILURE
    assert expected == row.outcome
    assert "GITHUB_UNAVAILABLE" in row.details["error"]


async def test_a_failed_github_call_records_the_release_transition(world: World) -> None:
    world.github.fail_next(ANSWERED, method="create_jit_config")

    with pytest.raises(GitHubUnavailable):
        await world.service.provision_jit(world.principal, jit())

    released = await runner_named(world.store, "runner-1")
    recorded = await transitions(world.store, released.id)
    expected = [RunnerStatus.PROVISIONING, RunnerStatus.DELETED]
    assert expected == [t.to_status for t in recorded]


async def test_a_name_github_already_has_is_a_conflict_that_releases_the_name(
    world: World,
) -> None:
    world.github.register("runner-1", ["hand-made"])

    with pytest.raises(Conflict):
        await world.service.provision_jit(world.principal, jit())

    released = await runner_named(world.store, "runner-1")
    expected = RunnerStatus.DELETED
    assert expected == released.status
    assert "CONFLICT" in (released.deleted_reason or "")


async def test_an_unexpected_error_leaves_the_reservation_for_the_sync_worker(
    world: World,
) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    world.github.before["create_jit_config"] = explode

    with pytest.raises(RuntimeError):
        await world.service.provision_jit(world.principal, jit())

    left = await runner_named(world.store, "runner-1")
    (row,) = await audit_rows(world.store, PROVISION)
    expected = (RunnerStatus.PROVISIONING, "provisioning failed: unexpected RuntimeError", "sync")
    assert expected == (left.status, row.details["error"], row.details["resolved_by"])


async def test_a_cancelled_request_leaves_the_reservation_for_the_sync_worker(
    world: World,
) -> None:
    async def cancel() -> None:
        raise asyncio.CancelledError

    world.github.before["create_jit_config"] = cancel

    with pytest.raises(asyncio.CancelledError):
        await world.service.provision_jit(world.principal, jit())

    left = await runner_named(world.store, "runner-1")
    (row,) = await audit_rows(world.store, PROVISION)
    expected = (RunnerStatus.PROVISIONING, "provisioning failed: request cancelled")
    assert expected == (left.status, row.details["error"])


async def test_the_github_error_wins_when_the_release_cannot_be_written(world: World) -> None:
    async def outage() -> None:
        world.store.fail_with(StorageUnavailable())
        raise GitHubUnavailable

    world.github.before["create_jit_config"] = outage

    with pytest.raises(GitHubUnavailable):
        await world.service.provision_jit(world.principal, jit())

    world.store.fail_with(None)
    stuck = await runner_named(world.store, "runner-1")
    expected = RunnerStatus.PROVISIONING
    assert expected == stuck.status


async def test_a_release_leaves_a_row_someone_else_resolved_alone(world: World) -> None:
    async def resolved_then_fail() -> None:
        runner = await runner_named(world.store, "runner-1")
        await update_runner(
            world.store, runner.id, status=RunnerStatus.DELETED, deleted_reason="sync"
        )
        raise GitHubUnavailable

    world.github.before["create_jit_config"] = resolved_then_fail

    with pytest.raises(GitHubUnavailable):
        await world.service.provision_jit(world.principal, jit())

    runner = await runner_named(world.store, "runner-1")
    expected = "sync"
    assert expected == runner.deleted_reason


async def test_a_reservation_deleted_during_the_github_call_takes_the_runner_back(
    world: World,
) -> None:
    async def deprovisioned_meanwhile() -> None:
        runner = await runner_named(world.store, "runner-1")
        await update_runner(world.store, runner.id, status=RunnerStatus.DELETED)

    world.github.before["create_jit_config"] = deprovisioned_meanwhile

    with pytest.raises(Conflict):
        await world.service.provision_jit(world.principal, jit())

    (row,) = await audit_rows(world.store, PROVISION)
    expected = ((), AuditOutcome.FAILURE)
    assert expected == (world.github.runners, row.outcome)


async def test_taking_the_runner_back_survives_a_github_error(world: World) -> None:
    async def deprovisioned_meanwhile() -> None:
        runner = await runner_named(world.store, "runner-1")
        await update_runner(world.store, runner.id, status=RunnerStatus.DELETED)
        world.github.fail_next(GitHubUnavailable(), method="delete_runner")

    world.github.before["create_jit_config"] = deprovisioned_meanwhile

    with pytest.raises(Conflict):
        await world.service.provision_jit(world.principal, jit())

    expected = 1
    assert expected == len(world.github.runners)


async def test_a_reservation_adopted_during_the_github_call_keeps_its_status(
    world: World,
) -> None:
    async def adopted_meanwhile() -> None:
        runner = await runner_named(world.store, "runner-1")
        await update_runner(world.store, runner.id, status=RunnerStatus.ONLINE)

    world.github.before["create_jit_config"] = adopted_meanwhile

    result = await world.service.provision_jit(world.principal, jit())

    expected = (RunnerStatus.ONLINE, 1)
    assert expected == (result.runner.status, result.runner.github_runner_id)


# ---------------------------------------------------------------- registration tokens


async def test_a_registration_token_comes_with_a_ready_config_command(world: World) -> None:
    command = ProvisionRegistrationToken(runner_name="legacy-1", labels=["GPU-A", "linux"])

    issued = await world.service.provision_registration_token(world.principal, command)

    (token,) = world.github.registration_tokens
    expected = (
        token.token,
        token.expires_at,
        "legacy-1",
        ("backend", "gpu-a"),
        "https://github.com/gharts-test",
    )
    actual = (issued.token, issued.expires_at, issued.runner_name, issued.labels, issued.github_url)
    assert expected == actual
    assert (
        "./config.sh --url https://github.com/gharts-test "
        f"--token {token.token} --name legacy-1 --labels backend,gpu-a --ephemeral --unattended"
    ) == issued.config_command


async def test_the_config_command_quotes_values_for_the_shell() -> None:
    world = await World().seed()
    world.github = HookedPlatform(registration_url="https://github.com/o'brien co")
    service = ProvisioningService(world.store, world.github, world.clock)
    command = ProvisionRegistrationToken(runner_name="legacy-1", labels=["gpu-a"])

    issued = await service.provision_registration_token(world.principal, command)

    argv = shlex.split(issued.config_command)
    expected = "https://github.com/o'brien co"
    assert expected == argv[argv.index("--url") + 1]


async def test_a_registration_token_runner_waits_pending_without_a_github_id(
    world: World,
) -> None:
    command = ProvisionRegistrationToken(runner_name="legacy-1", labels=["gpu-a"])

    issued = await world.service.provision_registration_token(world.principal, command)

    runner = issued.runner
    expected = (RunnerStatus.PENDING, ProvisionMethod.REGISTRATION_TOKEN, None)
    assert expected == (runner.status, runner.method, runner.github_runner_id)
    assert runner == await runner_named(world.store, "legacy-1")


async def test_a_registration_token_is_audited_without_the_token(world: World) -> None:
    command = ProvisionRegistrationToken(runner_name="legacy-1", labels=["gpu-a"])

    issued = await world.service.provision_registration_token(world.principal, command)

    (row,) = await audit_rows(world.store, PROVISION)
    expected = "registration_token"
    assert expected == row.details["method"]
    assert issued.token not in json.dumps(row.details)


async def test_a_registration_token_needs_its_capability(world: World) -> None:
    client = make_client(world.team)
    await seed(world.store, client)
    command = ProvisionRegistrationToken(runner_name="legacy-1", labels=["gpu-a"])

    with pytest.raises(UserNotAuthorized):
        await world.service.provision_registration_token(machine_principal(client), command)

    expected = 0
    assert expected == world.github.calls["create_registration_token"]


async def test_a_failed_registration_token_call_releases_the_reservation(world: World) -> None:
    world.github.fail_next(GitHubUnavailable(), method="create_registration_token")
    command = ProvisionRegistrationToken(runner_name="legacy-1", labels=["gpu-a"])

    with pytest.raises(GitHubUnavailable):
        await world.service.provision_registration_token(world.principal, command)

    released = await runner_named(world.store, "legacy-1")
    expected = RunnerStatus.DELETED
    assert expected == released.status


async def test_a_registration_token_checks_the_label_policy(world: World) -> None:
    command = ProvisionRegistrationToken(runner_name="legacy-1", labels=["forbidden"])

    with pytest.raises(LabelPolicyViolation):
        await world.service.provision_registration_token(world.principal, command)

    (row,) = await audit_rows(world.store, PROVISION)
    expected = "registration_token"
    assert expected == row.details["method"]


async def test_a_registration_token_for_a_reservation_deleted_meanwhile_is_withheld(
    world: World,
) -> None:
    async def deprovisioned_meanwhile() -> None:
        runner = await runner_named(world.store, "legacy-1")
        await update_runner(world.store, runner.id, status=RunnerStatus.DELETED)

    world.github.before["create_registration_token"] = deprovisioned_meanwhile
    command = ProvisionRegistrationToken(runner_name="legacy-1", labels=["gpu-a"])

    with pytest.raises(Conflict):
        await world.service.provision_registration_token(world.principal, command)

    expected = 0
    assert expected == world.github.calls["delete_runner"]


# ---------------------------------------------------------------- a late GitHub answer


class LateGitHub(HookedPlatform):
    """GitHub creating the JIT runner, but answering after the client gave up."""

    def __init__(self, clock: FakeClock, error: GitHubUnavailable) -> None:
        super().__init__(clock=clock)
        self.error: GitHubUnavailable | None = error

    async def create_jit_config(self, request: JitRequest) -> JitConfig:
        config = await super().create_jit_config(request)
        if self.error is not None:
            raise self.error
        return config


@pytest.mark.parametrize(
    "error",
    [GitHubUnavailable("GitHub did not answer in time."), GitHubUnavailable(status=502)],
    ids=["timeout", "5xx"],
)
async def test_a_late_github_answer_is_resolved_by_name_not_forgotten(
    error: GitHubUnavailable,
) -> None:
    # Issue 12, finding 3: the reservation was marked deleted, GitHub kept the runner, sync
    # ignored it as unmanaged, and its name was refused with 409 ever after.
    world = World()
    world.github = LateGitHub(world.clock, error)
    world.service = ProvisioningService(world.store, world.github, world.clock)
    await world.seed()
    sync = SyncService(world.store, world.github, world.clock)
    with pytest.raises(GitHubUnavailable):
        await world.service.provision_jit(world.principal, jit())
    left = await runner_named(world.store, "runner-1")

    world.clock.advance(DriftSettings().provisioning_grace)
    report = await sync.run_cycle()
    resolved = await runner_named(world.store, "runner-1")
    on_github = world.github.runners
    world.github.error = None  # GitHub answers in time again: the name is free
    again = await world.service.provision_jit(world.principal, jit())

    assert RunnerStatus.PROVISIONING == left.status
    assert {"remove_stuck_runner": 1} == report.actions
    assert (RunnerStatus.DELETED, "stuck_provisioning") == (
        resolved.status,
        resolved.deleted_reason,
    )
    assert () == on_github
    assert ("runner-1", RunnerStatus.PENDING) == (again.runner.name, again.runner.status)


async def test_a_call_that_never_left_releases_the_reservation_at_once(world: World) -> None:
    unsent = GitHubUnavailable(status=503)  # no installation token: no request was sent
    unsent.request_sent = False
    world.github.fail_next(unsent, method="create_jit_config")

    with pytest.raises(GitHubUnavailable):
        await world.service.provision_jit(world.principal, jit())

    assert RunnerStatus.DELETED == (await runner_named(world.store, "runner-1")).status
