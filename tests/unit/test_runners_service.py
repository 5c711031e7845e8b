"""Runner use cases (list, get, refresh, deprovision) through the fake store and fake GitHub."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import pytest

from gharts_core.errors import GitHubUnavailable, RunnerNotFound
from gharts_core.model import (
    AuditAction,
    AuditOutcome,
    Principal,
    ProvisionMethod,
    RunnerRecord,
    RunnerStatus,
    TransitionSource,
)
from gharts_core.ports.storage import Page
from gharts_core.services.runners import RunnerQuery, RunnerService
from gharts_core.testing.clock import FakeClock
from gharts_core.testing.fake_store import FakeStore
from tests.unit.builders import (
    HookedPlatform,
    audit_rows,
    machine_principal,
    make_client,
    make_runner,
    make_team,
    make_user,
    new_uuid,
    seed,
    stored_runner,
    transitions,
    update_runner,
    user_principal,
)

REFRESH = AuditAction.RUNNER_REFRESH.value
DEPROVISION = AuditAction.RUNNER_DEPROVISION.value


class World:
    """Teams backend and frontend, one runner each (on GitHub too), and one caller per kind."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.store = FakeStore()
        self.github = HookedPlatform(clock=self.clock)
        self.service = RunnerService(self.store, self.github, self.clock)
        self.backend = make_team("backend")
        self.frontend = make_team("frontend")
        self.alice = make_user("alice@example.com")
        self.root = make_user("root@example.com", is_admin=True)
        self.outsider = make_user("mallory@example.com")
        self.backend_bot = make_client(self.backend, subject="backend-bot")
        self.frontend_bot = make_client(self.frontend, subject="frontend-bot")
        observed = self.github.register("be-1", ["backend"], status="offline", ephemeral=True)
        self.runner = make_runner(self.backend, "be-1", github_runner_id=observed.id)
        other = self.github.register("fe-1", ["frontend"], status="offline", ephemeral=True)
        self.other_runner = make_runner(self.frontend, "fe-1", github_runner_id=other.id)

    async def seed(self) -> World:
        """Write every object to the store."""
        await seed(
            self.store,
            self.backend,
            self.frontend,
            self.alice,
            self.root,
            self.outsider,
            self.backend_bot,
            self.frontend_bot,
            self.runner,
            self.other_runner,
            members=[(self.backend, self.alice)],
        )
        return self

    def caller(self, kind: str) -> Principal:
        """Return the principal of one kind of caller."""
        return {
            "admin": user_principal(self.root),
            "member": user_principal(self.alice, self.backend),
            "outsider": user_principal(self.outsider),
            "team-client": machine_principal(self.backend_bot),
            "other-client": machine_principal(self.frontend_bot),
        }[kind]

    @property
    def alice_principal(self) -> Principal:
        """Alice, member of backend."""
        return self.caller("member")

    async def add_runner(self, runner: RunnerRecord) -> RunnerRecord:
        """Store one more runner."""
        await seed(self.store, runner)
        return runner


@pytest.fixture
async def world() -> World:
    return await World().seed()


VISIBLE_TO = ["admin", "member", "team-client"]
HIDDEN_FROM = ["outsider", "other-client"]
OPERATIONS = ["get", "refresh", "deprovision"]


async def _act(world: World, operation: str, principal: Principal) -> uuid.UUID:
    """Run one of the per-runner operations on backend's runner; return the runner id seen."""
    if operation == "get":
        return (await world.service.get(principal, world.runner.id)).id
    if operation == "refresh":
        return (await world.service.refresh(principal, world.runner.id)).runner.id
    return (await world.service.deprovision(principal, world.runner.id)).id


# ---------------------------------------------------------------- visibility


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("caller", VISIBLE_TO)
async def test_callers_who_may_see_a_runner_can_act_on_it(
    world: World, caller: str, operation: str
) -> None:
    seen = await _act(world, operation, world.caller(caller))

    expected = world.runner.id
    assert expected == seen


@pytest.mark.parametrize("operation", OPERATIONS)
@pytest.mark.parametrize("caller", HIDDEN_FROM)
async def test_callers_who_may_not_see_a_runner_get_not_found_and_change_nothing(
    world: World, caller: str, operation: str
) -> None:
    with pytest.raises(RunnerNotFound):
        await _act(world, operation, world.caller(caller))

    expected = (world.runner, 0)
    assert expected == (
        await stored_runner(world.store, world.runner.id),
        sum(world.github.calls.values()),
    )


@pytest.mark.parametrize(
    ("caller", "names"),
    [
        ("admin", ["be-1", "fe-1"]),
        ("member", ["be-1"]),
        ("outsider", []),
        ("team-client", ["be-1"]),
        ("other-client", ["fe-1"]),
    ],
)
async def test_list_shows_only_visible_runners(world: World, caller: str, names: list[str]) -> None:
    page = await world.service.list(world.caller(caller))

    assert (names, len(names)) == (sorted(r.name for r in page.items), page.total)


async def test_a_hidden_runner_and_a_missing_one_give_the_same_error(world: World) -> None:
    principal = world.caller("outsider")
    missing = new_uuid()

    with pytest.raises(RunnerNotFound) as hidden_error:
        await world.service.deprovision(principal, world.runner.id)
    with pytest.raises(RunnerNotFound) as missing_error:
        await world.service.deprovision(principal, missing)

    expected = f"Runner '{missing}' not found."
    assert expected == missing_error.value.detail
    assert f"Runner '{world.runner.id}' not found." == hidden_error.value.detail


async def test_a_refused_deprovision_is_audited_for_the_runners_team(world: World) -> None:
    with pytest.raises(RunnerNotFound):
        await world.service.deprovision(world.caller("outsider"), world.runner.id)

    (row,) = await audit_rows(world.store, DEPROVISION)
    expected = (AuditOutcome.DENIED, "backend", "mallory@example.com")
    assert expected == (row.outcome, row.team_name, row.actor.name)


async def test_a_missing_runner_is_not_audited(world: World) -> None:
    with pytest.raises(RunnerNotFound):
        await world.service.refresh(world.caller("admin"), new_uuid())

    expected = []
    assert expected == await audit_rows(world.store)


# ---------------------------------------------------------------- listing


async def test_list_filters_by_status_team_and_label(world: World) -> None:
    admin = world.caller("admin")
    gpu = await world.add_runner(
        make_runner(world.backend, "gpu-1", labels=["backend", "gpu-a"], status=RunnerStatus.BUSY)
    )

    by_status = await world.service.list(admin, RunnerQuery(status=RunnerStatus.BUSY))
    by_team = await world.service.list(admin, RunnerQuery(team_name="frontend"))
    by_label = await world.service.list(admin, RunnerQuery(label="GPU-A"))

    assert [gpu.id] == [r.id for r in by_status.items]
    expected = ["fe-1"]
    assert expected == [r.name for r in by_team.items]
    assert [gpu.id] == [r.id for r in by_label.items]


async def test_list_can_leave_deleted_runners_out(world: World) -> None:
    admin = world.caller("admin")
    await world.service.deprovision(admin, world.other_runner.id)

    everything = await world.service.list(admin)
    live = await world.service.list(admin, RunnerQuery(include_deleted=False))

    expected = (2, ["be-1"])
    assert expected == (everything.total, [r.name for r in live.items])


async def test_list_pages_in_the_store_and_reports_the_total(world: World) -> None:
    for index in range(5):
        await world.add_runner(make_runner(world.backend, f"extra-{index}"))

    page = await world.service.list(world.alice_principal, page=Page(limit=2, offset=1))

    expected = (2, 6)
    assert expected == (len(page.items), page.total)


# ---------------------------------------------------------------- refresh


@pytest.mark.parametrize(
    ("drive", "status"),
    [
        ("set_online", RunnerStatus.ONLINE),
        ("set_busy", RunnerStatus.BUSY),
    ],
)
async def test_refresh_records_the_status_github_reports(
    world: World, drive: str, status: RunnerStatus
) -> None:
    getattr(world.github, drive)(world.runner.github_runner_id)

    refreshed = await world.service.refresh(world.alice_principal, world.runner.id)

    (*_, last) = await transitions(world.store, world.runner.id)
    observed_id = refreshed.observed.id if refreshed.observed else None
    expected = (status, status, TransitionSource.API, world.runner.github_runner_id)
    assert expected == (refreshed.runner.status, last.to_status, last.source, observed_id)


async def test_refresh_keeps_a_runner_never_seen_online_pending(world: World) -> None:
    refreshed = await world.service.refresh(world.alice_principal, world.runner.id)

    recorded = await transitions(world.store, world.runner.id)
    expected = (RunnerStatus.PENDING, 2)
    assert expected == (refreshed.runner.status, len(recorded))


async def test_refresh_marks_an_online_runner_that_disconnected_offline(world: World) -> None:
    await update_runner(world.store, world.runner.id, status=RunnerStatus.ONLINE)

    refreshed = await world.service.refresh(world.alice_principal, world.runner.id)

    expected = RunnerStatus.OFFLINE
    assert expected == refreshed.runner.status


async def test_refresh_deletes_a_runner_github_no_longer_has(world: World) -> None:
    assert world.runner.github_runner_id is not None
    world.github.vanish(world.runner.github_runner_id)

    refreshed = await world.service.refresh(world.alice_principal, world.runner.id)

    expected = (RunnerStatus.DELETED, "vanished_from_github", None)
    actual = (refreshed.runner.status, refreshed.runner.deleted_reason, refreshed.observed)
    assert expected == actual
    assert refreshed.runner == await stored_runner(world.store, world.runner.id)


async def test_refresh_binds_a_registration_token_runner_found_by_name(world: World) -> None:
    observed = world.github.register("legacy-1", ["backend"], status="online")
    legacy = await world.add_runner(
        make_runner(world.backend, "legacy-1", method=ProvisionMethod.REGISTRATION_TOKEN)
    )

    refreshed = await world.service.refresh(world.alice_principal, legacy.id)

    expected = (observed.id, RunnerStatus.ONLINE)
    assert expected == (refreshed.runner.github_runner_id, refreshed.runner.status)


async def test_refresh_binds_the_id_even_when_the_status_stays(world: World) -> None:
    observed = world.github.register("legacy-1", ["backend"], status="offline")
    legacy = await world.add_runner(
        make_runner(world.backend, "legacy-1", method=ProvisionMethod.REGISTRATION_TOKEN)
    )

    refreshed = await world.service.refresh(world.alice_principal, legacy.id)

    assert refreshed.runner == await stored_runner(world.store, legacy.id)
    assert (observed.id, RunnerStatus.PENDING) == (
        refreshed.runner.github_runner_id,
        refreshed.runner.status,
    )


async def test_refresh_leaves_a_runner_github_has_not_seen_yet_alone(world: World) -> None:
    legacy = await world.add_runner(
        make_runner(world.backend, "legacy-1", method=ProvisionMethod.REGISTRATION_TOKEN)
    )

    refreshed = await world.service.refresh(world.alice_principal, legacy.id)

    assert (legacy, None) == (refreshed.runner, refreshed.observed)


async def test_refresh_of_a_deleted_runner_returns_it_without_asking_github(
    world: World,
) -> None:
    deleted = await world.service.deprovision(world.alice_principal, world.runner.id)
    calls = sum(world.github.calls.values())

    refreshed = await world.service.refresh(world.alice_principal, world.runner.id)

    assert (deleted, calls) == (refreshed.runner, sum(world.github.calls.values()))


async def test_refresh_is_audited_with_both_statuses(world: World) -> None:
    assert world.runner.github_runner_id is not None
    world.github.set_online(world.runner.github_runner_id)

    await world.service.refresh(world.alice_principal, world.runner.id)

    (row,) = await audit_rows(world.store, REFRESH)
    expected = (AuditOutcome.SUCCESS, "pending", "online", str(world.runner.id))
    actual = (row.outcome, row.details["from_status"], row.details["to_status"], row.target_id)
    assert expected == actual


async def test_a_github_error_during_refresh_is_audited_and_raised(world: World) -> None:
    world.github.fail_next(GitHubUnavailable(), method="get_runner")

    with pytest.raises(GitHubUnavailable):
        await world.service.refresh(world.alice_principal, world.runner.id)

    (row,) = await audit_rows(world.store, REFRESH)
    expected = (AuditOutcome.FAILURE, "GITHUB_UNAVAILABLE")
    assert expected == (row.outcome, row.details["error"])
    assert world.runner == await stored_runner(world.store, world.runner.id)


async def test_refresh_does_not_revive_a_runner_deleted_meanwhile(world: World) -> None:
    world.github.before["get_runner"] = _deleting(world, world.runner.id)

    refreshed = await world.service.refresh(world.alice_principal, world.runner.id)

    expected = RunnerStatus.DELETED
    assert expected == refreshed.runner.status


# ---------------------------------------------------------------- deprovision


async def test_deprovision_removes_the_runner_from_github_then_marks_it_deleted(
    world: World,
) -> None:
    deleted = await world.service.deprovision(world.alice_principal, world.runner.id)

    (*_, last) = await transitions(world.store, world.runner.id)
    expected = (
        RunnerStatus.DELETED,
        "deprovisioned",
        world.clock.now(),
        ["fe-1"],
        TransitionSource.API,
    )
    actual = (
        deleted.status,
        deleted.deleted_reason,
        deleted.deleted_at,
        [r.name for r in world.github.runners],
        last.source,
    )
    assert expected == actual


async def test_deprovision_is_audited(world: World) -> None:
    await world.service.deprovision(world.alice_principal, world.runner.id)

    (row,) = await audit_rows(world.store, DEPROVISION)
    expected = (AuditOutcome.SUCCESS, True, "backend")
    assert expected == (row.outcome, row.details["removed_from_github"], row.team_name)


async def test_a_runner_github_no_longer_has_counts_as_removed(world: World) -> None:
    assert world.runner.github_runner_id is not None
    world.github.vanish(world.runner.github_runner_id)

    deleted = await world.service.deprovision(world.alice_principal, world.runner.id)

    (row,) = await audit_rows(world.store, DEPROVISION)
    expected = (RunnerStatus.DELETED, False)
    assert expected == (deleted.status, row.details["removed_from_github"])


async def test_deprovisioning_a_deleted_runner_returns_it_unchanged(world: World) -> None:
    first = await world.service.deprovision(world.alice_principal, world.runner.id)
    world.clock.advance(60)

    second = await world.service.deprovision(world.alice_principal, world.runner.id)

    (_, row) = await audit_rows(world.store, DEPROVISION)
    assert first == second
    expected = (1, True)
    assert expected == (world.github.calls["delete_runner"], row.details["already_deleted"])


async def test_deprovision_finds_a_registration_token_runner_by_name(world: World) -> None:
    world.github.register("legacy-1", ["backend"], status="online")
    legacy = await world.add_runner(
        make_runner(world.backend, "legacy-1", method=ProvisionMethod.REGISTRATION_TOKEN)
    )

    await world.service.deprovision(world.alice_principal, legacy.id)

    expected = ["be-1", "fe-1"]
    assert expected == sorted(r.name for r in world.github.runners)


async def test_deprovision_of_a_runner_never_registered_only_marks_it_deleted(
    world: World,
) -> None:
    legacy = await world.add_runner(
        make_runner(world.backend, "legacy-1", method=ProvisionMethod.REGISTRATION_TOKEN)
    )

    deleted = await world.service.deprovision(world.alice_principal, legacy.id)

    expected = (RunnerStatus.DELETED, 0)
    assert expected == (deleted.status, world.github.calls["delete_runner"])


async def test_a_github_error_during_deprovision_leaves_the_runner_alone(world: World) -> None:
    world.github.fail_next(GitHubUnavailable(), method="delete_runner")

    with pytest.raises(GitHubUnavailable):
        await world.service.deprovision(world.alice_principal, world.runner.id)

    (row,) = await audit_rows(world.store, DEPROVISION)
    expected = AuditOutcome.FAILURE
    assert expected == row.outcome
    assert world.runner == await stored_runner(world.store, world.runner.id)


async def test_an_unexpected_error_during_deprovision_is_audited_by_type(world: World) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    world.github.before["delete_runner"] = explode

    with pytest.raises(RuntimeError):
        await world.service.deprovision(world.alice_principal, world.runner.id)

    (row,) = await audit_rows(world.store, DEPROVISION)
    expected = "RuntimeError"
    assert expected == row.details["error"]


async def test_deprovision_keeps_the_first_deletion_when_two_race(world: World) -> None:
    world.github.before["delete_runner"] = _deleting(world, world.runner.id, reason="sync")

    deleted = await world.service.deprovision(world.alice_principal, world.runner.id)

    expected = "sync"
    assert expected == deleted.deleted_reason


def _deleting(
    world: World, runner_id: uuid.UUID, reason: str = "elsewhere"
) -> Callable[[], Awaitable[None]]:
    async def delete() -> None:
        await update_runner(
            world.store, runner_id, status=RunnerStatus.DELETED, deleted_reason=reason
        )

    return delete


# ---------------------------------------------------------------- a reused GitHub id


async def test_refresh_of_a_record_whose_id_github_gave_to_another_runner_retires_it(
    world: World,
) -> None:
    reused = world.other_runner.github_runner_id
    stale = await world.add_runner(make_runner(world.backend, "be-old", github_runner_id=reused))

    refreshed = await world.service.refresh(world.alice_principal, stale.id)

    expected = (RunnerStatus.DELETED, "vanished_from_github", None)
    assert expected == (
        refreshed.runner.status,
        refreshed.runner.deleted_reason,
        refreshed.observed,
    )


async def test_deprovision_never_removes_another_runner_that_reuses_the_id(world: World) -> None:
    reused = world.other_runner.github_runner_id
    stale = await world.add_runner(make_runner(world.backend, "be-old", github_runner_id=reused))

    await world.service.deprovision(world.alice_principal, stale.id)

    assert ["be-1", "fe-1"] == sorted(r.name for r in world.github.runners)
